"""Interactions, the stages they move, corrections and exceptions to the target list: the
rules in domain/ and the store on both databases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.config import Config
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, insert, select

from domain.accounts import Contact, add_contact, create_account, delete_account
from domain.errors import NotFound, OutsideTargetList, PermissionDenied, ValidationError
from domain.interactions import (
    Channel,
    Interaction,
    LeadVerdict,
    Outcome,
    checked,
    correct_interaction,
    correct_stage,
    grant_exception,
    log_interaction,
    parse_outcome,
    revoke_exception,
    stage_after,
)
from domain.leads import HasPhone, LeadDefinition, save_lead_definition
from domain.targets import Stage, add_to_target_list, assign_owners, hand_off
from domain.users import Role
from storage.interactions import account_interactions, account_stage_changes, exceptions
from storage.keys import email_key
from storage.leads import SqlLeadStore
from storage.repositories import SqlUnitOfWork
from storage.schema import AccountRow, InteractionRow, TargetRow, stored_utc
from storage.workspace import MIGRATIONS, open_workspace


def _now() -> datetime:
    """A minute ahead, so that it falls after the fixtures' writes (stamped with the clock)."""
    return datetime.now(UTC) + timedelta(minutes=1)


def _entry(account_id, outcome=Outcome.CONVERSATION, **values) -> Interaction:
    return Interaction(account_id, values.pop("channel", Channel.CALL), outcome,
                       values.pop("at", _now() - timedelta(hours=1)), **values)  # fmt: skip


# --- the rules ------------------------------------------------------------------------------


def test_the_stage_follows_the_outcome():
    def after(stage, outcome, channel=Channel.CALL):
        return stage_after(stage, _entry(None, outcome, channel=channel))

    assert after(Stage.SALES_READY, Outcome.NO_ANSWER) is Stage.CONTACTED
    assert after(Stage.TARGETED, Outcome.VOICEMAIL) is Stage.CONTACTED
    assert after(Stage.CONTACTED, Outcome.MEETING_BOOKED) is Stage.MEETING
    assert after(Stage.CONTACTED, Outcome.CONVERSATION, Channel.VISIT) is Stage.MEETING
    assert after(Stage.CONTACTED, Outcome.NO_ANSWER, Channel.VISIT) is Stage.CONTACTED
    assert after(Stage.MEETING, Outcome.OPPORTUNITY) is Stage.OPPORTUNITY
    assert after(Stage.OPPORTUNITY, Outcome.NO_ANSWER) is Stage.OPPORTUNITY  # never back
    assert after(Stage.OPPORTUNITY, Outcome.WON) is Stage.WON
    assert after(Stage.MEETING, Outcome.NOT_A_FIT) is Stage.LOST
    assert after(Stage.WON, Outcome.CONVERSATION) is Stage.WON
    assert after(Stage.LOST, Outcome.WON) is Stage.WON


@given(st.sampled_from(list(Stage)), st.sampled_from(list(Outcome)),
       st.sampled_from(list(Channel)))  # fmt: skip
def test_a_stage_never_moves_back_before_a_close(stage, outcome, channel):
    funnel = [Stage.TARGETED, Stage.SALES_READY, Stage.CONTACTED, Stage.MEETING,
              Stage.OPPORTUNITY]  # fmt: skip
    after = stage_after(stage, _entry(None, outcome, channel=channel))
    if after in funnel and stage in funnel:
        assert funnel.index(after) >= funnel.index(stage)
    if stage in (Stage.WON, Stage.LOST) and outcome not in (
        Outcome.WON, Outcome.LOST, Outcome.NOT_A_FIT
    ):  # fmt: skip
        assert after is stage


def test_bad_entries_are_refused_naming_each_field():
    with pytest.raises(ValidationError) as refused:
        checked(
            _entry(None, Outcome.WON, quality=7, follow_up=_now().date() - timedelta(days=2),
                   at=_now() + timedelta(days=1)),
            _now(),
        )  # fmt: skip
    assert set(refused.value.problems) == {"quality", "follow_up", "value", "at"}
    with pytest.raises(ValidationError) as refused:
        checked(_entry(None, Outcome.LOST), _now())
    assert "say why" in refused.value.problems["reason"]
    with pytest.raises(ValidationError) as refused:
        checked(_entry(None, lead=LeadVerdict.REJECTED), _now())
    assert "rejected" in refused.value.problems["reason"]
    with pytest.raises(ValidationError) as refused:
        checked(_entry(None, Outcome.CONVERSATION, value=500), _now())
    assert "opportunity or a win" in refused.value.problems["value"]
    with pytest.raises(ValidationError, match="no-answer"):
        parse_outcome("maybe")


