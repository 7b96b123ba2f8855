"""The shared goal's facts, kept beside the rows they come from (``goal_facts``): one row
per event the goal's arithmetic counts, with the segments (tier, source, industry, rep)
its account is in now, so that the goal's figures add up a period's rows of one kind in
their index instead of looking every won deal's account, score and target up.

What the events are is ``domain.goal``'s docstring, here in SQL: a won interaction that
stands (not corrected since; its value), a stage change that stands (not made by an
interaction corrected since) and reaches the meeting, opportunity or won stage, a stage
change that stands and moves to lost, and an open deal (a live target at the opportunity
stage now, the value of its latest opportunity entry that stands). A move carries the time
of its account's previous move of the same kind (``since``): a period counts an account
once, at its first move in the period, which is the one whose previous move is before the
period or is none.

:func:`refresh_goal_facts` works the rows of some accounts out again from the raw rows;
every write that changes interactions, stage changes or the target list calls it for the
accounts it touched, in its own transaction, and every scoring copies the segments in
(:func:`refresh_goal_segments`). A property test holds the table to a recomputation from
the raw rows after random writes.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    DateTime,
    FromClause,
    Select,
    String,
    and_,
    cast,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from domain.goal import reaching
from domain.targets import Stage
from storage.queries import columns_read
from storage.schema import (
    AccountRow,
    AccountScoreRow,
    GoalFactRow,
    InteractionRow,
    StageChangeRow,
    TargetRow,
    table_of,
)
from storage.summaries import chooser, refresh, replaced

goal_facts = table_of(GoalFactRow)
accounts = table_of(AccountRow)
scores = table_of(AccountScoreRow)
interactions = table_of(InteractionRow)
stage_changes = table_of(StageChangeRow)
targets = table_of(TargetRow)

#: The kinds of event, besides a move reaching a stage (whose kind is the stage's value).
WON_DEAL, LOST, OPEN_DEAL = "won-deal", "lost", "open-deal"
#: The stages whose reaching the goal's metrics count.
REACHED = (Stage.MEETING, Stage.OPPORTUNITY, Stage.WON)

_correcting = interactions.alias("correcting")


class unindexed(FunctionElement[Any]):
    """A column that SQLite compares without its index (a unary ``+``), where another index
    finds the rows better than the one the planner would take; PostgreSQL weighs the two
    itself, and gets the column as it is."""

    inherit_cache = True

    def __init__(self, column: Any) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(unindexed)
def _as_it_is(element: unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(unindexed, "sqlite")
def _without_index(element: unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + str(compiler.process(element.clauses, **kw))


def kept(interaction_id: ColumnElement[Any]) -> ColumnElement[bool]:
    """No later entry corrects the interaction."""
    return ~exists().where(_correcting.c.supersedes_id == interaction_id)


def move_stands(moves: FromClause = stage_changes) -> ColumnElement[bool]:
    """The stage change stands: no interaction made it that was corrected since."""
    return or_(moves.c.interaction_id.is_(None), kept(moves.c.interaction_id))


def reaches(
    stage: Stage, moves: FromClause = stage_changes, to_stage: Any = None
) -> ColumnElement[bool]:
    """The stage change (of ``moves``, the table or an alias of it) reaches ``stage``
    (``domain.goal.reaching``) and stands (``to_stage``: its column as it is to be read)."""
    into, starts = reaching(stage)
    return and_(
        (moves.c.to_stage if to_stage is None else to_stage).in_(sorted(s.value for s in into)),
        or_(
            moves.c.from_stage.is_(None),
            moves.c.from_stage.in_(sorted(s.value for s in starts if s is not None)),
        ),
        move_stands(moves),
    )


def deal_value(account_id: ColumnElement[Any], moment: datetime | None = None) -> Any:
    """The value of the account's latest opportunity entry that stands (by ``moment``)."""
    by_then = [] if moment is None else [interactions.c.at <= moment]
    return (
        select(interactions.c.value)
        .where(
            interactions.c.account_id == account_id,
            interactions.c.outcome == "opportunity",
            kept(interactions.c.id),
            *by_then,
        )
        .order_by(interactions.c.at.desc(), interactions.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _event(
    account_id: Any, kind: str, row_id: Any, at: Any, since: Any, amount: Any
) -> Select[Any]:
    """The columns of one kind of event, named as the table's."""
    return select(
        account_id.label("account_id"),
        literal(kind, String).label("kind"),
        row_id.label("row_id"),
        at.label("at"),
        since.label("since"),
        amount.label("amount"),
    )


def _events(chosen: Any, some: bool = False) -> Select[Any]:
    """Every event of the accounts ``chosen`` picks (a function of an account id column),
    with its account's segments, from the raw rows. A few accounts' (``some``) are read
    through each table's index by account: SQLite would otherwise read every won entry or
    every move to won or lost, whose indexes the goal's reads keep."""
    moved, at = stage_changes.c.account_id, stage_changes.c.at
    earlier = func.lag(at).over(partition_by=moved, order_by=(at, stage_changes.c.id))
    none = cast(null(), DateTime(timezone=True))
    one = literal(1, BigInteger)

    def plain(column: Any) -> Any:
        return unindexed(column) if some else column

    def moves(kind: str, which: ColumnElement[bool]) -> Select[Any]:
        return _event(moved, kind, stage_changes.c.id, at, earlier, one).where(which, chosen(moved))

    i = interactions.c
    wins = _event(i.account_id, WON_DEAL, i.id, i.at, none, func.coalesce(i.value, 0)).where(
        plain(i.outcome) == "won", kept(i.id), chosen(i.account_id)
    )
    lost = and_(plain(stage_changes.c.to_stage) == Stage.LOST.value, move_stands())
    t = targets.c
    open_deals = _event(t.account_id, OPEN_DEAL, t.id, none, none, deal_value(t.account_id))
    open_deals = open_deals.where(
        t.deleted_at.is_(None), t.stage == Stage.OPPORTUNITY.value, chosen(t.account_id)
    )
    events = union_all(
        wins,
        *(moves(s.value, reaches(s, to_stage=plain(stage_changes.c.to_stage))) for s in REACHED),
        moves(LOST, lost),
        open_deals,
    ).subquery("events")
    owner = select(t.owner_id).where(t.account_id == events.c.account_id).scalar_subquery()
    segments = _segments(events.c.account_id)
    return select(
        *events.c,
        owner.label("owner_id"),
        *(column.label(name) for name, column in segments.items()),
    )


def _segments(account_id: ColumnElement[Any]) -> dict[str, Any]:
    """The account's tier, source and industry now, by the table's column names."""
    of = accounts.c.id == account_id
    return {
        "tier": select(scores.c.tier).where(scores.c.account_id == account_id).scalar_subquery(),
        "source": select(accounts.c.source).where(of).scalar_subquery(),
        "industry": select(accounts.c.industry).where(of).scalar_subquery(),
    }


@functools.cache
def _statements(some: bool) -> tuple[Any, ...]:
    """The refresh's statements, for the accounts bound as ``ids`` (``some``) or for all:
    built once, as a write that logs one interaction should not compose them again."""
    chosen = chooser(some)
    events = _events(chosen, some)
    return replaced(goal_facts, chosen, events)


def worked_out_from() -> Mapping[str, frozenset[str]]:
    """The columns the goal's facts are worked out from."""
    return columns_read(*_statements(False))


def goal_fact_rows(conn: Connection) -> list[Any]:
    """Every event as worked out from the raw rows now (what the table must hold: the
    property test compares the two)."""
    events = _events(lambda column: true()).subquery()
    return list(conn.execute(select(events).order_by(*events.c)))


def refresh_goal_facts(conn: Connection, account_ids: Iterable[uuid.UUID] | None) -> None:
    """Work the goal's facts of ``account_ids`` (None: every account) out again from the
    raw rows, in the caller's transaction."""
    refresh(conn, _statements, account_ids)


def with_goal_facts(conn: Connection, account_ids: Any) -> list[uuid.UUID]:
    """Of ``account_ids`` (a SELECT of ids), those with goal's facts: what a write that can
    only take events away (an import undone) refreshes."""
    f = goal_facts.c
    return list(
        conn.execute(select(f.account_id).where(f.account_id.in_(account_ids)).distinct()).scalars()
    )


def refresh_goal_segments(conn: Connection, account_ids: Any | None) -> None:
    """Copy the tier, source and industry of ``account_ids`` (a SELECT of ids; None: every
    account) into their goal's facts, after their scores were written (every change of an
    account's fields scores it again): only the rows whose segments changed are written,
    since each write moves the rows in both of the table's indexes."""
    now = _segments(goal_facts.c.account_id)
    changed = or_(*(goal_facts.c[name].is_distinct_from(column) for name, column in now.items()))
    statement = update(goal_facts).where(changed).values(now)
    if account_ids is not None:
        statement = statement.where(goal_facts.c.account_id.in_(account_ids))
    conn.execute(statement)
