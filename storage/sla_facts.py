"""The service agreement's facts, kept beside the rows they come from: one row per live
hand-off (``handoff_facts``) and one per follow-up date a current interaction set
(``follow_up_facts``), so that the compliance read model compares a few stored times with
the period's days instead of searching every hand-off's interactions.

:func:`refresh_sla_facts` works out the facts of some accounts again from the raw rows
(targets, interactions, stage changes); every write that changes those rows calls it for
the accounts it touched, in its own transaction (logging and correcting an interaction, a
stage change, the target list's hand-off, owners, additions and removals, the demo
builders). A fact is a time, as of no particular moment: the read model counts one only
when it has come by the scope's "now", which is exact because each is the first (or the
N-th) of its kind: when it comes after "now", so does every later one.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    Select,
    and_,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from domain.targets import Stage
from storage.queries import columns_read
from storage.schema import (
    SPENT,
    AccountRow,
    AccountScoreRow,
    FollowUpDayRow,
    FollowUpFactRow,
    HandoffFactRow,
    InteractionRow,
    StageChangeRow,
    TargetRow,
    table_of,
)
from storage.summaries import chooser, refresh, replaced

handoff_facts = table_of(HandoffFactRow)
follow_up_facts = table_of(FollowUpFactRow)
follow_up_days = table_of(FollowUpDayRow)
targets = table_of(TargetRow)
accounts = table_of(AccountRow)
scores = table_of(AccountScoreRow)
interactions = table_of(InteractionRow)
stage_changes = table_of(StageChangeRow)

#: The attempts kept as times (``attempt_1`` .. ``attempt_10``): an agreement asking for
#: more counts a hand-off's interactions once it has made this many.
MAX_ATTEMPTS = 10
ATTEMPTS = tuple(f"attempt_{n}" for n in range(1, MAX_ATTEMPTS + 1))


#: A follow-up's lateness (``follow_up_days.late``): the whole quarters of an hour
#: (:data:`STEP` seconds) from the end of its date in UTC to the next interaction, from
#: ``EARLIEST`` (that early or earlier) to ``LATEST`` (that late or later, or none). A zone's
#: day ends ``-offset`` from UTC's, -14 to +12 hours, so a follow-up is kept in a zone whose
#: day ends ``k`` quarters from UTC's exactly when its lateness is below ``k``.
STEP, EARLIEST, LATEST = 900, -57, 48
COUNTED = ["follow_up", "logged_by", "late", "due"]


class lateness(FunctionElement[int]):
    """A follow-up's lateness (:data:`STEP`), from its next interaction's time and its date."""

    type = Integer()
    inherit_cache = True


def _lateness(next_at: str, seconds: str, date_end: str, least: str, most: str) -> str:
    """The lateness in SQL, from the next interaction's time (``next_at``), its whole UTC
    seconds and those of its date's end in UTC, and the dialect's two-argument min and max:
    clamped first, so that a whole division of a positive number is its floor."""
    low, high = EARLIEST * STEP, LATEST * STEP
    clamped = f"{least}({most}({seconds} - {date_end}, {low}), {high})"
    return (
        f"CASE WHEN {next_at} IS NULL THEN {LATEST} "
        f"ELSE ({clamped} - ({low})) / {STEP} + ({EARLIEST}) END"
    )


@compiles(lateness, "sqlite")
def _lateness_sqlite(element: lateness, compiler: SQLCompiler, **kw: Any) -> str:
    next_at, follow_up = (compiler.process(c, **kw) for c in element.clauses)
    return _lateness(
        next_at,
        f"CAST(strftime('%s', {next_at}) AS INTEGER)",
        f"CAST(strftime('%s', {follow_up}, '+1 day') AS INTEGER)",
        "min",
        "max",
    )


@compiles(lateness, "postgresql")
def _lateness_postgresql(element: lateness, compiler: SQLCompiler, **kw: Any) -> str:
    next_at, follow_up = (compiler.process(c, **kw) for c in element.clauses)
    return _lateness(
        next_at,
        f"CAST(floor(extract(epoch FROM {next_at})) AS BIGINT)",
        f"CAST(extract(epoch FROM {follow_up} + 1) AS BIGINT)",
        "least",
        "greatest",
    )


#: The facts kept also as whole seconds since 1970 in UTC (``<fact>_seconds``), the times the
#: compliance finds the day of: the hand-off, its attempts, its close, its first meaningful
#: interaction and its rating.
IN_SECONDS = ("handed_off_at", *ATTEMPTS, "closed_at", "first_meaningful", "rated_at")


def in_seconds(name: str) -> str:
    """The column that holds the fact ``name`` in whole seconds since 1970 in UTC."""
    return f"{name}_seconds"


class whole_seconds(FunctionElement[int]):
    """A stored time in whole seconds since 1970 in UTC, its fraction cut off (a time just
    before a day's start stays on the day before)."""

    type = Integer()
    inherit_cache = True


@compiles(whole_seconds, "sqlite")
def _whole_seconds_sqlite(element: whole_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    (moment,) = (compiler.process(c, **kw) for c in element.clauses)
    # 'YYYY-MM-DD HH:MM:SS' as stored, the fraction cut off: SQLite rounds it to milliseconds
    return f"CAST(strftime('%s', substr({moment}, 1, 19)) AS INTEGER)"


@compiles(whole_seconds, "postgresql")
def _whole_seconds_postgresql(element: whole_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    (moment,) = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(floor(extract(epoch FROM {moment})) AS BIGINT)"


def current(alias: Any) -> Any:
    """The interaction is current: no correction supersedes it."""
    later = interactions.alias()
    return ~exists().where(later.c.supersedes_id == alias.c.id)


def refresh_sla_facts(conn: Connection, account_ids: Iterable[uuid.UUID] | None) -> None:
    """Work out the facts of ``account_ids`` (None: every account) again from the raw rows,
    in the caller's transaction."""
    refresh(conn, functools.partial(_statements, dialect=conn.dialect.name), account_ids)


def tally_follow_ups(conn: Connection) -> None:
    """Count every follow-up's facts into ``follow_up_days`` again: after a copy's rows
    were written without the use cases (a checkout, accounts brought into a rep's copy)."""
    for statement in _tallies(False, conn.dialect.name):
        conn.execute(statement)


@functools.cache
def _tallies(some: bool, dialect: str) -> tuple[Any, ...]:
    """The follow-ups' tallies of the accounts bound as ``ids`` (``some``) taken out and
    their facts' added again, around the facts' refresh, or all of them counted anew."""
    f, days = follow_up_facts, follow_up_days
    keys = [f.c.follow_up, f.c.logged_by, lateness(f.c.next_at, f.c.follow_up).label("late")]

    def tallied(sign: int) -> Any:
        return (
            select(*keys, (sign * func.count()).label("due"))
            .where(chooser(some)(f.c.account_id))
            .group_by(*keys)
        )

    def added(sign: int) -> Any:
        upsert = (postgresql if dialect == "postgresql" else sqlite).insert(days)
        statement = upsert.from_select(COUNTED, tallied(sign))
        return statement.on_conflict_do_update(
            index_elements=["follow_up", "logged_by", "late"],
            set_={"due": days.c.due + statement.excluded.due},
        )

    if not some:
        return delete(days), insert(days).from_select(COUNTED, tallied(1))
    return added(-1), added(1), delete(days).where(SPENT)


@functools.cache
def _statements(some: bool, dialect: str) -> tuple[Any, ...]:
    """The refresh's statements, for the accounts bound as ``ids`` (``some``) or for all:
    built once, since a write that logs one interaction should not pay for composing them
    again (tens of milliseconds a time). The follow-ups' tallies are taken out before their
    facts are worked out again and added after."""
    chosen = chooser(some)
    handoffs = _handoffs().where(chosen(targets.c.account_id))
    follow_ups = _follow_ups().where(chosen(interactions.c.account_id))
    # Worked out from the stored first meaningful interaction: a subquery nested in the
    # one that finds it, correlated two levels up, is not evaluated per hand-off by SQLite.
    f, i = handoff_facts, interactions.alias("i")
    rated_at = select(func.min(i.c.at)).where(
        i.c.account_id == f.c.account_id,
        i.c.at >= f.c.first_meaningful,
        i.c.quality.is_not(None),
        current(i),
    )
    take_out, *add = _tallies(some, dialect)
    return (
        take_out,
        *replaced(handoff_facts, chosen, handoffs),
        *replaced(follow_up_facts, chosen, follow_ups),
        update(f)
        .where(f.c.first_meaningful.is_not(None), chosen(f.c.account_id))
        .values(rated_at=rated_at.scalar_subquery()),
        update(f)
        .where(chosen(f.c.account_id))
        .values({in_seconds(name): whole_seconds(f.c[name]) for name in IN_SECONDS}),
        *add,
    )


def worked_out_from() -> Mapping[str, frozenset[str]]:
    """The columns the facts are worked out from (the same in every dialect)."""
    return columns_read(*_statements(False, "sqlite"))


def _handoffs() -> Select[Any]:
    """Each live hand-off's facts and its account's stage now, from the raw rows (of live
    accounts: a deleted account's hand-off counts no more)."""
    mine, at = targets.c.account_id, targets.c.handed_off_at

    def nth(n: int, *more: Any, value: str = "at") -> Any:
        """The ``value`` of the n-th current interaction after the hand-off that meets
        ``more`` (each a function of the interaction's columns): each subquery reads its
        own alias, so that one nested in another is not taken for it."""
        i = interactions.alias()
        found = select(i.c[value]).where(
            and_(i.c.account_id == mine, i.c.at > at, current(i), *(m(i.c) for m in more))
        )
        return found.order_by(i.c.at, i.c.id).offset(n - 1).limit(1).scalar_subquery()

    def given(name: str) -> Any:
        return lambda c: c[name].is_not(None)

    closed = select(func.min(stage_changes.c.at)).where(
        stage_changes.c.account_id == mine,
        stage_changes.c.at > at,
        stage_changes.c.to_stage.in_([Stage.WON.value, Stage.LOST.value]),
    )
    return select(
        mine.label("account_id"),
        at.label("handed_off_at"),
        targets.c.owner_id,
        targets.c.stage,
        select(scores.c.tier).where(scores.c.account_id == mine).scalar_subquery().label("tier"),
        *(nth(n).label(name) for n, name in enumerate(ATTEMPTS, 1)),
        closed.scalar_subquery().label("closed_at"),
        nth(1, lambda c: c.meaningful.is_(True)).label("first_meaningful"),
        nth(1, given("quality"), value="quality").label("rating"),
        nth(1, given("quality")).label("rating_at"),
        nth(1, given("lead"), value="lead").label("verdict"),
        nth(1, given("lead")).label("verdict_at"),
    ).where(
        targets.c.deleted_at.is_(None),
        at.is_not(None),
        exists().where(accounts.c.id == mine, accounts.c.deleted_at.is_(None)),
    )


def _follow_ups() -> Select[Any]:
    """Each follow-up date a current interaction set, with the next current interaction on
    its account, from the raw rows."""
    s, k = interactions, interactions.alias("k")
    following = (
        select(k.c.at)
        .where(k.c.account_id == s.c.account_id, k.c.at > s.c.at, current(k))
        .order_by(k.c.at)
        .limit(1)
        .scalar_subquery()
    )
    return select(
        s.c.id.label("interaction_id"),
        s.c.account_id,
        s.c.logged_by,
        s.c.at,
        s.c.follow_up,
        following.label("next_at"),
    ).where(s.c.follow_up.is_not(None), current(s))


def handed_off_in(conn: Connection, account_ids: Any) -> list[uuid.UUID]:
    """Of ``account_ids`` (a SELECT of ids), those with a hand-off's facts: what a write
    that can only take hand-offs away (an import undone) refreshes."""
    f = handoff_facts
    return list(
        conn.execute(select(f.c.account_id).where(f.c.account_id.in_(account_ids))).scalars()
    )


def refresh_tiers(conn: Connection, account_ids: Any | None) -> None:
    """Copy the stored tier of ``account_ids`` (a SELECT of ids; None: every account) into
    their hand-offs' facts, after their scores were written."""
    f = handoff_facts
    tier = select(scores.c.tier).where(scores.c.account_id == f.c.account_id).scalar_subquery()
    statement = update(f).values(tier=tier)
    if account_ids is not None:
        statement = statement.where(f.c.account_id.in_(account_ids))
    conn.execute(statement)
