"""The quick log in the desktop app: a call logged from the keyboard alone, Ctrl+L from the
accounts list and the account window, refusals under their fields, what was typed kept
through a crash, and the account's timeline with its corrections."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication

from domain.accounts import add_contact, create_account
from domain.interactions import Channel, Outcome
from domain.targets import add_to_target_list, assign_owners
from domain.users import Role
from storage.interactions import account_interactions
from storage.repositories import SqlUnitOfWork
from storage.unsaved import UnsavedLogs
from ui import main_window as main_window_module
from ui import quick_log
from ui.account_dialog import AccountDialog
from ui.main_window import MainWindow
from ui.quick_log import LOG_SHORTCUT, QuickLogDialog

HOSTILE = "=SUM(A1) <b>bold</b> 東京 مرحبا\n" + "x" * 20_000


@pytest.fixture
def acme(sqlite_workspace, sqlite_people):
    """Acme on the target list, the rep's, with a contact."""
    owner, rep = sqlite_people[Role.OWNER], sqlite_people[Role.REP]
    uow = SqlUnitOfWork(sqlite_workspace)
    account = create_account(uow, owner, {"name": "Acme GmbH"})
    add_to_target_list(uow, owner, [account.id], "fits")
    assign_owners(uow, owner, {account.id: rep.id})
    add_contact(uow, owner, account.id, {"name": "Ann Buyer", "title": "CFO"})
    return account


def _stored(workspace, account_id):
    with workspace.read() as conn:
        return [entry for entry, _ in account_interactions(conn, account_id)]


def _interaction_rows(panel) -> list[int]:
    """The timeline's rows of interactions (stage changes and the rest are between them)."""
    table = panel.table
    return [r for r in range(table.rowCount()) if table.item(r, 1).text().startswith("Interaction")]


def _dialog(qtbot, workspace, user, account_id, correcting=None) -> QuickLogDialog:
    dialog = QuickLogDialog(workspace, user, account_id, correcting)
    qtbot.addWidget(dialog)
    with qtbot.waitActive(dialog):
        dialog.show()
        dialog.activateWindow()
    return dialog


def test_a_rep_logs_a_call_with_the_keyboard_alone(qtbot, sqlite_workspace, sqlite_people, acme):
    rep = sqlite_people[Role.REP]
    started = time.perf_counter()
    dialog = _dialog(qtbot, sqlite_workspace, rep, acme.id)
    assert QApplication.focusWidget() is dialog.outcome  # the cursor starts in the outcome
    qtbot.keyClicks(QApplication.focusWidget(), "conv")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is dialog.learned
    qtbot.keyClicks(QApplication.focusWidget(), "Budget is set in Q1")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    assert dialog.result() == QuickLogDialog.DialogCode.Accepted
    assert time.perf_counter() - started < 30
    [stored] = _stored(sqlite_workspace, acme.id)
    assert (stored.outcome, stored.channel, stored.learned) == (
        Outcome.CONVERSATION, Channel.CALL, "Budget is set in Q1")  # fmt: skip
    assert stored.meaningful and stored.logged_by == rep.name
    assert UnsavedLogs(sqlite_workspace).find(acme.id, None) is None  # saved: no draft left


def test_every_field_is_reached_by_the_keyboard(qtbot, sqlite_workspace, sqlite_people, acme):
    dialog = _dialog(qtbot, sqlite_workspace, sqlite_people[Role.REP], acme.id)
    dialog.contact.setCurrentIndex(dialog.contact.findData(quick_log.SOMEONE_NEW))
    dialog.outcome.setCurrentIndex(dialog.outcome.findData(Outcome.WON.value))
    dialog.lead.setCurrentIndex(dialog.lead.findData("rejected"))
    reached = []
    dialog.outcome.setFocus()
    for _ in range(20):
        reached.append(QApplication.focusWidget())
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    editors = [*dialog.inputs.values(), dialog.new_name, dialog.new_title]
    inner = {e: {e, *e.findChildren(object)} for e in editors}  # a spin box's line edit
    assert all(any(w in inner[e] for w in reached) for e in editors)


