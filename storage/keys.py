"""Derived columns that storage keeps in step with an account's fields."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from domain.values import fold_text, normalize_domain, normalize_name

#: The fields whose text a search in the accounts list looks at.
SEARCHED_FIELDS = ("name", "website", "industry", "country", "region", "city", "phone", "tags")


def search_key(text: str) -> str:
    """What searches compare: case, accents and punctuation folded away."""
    return fold_text(text)


_UNSET: Any = object()


def derived_columns(
    values: Mapping[str, Any], *, domain_key: str | None = _UNSET, name_key: str = _UNSET
) -> dict[str, Any]:
    """``domain_key``, ``name_key`` and ``search_text`` for an account's field values
    (keys the caller has already computed can be passed in)."""
    # Folding each field apart gives the same words as folding them joined, and lets the
    # fields that repeat from account to account (industry, country, city) fold once.
    folded = (
        (_folded if f in _REPEATING else search_key)(str(values[f]))
        for f in SEARCHED_FIELDS
        if values.get(f)
    )
    return {
        "domain_key": normalize_domain(values.get("website"))
        if domain_key is _UNSET
        else domain_key,
        "name_key": normalize_name(values.get("name")) if name_key is _UNSET else name_key,
        "search_text": f" {' '.join(w for w in folded if w)} ",
    }


_REPEATING = frozenset({"industry", "country", "region", "city", "tags"})
_folded = lru_cache(maxsize=16_384)(search_key)
