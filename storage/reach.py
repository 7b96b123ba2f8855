"""The funnel's summary of the stage history: per account, when it first reached each stage
and first left each open stage (``account_reach``), by the rules of
:mod:`domain.closed_loop`.

The closed loop reads it instead of grouping every stage change of the workspace. It holds
nothing of its own: :func:`refresh_reach` recomputes the rows of the accounts a write
touched from their stage changes, and every write of ``stage_changes`` calls it in its own
transaction (a logged or corrected interaction, a stage corrected by hand, the target
list's moves and hand-offs, the demo). A property test holds the summary to a
recomputation from the raw rows after random writes.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, case, delete, func, insert, select, true

from domain.closed_loop import FUNNEL, OPEN, leaving, reaching
from domain.targets import Stage
from storage.queries import columns_read
from storage.schema import AccountReachRow, StageChangeRow, table_of

account_reach = table_of(AccountReachRow)
stage_changes = table_of(StageChangeRow)

#: The accounts recomputed in one statement: an IN list every database takes.
_CHUNK = 500


def reached_column(stage: Stage) -> str:
    """The summary's column of when ``stage`` was first reached."""
    return stage.name.lower()


def left_column(stage: Stage) -> str:
    """The summary's column of when the open ``stage`` was first left."""
    return f"left_{stage.name.lower()}"


def _first(stages: Sequence[Stage]) -> ColumnElement[Any]:
    """The first stage change to one of ``stages``."""
    into = [s.value for s in stages]
    return func.min(case((stage_changes.c.to_stage.in_(into), stage_changes.c.at)))


def _recomputed(where: ColumnElement[bool]) -> Select[Any]:
    """The summary rows of the accounts whose stage changes ``where`` picks, from them."""
    columns = [_first(reaching(s)).label(reached_column(s)) for s in FUNNEL]
    columns += [_first(leaving(s)).label(left_column(s)) for s in OPEN]
    account_id = stage_changes.c.account_id
    return select(account_id, *columns).where(where).group_by(account_id)


def worked_out_from() -> Mapping[str, frozenset[str]]:
    """The columns the summary is worked out from."""
    return columns_read(_recomputed(true()))


def reach_rows(conn: Connection) -> list[Any]:
    """The whole summary as recomputed from the stage history now, by account (what the
    summary must hold; the property test compares the two)."""
    return list(conn.execute(_recomputed(true()).order_by(stage_changes.c.account_id)))


def refresh_reach(conn: Connection, account_ids: Sequence[uuid.UUID] | None = None) -> None:
    """Recompute the summary of ``account_ids`` (None: every account) from their stage
    changes, in the caller's transaction."""
    names = ["account_id", *(reached_column(s) for s in FUNNEL), *(left_column(s) for s in OPEN)]
    if account_ids is None:
        conn.execute(delete(account_reach))
        conn.execute(insert(account_reach).from_select(names, _recomputed(true())))
        return
    unique = sorted(set(account_ids))
    for at in range(0, len(unique), _CHUNK):
        chunk = unique[at : at + _CHUNK]
        conn.execute(delete(account_reach).where(account_reach.c.account_id.in_(chunk)))
        recomputed = _recomputed(stage_changes.c.account_id.in_(chunk))
        conn.execute(insert(account_reach).from_select(names, recomputed))
