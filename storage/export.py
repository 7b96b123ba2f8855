"""The accounts list as a table to export: streamed, in the importer's own column names."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import func, select

from domain.fields import ACCOUNT_FIELDS, CUSTOM_PREFIX, Kind
from domain.tables import Column, ColumnKind, Table
from domain.users import Action, User
from storage.queries import account_filter, accounts
from storage.workspace import Workspace

_KINDS = {
    Kind.EMPLOYEES: ColumnKind.INTEGER,
    Kind.YEAR: ColumnKind.INTEGER,
    Kind.AMOUNT: ColumnKind.AMOUNT,
}
_STREAM = 2000


def account_table(workspace: Workspace, user: User, search: str | None = None) -> Table:
    """Every live account (or those matching ``search``), ordered by name."""
    user.require(Action.EXPORT)
    condition = account_filter(search)
    with workspace.read() as conn:
        count = conn.execute(select(func.count()).where(condition)).scalar_one()
        custom_keys = sorted(
            {
                key
                for (custom,) in conn.execute(
                    select(accounts.c.custom).where(condition, accounts.c.custom.is_not(None))
                )
                for key in (custom or {})
            }
        )
    columns = [Column(f.label, _KINDS.get(f.kind, ColumnKind.TEXT)) for f in ACCOUNT_FIELDS]
    columns += [Column(CUSTOM_PREFIX + key) for key in custom_keys]
    return Table("Accounts", columns, _rows(workspace, search, custom_keys), count)


def _rows(
    workspace: Workspace, search: str | None, custom_keys: Sequence[str]
) -> Iterator[list[Any]]:
    fields = [accounts.c[f.name] for f in ACCOUNT_FIELDS]
    query = (
        select(*fields, accounts.c.custom)
        .where(account_filter(search))
        .order_by(accounts.c.name, accounts.c.id)
    )
    with workspace.read() as conn:
        for row in conn.execution_options(yield_per=_STREAM).execute(query):
            custom = row[-1] or {}
            yield [*row[:-1], *(custom.get(key) for key in custom_keys)]
