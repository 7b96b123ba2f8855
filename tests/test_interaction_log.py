"""Logging from the command line, the interactions export and an account's timeline: what
a rep types is stored as typed, a refused log names its option and writes nothing."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from domain.accounts import add_contact, create_account, delete_account
from domain.engagement import EngagementKind
from domain.interactions import (
    Channel,
    Interaction,
    LeadVerdict,
    Outcome,
    correct_interaction,
    log_interaction,
)
from domain.leads import HasPhone, LeadDefinition, save_lead_definition
from domain.targets import add_to_target_list, assign_owners, hand_off
from domain.users import Role
from main import main
from storage.interactions import account_interactions
from storage.leads import SqlLeadStore
from storage.read_models.timeline import EntryKind, account_timeline
from storage.repositories import SqlUnitOfWork
from storage.schema import EngagementRow, InteractionRow

#: What a rep may type: a formula, markup, other scripts and a long text.
HOSTILE = "=SUM(A1) <b>bold</b> 東京 Łódź مرحبا " + "x" * 20_000


def _listed(workspace, people):
    """Acme on the target list, owned by the rep, with a contact; and an account off it."""
    owner, rep = people[Role.OWNER], people[Role.REP]
    uow = SqlUnitOfWork(workspace)
    on = create_account(uow, owner, {"name": "Acme GmbH", "website": "acme.example",
                                     "phone": "+49 30 1234567"})  # fmt: skip
    off = create_account(uow, owner, {"name": "Elsewhere Ltd"})
    add_to_target_list(uow, owner, [on.id], "fits the ICP")
    assign_owners(uow, owner, {on.id: rep.id})
    add_contact(uow, owner, on.id, {"name": "Ann Buyer"})
    return on, off


@pytest.fixture
def listed(workspace, people):
    return _listed(workspace, people)


@pytest.fixture
def cli(sqlite_workspace, sqlite_people):
    """The listed accounts in a workspace file (in a team database the command line works as
    the database login, not as --user)."""
    return sqlite_workspace, sqlite_people, _listed(sqlite_workspace, sqlite_people)


def _log(workspace, *args: str) -> int:
    return main(["--db", workspace.url, "--user", "Rita Rep", "log", *args])


def _count(workspace) -> int:
    with workspace.read() as conn:
        return conn.execute(select(func.count()).select_from(InteractionRow)).scalar_one()


def test_a_call_is_logged_from_the_command_line_with_every_option(cli, capsys):
    workspace, _, (on, _) = cli
    code = _log(workspace, "acme.example", "--outcome", "opportunity", "--channel", "visit",
                "--contact", "ann buyer", "--at", "2026-01-05 10:30", "--learned", HOSTILE,
                "--quality", "4", "--lead", "accepted", "--commitment", "Send pricing",
                "--next", "Proposal", "--follow-up", "2026-01-12", "--value", "12,500")  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert (
        "Acme GmbH of 2026-01-05 10:30 (opportunity); its stage is opportunity now"
        in capsys.readouterr().out
    )
    with workspace.read() as conn:
        [(stored, _)] = account_interactions(conn, on.id)
    local = datetime(2026, 1, 5, 10, 30).astimezone(UTC)
    assert (stored.channel, stored.outcome, stored.at) == (
        Channel.VISIT,
        Outcome.OPPORTUNITY,
        local,
    )
    assert stored.learned == HOSTILE and stored.commitments == "Send pricing"
    assert (stored.quality, stored.lead, stored.value) == (4, LeadVerdict.ACCEPTED, 12_500)
    assert stored.next_step == "Proposal" and stored.follow_up == date(2026, 1, 12)
    assert stored.contact_id is not None
    assert main(["--db", workspace.url, "log", str(on.id), "--outcome", "voicemail"]) == 0


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--quality", "7"], "--quality: the lead quality is a rating from 1 to 5"),
        (["--quality", "good"], "--quality: 'good' is not a rating from 1 to 5"),
        (["--follow-up", "2020-01-01"], "--follow-up: the follow-up date is before"),
        (["--outcome", "maybe"], "--outcome: 'maybe' is not an outcome: use one of no-answer"),
        (["--contact", "Bob"], "--contact: none of Acme GmbH's contacts is called 'Bob'"),
        (["--outcome", "won", "--value", "lots"], "--value: 'lots' is not an amount"),
        (["--outcome", "lost"], "--reason: say why: the outcome is lost"),
        (["--at", "yesterday"], "--at: 'yesterday' is not a time written as \"YYYY-MM-DD HH:MM\""),
    ],
)
def test_a_refused_log_names_its_option_and_writes_nothing(cli, capsys, args, said):
    workspace = cli[0]
    options = ["--outcome", "conversation", *args]
    assert _log(workspace, "Acme GmbH", *options) == 1
    assert said in capsys.readouterr().err
    assert _count(workspace) == 0


def test_an_account_not_found_deleted_or_off_the_list_takes_no_log(cli, capsys):
    workspace, people, (on, _) = cli
    assert _log(workspace, "Nobody Inc", "--outcome", "conversation") == 1
    assert "No account" in capsys.readouterr().err
    assert _log(workspace, "Elsewhere Ltd", "--outcome", "conversation") == 1
    assert "not on" in capsys.readouterr().err
    delete_account(SqlUnitOfWork(workspace), people[Role.OWNER], on)
    assert _log(workspace, str(on.id), "--outcome", "conversation") == 1
    assert "No account" in capsys.readouterr().err
    assert _count(workspace) == 0


def _entry(account_id, outcome=Outcome.CONVERSATION, **values) -> Interaction:
    at = values.pop("at", datetime.now(UTC) - timedelta(hours=1))
    return Interaction(account_id, values.pop("channel", Channel.CALL), outcome, at, **values)


def test_the_export_has_a_row_per_interaction_with_its_text_as_text(cli, tmp_path, capsys):
    workspace, people, listed = cli
    on, _ = listed
    uow = SqlUnitOfWork(workspace)
    old = _entry(on.id, Outcome.NO_ANSWER, at=datetime(2025, 6, 1, 9, tzinfo=UTC))
    log_interaction(uow, people[Role.OWNER], old)
    rated = _entry(on.id, learned=HOSTILE, quality=2, lead=LeadVerdict.REJECTED,
                   reason="=too small", follow_up=date(2030, 1, 1))  # fmt: skip
    log_interaction(uow, people[Role.REP], rated)
    out = tmp_path / "interactions.csv"
    argv = ["--db", workspace.url, "export", "interactions", str(out)]
    assert main([*argv, "--since", "2025-07-01", "--rep", "Rita Rep"]) == 0
    assert "Exported 1 interaction to" in capsys.readouterr().out
    with out.open(encoding="utf-8-sig", newline="") as f:
        header, row = list(csv.reader(f))
    assert "Time (UTC)" in header
    cells = dict(zip(header, row, strict=True))
    assert (cells["Account"], cells["Rep"], cells["Channel"], cells["Outcome"]) == (
        "Acme GmbH", "Rita Rep", "Call", "Conversation")  # fmt: skip
    assert cells["Learned"] == "'" + HOSTILE and cells["Reason"] == "'=too small"
    assert (cells["Lead quality"], cells["Accepted or rejected"]) == ("2", "rejected")
    assert cells["Follow-up"] == "2030-01-01"
    workbook = tmp_path / "interactions.xlsx"
    assert main([*argv[:-1], str(workbook)]) == 0
    sheet = load_workbook(workbook).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 3
    learned = rows[0].index("Learned")
    assert rows[2][learned] == HOSTILE and sheet.cell(3, learned + 1).data_type == "s"
    assert main([*argv, "--rep", "Nobody"]) == 1
    assert "--rep: there is no user named 'Nobody'" in capsys.readouterr().err


def test_the_timeline_shows_everything_that_happened_newest_first(workspace, people, listed):
    on, _ = listed
    owner, rep = people[Role.OWNER], people[Role.REP]
    uow = SqlUnitOfWork(workspace)
    save_lead_definition(SqlLeadStore(workspace), owner, LeadDefinition((HasPhone(),)))
    hand_off(uow, owner, [on.id])
    earlier = datetime.now(UTC) - timedelta(hours=2)
    wrong = log_interaction(uow, rep, _entry(on.id, Outcome.NO_ANSWER, at=earlier))
    fixed = correct_interaction(uow, rep, wrong.interaction.id,
                                _entry(on.id, Outcome.MEETING_BOOKED, learned=HOSTILE))  # fmt: skip
    with workspace.write() as conn:
        conn.execute(EngagementRow.__table__.insert().values(
            account_id=on.id, kind=EngagementKind.WEBINAR.value, campaign="Autumn webinar",
            at=datetime.now(UTC) - timedelta(minutes=30), created_by="Mark Marketer"))  # fmt: skip
    timeline = account_timeline(workspace, on.id)
    kinds = [e.kind for e in timeline]
    assert kinds.index(EntryKind.ENGAGEMENT) < kinds.index(EntryKind.INTERACTION)
    assert [e.at for e in timeline] == sorted((e.at for e in timeline), reverse=True)
    calls = [e for e in timeline if e.kind is EntryKind.INTERACTION]
    assert [c.interaction.id for c in calls] == [fixed.interaction.id, wrong.interaction.id]
    assert [c.corrected for c in calls] == [False, True]
    assert calls[0].text.startswith("Correction of an earlier entry. Call: Meeting booked.")
    assert HOSTILE in calls[0].text and calls[0].who == "Rita Rep"
    said = [e.text for e in timeline]
    assert "Webinar, campaign Autumn webinar." in said
    assert "Stage contacted → meeting by the call (meeting booked): correction." in said
    assert "Stage targeted: put on the target list." in said
    assert "Handed off to sales." in said
    assert "Target list: Added Acme GmbH: fits the ICP." in said
