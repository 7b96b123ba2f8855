"""The closed loop's segments (storage/segments.py) and its learnings (storage/learning_facts.py)
follow every write that changes what they come from: after random writes through the use
cases (an account made, edited, deleted and restored, an ICP applied, the target list built,
its owners assigned, its moves; learnings logged and corrected), they are what a
recomputation from the raw rows gives, on SQLite and PostgreSQL; and the closed loop's
segments and its digest move with each of those writes."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from domain.accounts import create_account, update_account
from domain.engagement import EngagementOptions, import_engagement
from domain.errors import AccordError
from domain.icp import Tier
from domain.importing import undo_import
from domain.interactions import (
    Channel,
    Interaction,
    LeadVerdict,
    Outcome,
    log_interaction,
)
from domain.periods import Period
from domain.report import Scope
from domain.targets import Stage, assign_owners, build_target_list
from domain.users import Role
from storage.icps import read_active_version
from storage.importing.engagement import SqlEngagementImporter
from storage.importing.importer import SqlImporter
from storage.learning_facts import learning_fact_rows, learning_facts, refresh_learning_facts
from storage.read_models.closed_loop import Segment, funnels, lead_quality, learnings
from storage.repositories import SqlUnitOfWork
from storage.schema import AccountRow, table_of
from storage.segments import account_segments, refresh_segments, segment_rows
from tests.test_goal_facts import _deal, edits
from tests.test_sla_facts import UTC_CALENDAR, owned_anew, stored, writes

accounts = table_of(AccountRow)


def _kept_and_recomputed(workspace) -> tuple[list[tuple], list[tuple]]:
    with workspace.read() as conn:
        kept = sorted(tuple(row) for row in conn.execute(select(account_segments)).all())
        again = sorted(tuple(row) for row in segment_rows(conn))
    return kept, again


def _build(workspace, people) -> None:
    """A new account, then the target list built with the ICP applied: the new account is
    listed by that ICP's version if it is in tier A or B."""
    owner = people[Role.OWNER]
    create_account(SqlUnitOfWork(workspace), owner, {"name": "New", "industry": "Software"})
    with workspace.read() as conn:
        version = read_active_version(conn)
    if version is not None:
        build_target_list(SqlUnitOfWork(workspace), owner, version, (Tier.A, Tier.B))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(items=st.lists(st.one_of(st.just([("build",)]), edits, writes), max_size=8))
@example(items=[[("icp", 40)], [("build",)], ("segments", 0, "Web"),
                [("edit", 1, "Software"), ("assign", 1, Role.OWNER), ("delete", 1),
                 ("icp", 100), ("restore", 1)]])  # fmt: skip
def test_the_segments_are_always_what_the_raw_rows_give(workspace, people, items):
    steps = [step for item in items for step in (item if isinstance(item, list) else [item])]
    ids = owned_anew(workspace, people, refresh_segments)
    logged: list[tuple[uuid.UUID, uuid.UUID]] = []
    for step in steps:
        with contextlib.suppress(AccordError):  # a refused write changes nothing
            if step == ("build",):
                _build(workspace, people)
            else:
                _deal(workspace, people, ids, logged, step)
        kept, again = _kept_and_recomputed(workspace)
        assert kept == again, step


def test_an_edit_a_scoring_and_an_owner_move_the_closed_loops_segments(workspace, people):
    owner, rep = people[Role.OWNER], people[Role.REP]
    uow = SqlUnitOfWork(workspace)
    ids = owned_anew(workspace, people, refresh_segments)
    now = datetime.now(UTC)
    rated = Interaction(ids[0], Channel.CALL, Outcome.CONVERSATION, now, quality=4)
    log_interaction(uow, rep, rated, now=now)

    def rated_in(segment: Segment) -> list[str | None]:
        scope = Scope(Period.parse(f"{now:%Y-%m}"), UTC_CALENDAR, now + timedelta(minutes=5))
        with workspace.read() as conn:
            found = lead_quality(conn, scope, (segment,))
        return sorted(str(value) for (kind, value), q in found.items() if kind and q.rated)

    assert rated_in(Segment.INDUSTRY) == ["None"]
    assert rated_in(Segment.REP) == [rep.name]
    with uow:
        loaded = uow.accounts.get(ids[0])
    assert loaded is not None
    update_account(SqlUnitOfWork(workspace), owner, loaded, {"industry": "Software"})
    assert rated_in(Segment.INDUSTRY) == ["Software"]
    assign_owners(SqlUnitOfWork(workspace), owner, {ids[0]: owner.id})
    assert rated_in(Segment.REP) == [owner.name]


learned = st.tuples(
    st.sampled_from(["log", "correct"]),
    st.integers(0, 20),
    st.sampled_from([Outcome.WON, Outcome.NOT_A_FIT, Outcome.CONVERSATION, Outcome.NO_ANSWER]),
    st.sampled_from(["", "They buy in spring", "Budget moved to Q3"]),
    st.sampled_from([None, LeadVerdict.REJECTED]),
    st.sampled_from([None, True, False]),
)