def test_meaningful_follows_the_outcome_unless_set():
    assert checked(_entry(None, Outcome.VOICEMAIL), _now()).meaningful is False
    assert checked(_entry(None, Outcome.CONVERSATION), _now()).meaningful is True
    assert checked(_entry(None, Outcome.NO_ANSWER, meaningful=True), _now()).meaningful is True


def test_learned_text_is_kept_as_typed_with_control_characters_cleaned():
    text = "=SUM(A1) <b>bold</b> 東京 " + "x" * 20_000 + "\x07"
    assert checked(_entry(None, learned=text), _now()).learned == text[:-1].strip()


# --- the store, on both databases -----------------------------------------------------------


@pytest.fixture
def listed(workspace, people):
    """An account on the target list, owned by the rep and handed off; and one off the list."""
    owner, rep = people[Role.OWNER], people[Role.REP]
    uow = SqlUnitOfWork(workspace)
    on = create_account(uow, owner, {"name": "Acme GmbH", "phone": "+49 30 1234567"})
    off = create_account(uow, owner, {"name": "Elsewhere Ltd"})
    add_to_target_list(uow, owner, [on.id], "fits")
    assign_owners(uow, owner, {on.id: rep.id})
    return on, off


def _stage(workspace, account_id) -> str:
    with workspace.read() as conn:
        return conn.execute(
            select(TargetRow.stage).where(TargetRow.account_id == account_id)
        ).scalar_one()


def test_a_log_is_stored_and_moves_the_stage_with_its_history(workspace, people, listed):
    on, _ = listed
    rep = people[Role.REP]
    uow = SqlUnitOfWork(workspace)
    ann = add_contact(uow, people[Role.OWNER], on.id, {"name": "Ann Buyer"})
    next_week = _now().date() + timedelta(days=7)
    logged = log_interaction(
        uow, rep,
        _entry(on.id, Outcome.MEETING_BOOKED, contact_id=ann.id, learned="Budget in Q1",
               quality=4, lead=LeadVerdict.ACCEPTED, next_step="Demo",
               follow_up=next_week),
        now=_now(),
    )  # fmt: skip
    assert logged.stage_change is not None and logged.stage_change.after is Stage.MEETING
    assert _stage(workspace, on.id) == "meeting"
    with workspace.read() as conn:
        [(stored, corrected)] = account_interactions(conn, on.id)
        history = account_stage_changes(conn, on.id)
    assert not corrected
    assert (stored.logged_by, stored.learned, stored.quality) == ("Rita Rep", "Budget in Q1", 4)
    assert stored.contact_id == ann.id and stored.follow_up == next_week
    assert [(c.before, c.after) for c in history] == [
        (None, Stage.TARGETED),
        (Stage.TARGETED, Stage.MEETING),
    ]
    assert history[-1].interaction_id == stored.id and history[-1].changed_by == "Rita Rep"


def test_a_contact_met_on_the_spot_is_added_with_the_log(workspace, people, listed):
    on, _ = listed
    logged = log_interaction(
        SqlUnitOfWork(workspace), people[Role.REP], _entry(on.id),
        new_contact=Contact(on.id, "Bo Newman", title="CFO"), now=_now(),
    )  # fmt: skip
    assert logged.contact is not None and logged.interaction.contact_id == logged.contact.id
    with SqlUnitOfWork.reading(workspace) as uow:
        assert [c.name for c in uow.contacts.for_account(on.id)] == ["Bo Newman"]


def test_a_rep_is_refused_off_the_list_until_granted_an_exception(workspace, people, listed):
    _, off = listed
    owner, rep, marketing = people[Role.OWNER], people[Role.REP], people[Role.MARKETING]
    uow = SqlUnitOfWork(workspace)
    with pytest.raises(OutsideTargetList, match=r"Elsewhere Ltd is not on it.*exception"):
        log_interaction(uow, rep, _entry(off.id), now=_now())
    with workspace.read() as conn:
        assert conn.execute(select(InteractionRow.id)).first() is None
    granted = grant_exception(uow, marketing, "Rita Rep", off.id, "Met at the trade fair")
    logged = log_interaction(uow, rep, _entry(off.id), now=_now())
    assert logged.stage_change is None  # not on the list: no stage to move
    with workspace.read() as conn:
        [(listed_exception, account)] = exceptions(conn)
    assert (listed_exception.rep, account, listed_exception.granted_by) == (
        "Rita Rep", "Elsewhere Ltd", "Mark Marketer")  # fmt: skip
    revoke_exception(uow, owner, granted.id)
    with pytest.raises(OutsideTargetList):
        log_interaction(uow, rep, _entry(off.id), now=_now())
    with workspace.read() as conn:
        assert exceptions(conn) == []
        assert exceptions(conn, include_revoked=True)[0][0].revoked_by == owner.name
    with pytest.raises(ValidationError, match="not a rep"):
        grant_exception(uow, owner, "Mark Marketer", off.id, "why not")
    with pytest.raises(PermissionDenied):
        grant_exception(uow, rep, "Rita Rep", off.id, "myself")


