"""The accounts list as a table to export: streamed, in the importer's own column names."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import func, select

from domain.fields import ACCOUNT_FIELDS, CUSTOM_PREFIX, Kind
from domain.tables import ColumnKind, TableColumn, TableData
from storage.queries import accounts
from storage.read_models.account_list import ListQuery, listed
from storage.workspace import Workspace

_KINDS = {
    Kind.EMPLOYEES: ColumnKind.INTEGER,
    Kind.YEAR: ColumnKind.INTEGER,
    Kind.AMOUNT: ColumnKind.AMOUNT,
}
_STREAM = 2000


def account_table(workspace: Workspace, query: ListQuery | None = None) -> TableData:
    """The accounts the list shows for ``query`` (every live account without one), ordered
    by name."""
    query = query or ListQuery()
    with workspace.read() as conn:
        count = conn.execute(listed(select(func.count()), query)).scalar_one()
        with_custom = listed(select(accounts.c.custom), query).where(accounts.c.custom.is_not(None))
        keys = {key for (custom,) in conn.execute(with_custom) for key in custom or {}}
    custom_keys = sorted(keys)
    columns = [TableColumn(f.label, _KINDS.get(f.kind, ColumnKind.TEXT)) for f in ACCOUNT_FIELDS]
    columns += [TableColumn(CUSTOM_PREFIX + key) for key in custom_keys]
    return TableData("Accounts", columns, _rows(workspace, query, custom_keys), count)


def _rows(
    workspace: Workspace, query: ListQuery, custom_keys: Sequence[str]
) -> Iterator[list[Any]]:
    fields = [accounts.c[f.name] for f in ACCOUNT_FIELDS]
    statement = listed(select(*fields, accounts.c.custom), query).order_by(
        accounts.c.name, accounts.c.id
    )
    with workspace.read() as conn:
        for row in conn.execution_options(yield_per=_STREAM).execute(statement):
            custom = row[-1] or {}
            yield [*row[:-1], *(custom.get(key) for key in custom_keys)]