def test_ctrl_l_opens_the_quick_log_from_the_list_and_the_account_window(
    qtbot, sqlite_workspace, sqlite_people, acme, monkeypatch
):
    opened = []
    monkeypatch.setattr(main_window_module, "open_quick_log",
                        lambda parent, ws, user, account_id: opened.append(account_id))  # fmt: skip
    window = MainWindow(sqlite_workspace, sqlite_people[Role.REP])
    qtbot.addWidget(window)
    window.table.selectRow(0)
    window.table.setCurrentIndex(window.model.index(0, 0))
    [action] = [
        a for a in window.findChildren(QAction) if a.shortcut() == QKeySequence(LOG_SHORTCUT)
    ]
    assert action.isEnabled()  # nothing else in the window takes Ctrl+L
    action.trigger()
    assert opened == [acme.id]
    marketing = MainWindow(sqlite_workspace, sqlite_people[Role.MARKETING])
    qtbot.addWidget(marketing)
    [action] = [a for a in marketing.findChildren(QAction) if a.text() == "Log interaction…"]
    assert not action.isEnabled()  # marketing does not log calls

    account = AccountDialog(sqlite_workspace, sqlite_people[Role.REP], acme)
    qtbot.addWidget(account)
    [shortcut] = [
        s for s in account.findChildren(QShortcut) if s.key() == QKeySequence(LOG_SHORTCUT)
    ]

    def log_in_the_dialog() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, QuickLogDialog)
        dialog.outcome.setCurrentIndex(dialog.outcome.findData(Outcome.VOICEMAIL.value))
        dialog.save()

    QTimer.singleShot(0, log_in_the_dialog)
    shortcut.activated.emit()
    assert account.tabs.currentWidget() is account.timeline
    [row] = _interaction_rows(account.timeline)
    assert account.timeline.table.item(row, 3).text() == "Call: Voicemail."


def test_a_refusal_is_shown_under_its_field_with_the_form_kept(
    qtbot, sqlite_workspace, sqlite_people, acme
):
    dialog = _dialog(qtbot, sqlite_workspace, sqlite_people[Role.REP], acme.id)
    dialog.save()
    assert dialog.problems["outcome"].text() == (  # no outcome chosen
        "Say what came of it: no answer, voicemail, conversation, meeting booked, opportunity, "
        "won, lost or not a fit"
    )
    dialog.outcome.setCurrentIndex(dialog.outcome.findData(Outcome.WON.value))
    assert dialog.form.isRowVisible(dialog.rows["value"])  # a win asks for its value
    dialog.value.setText("lots")
    dialog.follow_up.setText((date.today() - timedelta(days=9)).isoformat())
    dialog.learned.setPlainText(HOSTILE)
    dialog.save()
    assert dialog.problems["value"].text() == "'lots' is not an amount"
    dialog.value.setText("12,500")
    dialog.save()
    assert dialog.problems["follow_up"].text() == "The follow-up date is before the interaction"
    assert not dialog.problems["value"].isVisible()
    assert dialog.isVisible() and dialog.learned.toPlainText() == HOSTILE
    assert _stored(sqlite_workspace, acme.id) == []
    dialog.follow_up.setText("")
    dialog.save()
    [stored] = _stored(sqlite_workspace, acme.id)
    assert (stored.value, stored.learned) == (12_500, HOSTILE)


def test_a_rep_off_the_list_is_told_why_with_the_form_kept(
    qtbot, sqlite_workspace, sqlite_people, monkeypatch
):
    other = create_account(SqlUnitOfWork(sqlite_workspace), sqlite_people[Role.OWNER],
                           {"name": "Elsewhere Ltd"})  # fmt: skip
    said = []
    monkeypatch.setattr(quick_log, "show_error", lambda _p, title, error: said.append(str(error)))
    dialog = _dialog(qtbot, sqlite_workspace, sqlite_people[Role.REP], other.id)
    dialog.outcome.setCurrentIndex(dialog.outcome.findData(Outcome.CONVERSATION.value))
    dialog.save()
    assert "Elsewhere Ltd is not on it" in said[0] and dialog.isVisible()


def test_meaningful_follows_the_outcome_until_touched(qtbot, sqlite_workspace, sqlite_people, acme):
    dialog = _dialog(qtbot, sqlite_workspace, sqlite_people[Role.REP], acme.id)
    dialog.outcome.setCurrentIndex(dialog.outcome.findData(Outcome.VOICEMAIL.value))
    assert not dialog.meaningful.isChecked()
    dialog.outcome.setCurrentIndex(dialog.outcome.findData(Outcome.CONVERSATION.value))
    assert dialog.meaningful.isChecked()
    dialog.meaningful.click()  # the rep says it was not
    dialog.outcome.setCurrentIndex(dialog.outcome.findData(Outcome.MEETING_BOOKED.value))
    assert not dialog.meaningful.isChecked()
    dialog.save()
    assert _stored(sqlite_workspace, acme.id)[0].meaningful is False


