"""What the summaries every write keeps (the service agreement's, the goal's and the call
queue's facts) share: their statements are built once, for the accounts bound as ``ids`` or
for every account, and run for the accounts a write touched a chunk of ids at a time."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Executable, bindparam, true

#: The accounts recomputed in one statement: an IN list every database takes.
CHUNK = 500


def chooser(some: bool) -> Callable[[Any], Any]:
    """The condition that picks the accounts bound as ``ids`` (``some``), or every account,
    by an account id column."""
    ids: Any = bindparam("ids", expanding=True)
    return lambda column: column.in_(ids) if some else true()


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
