"""Derived columns that storage keeps in step with an account's fields and a contact's."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from domain.values import country_code, fold_text, normalize_domain, normalize_name, phone_e164

#: The searched fields that differ from account to account, and those whose values repeat.
_OWN = ("name", "website", "phone")
_REPEATING = ("industry", "country", "region", "city", "tags")
#: The fields whose text a search in the accounts list looks at.
SEARCHED_FIELDS = _OWN + _REPEATING


def search_key(text: str) -> str:
    """What searches compare: case, accents and punctuation folded away."""
    return fold_text(text)


def email_key(email: str | None) -> str | None:
    """What a contact's e-mail is matched by: without the spaces around it, in lower case
    (kept in ``contacts.email_key`` by every write of a contact, and indexed)."""
    key = email.strip().lower() if email else ""
    return key or None


_UNSET: Any = object()


def derived_columns(
    values: Mapping[str, Any], *, domain_key: str | None = _UNSET, name_key: str = _UNSET
) -> dict[str, Any]:
    """``country_code``, ``phone_e164``, ``domain_key``, ``name_key`` and ``search_text``
    for an account's field values (keys the caller has already computed can be passed in)."""
    code = country_code(values.get("country"))
    phone = phone_e164(values.get("phone"), code)
    # Folding fields apart gives the same words as folding them joined: an account's own
    # fields fold in one go, and each value of the repeating ones once while remembered.
    folded = [search_key(" ".join([str(v) for f in _OWN if (v := values.get(f))]))]
    folded += [_folded(str(v)) for f in _REPEATING if (v := values.get(f))]
    # The phone's E.164 digits are searched too, last: "4155550100" finds "(415) 555-0100".
    if phone:
        folded.append(phone[1:])
    return {
        "country_code": code,
        "phone_e164": phone,
        "domain_key": normalize_domain(values.get("website"))
        if domain_key is _UNSET
        else domain_key,
        "name_key": normalize_name(values.get("name")) if name_key is _UNSET else name_key,
        "search_text": f" {' '.join(filter(None, folded))} ",
    }


_folded = lru_cache(maxsize=16_384)(search_key)
