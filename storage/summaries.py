"""What the summaries every write keeps (the service agreement's, the goal's and the call
queue's facts) share: their statements are built once, for the accounts bound as ``ids`` or
for every account, and run for the accounts a write touched a chunk of ids at a time."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    Delete,
    Executable,
    Insert,
    Select,
    Table,
    bindparam,
    delete,
    insert,
    true,
)

#: The accounts recomputed in one statement: an IN list every database takes.
CHUNK = 500


def chooser(some: bool) -> Callable[[Any], Any]:
    """The condition that picks the accounts bound as ``ids`` (``some``), or every account,
    by an account id column."""
    ids: Any = bindparam("ids", expanding=True)
    return lambda column: column.in_(ids) if some else true()


def replaced(
    table: Table, chosen: Callable[[Any], Any], rows: Select[Any], names: Sequence[str] = ()
) -> tuple[Delete, Insert]:
    """The statements that work a summary's rows out again for the accounts ``chosen``
    picks: its rows of those accounts deleted, and ``rows`` (their recomputation, in the
    order of ``names``, by default the select's own) inserted."""
    columns = list(names) or list(rows.selected_columns.keys())
    return (
        delete(table).where(chosen(table.c.account_id)),
        insert(table).from_select(columns, rows),
    )


def refresh(
    conn: Connection,
    statements: Callable[[bool], Sequence[Executable]],
    account_ids: Iterable[uuid.UUID] | None,
) -> None:
    """Run ``statements(some)`` for ``account_ids`` (None: every account), in the caller's
    transaction."""
    if account_ids is None:
        for statement in statements(False):
            conn.execute(statement)
        return
    unique = sorted(set(account_ids))
    for at in range(0, len(unique), CHUNK):
        for statement in statements(True):
            conn.execute(statement, {"ids": unique[at : at + CHUNK]})
