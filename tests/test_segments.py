"""The closed loop's segments (storage/segments.py) follow every write that changes what they
come from: after random writes through the use cases (an account made, edited, deleted and
restored, an ICP applied, the target list built, its owners assigned, its moves), they are
what a recomputation from the raw rows gives, on SQLite and PostgreSQL; and the closed loop's
segments move with each of those writes."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from domain.accounts import create_account, update_account
from domain.errors import AccordError
from domain.icp import Tier
from domain.interactions import Channel, Interaction, Outcome, log_interaction
from domain.periods import Period
from domain.report import Scope
from domain.targets import assign_owners, build_target_list
from domain.users import Role
from storage.icps import read_active_version
from storage.read_models.closed_loop import Segment, lead_quality
from storage.repositories import SqlUnitOfWork
from storage.segments import account_segments, refresh_segments, segment_rows
from tests.test_goal_facts import _deal, edits
from tests.test_sla_facts import UTC_CALENDAR, owned_anew, writes


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
