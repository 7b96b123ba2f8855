"""The funnel's summary of the stage history (``account_reach``): filled by its migration,
followed by every write of stage changes (a logged interaction, a correction, a stage
corrected by hand, the target list, the hand-off, the demo), and always equal to a
recomputation from the raw stage changes after random writes, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from contextlib import suppress
from datetime import UTC, datetime, timedelta

from alembic import command
from alembic.config import Config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from domain.accounts import create_account
from domain.calendar import WorkCalendar
from domain.errors import ValidationError
from domain.interactions import Channel, Interaction, Outcome, correct_interaction, correct_stage
from domain.interactions import log_interaction as log
from domain.leads import HasPhone, LeadDefinition, save_lead_definition
from domain.periods import Period
from domain.report import Scope
from domain.targets import Stage, add_to_target_list, assign_owners, hand_off
from domain.users import Role
from storage.leads import SqlLeadStore
from storage.reach import account_reach, reach_rows
from storage.read_models.closed_loop import WHOLE, funnels
from storage.repositories import SqlUnitOfWork
from storage.schema import AccountRow, AccountSegmentRow, StageChangeRow, TargetRow
from storage.workspace import MIGRATIONS, open_workspace


def _summary(workspace) -> list[tuple]:
    with workspace.read() as conn:
        return [tuple(row) for row in conn.execute(
            select(account_reach).order_by(account_reach.c.account_id))]  # fmt: skip


def _recomputed(workspace) -> list[tuple]:
    with workspace.read() as conn:
        return [tuple(row) for row in reach_rows(conn)]


def _now() -> datetime:
    """A minute ahead, so that it falls after the fixtures' writes (stamped with the clock)."""
    return datetime.now(UTC) + timedelta(minutes=1)


def _listed(workspace, people, n: int) -> list[uuid.UUID]:
    owner, rep = people[Role.OWNER], people[Role.REP]
    uow = SqlUnitOfWork(workspace)
    ids = [create_account(uow, owner, {"name": f"Account {uuid.uuid4().hex[:8]}",
                                       "phone": "+49 30 1234567"}).id
           for _ in range(n)]  # fmt: skip
    add_to_target_list(uow, owner, ids, "fits")
    assign_owners(uow, owner, dict.fromkeys(ids, rep.id))
    return ids


def _reached(workspace, account_id) -> dict[str, int | None]:
    with workspace.read() as conn:
        row = conn.execute(
            select(account_reach).where(account_reach.c.account_id == account_id)
        ).one()
    return {name: value for name, value in row._mapping.items() if name != "account_id"}


def test_each_write_of_the_stage_history_moves_what_the_funnel_counts(workspace, people):
    """Put on the list, handed off, a meeting logged, a won deal corrected to lost, lost
    set by hand: after each, the summary holds what the stage history says, and the funnel
    counts the account at the stages it reached."""
    owner, rep, marketing = people[Role.OWNER], people[Role.REP], people[Role.MARKETING]
    [account_id] = _listed(workspace, people, 1)
    uow = SqlUnitOfWork(workspace)
    assert _reached(workspace, account_id)["targeted"] is not None
    save_lead_definition(SqlLeadStore(workspace), owner, LeadDefinition((HasPhone(),)))
    hand_off(uow, owner, [account_id])
    assert _reached(workspace, account_id)["sales_ready"] is not None
    assert _reached(workspace, account_id)["contacted"] is None
    entry = Interaction(account_id, Channel.CALL, Outcome.MEETING_BOOKED, _now())
    log(uow, rep, entry, now=_now())
    assert _reached(workspace, account_id)["meeting"] is not None
    won = log(uow, rep, Interaction(account_id, Channel.VISIT, Outcome.WON, _now(), value=9_000),
              now=_now())  # fmt: skip
    assert _reached(workspace, account_id)["won"] is not None
    fixed = Interaction(account_id, Channel.VISIT, Outcome.LOST, _now(), reason="Budget cut")
    correct_interaction(uow, rep, won.interaction.id, fixed, now=_now() + timedelta(minutes=1))
    assert _reached(workspace, account_id)["lost"] is not None
    correct_stage(uow, marketing, account_id, Stage.OPPORTUNITY, "The deal is open again")
    assert _summary(workspace) == _recomputed(workspace)

    now = _now() + timedelta(minutes=5)
    month = Period.parse(f"{now:%Y-%m}..{now:%Y-%m}")
    with workspace.read() as conn:
        whole = funnels(conn, Scope(month, WorkCalendar(), now))[WHOLE]
    assert [whole.reached[s] for s in (Stage.SALES_READY, Stage.MEETING, Stage.WON)] == [1, 1, 1]


