"""My day in the window: where each role lands, the last view remembered per user, the
keyboard, the rep picker, the refresh after a log and the call pack printed from it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QAction

from domain.interactions import Channel, Interaction, Outcome, log_interaction
from domain.queue import call_queue
from domain.users import Role
from storage.demo.build import build_demo
from storage.queue import SqlQueue
from storage.repositories import SqlUnitOfWork
from storage.users import sign_in
from ui import main_window
from ui.call_queue import QueueColumn, QueueModel
from ui.main_window import MainWindow

LAPTOP = QRect(0, 0, 1280, 680)
PEOPLE = {Role.OWNER: "Olivia Owner", Role.MARKETING: "Maya Chen", Role.REP: "Sam Rivera"}


@pytest.fixture
def demo(sqlite_workspace):
    build_demo(sqlite_workspace, accounts=400, seed=5, replace=True, owner_name="Olivia Owner")
    return sqlite_workspace


def _window(qtbot, workspace, name: str) -> MainWindow:  # type: ignore[no-untyped-def]
    window = MainWindow(workspace, sign_in(workspace, name))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def _action(widget, text: str, shortcut: str) -> QAction:  # type: ignore[no-untyped-def]
    """The action named ``text``, which has ``shortcut`` (offscreen, no window is active
    for a key to reach it: the test triggers it)."""
    action = next(a for a in widget.findChildren(QAction) if a.text() == text)
    assert action.shortcut().toString() == shortcut
    return action


def _names(window: MainWindow) -> list[str]:
    return [entry.account for entry in window.my_day.model.entries]


def test_the_queue_model_passes_qt_model_checks(qtmodeltester, demo):
    model = QueueModel()
    rep = sign_in(demo, "Sam Rivera")
    now = datetime.now(UTC)
    model.set_entries(call_queue(SqlQueue(demo), rep, now=now, today=now.date()), now, now.date())
    qtmodeltester.check(model)


def test_a_rep_lands_on_my_day_and_the_window_remembers_the_last_view(qtbot, demo):
    rep = sign_in(demo, "Sam Rivera")
    window = _window(qtbot, demo, "Sam Rivera")
    assert window.showing_my_day()
    now = datetime.now(UTC)
    expected = [e.account for e in call_queue(SqlQueue(demo), rep, now=now, today=now.date())]
    assert expected and _names(window) == expected
    assert not window.my_day.rep.isVisible()  # a rep sees their own queue only
    assert window.focusWidget() is window.my_day.table  # the arrows move in the queue
    _action(window, "All accounts", "Ctrl+1").trigger()
    assert not window.showing_my_day() and window.table.isVisible()
    window.close()
    again = _window(qtbot, demo, "Sam Rivera")
    assert not again.showing_my_day()  # the accounts list, as he left it
    _action(again, "My day", "Ctrl+0").trigger()
    assert again.showing_my_day()
    again.close()
    assert _window(qtbot, demo, "Sam Rivera").showing_my_day()


@pytest.mark.parametrize("role", [Role.OWNER, Role.MARKETING])
def test_the_owner_and_marketing_land_on_the_list_and_pick_any_reps_queue(qtbot, demo, role):
    window = _window(qtbot, demo, PEOPLE[role])
    assert not window.showing_my_day()
    window.show_my_day()
    picker = window.my_day.rep
    assert picker.isVisible()
    reps = [picker.itemText(i) for i in range(picker.count())]
    assert reps == ["Jordan Lee", "Sam Rivera"]
    now = datetime.now(UTC)
    for rep in reps:
        picker.setCurrentText(rep)
        person = sign_in(demo, rep)
        queue = call_queue(SqlQueue(demo), person, now=now, today=now.date())
        assert _names(window) == [e.account for e in queue]
    assert window.my_day.count.text() == f"{len(_names(window)):,} accounts"


def test_arrows_move_enter_opens_the_account_and_ctrl_l_asks_to_log(qtbot, demo, monkeypatch):
    from ui import account_dialog

    opened = []
    monkeypatch.setattr(account_dialog.AccountDialog, "exec",
                        lambda dialog: opened.append(dialog.account.name) or 0)  # fmt: skip
    window = _window(qtbot, demo, "Sam Rivera")
    table = window.my_day.table
    assert table.currentIndex().row() == 0
    qtbot.keyClick(table, Qt.Key.Key_Down)
    qtbot.keyClick(table, Qt.Key.Key_Down)
    assert table.currentIndex().row() == 2
    _action(window, "Open account", "Return").trigger()
    assert opened == [_names(window)[2]]
    asked = []
    monkeypatch.setattr(main_window, "open_quick_log",
                        lambda _w, _ws, _u, account: asked.append(account) or False)  # fmt: skip
    _action(window, "Log interaction…", "Ctrl+L").trigger()
    assert asked == [window.my_day.model.entries[2].account_id]


def test_the_queue_refreshes_after_a_log(qtbot, demo, monkeypatch):
    rep = sign_in(demo, "Sam Rivera")
    window = _window(qtbot, demo, "Sam Rivera")
    first = window.my_day.model.entries[0]
    assert window.my_day.current_account_id() == first.account_id
    now = datetime.now(UTC) + timedelta(minutes=1)

    def logged(_window, _workspace, _user, account_id) -> bool:
        log_interaction(SqlUnitOfWork(demo), rep, Interaction(
            account_id, Channel.CALL, Outcome.CONVERSATION, now - timedelta(seconds=30),
            follow_up=(now + timedelta(days=30)).date(), next_step="Send the price list"),
            now=now)  # fmt: skip
        return True

    monkeypatch.setattr(main_window, "open_quick_log", logged)
    window.log_interaction()
    entries = window.my_day.model.entries
    assert entries[0].account_id != first.account_id
    moved = next(e for e in entries if e.account_id == first.account_id)
    assert moved.next_step == "Send the price list"
    assert window.my_day.current_account_id() == first.account_id  # the cursor stays on it
    row = window.my_day.table.currentIndex().row()
    shown = window.my_day.model.index(row, QueueColumn.WHY_NOW).data()
    assert shown.startswith("Follow-up planned for ")


def test_the_next_accounts_print_as_a_call_pack_from_my_day(qtbot, demo, tmp_path):
    window = _window(qtbot, demo, "Sam Rivera")
    out = tmp_path / "pack.pdf"
    task = window.my_day.print_to(out, 3)
    assert task is not None
    qtbot.waitUntil(lambda: not task.running and out.exists(), timeout=60_000)
    pages = [page.extract_text() for page in PdfReader(out).pages]
    assert len(pages) == 5  # the cover, the contents and one page per account
    for name, page in zip(_names(window)[:3], pages[2:], strict=True):
        assert name in page
    assert "Wrote the call pack of 3 accounts" in window.statusBar().currentMessage()


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("size", [(1280, 680), (1600, 1000)])
def test_my_day_fits_a_laptop_in_each_role(qtbot, demo, role, size):
    window = _window(qtbot, demo, PEOPLE[role])
    window.show_my_day()
    window.resize(*size)
    qtbot.waitUntil(lambda: window.size().width() == size[0])
    assert window.minimumSizeHint().width() <= LAPTOP.width()
    assert window.minimumSizeHint().height() <= LAPTOP.height()
    button = window.my_day.print_button
    assert button.visibleRegion().boundingRect() == button.rect()
    window.grab().save(f"/tmp/my-day-{role.value}-{size[0]}.png")
