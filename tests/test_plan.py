"""The written plan in a workspace: which version of each part it holds, sign-offs stored
(SQLite and PostgreSQL), a draft when a part changes, agreed when both sides sign again; the
plan as report sections; ``accord plan sign|show``."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, insert, select

from domain.agreement import Agreement, MarketingSide
from domain.calendar import WorkCalendar
from domain.dossiers import DEFAULT_TEMPLATE, save_template
from domain.errors import ValidationError
from domain.goal import Goal, Metric, Observed, Rate, reverse_funnel
from domain.icp import Criterion, IdealCustomerProfile, Operator, apply_icp, save_icp
from domain.leads import DEFAULT_LEAD_DEFINITION, save_lead_definition
from domain.periods import Period
from domain.plan import PlanVersions, Side, sign_plan
from domain.report import Scope
from domain.users import Role, User, add_user
from main import main
from storage.change_log import change_log
from storage.dossiers import SqlDossierStore
from storage.icps import SqlIcpStore
from storage.leads import SqlLeadStore
from storage.plan import SqlPlanStore, agreements, goals
from storage.read_models.plan_document import plan_sections
from storage.users import SqlUserStore, sign_in
from storage.workspace import Workspace, open_workspace

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
GOAL = Goal(Metric.NEW_REVENUE, 400_000, date(2026, 1, 1), 6, ("Mark Marketer", "Rita Rep"))


def _save_goal(workspace: Workspace, goal: Goal, by: User) -> None:
    """A new goal version, as the goal's store saves it (the table is the contract)."""
    with workspace.write() as conn:
        number = conn.execute(select(func.coalesce(func.max(goals.c.number), 0))).scalar_one()
        conn.execute(insert(goals).values(number=number + 1, document=goal.to_document(),
                                          created_by=by.name))  # fmt: skip


def _save_agreement(workspace: Workspace, agreement: Agreement, by: User) -> None:
    with workspace.write() as conn:
        number = conn.execute(select(func.coalesce(func.max(agreements.c.number), 0))).scalar_one()
        conn.execute(insert(agreements).values(number=number + 1,
                                               document=agreement.to_document(),
                                               created_by=by.name))  # fmt: skip


def _scope() -> Scope:
    return Scope(Period.parse("2026-01..2026-06"), WorkCalendar(), NOW)


def test_the_plan_holds_each_parts_newest_version(workspace, people):
    owner = people[Role.OWNER]
    store = SqlPlanStore(workspace)
    assert store.plan_state().current == PlanVersions()
    _save_goal(workspace, GOAL, owner)
    _save_goal(workspace, GOAL, owner)
    _save_agreement(workspace, Agreement(), owner)
    icp = IdealCustomerProfile("Core", (Criterion("employees", Operator.AT_LEAST, (50,)),))
    apply_icp(SqlIcpStore(workspace), owner, save_icp(SqlIcpStore(workspace), owner, icp))
    save_lead_definition(SqlLeadStore(workspace), owner, DEFAULT_LEAD_DEFINITION)
    save_template(SqlDossierStore(workspace), owner, DEFAULT_TEMPLATE)
    current = store.plan_state().current
    assert (current.goal, current.icp, current.agreement, current.template) == (
        2,
        "Core v1",
        1,
        1,
    )
    assert current.lead_definition is not None


def test_sign_offs_are_stored_with_their_versions_and_logged(workspace, people):
    store = SqlPlanStore(workspace)
    _save_goal(workspace, GOAL, people[Role.OWNER])
    sign_plan(store, people[Role.MARKETING], Side.MARKETING, NOW)
    state = store.plan_state()
    assert not state.agreed
    signed = state.latest(Side.MARKETING)
    assert signed is not None
    assert (signed.signed_by, signed.signed_at, signed.versions.goal) == ("Mark Marketer", NOW, 1)
    sign_plan(store, people[Role.REP], Side.SALES, NOW)
    assert store.plan_state().agreed
    with workspace.read() as conn:
        logged = conn.execute(
            select(change_log.c.user_name, change_log.c.details["side"].as_string())
            .where(change_log.c.table_name == "plan_sign_offs")
            .order_by(change_log.c.at)
        ).all()
    assert [tuple(row) for row in logged] == [
        ("Mark Marketer", "marketing"),
        ("Rita Rep", "sales"),
    ]


