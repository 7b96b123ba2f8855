"""The plan in the desktop app: the ICP editor and its live preview, the target list views,
building, assigning and handing off from the Targets menu, an account's fit."""

from __future__ import annotations

import re
import sqlite3
from unittest.mock import MagicMock

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog, QMessageBox, QPushButton
from sqlalchemy import select

from domain.icp import CRITERION_FIELDS, Tier
from storage.demo.build import build_demo
from storage.icps import account_facts, active_version, list_versions
from storage.leads import current_lead_definition
from storage.read_models.account_list import Scope
from storage.targets import target_entry, target_history, target_summary, target_table, targets
from storage.users import sign_in
from ui import target_actions
from ui.account_dialog import AccountDialog
from ui.icp_editor import IcpEditor
from ui.main_window import MainWindow
from ui.messages import Button
from ui.target_actions import BuildDialog

Yes, No = Button.Yes, Button.No


@pytest.fixture
def demo(sqlite_workspace):
    build_demo(sqlite_workspace, accounts=800, seed=3, replace=True, owner_name="Olivia Owner")
    return sqlite_workspace


def _counts(editor: IcpEditor) -> dict[Tier | None, int]:
    return {t: int(label.text().split()[0].replace(",", "")) for t, label in editor.counts.items()}


def _wait_preview(qtbot, editor: IcpEditor) -> dict[Tier | None, int]:
    qtbot.waitUntil(lambda: editor.timing.text().startswith("Updated"), timeout=5000)
    qtbot.waitUntil(lambda: all(label.text() != "–" for label in editor.counts.values()))
    return _counts(editor)


def test_the_preview_follows_each_edit_and_a_saved_version_can_be_applied(qtbot, demo,
                                                                         monkeypatch):  # fmt: skip
    owner = sign_in(demo, "Olivia Owner")
    editor = IcpEditor(demo, owner)
    qtbot.addWidget(editor)
    before = _wait_preview(qtbot, editor)
    assert sum(before.values()) == 800 and before[Tier.A] > 0
    for label in [editor.timing, *editor.counts.values()]:
        label.setText("–")  # so that the wait below sees the new answer
    editor.tier_a.setValue(100)  # only perfect scores stay in A
    after = _wait_preview(qtbot, editor)
    assert after[Tier.A] < before[Tier.A] and sum(after.values()) == 800
    assert editor.top.count() == 10

    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("stricter A", True))
    editor.apply()  # saves the edit as a new version first, then scores every account
    qtbot.waitUntil(lambda: editor.timing.text().startswith("Scored 800"), timeout=10000)
    active = active_version(demo)
    assert active is not None and active.number == 2 and active.note == "stricter A"
    assert active.icp.tier_a == 100


def test_a_bad_criterion_is_named_and_not_previewed(qtbot, demo):
    editor = IcpEditor(demo, sign_in(demo, "Olivia Owner"))
    qtbot.addWidget(editor)
    _wait_preview(qtbot, editor)
    values = editor.criteria.cellWidget(2, 2)  # employees between 50, 1000
    values.setText("50, lots")
    assert "criterion 3" in editor.problems.text() and "lots" in editor.problems.text()


def test_an_operator_without_values_leaves_no_values_to_type(qtbot, demo):
    editor = IcpEditor(demo, sign_in(demo, "Olivia Owner"))
    qtbot.addWidget(editor)
    operator, values = editor.criteria.cellWidget(4, 1), editor.criteria.cellWidget(4, 2)
    assert operator.currentText() == "is set"  # has a decision-maker contact
    assert not values.isEnabled() and values.placeholderText() == "no value needed"
    tags_operator, tags_values = editor.criteria.cellWidget(5, 1), editor.criteria.cellWidget(5, 2)
    tags_operator.setCurrentIndex(tags_operator.findText("is set"))
    assert not tags_values.isEnabled()
    tags_operator.setCurrentIndex(tags_operator.findText("contains"))
    assert tags_values.isEnabled()


def test_a_rep_reads_the_icp_but_cannot_save_or_apply(qtbot, demo):
    editor = IcpEditor(demo, sign_in(demo, "Sam Rivera"))
    qtbot.addWidget(editor)
    assert not editor.save_button.isEnabled() and not editor.apply_button.isEnabled()
    assert editor.name.text() == active_version(demo).icp.name


def test_target_list_and_my_accounts_views(qtbot, demo):
    window = MainWindow(demo, sign_in(demo, "Sam Rivera"))
    qtbot.addWidget(window)
    window.show_scope(Scope.TARGETS)
    listed = target_summary(demo)["listed"]
    assert window.count.text() == f"{listed:,} accounts"
    window.show_scope(Scope.MINE)
    mine = window.model.rowCount()
    assert 0 < mine < listed
    owner_column = 10
    assert {window.model.index(r, owner_column).data() for r in range(mine)} == {"Sam Rivera"}
    assert not next(a for a in window.findChildren(type(window.menuBar().actions()[0]))
                    if a.text() == "Build target list…").isEnabled()  # fmt: skip