def _entry(account_id: uuid.UUID, outcome: Outcome, at: datetime) -> Interaction:
    """An entry with what its outcome asks for: a deal value, a reason."""
    value = 5_000 if outcome.needs_value else None
    reason = "Not now" if outcome.needs_reason else ""
    return Interaction(account_id, Channel.CALL, outcome, at, value=value, reason=reason)


write = st.one_of(
    st.tuples(st.just("log"), st.integers(0, 2), st.sampled_from(list(Outcome))),
    st.tuples(st.just("correct"), st.integers(0, 2), st.sampled_from(list(Outcome))),
    st.tuples(st.just("stage"), st.integers(0, 2), st.sampled_from(list(Stage))),
    st.tuples(st.just("hand off"), st.integers(0, 2), st.none()),
)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(writes=st.lists(write, min_size=1, max_size=10))
def test_the_summary_always_equals_the_stage_history_recomputed(workspace, people, writes):
    owner, rep, marketing = people[Role.OWNER], people[Role.REP], people[Role.MARKETING]
    save_lead_definition(SqlLeadStore(workspace), owner, LeadDefinition((HasPhone(),)))
    ids = _listed(workspace, people, 3)
    uow = SqlUnitOfWork(workspace)
    logged: dict[int, list[uuid.UUID]] = {n: [] for n in range(len(ids))}
    moment = _now()
    for what, n, value in writes:
        moment += timedelta(minutes=1)
        account_id = ids[n]
        with suppress(ValidationError):  # a refused write changes nothing, the summary neither
            if what == "log":
                entry = _entry(account_id, value, moment - timedelta(seconds=30))
                logged[n].append(log(uow, rep, entry, now=moment).interaction.id)
            elif what == "correct" and logged[n]:
                entry = _entry(account_id, value, moment - timedelta(seconds=30))
                fixed = correct_interaction(uow, rep, logged[n][-1], entry, now=moment)
                logged[n][-1] = fixed.interaction.id
            elif what == "stage":
                correct_stage(uow, marketing, account_id, value, "Set by hand")
            elif what == "hand off":
                hand_off(uow, owner, [account_id])
    assert _summary(workspace) == _recomputed(workspace)


def test_the_migration_fills_the_summary_from_the_stages_there_are(tmp_path):
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    workspace = open_workspace(tmp_path / "old.sqlite", migrate=False)
    at = datetime(2026, 3, 1, tzinfo=UTC)
    account_id = uuid.uuid4()
    moves = [(None, "targeted", 0), ("targeted", "sales-ready", 2), ("sales-ready", "won", 9),
             ("won", "lost", 12)]  # fmt: skip
    with workspace.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0013")
        conn.execute(insert(AccountRow.__table__).values(
            id=account_id, name="A", name_key="a", search_text="a", created_at=at,
            updated_at=at, changed_by="Olivia", version=1))  # fmt: skip
        conn.execute(insert(TargetRow.__table__).values(
            id=uuid.uuid4(), account_id=account_id, stage="lost", priority=1, created_at=at,
            updated_at=at, changed_by="Mark", version=1))  # fmt: skip
        for before, after, day in moves:
            conn.execute(insert(StageChangeRow.__table__).values(
                id=uuid.uuid4(), account_id=account_id, from_stage=before, to_stage=after,
                at=at + timedelta(days=day), changed_by="Mark", reason=""))  # fmt: skip
        command.upgrade(config, "head")
    reached = _reached(workspace, account_id)
    assert _summary(workspace) == _recomputed(workspace)
    workspace.close()
    day = {name: None if value is None else (value - int(at.timestamp())) // 86400
           for name, value in reached.items() if not name.startswith("days_")}  # fmt: skip
    # won straight from sales-ready: it reached contacted, the meeting and the opportunity
    assert day == {
        "targeted": 0, "sales_ready": 2, "contacted": 9, "meeting": 9, "opportunity": 9,
        "won": 9, "lost": 12, "left_targeted": 2, "left_sales_ready": 9, "left_contacted": 9,
        "left_meeting": 9, "left_opportunity": 9,
    }  # fmt: skip
    days = {name: value for name, value in reached.items() if name.startswith("days_")}
    assert days == {"days_targeted": 2, "days_sales_ready": 7, "days_contacted": 0,
                    "days_meeting": 0, "days_opportunity": 0}  # fmt: skip