def test_what_was_typed_survives_a_closed_window_and_is_offered_back(
    qtbot, sqlite_workspace, sqlite_people, acme
):
    rep = sqlite_people[Role.REP]
    dialog = _dialog(qtbot, sqlite_workspace, rep, acme.id)
    dialog.outcome.setCurrentIndex(dialog.outcome.findData(Outcome.MEETING_BOOKED.value))
    qtbot.keyClicks(dialog.learned, "They want a demo")
    dialog.contact.setCurrentIndex(dialog.contact.findData(quick_log.SOMEONE_NEW))
    dialog.new_name.setText("Bo Newman")
    # on disk at once: a crash now loses nothing
    assert UnsavedLogs(sqlite_workspace).find(acme.id, None)["learned"] == "They want a demo"
    dialog.reject()
    again = _dialog(qtbot, sqlite_workspace, rep, acme.id)
    assert again.restored.isVisible()
    assert again.learned.toPlainText() == "They want a demo"
    assert again.outcome.currentData() == Outcome.MEETING_BOOKED.value
    assert again.new_name.text() == "Bo Newman" and again.new_contact.isVisible()
    again.save()
    [stored] = _stored(sqlite_workspace, acme.id)
    assert stored.contact_id is not None  # Bo Newman, added on the spot
    assert UnsavedLogs(sqlite_workspace).find(acme.id, None) is None
    untouched = _dialog(qtbot, sqlite_workspace, rep, acme.id)
    assert not untouched.restored.isVisible()
    untouched.learned.setPlainText("a second thought")
    untouched.learned.setPlainText("")  # typed, then taken back: nothing to offer next time
    untouched.reject()
    assert UnsavedLogs(sqlite_workspace).find(acme.id, None) is None


def test_the_channel_is_remembered_for_each_user(qtbot, sqlite_workspace, sqlite_people, acme):
    rep, owner = sqlite_people[Role.REP], sqlite_people[Role.OWNER]
    dialog = _dialog(qtbot, sqlite_workspace, rep, acme.id)
    assert dialog.channel.currentData() == Channel.CALL.value
    dialog.channel.setCurrentIndex(dialog.channel.findData(Channel.VISIT.value))
    dialog.outcome.setCurrentIndex(dialog.outcome.findData(Outcome.CONVERSATION.value))
    dialog.save()
    assert _dialog(qtbot, sqlite_workspace, rep, acme.id).channel.currentData() == "visit"
    assert _dialog(qtbot, sqlite_workspace, owner, acme.id).channel.currentData() == "call"


def test_the_timeline_corrects_an_entry_and_shows_text_as_typed(
    qtbot, sqlite_workspace, sqlite_people, acme
):
    rep = sqlite_people[Role.REP]
    first = _dialog(qtbot, sqlite_workspace, rep, acme.id)
    first.outcome.setCurrentIndex(first.outcome.findData(Outcome.NO_ANSWER.value))
    first.learned.setPlainText(HOSTILE)
    first.save()
    account = AccountDialog(sqlite_workspace, rep, acme)
    qtbot.addWidget(account)
    account.tabs.setCurrentWidget(account.timeline)
    panel = account.timeline
    [row] = _interaction_rows(panel)
    assert panel.table.item(row, 3).text().startswith("Call: No answer. Learned: =SUM(A1) <b>")
    panel.table.selectRow(row)
    assert panel.detail.toPlainText().endswith(f"Learned: {HOSTILE}")  # whole, as typed
    assert panel.correct_button.isEnabled()

    def correct_in_the_dialog() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, QuickLogDialog) and dialog.learned.toPlainText() == HOSTILE
        dialog.outcome.setCurrentIndex(dialog.outcome.findData(Outcome.CONVERSATION.value))
        dialog.save()

    QTimer.singleShot(0, correct_in_the_dialog)
    panel.correct()
    interactions = _interaction_rows(panel)
    assert [panel.table.item(r, 1).text() for r in interactions] == [
        "Interaction", "Interaction (corrected)"]  # fmt: skip
    assert (
        panel.table.item(interactions[0], 3)
        .text()
        .startswith(
            "Correction of an earlier entry. Call: Conversation. Learned: =SUM(A1) <b>bold</b>"
        )
    )
    assert panel.table.item(interactions[1], 3).font().strikeOut()
    panel.table.selectRow(interactions[1])
    assert not panel.correct_button.isEnabled()  # corrected already: correct the newest
    [newest, older] = _stored(sqlite_workspace, acme.id)
    assert newest.supersedes == older.id and newest.outcome is Outcome.CONVERSATION


def test_enter_saves_from_every_field(qtbot, sqlite_workspace, sqlite_people, acme):
    rep = sqlite_people[Role.REP]
    fields = ["outcome", "value", "reason", "next_step", "follow_up", "commitments", "contact",
              "channel", "at", "meaningful", "quality", "lead"]  # fmt: skip
    for field in fields:
        dialog = _dialog(qtbot, sqlite_workspace, rep, acme.id)
        dialog.outcome.setCurrentIndex(dialog.outcome.findData(Outcome.LOST.value))
        dialog.reason.setText("Chose a rival")
        dialog.inputs[field].setFocus()
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
        assert dialog.result() == QuickLogDialog.DialogCode.Accepted, field
    assert len(_stored(sqlite_workspace, acme.id)) == len(fields)
