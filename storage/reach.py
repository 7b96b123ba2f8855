"""The funnel's summary of the stage history: per account, when it first reached each stage
and first left each open stage, in whole seconds since 1970 in UTC, and the whole days it
spent in each open stage (``account_reach``), by the rules of :mod:`domain.closed_loop`.

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

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    case,
    delete,
    func,
    insert,
    select,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction

from domain.closed_loop import FUNNEL, OPEN, leaving, reaching
from domain.targets import Stage
from storage.queries import columns_read
from storage.schema import AccountReachRow, StageChangeRow, table_of
from storage.sla_facts import whole_seconds

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


def days_column(stage: Stage) -> str:
    """The summary's column of the whole days spent in the open ``stage``."""
    return f"days_{stage.name.lower()}"


class days_between(GenericFunction[int]):
    """``days_between(a, b)``: the whole days from time ``a`` to time ``b``."""

    type = Integer()
    inherit_cache = True


#: The SQLite that has ``unixepoch``: a time's whole seconds, as ``strftime('%s')`` reads
#: them (the same rounding of the milliseconds), in less than half the time.
UNIXEPOCH_SINCE = (3, 38)


@compiles(days_between, "sqlite")
def _days_between_sqlite(element: days_between, compiler: Any, **kw: Any) -> str:
    a, b = (compiler.process(c, **kw) for c in element.clauses)
    # Whole seconds, counted as integers: julianday's fractions make 3 days 2.99999.
    if (compiler.dialect.server_version_info or ()) >= UNIXEPOCH_SINCE:
        return f"((unixepoch({b}) - unixepoch({a})) / 86400)"
    return (
        f"((CAST(strftime('%s', {b}) AS INTEGER) - CAST(strftime('%s', {a}) AS INTEGER)) / 86400)"
    )


@compiles(days_between, "postgresql")
def _days_between_postgresql(element: days_between, compiler: Any, **kw: Any) -> str:
    a, b = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(floor(extract(epoch FROM ({b} - {a})) / 86400) AS INTEGER)"


def _first(stages: Sequence[Stage]) -> ColumnElement[Any]:
    """The first stage change to one of ``stages``."""
    into = [s.value for s in stages]
    return func.min(case((stage_changes.c.to_stage.in_(into), stage_changes.c.at)))


def _recomputed(where: ColumnElement[bool]) -> Select[Any]:
    """The summary rows of the accounts whose stage changes ``where`` picks, from them."""
    account_id = stage_changes.c.account_id
    firsts = (
        select(account_id,
               *(_first(reaching(s)).label(reached_column(s)) for s in FUNNEL),
               *(_first(leaving(s)).label(left_column(s)) for s in OPEN))
        .where(where)
        .group_by(account_id)
        .subquery("firsts")
    )  # fmt: skip
    came = {s: firsts.c[reached_column(s)] for s in FUNNEL}
    left = {s: firsts.c[left_column(s)] for s in OPEN}
    return select(
        firsts.c.account_id,
        *(whole_seconds(came[s]).label(reached_column(s)) for s in FUNNEL),
        *(whole_seconds(left[s]).label(left_column(s)) for s in OPEN),
        *(case((left[s] >= came[s], days_between(came[s], left[s]))).label(days_column(s))
          for s in OPEN),
    )  # fmt: skip


def worked_out_from() -> Mapping[str, frozenset[str]]:
    """The columns the summary is worked out from."""
    return columns_read(_recomputed(true()))


def reach_rows(conn: Connection) -> list[Any]:
    """The whole summary as recomputed from the stage history now, by account (what the
    summary must hold; the property test compares the two)."""
    recomputed = _recomputed(true())
    return list(conn.execute(recomputed.order_by(recomputed.selected_columns.account_id)))


def refresh_reach(conn: Connection, account_ids: Sequence[uuid.UUID] | None = None) -> None:
    """Recompute the summary of ``account_ids`` (None: every account) from their stage
    changes, in the caller's transaction."""
    names = list(_recomputed(true()).selected_columns.keys())
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
