"""Read queries shared by the accounts list, exports and reports (SQLAlchemy Core)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, func

from storage.keys import search_key
from storage.schema import AccountRow

accounts = AccountRow.__table__

LIVE_ACCOUNT = accounts.c.deleted_at.is_(None)
#: Live accounts, for statements that read every live account's row anyway (histograms,
#: comparisons, the best of all accounts): written so that SQLite scans the table in
#: storage order. Written plainly, "deleted_at IS NULL" lets it walk one of the live-row
#: indexes instead and fetch each row out of order, several times slower at a million.
EVERY_LIVE_ROW = func.coalesce(accounts.c.deleted_at, None).is_(None)


def account_filter(search: str | None = None) -> ColumnElement[bool]:
    """Live accounts, narrowed to those whose searched fields contain every word of
    ``search`` (case and accents folded). A count reads the search text of every live
    account from its own index, a fraction of the table's size."""
    words = search_key(search or "").split()
    return and_(
        LIVE_ACCOUNT,
        *(accounts.c.search_text.contains(word, autoescape=True) for word in words),
    )
