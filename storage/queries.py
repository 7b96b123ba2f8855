"""Read queries shared by the accounts list, exports and reports (SQLAlchemy Core)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func

from storage.keys import search_key
from storage.schema import AccountRow

accounts = AccountRow.__table__


def account_filter(search: str | None = None, *, scan: bool = False) -> ColumnElement[bool]:
    """Live accounts, narrowed to those whose searched fields contain every word of
    ``search`` (case and accents folded).

    ``scan`` is for queries that read every match (counts, exports): with a search they
    read each row's text, which is fastest in storage order. Written plainly, "deleted_at
    IS NULL" lets SQLite walk one of the live-row indexes instead and fetch each row out
    of order, three times slower at a million accounts. Without ``scan`` the plain form
    lets a page walk its sort index and stop at the first matches."""
    words = search_key(search or "").split()
    live: ColumnElement[Any] = accounts.c.deleted_at
    if scan and words:
        live = func.coalesce(live, None)
    return and_(
        live.is_(None),
        *(accounts.c.search_text.contains(word, autoescape=True) for word in words),
    )