def _learn(workspace, people, ids, logged, step) -> None:
    """A learning logged, or a logged interaction corrected, through its use case."""
    kind, which, outcome, text, lead, meaningful = step
    rep, uow, now = people[Role.REP], SqlUnitOfWork(workspace), datetime.now(UTC)
    account = ids[which % len(ids)] if kind == "log" or not logged else logged[
        which % len(logged)][1]  # fmt: skip
    why = "not for us" if outcome is Outcome.NOT_A_FIT or lead is LeadVerdict.REJECTED else ""
    entry = Interaction(account, Channel.CALL, outcome, now - timedelta(minutes=which),
                        learned=text, lead=lead, meaningful=meaningful, reason=why,
                        value=900 if outcome is Outcome.WON else None)  # fmt: skip
    stored(uow, rep, entry, now, logged, None if kind == "log" or not logged else which)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(steps=st.lists(learned, max_size=10))
@example(steps=[("log", 0, Outcome.WON, "They buy in spring", None, None),
                ("correct", 0, Outcome.CONVERSATION, "", None, True),
                ("log", 1, Outcome.NO_ANSWER, "Budget moved to Q3", LeadVerdict.REJECTED, None),
                ("correct", 1, Outcome.NOT_A_FIT, "They buy in spring", None, False)])  # fmt: skip
def test_the_learnings_facts_are_always_what_the_raw_rows_give(workspace, people, steps):
    ids = owned_anew(workspace, people, refresh_learning_facts)
    logged: list[tuple[uuid.UUID, uuid.UUID]] = []
    for step in steps:
        with contextlib.suppress(AccordError):  # a refused write changes nothing
            _learn(workspace, people, ids, logged, step)
        with workspace.read() as conn:
            kept = sorted(tuple(row) for row in conn.execute(select(learning_facts)).all())
            again = sorted(tuple(row) for row in learning_fact_rows(conn))
        assert kept == again, step


def test_a_learning_logged_and_corrected_moves_the_digest(workspace, people):
    ids = owned_anew(workspace, people, refresh_learning_facts)
    now = datetime.now(UTC)
    scope = Scope(Period.parse(f"{now:%Y-%m}"), UTC_CALENDAR, now + timedelta(minutes=5))

    def digest() -> list[tuple[str, int, list[str]]]:
        with workspace.read() as conn:
            return [(name, number, [q.text for q in quotes])
                    for name, number, quotes in learnings(conn, scope)]  # fmt: skip

    assert digest() == []
    logged: list[tuple[uuid.UUID, uuid.UUID]] = []
    _learn(workspace, people, ids, logged, ("log", 0, Outcome.WON, "They buy in spring", None,
                                            None))  # fmt: skip
    assert digest() == [("No tier · No industry", 1, ["They buy in spring"])]
    _learn(workspace, people, ids, logged, ("correct", 0, Outcome.CONVERSATION, "", None, None))
    assert digest() == []


def _by_campaign(workspace) -> dict[str | None, int]:
    """How many accounts reached the target list in each campaign this month."""
    today = datetime.now(UTC).date()
    scope = Scope(Period.parse(f"{today:%Y-%m}..{today:%Y-%m}"), UTC_CALENDAR,
                  datetime.now(UTC) + timedelta(minutes=1))  # fmt: skip
    with workspace.read() as conn:
        found = funnels(conn, scope)
    return {value: counts.reached[Stage.TARGETED]
            for (kind, value), counts in found.items() if kind is Segment.CAMPAIGN}  # fmt: skip


def test_an_engagement_import_and_its_undo_move_the_funnel_by_campaign(workspace, people, tmp_path):
    """The campaigns an account engaged with are kept with its segments: an import of
    engagement adds its campaigns to the funnel by campaign, each account once however many
    rows name it, and undoing the import takes them out again."""
    owner = people[Role.OWNER]
    first, second = owned_anew(workspace, people, refresh_segments)[:2]
    with workspace.read() as conn:
        names = dict(conn.execute(select(accounts.c.id, accounts.c.name)).all())
    path = tmp_path / "engagement.csv"
    path.write_text(
        "Company,Activity,Date,Campaign\n"
        f"{names[first]},Webinar,2025-03-01,Spring webinar\n"
        f"{names[first]},Webinar,2025-03-08,Spring webinar\n"
        f"{names[first]},Event,2025-04-01,Trade fair\n"
        f"{names[second]},Webinar,2025-03-01,Spring webinar\n",
        encoding="utf-8",
    )
    before = _by_campaign(workspace)
    assert set(before) == {None}
    summary = import_engagement(SqlEngagementImporter(workspace), owner, path, EngagementOptions())
    assert summary.created == 4
    assert _by_campaign(workspace) == {None: before[None] - 2, "Spring webinar": 2, "Trade fair": 1}
    kept, again = _kept_and_recomputed(workspace)
    assert kept == again
    undo_import(SqlImporter(workspace), owner, summary.batch_id)
    assert _by_campaign(workspace) == before
    kept, again = _kept_and_recomputed(workspace)
    assert kept == again