def test_build_assign_and_hand_off_from_the_targets_menu(qtbot, demo, monkeypatch):
    window = MainWindow(demo, sign_in(demo, "Maya Chen"))
    qtbot.addWidget(window)
    listed = target_summary(demo)["listed"]
    monkeypatch.setattr(BuildDialog, "exec", lambda self: True)
    monkeypatch.setattr(BuildDialog, "choice", lambda self: (list_versions(demo)[0], {Tier.C}))
    monkeypatch.setattr(target_actions, "ask", lambda *_: No)  # keep the A and B accounts
    window.targets.build()
    qtbot.waitUntil(lambda: target_summary(demo)["listed"] > listed, timeout=10000)

    window.show_scope(Scope.TARGETS)
    for row in range(window.model.rowCount()):  # one the demo's history has not handed off
        window.table.selectRow(row)
        account_id = window.selected_ids()[0]
        if target_entry(demo, account_id)["handed_off_at"] is None:
            break
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: ("Jordan Lee", True))
    window.targets.assign()
    qtbot.waitUntil(lambda: not window.task.running)
    assert target_entry(demo, account_id)["owner"] == "Jordan Lee"
    assert window.statusBar().currentMessage().endswith(" to Jordan Lee")
    window.targets.priority(1)
    qtbot.waitUntil(lambda: not window.task.running)
    said: list[str] = []
    monkeypatch.setattr(target_actions, "ask", lambda _w, _t, text: said.append(text) or Yes)
    monkeypatch.setattr(target_actions, "tell", lambda _w, _t, text: said.append(text))
    window.targets.hand_off_selected()
    entry = target_entry(demo, account_id)
    with demo.read() as conn:
        ready = current_lead_definition(demo).sales_ready(account_facts(conn, account_id))
    assert entry["priority"] == 1
    if ready:
        assert said[0].startswith("Hand off 1 sales-ready account to their reps?")
        qtbot.waitUntil(lambda: "handed off" in window.statusBar().currentMessage(), timeout=9000)
        assert window.statusBar().currentMessage().startswith("1 handed off")
    else:
        assert said == ["No account can be handed off: 1 not sales-ready."]
    assert (target_entry(demo, account_id)["handed_off_at"] is not None) is ready


def test_handing_off_every_sales_ready_account_says_how_many_and_asks(qtbot, demo, monkeypatch):
    window = MainWindow(demo, sign_in(demo, "Maya Chen"))
    qtbot.addWidget(window)
    asked: list[str] = []
    answer = No
    monkeypatch.setattr(target_actions, "ask", lambda _w, _t, text: asked.append(text) or answer)
    monkeypatch.setattr(target_actions, "message_box", MagicMock())
    before = target_summary(demo)["handed off"]  # by the demo's field history
    window.targets.hand_off_all()
    assert target_summary(demo)["handed off"] == before  # No: nothing was handed off
    count = int(re.match(r"Hand off (\d+) sales-ready accounts to their reps\? Each hand-off "
                         r"starts the SLA clock and cannot be undone\.", asked[0])[1])  # fmt: skip
    answer = Yes
    window.targets.hand_off_all()
    qtbot.waitUntil(lambda: not window.task.running, timeout=10000)
    assert asked[1] == asked[0] and target_summary(demo)["handed off"] == before + count
    assert count > 0


def test_an_account_shows_its_score_why_and_checklist(qtbot, demo):
    window = MainWindow(demo, sign_in(demo, "Olivia Owner"))
    qtbot.addWidget(window)
    window.show_scope(Scope.TARGETS)
    window.table.selectRow(0)
    from storage.repositories import SqlUnitOfWork

    with SqlUnitOfWork(demo) as uow:
        account = uow.accounts.get(window.selected_ids()[0])
    dialog = AccountDialog(demo, window.user, account)
    qtbot.addWidget(dialog)
    dialog.tabs.setCurrentIndex(1)
    assert dialog.fit.score.text().startswith("Score ")
    assert dialog.fit.why.rowCount() == len(active_version(demo).icp.criteria)
    assert dialog.fit.checks.rowCount() == 3
    assert dialog.fit.target.text().startswith("On the target list.")


def _priorities(workspace) -> dict[object, int]:
    with workspace.read() as conn:
        return dict(conn.execute(select(targets.c.account_id, targets.c.priority)).all())