def test_the_owner_logs_anywhere_and_marketing_not_at_all(workspace, people, listed):
    _, off = listed
    uow = SqlUnitOfWork(workspace)
    log_interaction(uow, people[Role.OWNER], _entry(off.id), now=_now())
    with pytest.raises(PermissionDenied):
        log_interaction(uow, people[Role.MARKETING], _entry(off.id), now=_now())


def test_a_correction_supersedes_and_puts_the_stage_right(workspace, people, listed):
    on, _ = listed
    rep, owner = people[Role.REP], people[Role.OWNER]
    uow = SqlUnitOfWork(workspace)
    log_interaction(uow, rep, _entry(on.id, Outcome.NO_ANSWER), now=_now())
    wrong = log_interaction(uow, rep, _entry(on.id, Outcome.WON, value=50_000), now=_now())
    assert _stage(workspace, on.id) == "won"
    fixed = correct_interaction(
        uow, rep, wrong.interaction.id, _entry(on.id, Outcome.MEETING_BOOKED), now=_now()
    )
    assert _stage(workspace, on.id) == "meeting"
    assert fixed.interaction.supersedes == wrong.interaction.id
    with workspace.read() as conn:
        history = account_interactions(conn, on.id)
        stages = account_stage_changes(conn, on.id)
    assert len(history) == 3  # both stay
    assert {i.id: c for i, c in history}[wrong.interaction.id] is True
    assert [c.after for c in stages][-3:] == [Stage.CONTACTED, Stage.WON, Stage.MEETING]
    assert stages[-1].reason == "correction"
    with pytest.raises(ValidationError, match="corrected already"):
        correct_interaction(uow, owner, wrong.interaction.id, _entry(on.id), now=_now())
    other = people[Role.OWNER]
    mine = log_interaction(uow, other, _entry(on.id), now=_now())
    with pytest.raises(ValidationError, match=f"{other.name} or the owner"):
        correct_interaction(uow, rep, mine.interaction.id, _entry(on.id), now=_now())


def test_a_stage_is_corrected_by_hand_with_a_reason(workspace, people, listed):
    on, _ = listed
    uow = SqlUnitOfWork(workspace)
    with pytest.raises(ValidationError, match="say why"):
        correct_stage(uow, people[Role.MARKETING], on.id, Stage.LOST, " ")
    with pytest.raises(PermissionDenied):
        correct_stage(uow, people[Role.REP], on.id, Stage.LOST, "gone")
    correct_stage(uow, people[Role.MARKETING], on.id, Stage.LOST, "Closed down")
    assert _stage(workspace, on.id) == "lost"
    with workspace.read() as conn:
        last = account_stage_changes(conn, on.id)[-1]
    assert (last.before, last.after, last.reason, last.changed_by) == (
        Stage.TARGETED, Stage.LOST, "Closed down", "Mark Marketer")  # fmt: skip


def test_the_hand_off_is_a_stage_change(workspace, people, listed):
    on, _ = listed
    owner = people[Role.OWNER]
    save_lead_definition(SqlLeadStore(workspace), owner, LeadDefinition((HasPhone(),)))
    assert hand_off(SqlUnitOfWork(workspace), owner, [on.id]).handed_off == 1
    with workspace.read() as conn:
        last = account_stage_changes(conn, on.id)[-1]
    assert (last.before, last.after, last.changed_by) == (
        Stage.TARGETED, Stage.SALES_READY, people[Role.OWNER].name)  # fmt: skip


def test_nothing_is_written_for_a_refused_log(workspace, people, listed):
    on, _ = listed
    uow = SqlUnitOfWork(workspace)
    with pytest.raises(ValidationError) as refused:
        log_interaction(uow, people[Role.REP],
                        _entry(on.id, quality=9, contact_id=on.id), now=_now())  # fmt: skip
    assert "quality" in refused.value.problems
    with pytest.raises(ValidationError, match="contact"):
        log_interaction(uow, people[Role.REP], _entry(on.id, contact_id=on.id), now=_now())
    with workspace.read() as conn:
        assert conn.execute(select(InteractionRow.id)).first() is None
    assert _stage(workspace, on.id) == "targeted"


