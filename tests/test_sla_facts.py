"""The service agreement's facts (storage/sla_facts.py) follow every write that changes what
they come from: after random writes through the use cases, they are what a recomputation
from the raw rows gives, on SQLite and PostgreSQL; and each write path moves a figure the
dashboard shows."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from domain.accounts import create_account, delete_account, restore_account, update_account
from domain.agreement import Agreement, SalesSide, save_agreement
from domain.calendar import WorkCalendar
from domain.dossiers import DossierEdit, save_dossier, start_dossier
from domain.errors import AccordError
from domain.icp import Criterion, IdealCustomerProfile, Operator, apply_icp, save_icp
from domain.interactions import (
    Channel,
    Interaction,
    LeadVerdict,
    Outcome,
    correct_interaction,
    correct_stage,
    log_interaction,
)
from domain.leads import HasPhone, LeadDefinition, save_lead_definition
from domain.periods import Period
from domain.report import Scope
from domain.targets import (
    Stage,
    add_to_target_list,
    assign_owners,
    hand_off,
    remove_from_target_list,
)
from domain.users import Role
from storage.agreements import SqlAgreementStore
from storage.dossiers import SqlDossierStore
from storage.icps import SqlIcpStore
from storage.leads import SqlLeadStore
from storage.read_models.sla_compliance import compliance, sla_figures
from storage.repositories import SqlUnitOfWork
from storage.schema import TargetRow, table_of
from storage.sla_facts import follow_up_days, follow_up_facts, handoff_facts, refresh_sla_facts

ACCOUNTS = 3
UTC_CALENDAR = WorkCalendar("UTC")


def _facts(conn) -> list[list[tuple]]:
    """The three tables' rows, in a stable order."""
    return [
        sorted(tuple(row) for row in conn.execute(select(table)).all())
        for table in (handoff_facts, follow_up_facts, follow_up_days)
    ]


def _recomputed(workspace) -> tuple[list[list[tuple]], list[list[tuple]]]:
    """The facts as the writes left them, and as the raw rows give them (worked out in a
    transaction that is rolled back)."""
    try:
        with workspace.write() as conn:
            kept = _facts(conn)
            refresh_sla_facts(conn, None)
            again = _facts(conn)
            raise _Undo
    except _Undo:
        return kept, again


class _Undo(Exception):
    """Rolls the recomputation back."""


def _listed(workspace, people) -> list[uuid.UUID]:
    owner = people[Role.OWNER]
    uow = SqlUnitOfWork(workspace)
    save_lead_definition(SqlLeadStore(workspace), owner, LeadDefinition((HasPhone(),)))
    ids = [
        create_account(uow, owner, {"name": f"Account {n}", "phone": f"+49 30 123456{n}"}).id
        for n in range(ACCOUNTS)
    ]
    add_to_target_list(uow, owner, ids, "fits")
    return ids


def owned_anew(workspace, people, *refreshes) -> list[uuid.UUID]:
    """A new target list of the rep's accounts, the list before emptied and the summaries
    ``refreshes`` worked out again: each hypothesis example starts from an empty list."""
    with workspace.write() as conn:
        conn.execute(delete(table_of(TargetRow)))
        for refresh in refreshes:
            refresh(conn, None)
    ids = _listed(workspace, people)
    assign_owners(
        SqlUnitOfWork(workspace), people[Role.OWNER], dict.fromkeys(ids, people[Role.REP].id)
    )
    return ids


def stored(uow, user, entry, now, logged, corrects: int | None) -> None:
    """``entry`` logged, or stored as the correction of the ``corrects``-th (modulo) of the
    ``logged`` interactions; its id and account are added to ``logged``."""
    if corrects is None:
        done = log_interaction(uow, user, entry, now=now)
    else:
        done = correct_interaction(uow, user, logged[corrects % len(logged)][0], entry, now=now)
    assert done.interaction.id is not None
    logged.append((done.interaction.id, entry.account_id))


minutes = st.integers(-180, 4)  # from now: an interaction may be logged up to 5 minutes ahead
writes = st.lists(
    st.one_of(
        st.tuples(st.just("log"), st.integers(0, ACCOUNTS - 1), minutes,
                  st.sampled_from([Outcome.NO_ANSWER, Outcome.CONVERSATION,
                                   Outcome.MEETING_BOOKED, Outcome.NOT_A_FIT]),
                  st.one_of(st.none(), st.integers(1, 5)),
                  st.sampled_from([None, LeadVerdict.ACCEPTED]),
                  st.one_of(st.none(), st.integers(0, 3))),
        st.tuples(st.just("correct"), st.integers(0, 20), minutes,
                  st.sampled_from([Outcome.VOICEMAIL, Outcome.CONVERSATION]),
                  st.one_of(st.none(), st.integers(1, 5)), st.just(None),
                  st.one_of(st.none(), st.integers(0, 3))),
        st.tuples(st.just("stage"), st.integers(0, ACCOUNTS - 1),
                  st.sampled_from([Stage.WON, Stage.LOST, Stage.MEETING])),
        st.tuples(st.just("hand off"), st.integers(0, ACCOUNTS - 1)),
        st.tuples(st.just("assign"), st.integers(0, ACCOUNTS - 1),
                  st.sampled_from([Role.REP, Role.OWNER, None])),
        st.tuples(st.just("remove"), st.integers(0, ACCOUNTS - 1)),
        st.tuples(st.just("add"), st.integers(0, ACCOUNTS - 1)),
        st.tuples(st.just("delete"), st.integers(0, ACCOUNTS - 1)),
        st.tuples(st.just("restore"), st.integers(0, ACCOUNTS - 1)),
        st.tuples(st.just("edit"), st.integers(0, ACCOUNTS - 1),
                  st.sampled_from(["Software", "Retail"])),
        st.tuples(st.just("icp"), st.sampled_from([40, 100])),
    ),
    max_size=14,
)  # fmt: skip