def test_cancel_in_the_progress_dialog_leaves_every_priority_as_it_was(qtbot, demo,
                                                                      monkeypatch):  # fmt: skip
    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: said.append(box.text()))
    window = MainWindow(demo, sign_in(demo, "Maya Chen"))
    qtbot.addWidget(window)
    window.show_scope(Scope.TARGETS)
    window.table.selectAll()
    before = _priorities(demo)
    assert len(window.selected_ids()) == len(before) > 100
    # Someone else is writing: the action waits for the lock while the user presses Cancel.
    other = sqlite3.connect(demo.engine.url.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    window.targets.priority(3)
    window.task.dialog.findChild(QPushButton).click()  # the progress dialog's Cancel
    other.rollback()
    other.close()
    qtbot.waitUntil(lambda: not window.task.running, timeout=10000)
    assert said == ["Cancelled: nothing was changed."]
    assert _priorities(demo) == before
    assert window.statusBar().currentMessage() == ""  # no "Priority 3 for … accounts"


def test_one_account_that_cannot_change_keeps_the_whole_selection_as_it_was(
    qtbot, demo, monkeypatch
):
    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: said.append(box.text()))
    window = MainWindow(demo, sign_in(demo, "Maya Chen"))
    qtbot.addWidget(window)
    window.table.selectAll()  # every account, listed or not
    before = _priorities(demo)
    window.targets.priority(3)
    qtbot.waitUntil(lambda: not window.task.running, timeout=10000)
    assert len(said) == 1 and said[0].endswith(
        " is not on the target list, so nothing was changed: leave it out of the selection, "
        "or add it to the list first."
    )
    assert _priorities(demo) == before


def test_rebuilding_says_how_many_accounts_fell_out_of_the_tiers_and_offers_to_remove_them(
    qtbot, demo, monkeypatch
):
    window = MainWindow(demo, sign_in(demo, "Maya Chen"))
    qtbot.addWidget(window)
    listed = target_summary(demo)["listed"]
    tier_b = sum(1 for row in target_table(demo).rows if row[6] == "B")
    version = list_versions(demo)[0]
    monkeypatch.setattr(BuildDialog, "exec", lambda self: True)
    monkeypatch.setattr(BuildDialog, "choice", lambda self: (version, {Tier.A}))
    asked: list[str] = []
    monkeypatch.setattr(target_actions, "ask", lambda _w, _t, text: asked.append(text) or Yes)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("B is not worth a call", True))
    window.targets.build()
    qtbot.waitUntil(lambda: target_summary(demo)["listed"] < listed, timeout=10000)
    assert asked == [
        f"Added 0 accounts of tier A to the target list from {version.label}.\n\n"
        f"{tier_b} accounts on the target list are no longer in tier A under {version.label}. "
        "Remove them from the target list?"
    ]
    assert target_summary(demo)["listed"] == listed - tier_b
    removed = [d for _, who, action, d in target_history(demo) if action == "remove"]
    assert len(removed) == tier_b and removed[0]["reason"] == "B is not worth a call"


def test_the_target_list_history_reads_as_sentences(qtbot, demo):
    dialog = target_actions.HistoryDialog(target_history(demo), MainWindow(demo, sign_in(
        demo, "Olivia Owner")))  # fmt: skip
    qtbot.addWidget(dialog)
    table = dialog.findChild(target_actions.QTableWidget)
    lines = {table.item(r, 2).text() for r in range(table.rowCount())}
    built = next(line for line in lines if line.startswith("Built"))
    label = list_versions(demo)[0].label
    assert re.fullmatch(f"Built from {re.escape(label)} with tiers A and B: [\\d,]+ accounts added",
                        built)  # fmt: skip
    assert not any("[" in line or "{" in line for line in lines)


def test_return_in_a_criterion_adds_nothing_and_the_weight_column_stays_whole(qtbot, demo):
    editor = IcpEditor(demo, sign_in(demo, "Maya Chen"))
    qtbot.addWidget(editor)
    editor.show()
    rows = editor.criteria.rowCount()
    values, subject = editor.criteria.cellWidget(1, 2), editor.criteria.cellWidget(1, 0)
    for field in (values, subject):
        field.setFocus()
        qtbot.keyClick(field, Qt.Key.Key_Return)
    assert editor.criteria.rowCount() == rows and editor.problems.text() == ""
    assert subject.count() == len(CRITERION_FIELDS)  # the typed field is not added as a choice
    for width in (1280, 1000):
        editor.resize(width, 640)
        qtbot.waitUntil(lambda w=width: editor.width() == w)
        table, weight = editor.criteria, editor.criteria.cellWidget(0, 4)
        right = table.horizontalHeader().sectionViewportPosition(4) + table.columnWidth(4)
        assert right <= table.viewport().width() and not table.horizontalScrollBar().isVisible()
        assert table.columnWidth(4) >= max(weight.sizeHint().width(),
                                           table.horizontalHeader().sectionSizeHint(4))  # fmt: skip
