"""Derived columns that storage keeps in step with an account's fields and a contact's."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from domain.values import (
    country_code,
    fold_text,
    name_of_folded,
    normalize_country,
    normalize_domain,
    normalize_name,
    phone_e164,
)

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


#: An account's dedupe keys: normalised domain, and normalised name with country.
Keys = tuple[str | None, tuple[str, str]]


def account_keys(values: Mapping[str, Any]) -> Keys:
    """An account's dedupe keys from its field values."""
    return normalize_domain(values.get("website")), (
        normalize_name(values.get("name")),
        normalize_country(values.get("country")),
    )


def derived_columns(values: Mapping[str, Any], keys: Keys | None = None) -> dict[str, Any]:
    """``country_code``, ``phone_e164``, ``domain_key``, ``name_key`` and ``search_text``
    for an account's field values (its dedupe ``keys`` taken as they are when the caller has
    them)."""
    name, country, phone_text = values.get("name"), values.get("country"), values.get("phone")
    code = country_code(country)
    phone = phone_e164(phone_text, code)
    folded_name = search_key(str(name)) if name else ""
    if keys is None:
        domain, name_key = normalize_domain(values.get("website")), name_of_folded(folded_name)
    else:
        domain, (name_key, _) = keys
    # Folding fields apart gives the same words as folding them joined: an account's own
    # fields fold one by one, and the repeating ones together once while remembered.
    folded = [
        folded_name,
        search_key(str(website)) if (website := values.get("website")) else "",
        search_key(str(phone_text)) if phone_text else "",
        _repeating_words(*[values.get(f) for f in _REPEATING]),
        # The phone's E.164 digits are searched too, last: "4155550100" finds "(415) 555-0100".
        phone[1:] if phone else "",
    ]
    return {
        "country_code": code,
        "phone_e164": phone,
        "domain_key": domain,
        "name_key": name_key,
        "search_text": f" {' '.join(filter(None, folded))} ",
    }


@lru_cache(maxsize=16_384)
def _repeating_words(*texts: Any) -> str:
    """The words of the fields whose values repeat from account to account (an industry, a
    country, a city): remembered per combination, and each value's per value (a list of
    many cities has more combinations than are remembered)."""
    return " ".join(filter(None, [_folded(str(text)) for text in texts if text]))


_folded = lru_cache(maxsize=16_384)(search_key)