def test_the_summary_made_again_in_seconds_counts_the_same_funnel(tmp_path):
    """A workspace summed up in times (0024) is summed up again in whole seconds with the
    days in each stage (0026): a time a fraction of a second before the period's end is in
    it, one on its end is not, and the days are those between the times as stored."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    workspace = open_workspace(tmp_path / "old.sqlite", migrate=False)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    end = datetime(2026, 4, 1, tzinfo=UTC)
    moves = {  # per account: its moves, each after the one before by a time
        "in": [("targeted", start + timedelta(hours=3, microseconds=999_999)),
               ("sales-ready", start + timedelta(days=3, hours=2, microseconds=1)),
               ("contacted", end - timedelta(microseconds=1))],
        "out": [("targeted", start - timedelta(microseconds=1)),
                ("sales-ready", end)],
    }  # fmt: skip
    with workspace.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0024")
        for name, moved in moves.items():
            account_id = uuid.uuid4()
            conn.execute(insert(AccountRow.__table__).values(
                id=account_id, name=name, name_key=name, search_text=name, created_at=start,
                updated_at=start, changed_by="Olivia", version=1))  # fmt: skip
            conn.execute(insert(AccountSegmentRow.__table__).values(account_id=account_id))
            before = None
            for stage, at in moved:
                conn.execute(insert(StageChangeRow.__table__).values(
                    id=uuid.uuid4(), account_id=account_id, from_stage=before, to_stage=stage,
                    at=at, changed_by="Mark", reason=""))  # fmt: skip
                before = stage
        command.upgrade(config, "head")
    assert _summary(workspace) == _recomputed(workspace)
    scope = Scope(Period.parse("2026-03..2026-03"), WorkCalendar(), end)
    with workspace.read() as conn:
        whole = funnels(conn, scope)[WHOLE]
    workspace.close()
    assert whole.reached[Stage.TARGETED] == 1  # "in"; "out" came a microsecond before
    assert whole.reached[Stage.SALES_READY] == 1  # "out" came on the end: not in it
    assert whole.reached[Stage.CONTACTED] == 1  # a microsecond before the end
    assert whole.converted[Stage.TARGETED] == 1
    assert whole.days[Stage.TARGETED] == 2  # 2 days 22 hours and a bit: 2 whole days
    assert whole.days[Stage.SALES_READY] == 27  # left a microsecond before the end
    assert whole.days[Stage.CONTACTED] is None  # not left by the end


def test_the_demo_keeps_the_summary(sqlite_workspace):
    from storage.demo.build import build_demo

    build_demo(sqlite_workspace, accounts=300, seed=5, replace=True, owner_name="Olivia Opener")
    assert _summary(sqlite_workspace) == _recomputed(sqlite_workspace)
    assert len(_summary(sqlite_workspace)) > 50
    build_demo(sqlite_workspace, accounts=200, seed=6, replace=True, owner_name="Olivia Opener")
    assert _summary(sqlite_workspace) == _recomputed(sqlite_workspace)