def test_a_plan_is_a_draft_when_the_goal_changes_and_agreed_when_both_sign_again(workspace, people):
    store = SqlPlanStore(workspace)
    owner = people[Role.OWNER]
    _save_goal(workspace, GOAL, owner)
    sign_plan(store, people[Role.MARKETING], Side.MARKETING, NOW)
    sign_plan(store, people[Role.REP], Side.SALES, NOW)
    assert store.plan_state().status == "Agreed"

    _save_goal(workspace, Goal(Metric.WON_ACCOUNTS, 20, date(2026, 1, 1), 6, GOAL.owners), owner)
    state = store.plan_state()
    assert state.status == "Draft"
    assert state.changed(Side.MARKETING) == state.changed(Side.SALES) == ["the goal"]
    assert "since then the goal changed" in state.standing_of(Side.SALES)

    sign_plan(store, people[Role.MARKETING], Side.MARKETING, NOW)
    assert store.plan_state().status == "Draft"  # sales has not signed the new goal
    sign_plan(store, owner, Side.SALES, NOW)  # the owner may sign for sales
    assert store.plan_state().agreed


def test_one_person_never_signs_both_sides_of_a_plan(workspace, people):
    store = SqlPlanStore(workspace)
    owner = people[Role.OWNER]
    sign_plan(store, owner, Side.MARKETING, NOW)
    with pytest.raises(ValidationError, match="someone else signs"):
        sign_plan(store, owner, Side.SALES, NOW)
    assert len(store.plan_state().sign_offs) == 1


def _all_text(sections) -> str:  # type: ignore[no-untyped-def]
    words = []
    for section in sections:
        words += [section.title, *section.notes]
        for table in section.tables:
            words += [c.label for c in table.columns]
            words += [str(cell) for row in table.rows for cell in row]
    return "\n".join(words)


def test_the_plan_document_prints_every_part_with_its_version_and_the_sign_offs(workspace, people):
    owner = people[Role.OWNER]
    funnel = reverse_funnel(
        GOAL, Observed(37 * 20_000, 37, Rate(37, 148), Rate(74, 148), Rate(2, 5), reps=3)
    )
    agreement = Agreement(
        MarketingSide(handoffs_per_month=67, handoffs_per_rep=23, min_tier_a_share=0.3),
        arithmetic=tuple(funnel.to_document()),
        note="Reviewed every <quarter> & signed",
    )
    _save_goal(workspace, GOAL, owner)
    _save_agreement(workspace, agreement, owner)
    sign_plan(SqlPlanStore(workspace), people[Role.MARKETING], Side.MARKETING, NOW)
    with workspace.read() as conn:
        sections = plan_sections(conn, _scope())
    titles = [s.title for s in sections]
    assert titles == [
        "The plan: draft",
        "Shared goal — version 1",
        "Ideal customer profile — none applied yet",
        "Lead definition — the default, not changed yet",
        "Service agreement — version 1",
        "Dossier template — the default, not changed yet",
        "From the goal to the agreement",
        "Sign-off",
    ]
    text = _all_text(sections)
    assert "New revenue: 400,000 from January 2026 – June 2026 (6 months)" in text
    assert "owned by Mark Marketer and Rita Rep" in text
    assert "67 sales-ready hand-offs a month, 23 per rep" in text
    assert "At least 30% of hand-offs in tier A" in text
    assert "First touch within 2 business days of the hand-off" in text
    assert "Has a phone number" in text
    assert "Company overview" in text
    assert "Reviewed every <quarter> & signed" in text
    assert "Sales has not signed the plan yet." in text
    arithmetic = sections[6].tables[0]
    rows = {row[0]: row[1] for row in arithmetic.rows}
    assert rows["opportunity → won"] == "25%"
    assert rows["sales-ready hand-offs needed"] == "400"
    assert rows["hand-offs a month"] == "67"
    template = sections[5].tables[0]
    assert all(c.label for c in template.columns)  # each column says what it holds
    assert [c.label for c in template.columns][1] == "In a dossier"
    signatures = list(sections[-1].tables[0].rows)
    assert signatures == [("For marketing", "Mark Marketer", "", ""), ("For sales", "", "", "")]


def test_an_empty_workspace_plan_says_what_is_missing_instead_of_failing(workspace, people):
    with workspace.read() as conn:
        text = _all_text(plan_sections(conn, _scope()))
    assert "No shared goal has been set yet" in text
    assert "No service agreement has been written yet" in text
    assert "Marketing has not signed the plan yet." in text


