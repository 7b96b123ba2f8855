"""The accounts list's queries: a count and pages of rows, sorted and searched in SQL.

The list shows every account, the target list, or one rep's accounts ("My accounts").
Pages come from ``ORDER BY column, id LIMIT/OFFSET`` over the live-row indexes; a page
past the middle is read from the other end in reverse order, so the last row costs what
the first does.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select

from storage.queries import account_filter, accounts
from storage.schema import TargetRow, UserRow, table_of
from storage.scores import scores
from storage.workspace import Workspace

targets = table_of(TargetRow)
users = table_of(UserRow)


class ListColumn(enum.IntEnum):
    """The list's columns, in order."""

    NAME = 0
    WEBSITE = 1
    INDUSTRY = 2
    EMPLOYEES = 3
    ANNUAL_REVENUE = 4
    COUNTRY = 5
    CITY = 6
    PHONE = 7
    SCORE = 8
    TIER = 9
    OWNER = 10
    STAGE = 11
    PRIORITY = 12
    UPDATED_AT = 13


_SQL: dict[ListColumn, ColumnElement[Any]] = {
    **{c: accounts.c[c.name.lower()] for c in ListColumn if c.name.lower() in accounts.c},
    # The country's ISO code, or what was typed where it names none; the phone in E.164,
    # or as typed where it is no phone number: one value however it was written.
    ListColumn.COUNTRY: func.coalesce(accounts.c.country_code, accounts.c.country),
    ListColumn.PHONE: func.coalesce(accounts.c.phone_e164, accounts.c.phone),
    ListColumn.SCORE: scores.c.score,
    ListColumn.TIER: scores.c.tier,
    ListColumn.OWNER: users.c.name,
    ListColumn.STAGE: targets.c.stage,
    ListColumn.PRIORITY: targets.c.priority,
}

#: What a column sorts by where it is not what it shows: countries by their code's index.
_SORTED_BY: dict[ListColumn, ColumnElement[Any]] = {ListColumn.COUNTRY: accounts.c.country_code}

#: Columns the list sorts by: each has an index (see storage.schema).
SORTABLE = frozenset(
    {ListColumn.NAME, ListColumn.INDUSTRY, ListColumn.EMPLOYEES, ListColumn.ANNUAL_REVENUE,
     ListColumn.COUNTRY, ListColumn.SCORE, ListColumn.PRIORITY, ListColumn.UPDATED_AT}
)  # fmt: skip


class Scope(enum.Enum):
    ALL = "All accounts"
    TARGETS = "Target list"
    MINE = "My accounts"


@dataclass(frozen=True)
class ListQuery:
    search: str = ""
    sort: ListColumn = ListColumn.NAME
    descending: bool = False
    scope: Scope = Scope.ALL
    #: whose accounts "My accounts" shows
    owner_id: uuid.UUID | None = None


def _listed() -> Any:
    return accounts.outerjoin(
        targets, and_(targets.c.account_id == accounts.c.id, targets.c.deleted_at.is_(None))
    )


def _where(statement: Select[Any], query: ListQuery) -> Select[Any]:
    statement = statement.where(account_filter(query.search))
    if query.scope is Scope.TARGETS:
        statement = statement.where(targets.c.id.is_not(None))
    elif query.scope is Scope.MINE:
        statement = statement.where(targets.c.owner_id == query.owner_id)
    return statement


def listed(statement: Select[Any], query: ListQuery) -> Select[Any]:
    """``statement`` over the accounts the list shows for ``query`` (its scope and search)."""
    if query.scope is not Scope.ALL:
        statement = statement.select_from(_listed())
    return _where(statement, query)


def count(workspace: Workspace, query: ListQuery) -> int:
    with workspace.read() as conn:
        return int(conn.execute(listed(select(func.count()), query)).scalar_one())


def page(
    workspace: Workspace, query: ListQuery, offset: int, limit: int, total: int
) -> list[Sequence[Any]]:
    """Rows ``offset`` to ``offset + limit`` of the list: (id, *columns)."""
    limit = max(0, min(limit, total - offset))
    if limit == 0:
        return []
    from_end = offset > total // 2
    descending = query.descending != from_end
    column = _SORTED_BY.get(query.sort, _SQL[query.sort])
    # Ties are broken by id; sorted by score, by the score table's copy of it, so that
    # its (score, account_id) index gives the order.
    tie = scores.c.account_id if query.sort is ListColumn.SCORE else accounts.c.id
    order = [column.desc(), tie.desc()] if descending else [column, tie]
    start = total - offset - limit if from_end else offset
    statement = select(accounts.c.id, *(_SQL[c] for c in ListColumn)).select_from(
        _listed()
        .join(scores, scores.c.account_id == accounts.c.id)
        .outerjoin(users, users.c.id == targets.c.owner_id)
    )
    statement = _where(statement, query).order_by(*order).offset(start).limit(limit)
    with workspace.read() as conn:
        rows: list[Sequence[Any]] = list(conn.execute(statement))
    return rows[::-1] if from_end else rows
