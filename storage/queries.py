"""Read queries shared by the accounts list, exports and reports (SQLAlchemy Core)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ClauseElement,
    Column,
    ColumnElement,
    DateTime,
    FromClause,
    Table,
    and_,
    func,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import visitors
from sqlalchemy.sql.functions import GenericFunction
from sqlalchemy.sql.selectable import Alias

from storage.keys import search_key
from storage.schema import AccountRow

accounts = AccountRow.__table__

LIVE_ACCOUNT = accounts.c.deleted_at.is_(None)
#: Live accounts, for statements that read every live account's row anyway (histograms,
#: comparisons, the best of all accounts): written so that SQLite scans the table in
#: storage order. Written plainly, "deleted_at IS NULL" lets it walk one of the live-row
#: indexes instead and fetch each row out of order, several times slower at a million.
EVERY_LIVE_ROW = func.coalesce(accounts.c.deleted_at, None).is_(None)


def live_account_id(account_id: ColumnElement[Any]) -> ColumnElement[bool]:
    """``account_id`` is a live account's: the deleted ones are few and indexed, where
    looking up each account to tell would cost more than a read of an index alone."""
    return account_id.not_in(select(accounts.c.id).where(accounts.c.deleted_at.is_not(None)))


def account_filter(search: str | None = None) -> ColumnElement[bool]:
    """Live accounts, narrowed to those whose searched fields contain every word of
    ``search`` (case and accents folded). A count reads the search text of every live
    account from its own index, a fraction of the table's size."""
    words = search_key(search or "").split()
    return and_(
        LIVE_ACCOUNT,
        *(accounts.c.search_text.contains(word, autoescape=True) for word in words),
    )


def columns_read(*statements: ClauseElement) -> Mapping[str, frozenset[str]]:
    """The columns of each table that ``statements`` name, an alias's as its table's: what
    a table kept from others (a summary, facts) is worked out from, read off the statements
    that work it out, so that a write changing none of them can leave it as it is."""
    found: dict[str, set[str]] = defaultdict(set)
    for statement in statements:
        for element in visitors.iterate(statement):
            if isinstance(element, Column):
                table: FromClause = element.table
                while isinstance(table, Alias):
                    table = table.element
                if isinstance(table, Table):
                    found[table.name].add(element.name)
    return {name: frozenset(columns) for name, columns in found.items()}


class scanned(GenericFunction[datetime]):
    """``scanned(at)``: the time, which SQLite is not to look up in the time index (``+at``):
    it reads the period's interactions in one pass over the table, where through the index
    it would fetch each row in random order, ten times slower for a period of months (it
    has no statistics to tell). PostgreSQL's planner, which has them, chooses itself. So
    for an account's ``deleted_at``: through the live accounts' index SQLite would read all
    million accounts to find the few hundred thousand a summary names."""

    type = DateTime()
    inherit_cache = True


@compiles(scanned)
def _scanned_default(element: scanned, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(scanned, "sqlite")
def _scanned_sqlite(element: scanned, compiler: Any, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"