def test_plan_sign_and_show_on_the_command_line(tmp_path, capsys):
    db = str(tmp_path / "w.sqlite")
    workspace = open_workspace(db)
    owner = sign_in(workspace, "Olivia Owner")

    add_user(SqlUserStore(workspace), owner, "Mark Marketer", Role.MARKETING)
    add_user(SqlUserStore(workspace), owner, "Rita Rep", Role.REP)
    _save_goal(workspace, GOAL, owner)
    workspace.close()

    assert main(["--db", db, "--user", "Mark Marketer", "plan", "sign"]) == 0
    assert "Mark Marketer signed the plan for marketing" in capsys.readouterr().out
    assert main(["--db", db, "--user", "Rita Rep", "plan", "sign", "--side", "marketing"]) != 0
    assert "signs for sales" in capsys.readouterr().err
    assert main(["--db", db, "--user", "Rita Rep", "plan", "sign"]) == 0
    capsys.readouterr()
    assert main(["--db", db, "plan", "show"]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("Agreed: both sides signed the plan as it is now.")
    assert "Shared goal\tversion 1" in shown
    assert "Dossier template\tthe default, not changed yet" in shown


_KILLED_SAVE = """
import sys, time
from datetime import UTC, date, datetime
import storage.agreements, storage.goals, storage.plan
from domain.agreement import Agreement, MarketingSide, save_agreement
from domain.goal import Goal, Metric, set_goal
from domain.plan import Side, sign_plan
from storage.users import sign_in
from storage.workspace import open_workspace

workspace = open_workspace(sys.argv[1])
owner = sign_in(workspace, "Olivia Owner")
module = getattr(storage, sys.argv[2])
logged = module.log_change

def stalled(*args, **kw):  # the new version is written: killed before the commit
    logged(*args, **kw)
    print("saving", flush=True)
    time.sleep(60)

module.log_change = stalled
if sys.argv[2] == "goals":
    set_goal(module.SqlGoalStore(workspace), owner,
             Goal(Metric.MEETINGS, 99, date(2026, 2, 1), 3, ("Mark Marketer", "Rita Rep")))
elif sys.argv[2] == "agreements":
    save_agreement(module.SqlAgreementStore(workspace), owner,
                   Agreement(MarketingSide(handoffs_per_month=99)))
else:
    sign_plan(module.SqlPlanStore(workspace), sign_in(workspace, "Rita Rep"), Side.SALES,
              datetime.now(UTC))
"""


@pytest.mark.parametrize("store", ["goals", "agreements", "plan"])
def test_a_save_killed_halfway_leaves_the_previous_version_whole(tmp_path, store):
    """kill -9 while a goal, an agreement or a sign-off is being saved: the workspace opens
    on the version before it, whole, and the change log says nothing of the lost one."""
    import signal
    import subprocess
    import sys
    from pathlib import Path

    from domain.agreement import save_agreement
    from domain.goal import set_goal
    from storage.agreements import SqlAgreementStore, agreement_history
    from storage.goals import SqlGoalStore, goal_history

    db = tmp_path / "w.sqlite"
    workspace = open_workspace(db)
    owner = sign_in(workspace, "Olivia Owner")
    for name, role in (("Mark Marketer", Role.MARKETING), ("Rita Rep", Role.REP)):
        add_user(SqlUserStore(workspace), owner, name, role)
    set_goal(SqlGoalStore(workspace), owner, GOAL)
    save_agreement(SqlAgreementStore(workspace), owner, Agreement())
    sign_plan(SqlPlanStore(workspace), owner, Side.MARKETING, NOW)
    with workspace.read() as conn:
        logged = conn.execute(select(func.count()).select_from(change_log)).scalar_one()
    workspace.close()
    root = Path(__file__).resolve().parent.parent
    child = subprocess.Popen([sys.executable, "-c", _KILLED_SAVE, str(db), store], cwd=root,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    assert child.stdout is not None and child.stderr is not None
    with child.stdout, child.stderr:
        said = child.stdout.readline()
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert said == b"saving\n", child.stderr.read()
    workspace = open_workspace(db)
    try:
        with workspace.read() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert [(v.number, v.goal) for v in goal_history(conn)] == [(1, GOAL)]
            assert [(v.number, v.agreement) for v in agreement_history(conn)] == [(1, Agreement())]
            state = SqlPlanStore(workspace).plan_state()
            assert [s.side for s in state.sign_offs] == [Side.MARKETING]
            assert conn.execute(select(func.count()).select_from(change_log)).scalar() == logged
    finally:
        workspace.close()