def _write(workspace, people, ids, logged, step) -> None:
    """One write through its use case; a refused one changes nothing."""
    owner, uow, now = people[Role.OWNER], SqlUnitOfWork(workspace), datetime.now(UTC)
    kind, *rest = step
    if kind in ("log", "correct"):
        which, minute, outcome, quality, lead, follow = rest
        at = now + timedelta(minutes=minute)
        if kind == "correct" and not logged:
            return
        account = ids[which] if kind == "log" else logged[which % len(logged)][1]
        entry = Interaction(
            account, Channel.CALL, outcome, at, quality=quality, lead=lead,
            reason="not for us" if outcome is Outcome.NOT_A_FIT else "",
            follow_up=None if follow is None else at.date() + timedelta(days=follow),
        )  # fmt: skip
        stored(uow, owner, entry, now, logged, None if kind == "log" else which)
    elif kind == "stage":
        correct_stage(uow, people[Role.MARKETING], ids[rest[0]], rest[1], "as the customer said")
    elif kind == "hand off":
        hand_off(uow, owner, [ids[rest[0]]])
    elif kind == "assign":
        who = None if rest[1] is None else people[rest[1]].id
        assign_owners(uow, owner, {ids[rest[0]]: who})
    elif kind == "remove":
        remove_from_target_list(uow, owner, [ids[rest[0]]], "not now")
    elif kind == "add":
        add_to_target_list(uow, owner, [ids[rest[0]]], "back again")
    elif kind == "restore":
        restore_account(uow, owner, ids[rest[0]])
    elif kind == "icp":  # every account's tier changes with the ICP applied
        store = SqlIcpStore(workspace)
        icp = IdealCustomerProfile("Software", (Criterion("industry", Operator.IN, ("Software",),
                                   weight=100),), tier_a=rest[0], tier_b=rest[0] // 2)  # fmt: skip
        apply_icp(store, owner, save_icp(store, owner, icp))
    else:
        with uow:
            loaded = uow.accounts.get(ids[rest[0]])
        if loaded is None:
            return
        if kind == "delete":
            delete_account(SqlUnitOfWork(workspace), owner, loaded)
        else:  # an edit scores the account again under the applied ICP
            update_account(SqlUnitOfWork(workspace), owner, loaded, {"industry": rest[1]})


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(steps=writes)
def test_the_facts_are_always_what_the_raw_rows_give(workspace, people, steps):
    ids = owned_anew(workspace, people, refresh_sla_facts)
    logged: list[tuple[uuid.UUID, uuid.UUID]] = []
    for step in steps:
        with contextlib.suppress(AccordError):  # a refused write changes nothing
            _write(workspace, people, ids, logged, step)
        kept, again = _recomputed(workspace)
        assert kept == again, step


# --- each write path moves what the dashboard shows -----------------------------------------


def _sales(workspace) -> dict[str, int]:
    """The whole team's sales measures this month, as of ten minutes from now (in the last
    ten minutes of a month, after its end: still this month's)."""
    now = datetime.now(UTC)
    scope = Scope(Period.parse(f"{now:%Y-%m}"), UTC_CALENDAR, now + timedelta(minutes=10))
    with workspace.read() as conn:
        t = compliance(conn, scope).total
    return {
        "handoffs": t.handoffs,
        "on_time": t.on_time,
        "attempts_met": t.attempts_met,
        "feedback": t.feedback,
        "rated": t.rated,
        "follow_ups_kept": t.follow_ups_kept,
    }


def test_each_write_moves_the_figures_it_changes(workspace, people):
    owner, rep = people[Role.OWNER], people[Role.REP]
    save_agreement(SqlAgreementStore(workspace), owner, Agreement(sales=SalesSide(attempts=2)))
    uow = SqlUnitOfWork(workspace)
    first, second, _ = _listed(workspace, people)
    assign_owners(uow, owner, {first: rep.id, second: rep.id})
    assert _sales(workspace)["handoffs"] == 0
    hand_off(uow, owner, [first, second])
    assert _sales(workspace)["handoffs"] == 2

    def log(account, **values) -> uuid.UUID:
        now = datetime.now(UTC)
        entry = Interaction(account, Channel.CALL, values.pop("outcome", Outcome.CONVERSATION),
                            now, **values)  # fmt: skip
        done = log_interaction(uow, rep, entry, now=now)
        assert done.interaction.id is not None
        return done.interaction.id

    today = datetime.now(UTC).date()
    touched = log(first, follow_up=today)
    assert _sales(workspace)["on_time"] == 1  # the first touch, within the deadline
    log(first, quality=4, lead=LeadVerdict.ACCEPTED)
    assert _sales(workspace) | {"handoffs": 0} == {
        "handoffs": 0, "on_time": 1, "attempts_met": 1, "feedback": 1, "rated": 1,
        "follow_ups_kept": 1,
    }  # fmt: skip
    correct_interaction(uow, rep, touched, Interaction(first, Channel.CALL, Outcome.VOICEMAIL,
                                                       datetime.now(UTC)))  # fmt: skip
    assert _sales(workspace)["follow_ups_kept"] == 0  # the follow-up went with its entry
    correct_stage(uow, people[Role.MARKETING], second, Stage.LOST, "closed down")
    assert _sales(workspace)["attempts_met"] == 2  # lost before the window closed
    remove_from_target_list(uow, owner, [second], "gone")
    assert _sales(workspace)["handoffs"] == 1
    add_to_target_list(uow, owner, [second], "back")
    assert _sales(workspace)["handoffs"] == 2
    assign_owners(uow, owner, {second: owner.id})
    with workspace.read() as conn:
        rows = conn.execute(select(handoff_facts.c.account_id, handoff_facts.c.owner_id)).all()
    assert dict(rows) == {first: rep.id, second: owner.id}  # the rep of each hand-off


def _queue(workspace, rep: str | None = None) -> str:
    """What the dashboard's "Dossiers complete for the queue" says: complete of open."""
    now = datetime.now(UTC)  # this month's, even in its last ten minutes
    scope = Scope(Period.parse(f"{now:%Y-%m}"), UTC_CALENDAR, now + timedelta(minutes=10), rep)
    with workspace.read() as conn:
        marketing, _ = sla_figures(conn, scope)
    return marketing[3].basis


def test_the_queues_dossiers_follow_each_accounts_stage_and_dossier(workspace, people):
    owner, rep, marketer = people[Role.OWNER], people[Role.REP], people[Role.MARKETING]
    uow = SqlUnitOfWork(workspace)
    first, second, third = _listed(workspace, people)
    assign_owners(uow, owner, {first: rep.id, second: rep.id, third: rep.id})
    hand_off(uow, owner, [first, second, third])
    assert _queue(workspace) == _queue(workspace, rep.name) == "0 of 3"
    assert _queue(workspace, owner.name) == ""  # the owner's queue is empty
    store = SqlDossierStore(workspace)
    dossier = start_dossier(store, marketer, first)
    template = store.template_of(dossier)
    texts = {section.key: "Makes pumps." for section in template.required()}
    save_dossier(store, marketer, dossier, DossierEdit(texts))
    assert _queue(workspace) == "1 of 3"
    won = Interaction(second, Channel.VISIT, Outcome.WON, datetime.now(UTC), value=900)
    log_interaction(uow, rep, won, now=datetime.now(UTC))
    assert _queue(workspace) == "1 of 2"  # a won account leaves the queue
    correct_stage(uow, marketer, first, Stage.LOST, "closed down")
    assert _queue(workspace) == "0 of 1"  # so does a lost one, with its dossier
    correct_stage(uow, marketer, first, Stage.MEETING, "reopened")
    assert _queue(workspace) == "1 of 2"


def test_the_migration_keeps_each_hand_offs_times_in_whole_seconds_too(db_url):
    """0024 fills the seconds the compliance finds a fact's day from: a time a fraction of a
    second before midnight stays on its day."""
    from alembic import command
    from alembic.config import Config

    from storage.workspace import MIGRATIONS, open_workspace

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    old = open_workspace(db_url, migrate=False)
    handed = datetime(2026, 6, 3, 23, 59, 59, 999900, tzinfo=UTC)
    touched = datetime(2026, 6, 4, 0, 0, 0, 1, tzinfo=UTC)
    with old.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0023")
        conn.execute(handoff_facts.insert().values(
            account_id=uuid.uuid4(), handed_off_at=handed, attempt_1=touched))  # fmt: skip
        command.upgrade(config, "head")
        row = conn.execute(select(handoff_facts)).one()
    old.close()
    assert (row.handed_off_at_seconds, row.attempt_1_seconds, row.attempt_2_seconds) == (
        int(handed.timestamp()),
        int(touched.timestamp()),
        None,
    )
    assert row.handed_off_at_seconds % 86400 == 86399
