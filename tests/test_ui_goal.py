"""The goal dialog (Plan › Goal…) and From the goal to the agreement: what the owner sets and
saves, what the others may only read."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMessageBox

from domain.agreement import Agreement, SalesSide, save_agreement
from domain.goal import Goal, Metric, set_goal
from domain.users import Role
from storage.agreements import SqlAgreementStore, current_agreement_version
from storage.goals import SqlGoalStore, current_goal, goal_history
from ui.goal_dialog import GoalDialog, GoalToAgreementDialog
from ui.main_window import MainWindow


def _said(monkeypatch) -> list[str]:
    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: said.append(box.text()) or 0)
    return said


def _tick(dialog: GoalDialog, *names: str) -> None:
    for row in range(dialog.owners.count()):
        item = dialog.owners.item(row)
        if item.data(Qt.ItemDataRole.UserRole) in names:
            item.setCheckState(Qt.CheckState.Checked)


def _goal(workspace, owner) -> None:
    set_goal(SqlGoalStore(workspace), owner, Goal(Metric.NEW_REVENUE, 120_000, date(2026, 1, 1),
                                                  6, ("Mark Marketer", "Rita Rep")))  # fmt: skip


def test_the_owner_sets_the_goal_and_sees_its_version_and_progress(
    qtbot, monkeypatch, sqlite_workspace, sqlite_people
):
    said = _said(monkeypatch)
    dialog = GoalDialog(sqlite_workspace, sqlite_people[Role.OWNER])
    qtbot.addWidget(dialog)
    assert dialog.said.text() == "No shared goal is set yet."
    assert not dialog.arithmetic_button.isEnabled()
    dialog.metric_box.setCurrentIndex(dialog.metric_box.findData(Metric.MEETINGS.value))
    dialog.target.setValue(40)
    dialog.start.setDate(QDate(2026, 3, 1))
    _tick(dialog, "Mark Marketer", "Rita Rep")
    dialog.save_button.click()
    assert said == ["The shared goal is now version 1."]
    with sqlite_workspace.read() as conn:
        version = current_goal(conn)
    assert version is not None
    assert version.goal == Goal(Metric.MEETINGS, 40, date(2026, 3, 1), 6,
                                ("Mark Marketer", "Rita Rep"))  # fmt: skip
    assert dialog.history.rowCount() == 1
    assert dialog.history.item(0, 1).text() == "Meetings: 40 over March 2026 – August 2026"
    assert dialog.said.text().startswith("40 meetings over March 2026 – August 2026")
    assert dialog.progress.itemAtPosition(0, 0).widget().text() == "Actual to date"
    assert dialog.arithmetic_button.isEnabled()


def test_a_goal_without_a_rep_among_its_owners_is_refused_and_not_saved(
    qtbot, monkeypatch, sqlite_workspace, sqlite_people
):
    said = _said(monkeypatch)
    dialog = GoalDialog(sqlite_workspace, sqlite_people[Role.OWNER])
    qtbot.addWidget(dialog)
    _tick(dialog, "Mark Marketer")
    dialog.save_button.click()
    assert len(said) == 1 and "at least one marketing person and one rep" in said[0]
    with sqlite_workspace.read() as conn:
        assert goal_history(conn) == []


def test_marketing_and_reps_read_the_goal_but_cannot_change_it(
    qtbot, sqlite_workspace, sqlite_people
):
    _goal(sqlite_workspace, sqlite_people[Role.OWNER])
    for role in (Role.MARKETING, Role.REP):
        dialog = GoalDialog(sqlite_workspace, sqlite_people[role])
        qtbot.addWidget(dialog)
        assert dialog.target.value() == 120_000 and not dialog.target.isEnabled()
        assert not dialog.save_button.isEnabled()
        assert "Only the owner sets the shared goal." in dialog.save_button.toolTip()
        assert dialog.arithmetic_button.isEnabled()  # the arithmetic is for everyone to read


def test_the_goal_is_on_the_plan_menu(qtbot, sqlite_workspace, sqlite_people):
    window = MainWindow(sqlite_workspace, sqlite_people[Role.REP])
    qtbot.addWidget(window)
    assert "Goal…" in [a.text() for a in window.findChildren(QAction)]


def test_typed_rates_work_out_the_agreement_which_keeps_the_rest_of_it(
    qtbot, monkeypatch, sqlite_workspace, sqlite_people
):
    said = _said(monkeypatch)
    owner = sqlite_people[Role.OWNER]
    _goal(sqlite_workspace, owner)
    sales = SalesSide(first_touch_days=1, attempts=4)
    save_agreement(
        SqlAgreementStore(sqlite_workspace), owner, Agreement(sales=sales, note="agreed")
    )
    with sqlite_workspace.read() as conn:
        version = current_goal(conn)
    assert version is not None
    dialog = GoalToAgreementDialog(sqlite_workspace, owner, version)
    qtbot.addWidget(dialog)
    # no history in a new workspace: nothing to work out until the figures are typed
    assert dialog.steps.rowCount() == 0 and not dialog.save_button.isEnabled()
    assert dialog.missing.text() == (
        "Not worked out yet: average deal: no won deal yet: enter an average deal."
    )
    dialog.deal.setValue(20_000)
    dialog.rates["won"].setValue(25)
    dialog.rates["opportunity"].setValue(50)
    assert not dialog.save_button.isEnabled()
    dialog.rates["meeting"].setValue(40)
    # 120,000 / 20,000 = 6 wins, 24 opportunities, 48 meetings, 120 hand-offs: 20 a month
    steps = [dialog.steps.item(r, 0).text() for r in range(dialog.steps.rowCount())]
    assert steps[-1] == "hand-offs a month" and dialog.steps.item(len(steps) - 1, 1).text() == "20"
    assert dialog.steps.item(3, 1).text() == "25%" and dialog.steps.item(3, 2).text() == "entered"
    assert dialog.per_month.value() == 20 and dialog.per_rep.value() == 20  # one rep
    dialog.per_month.setValue(21)  # the owner rounds up
    dialog.save_button.click()
    assert said == ["The agreement is now version 2: 21 sales-ready hand-offs a month, with "
                    "the arithmetic kept beside them."]  # fmt: skip
    with sqlite_workspace.read() as conn:
        saved = current_agreement_version(conn)
    assert saved is not None and saved.number == 2
    agreement = saved.agreement
    assert (agreement.marketing.handoffs_per_month, agreement.marketing.handoffs_per_rep) == (
        21,
        20,
    )
    assert agreement.sales == sales and agreement.note == "agreed"
    assert [s["step"] for s in agreement.arithmetic] == steps


def test_only_the_owner_saves_the_agreement_s_numbers(qtbot, sqlite_workspace, sqlite_people):
    _goal(sqlite_workspace, sqlite_people[Role.OWNER])
    with sqlite_workspace.read() as conn:
        version = current_goal(conn)
    assert version is not None
    dialog = GoalToAgreementDialog(sqlite_workspace, sqlite_people[Role.MARKETING], version)
    qtbot.addWidget(dialog)
    assert not dialog.deal.isEnabled() and not dialog.save_button.isEnabled()
    assert "Only the owner changes the service agreement." in dialog.save_button.toolTip()