def test_a_deleted_account_takes_no_log(workspace, people, listed):
    on, _ = listed
    uow = SqlUnitOfWork(workspace)
    with SqlUnitOfWork.reading(workspace) as reading:
        account = reading.accounts.get(on.id)
    delete_account(uow, people[Role.OWNER], account)
    with pytest.raises(NotFound, match="Acme GmbH was deleted"):
        log_interaction(uow, people[Role.REP], _entry(on.id), now=_now())


def test_upgrading_starts_the_stage_history_from_the_target_list(tmp_path):
    """0010 writes what the list already knew: each listed account targeted when it was
    put on the list, and sales-ready when it was handed off."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    path = tmp_path / "old.sqlite"
    workspace = open_workspace(path, migrate=False)
    listed_at, handed_at = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC)
    ids = [uuid.uuid4(), uuid.uuid4()]
    with workspace.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0009")
        for n, account_id in enumerate(ids):
            conn.execute(
                insert(AccountRow.__table__).values(
                    id=account_id,
                    name=f"A{n}",
                    name_key=f"a{n}",
                    search_text=f"a{n}",
                    created_at=listed_at,
                    updated_at=listed_at,
                    changed_by="Olivia",
                    version=1,
                )
            )
            conn.execute(insert(TargetRow.__table__).values(
                id=uuid.uuid4(), account_id=account_id, stage="sales-ready" if n else "targeted",
                priority=1, created_at=listed_at, updated_at=listed_at, changed_by="Mark",
                version=1, handed_off_at=handed_at if n else None,
                handed_off_by="Mark" if n else None))  # fmt: skip
        command.upgrade(config, "head")
    with workspace.read() as conn:
        first, second = (account_stage_changes(conn, i) for i in ids)
    workspace.close()
    assert [(c.before, c.after, c.at) for c in first] == [(None, Stage.TARGETED, listed_at)]
    assert [(c.before, c.after, c.at, c.changed_by) for c in second] == [
        (None, Stage.TARGETED, listed_at, "Mark"),
        (Stage.TARGETED, Stage.SALES_READY, handed_at, "Mark"),
    ]


def test_the_demo_has_six_months_of_true_field_history(workspace):
    """The queue, the timeline and the reports have something to show on first start, and
    the stage of every listed account is what its stage history says."""
    from storage.demo.build import build_demo

    build_demo(workspace, accounts=600, seed=3, replace=True, owner_name="Olivia Opener")
    with workspace.read() as conn:
        run = lambda sql: conn.exec_driver_sql(sql).all()  # noqa: E731
        outcomes = dict(run("SELECT outcome, count(*) FROM interactions GROUP BY outcome"))
        span = conn.execute(select(func.min(InteractionRow.at), func.max(InteractionRow.at))).one()
        latest = dict(run(
            "SELECT s.account_id, s.to_stage FROM stage_changes s WHERE NOT EXISTS ("
            " SELECT 1 FROM stage_changes l WHERE l.account_id = s.account_id"
            " AND (l.at > s.at OR (l.at = s.at AND l.id > s.id)))"))  # fmt: skip
        stages = dict(run("SELECT account_id, stage FROM targets"))
        strangers = run(
            "SELECT count(*) FROM interactions i JOIN targets t ON t.account_id = i.account_id"
            " JOIN users u ON u.id = t.owner_id WHERE u.name <> i.logged_by")[0][0]  # fmt: skip
        untouched = run(
            "SELECT count(*) FROM targets t WHERE t.handed_off_at IS NOT NULL AND NOT EXISTS"
            " (SELECT 1 FROM interactions i WHERE i.account_id = t.account_id)")[0][0]  # fmt: skip
        wins_without_value = run(
            "SELECT count(*) FROM interactions WHERE outcome = 'won' AND value IS NULL"
        )[0][0]
        engaged = run("SELECT count(DISTINCT campaign) FROM engagements")[0][0]
        # what an engagement import finds a demo contact by
        emails = run("SELECT email, email_key FROM contacts WHERE email IS NOT NULL")
        handed_off = TargetRow.handed_off_at
        moments = conn.execute(select(InteractionRow.at)).scalars().all()
        moments += conn.execute(select(handed_off).where(handed_off.is_not(None))).scalars().all()
    moments = [stored_utc(moment).astimezone() for moment in moments]
    # reps call, and marketing hands off, on weekdays in office hours
    assert all(m.weekday() < 5 and 8 <= m.hour < 18 for m in moments)
    assert set(outcomes) == {o.value for o in Outcome}
    assert emails and all(key == email_key(email) for email, key in emails)
    assert outcomes["conversation"] > outcomes["won"] > 0 and outcomes["lost"] > 0
    assert (span[1] - span[0]).days > 120
    assert latest == {k: v for k, v in stages.items() if k in latest} and len(latest) == len(stages)
    assert strangers == 0 and untouched > 0 and wins_without_value == 0 and engaged == 4
