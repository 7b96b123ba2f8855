"""The accounts list's queries: a count and pages of rows, sorted and searched in SQL.

Pages come from ``ORDER BY column, id LIMIT/OFFSET`` over the live-row indexes; a page
past the middle is read from the other end in reverse order, so the last row costs what
the first does.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from storage.queries import account_filter, accounts
from storage.workspace import Workspace


class Column(enum.IntEnum):
    """The list's columns, in order; each names an account field."""

    NAME = 0
    WEBSITE = 1
    INDUSTRY = 2
    EMPLOYEES = 3
    ANNUAL_REVENUE = 4
    COUNTRY = 5
    CITY = 6
    PHONE = 7
    UPDATED_AT = 8

    @property
    def field(self) -> str:
        return self.name.lower()


#: Columns the list sorts by: each has an index over live rows (see storage.schema).
SORTABLE = frozenset(
    {Column.NAME, Column.INDUSTRY, Column.EMPLOYEES, Column.ANNUAL_REVENUE, Column.COUNTRY,
     Column.UPDATED_AT}
)  # fmt: skip


@dataclass(frozen=True)
class ListQuery:
    search: str = ""
    sort: Column = Column.NAME
    descending: bool = False


_SELECTED = [accounts.c.id, *(accounts.c[c.field] for c in Column)]


def count(workspace: Workspace, query: ListQuery) -> int:
    with workspace.read() as conn:
        statement = select(func.count()).where(account_filter(query.search))
        return int(conn.execute(statement).scalar_one())


def page(
    workspace: Workspace, query: ListQuery, offset: int, limit: int, total: int
) -> list[Sequence[Any]]:
    """Rows ``offset`` to ``offset + limit`` of the list: (id, *columns)."""
    limit = max(0, min(limit, total - offset))
    if limit == 0:
        return []
    from_end = offset > total // 2
    descending = query.descending != from_end
    column = accounts.c[query.sort.field]
    order = [column.desc(), accounts.c.id.desc()] if descending else [column, accounts.c.id]
    start = total - offset - limit if from_end else offset
    statement = (
        select(*_SELECTED)
        .where(account_filter(query.search))
        .order_by(*order)
        .offset(start)
        .limit(limit)
    )
    with workspace.read() as conn:
        rows: list[Sequence[Any]] = list(conn.execute(statement))
    return rows[::-1] if from_end else rows
