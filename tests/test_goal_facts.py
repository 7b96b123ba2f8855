"""The shared goal's facts (storage/goal_facts.py) and the call queue's
(storage/queue_facts.py) follow every write that changes what they come from: after random
writes through the use cases (deals won and opened, corrected, stages corrected by hand,
the target list's moves and priorities, an account's fields, life and the ICP applied), they
are what a recomputation from the raw rows gives, on SQLite and PostgreSQL; and each write
path moves the goal's figures."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from domain.accounts import update_account
from domain.errors import AccordError
from domain.goal import Goal, Metric, set_goal
from domain.interactions import (
    Channel,
    Interaction,
    Outcome,
    correct_interaction,
    correct_stage,
    log_interaction,
)
from domain.periods import Month
from domain.report import Scope
from domain.targets import Stage, assign_owners, set_priority
from domain.users import Role
from storage.goal_facts import goal_fact_rows, goal_facts, refresh_goal_facts
from storage.goals import SqlGoalStore
from storage.queue_facts import queue_fact_rows, queue_facts, refresh_queue_facts
from storage.read_models.goal_progress import ACTUAL, FORECAST, goal_sections
from storage.repositories import SqlUnitOfWork
from tests.test_sla_facts import (
    ACCOUNTS,
    UTC_CALENDAR,
    _listed,
    _write,
    owned_anew,
    stored,
    writes,
)


def _kept_and_recomputed(workspace) -> tuple[list[list[tuple]], list[list[tuple]]]:
    """The goal's and the queue's facts as the writes left them, and as the raw rows give
    them."""
    with workspace.read() as conn:
        kept = [sorted(tuple(row) for row in conn.execute(select(table)).all())
                for table in (goal_facts, queue_facts)]  # fmt: skip
        again = [sorted(tuple(row) for row in rows(conn))
                 for rows in (goal_fact_rows, queue_fact_rows)]  # fmt: skip
    return kept, again


minutes = st.integers(-180, 4)
deals = st.tuples(
    st.sampled_from(["deal", "deal correction"]),
    st.integers(0, 20),
    minutes,
    st.sampled_from([Outcome.WON, Outcome.OPPORTUNITY]),
    st.integers(1, 900),
)
edits = st.one_of(
    st.tuples(st.just("segments"), st.integers(0, ACCOUNTS - 1),
              st.sampled_from([None, "Fair", "Web"])),
    st.tuples(st.just("priority"), st.integers(0, ACCOUNTS - 1), st.integers(1, 3)),
)  # fmt: skip


def _deal(workspace, people, ids, logged, step) -> None:
    """A deal won or opened (or a correction to one) through its use case, an account's
    source or priority edited; any other write as the agreement's facts' test makes it."""
    owner, uow, now = people[Role.OWNER], SqlUnitOfWork(workspace), datetime.now(UTC)
    kind, which, *rest = step
    if kind == "priority":
        set_priority(uow, owner, [ids[which]], rest[0])
        return
    if kind == "segments":
        with uow:
            loaded = uow.accounts.get(ids[which])
        if loaded is not None:
            update_account(SqlUnitOfWork(workspace), owner, loaded, {"source": rest[0]})
        return
    if kind not in ("deal", "deal correction"):
        _write(workspace, people, ids, logged, step)
        return
    minute, outcome, value = rest
    account = ids[which % ACCOUNTS] if kind == "deal" or not logged else logged[
        which % len(logged)][1]  # fmt: skip
    entry = Interaction(account, Channel.VISIT, outcome, now + timedelta(minutes=minute),
                        value=value)  # fmt: skip
    stored(uow, owner, entry, now, logged, None if kind == "deal" or not logged else which)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(items=st.lists(st.one_of(deals, edits, writes), max_size=8))
@example(items=[("deal", 0, 0, Outcome.OPPORTUNITY, 500), ("priority", 0, 3),
                ("stage", 0, Stage.LOST), ("stage", 0, Stage.MEETING),
                ("deal", 0, 1, Outcome.WON, 700),
                ("deal correction", 1, 2, Outcome.WON, 600), ("icp", 40), ("segments", 0, "Web"),
                ("assign", 0, None)])  # fmt: skip
@example(items=[("icp", 40), ("deal", 0, 0, Outcome.WON, 500), ("delete", 0), ("icp", 100)])
def test_the_goals_and_the_queues_facts_are_always_what_the_raw_rows_give(workspace, people, items):
    # a deal or a source edited, or a few of the agreement's facts' test's writes
    steps = [step for item in items for step in (item if isinstance(item, list) else [item])]
    ids = owned_anew(workspace, people, refresh_goal_facts, refresh_queue_facts)
    logged: list[tuple[uuid.UUID, uuid.UUID]] = []
    for step in steps:
        with contextlib.suppress(AccordError):  # a refused write changes nothing
            _deal(workspace, people, ids, logged, step)
        kept, again = _kept_and_recomputed(workspace)
        assert kept == again, step


# --- each write path moves the goal's figures -----------------------------------------------


def _figures(workspace) -> tuple[float | None, str, list[tuple]]:
    """The goal's actual and what its forecast is made of, as of ten minutes from now, and
    its contribution by source."""
    now = datetime.now(UTC)  # this month's goal, even in its last ten minutes
    with workspace.read() as conn:
        scope = Scope(_goal(now).period, UTC_CALENDAR, now + timedelta(minutes=10))
        sections = goal_sections(conn, scope)
    figures = {f.label: f for f in sections[0].figures}
    by_source = next(t for t in sections[1].tables if t.title == "Goal by source")
    return figures[ACTUAL].value, figures[FORECAST].basis, list(by_source.rows)


def _goal(now: datetime) -> Goal:
    owners = ("Mark Marketer", "Rita Rep")
    return Goal(Metric.NEW_REVENUE, 1000, Month.of(now.date()).first_day, 2, owners)


def test_each_write_moves_the_goals_figures(workspace, people):
    owner, rep = people[Role.OWNER], people[Role.REP]
    set_goal(SqlGoalStore(workspace), owner, _goal(datetime.now(UTC)))
    uow = SqlUnitOfWork(workspace)
    first, second, _ = _listed(workspace, people)
    assign_owners(uow, owner, {first: rep.id, second: rep.id})

    def log(account, outcome, value) -> uuid.UUID:
        now = datetime.now(UTC)
        done = log_interaction(uow, rep, Interaction(account, Channel.VISIT, outcome, now,
                                                     value=value), now=now)  # fmt: skip
        assert done.interaction.id is not None
        return done.interaction.id

    log(first, Outcome.OPPORTUNITY, 400)
    actual, forecast, _ = _figures(workspace)
    assert actual == 0 and "no won or lost deal yet to weigh the open pipeline by" in forecast
    won = log(second, Outcome.WON, 900)
    actual, forecast, by_source = _figures(workspace)
    assert actual == 900 and "+ 400 in open deals × win rate 100% (1 of 1)" in forecast
    assert by_source == [("No source", 900, 1)]
    with uow:
        loaded = uow.accounts.get(second)
    assert loaded is not None
    update_account(SqlUnitOfWork(workspace), owner, loaded, {"source": "Fair"})
    assert _figures(workspace)[2] == [("Fair", 900, 1)]  # the deal's account's source now
    correct_stage(uow, people[Role.MARKETING], first, Stage.LOST, "went elsewhere")
    assert "+ 0 in open deals × win rate 50% (1 of 2)" in _figures(workspace)[1]
    correct_interaction(uow, rep, won, Interaction(second, Channel.VISIT, Outcome.WON,
                                                   datetime.now(UTC), value=500))  # fmt: skip
    assert _figures(workspace)[0] == 500  # the correction counts instead
    assign_owners(uow, owner, {second: None})
    with workspace.read() as conn:
        now = datetime.now(UTC)
        scope = Scope(_goal(now).period, UTC_CALENDAR, now + timedelta(minutes=10))
        by_rep = next(t for t in goal_sections(conn, scope)[1].tables if t.title == "Goal by rep")
    assert list(by_rep.rows) == [("No rep", 500, 1)]  # the deal's account's rep now
