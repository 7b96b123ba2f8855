"""What a user sees of offline work (issue 17): File › Work offline…, Sync with its summary,
the automatic sync, the window saying which workspace it works on, the Conflicts view."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QPushButton

from domain.accounts import create_account, update_account
from domain.sync import SyncSummary
from domain.users import Role, User
from domain.values import shown_time
from storage.repositories import SqlUnitOfWork
from storage.schema import AccountRow, SyncDeviceRow, table_of
from storage.sync.checkout import checkout
from storage.sync.engine import device_of
from storage.sync.team import sync_with_team
from storage.users import sign_in
from storage.workspace import Workspace, open_workspace
from tests.conftest import _people
from ui import sync_actions
from ui.conflicts import ConflictsDialog
from ui.main_window import MainWindow
from ui.offline import WorkOfflineDialog

SYNCED_AT = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)


def as_device(ws: Workspace, kind: str, *, rep: str | None = None,
              source: str | None = None, synced: datetime | None = None) -> None:  # fmt: skip
    """Make ``ws`` a device that syncs, as a checkout or a first sync leaves it."""
    with ws.write() as conn:
        conn.execute(table_of(SyncDeviceRow).insert().values(
            device="a1b2c3d4e5f6", kind=kind, source=source, rep=rep, offset_ms=0,
            last_synced_at=synced))  # fmt: skip


def device_id(ws: Workspace) -> str:
    with ws.read() as conn:
        device = device_of(conn)
    assert device is not None
    return device.device


@pytest.fixture
def team_and_copy(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A team workspace file with its people, and marketing's whole copy of it."""
    team = open_workspace(tmp_path / "team.sqlite")
    people = _people(team)
    copy = checkout(team, tmp_path / "laptop.sqlite", people[Role.MARKETING])
    yield team, copy, people
    copy.close()
    team.close()


def sync(copy: Workspace, team: Workspace) -> SyncSummary:
    return sync_with_team(copy, team, sign_in(copy, "Mark Marketer"))


@pytest.fixture
def people(sqlite_workspace: Workspace) -> dict[Role, User]:
    return _people(sqlite_workspace)


def window_of(qtbot, ws: Workspace, user: User) -> MainWindow:  # type: ignore[no-untyped-def]
    window = MainWindow(ws, user)
    qtbot.addWidget(window)
    return window


def action(window: MainWindow, text: str) -> QAction:
    return next(a for a in window.findChildren(QAction) if a.text() == text)


def test_sync_and_conflicts_have_shortcuts_no_other_action_has(qtbot, sqlite_workspace, people):
    window = window_of(qtbot, sqlite_workspace, people[Role.OWNER])
    assert action(window, "Sync").shortcut() == QKeySequence("F9")
    assert action(window, "Conflicts…").shortcut() == QKeySequence("Shift+F9")
    actions = window.findChildren(QAction)
    taken = [a.shortcut().toString() for a in actions if not a.shortcut().isEmpty()]
    assert len(taken) == len(set(taken)), sorted(t for t in taken if taken.count(t) > 1)


def test_the_window_says_it_works_on_a_copy_for_the_rep_and_when_it_last_synced(
    qtbot, sqlite_workspace, people
):
    as_device(sqlite_workspace, "copy", rep="Rita Rep", source="postgresql+psycopg://team@db/acme",
              synced=SYNCED_AT)  # fmt: skip
    window = window_of(qtbot, sqlite_workspace, people[Role.REP])
    assert "Copy of the team workspace for Rita Rep" in window.windowTitle()
    status = window.user_label.text()
    assert f"last synced {shown_time(SYNCED_AT)}" in status
    assert "Copied from postgresql+psycopg://team@db/acme" in window.user_label.toolTip()
    assert window.sync.toolbar.isVisibleTo(window)
    assert action(window, "Sync").isEnabled()
    assert window.sync.timer.isActive()  # it syncs by itself


def test_the_team_workspace_says_so_and_has_nothing_to_sync_with(qtbot, sqlite_workspace, people):
    as_device(sqlite_workspace, "team")
    window = window_of(qtbot, sqlite_workspace, people[Role.OWNER])
    assert "Team workspace" in window.windowTitle()
    assert "synced" not in window.user_label.text()
    assert not action(window, "Sync").isEnabled()
    assert not window.sync.toolbar.isVisibleTo(window)
    assert not window.sync.timer.isActive()


def test_a_workspace_that_never_synced_shows_no_sync_toolbar(qtbot, sqlite_workspace, people):
    window = window_of(qtbot, sqlite_workspace, people[Role.OWNER])
    assert window.windowTitle() == f"Accord — Olivia Owner (owner) — {sqlite_workspace.label}"
    assert not window.sync.toolbar.isVisibleTo(window)
    assert not action(window, "Conflicts…").isEnabled()


def test_a_rep_takes_a_copy_of_their_own_accounts_only(qtbot, sqlite_workspace, people):
    dialog = WorkOfflineDialog(sqlite_workspace, people[Role.REP])
    qtbot.addWidget(dialog)
    assert not dialog.part.isEnabled()
    assert dialog.part.currentText() == "Your accounts on the target list (Rita Rep)"
    assert dialog.request().rep == "Rita Rep" and dialog.request().source is None


def test_marketing_chooses_the_whole_workspace_or_a_rep_s_part(qtbot, sqlite_workspace, people):
    dialog = WorkOfflineDialog(sqlite_workspace, people[Role.MARKETING])
    qtbot.addWidget(dialog)
    parts = [dialog.part.itemText(i) for i in range(dialog.part.count())]
    assert parts == ["The whole workspace", "Rita Rep's accounts"]
    assert dialog.request().rep is None
    dialog.part.setCurrentIndex(1)
    assert dialog.request().rep == "Rita Rep"
    assert dialog.request().path.name.endswith("rita-rep-copy.sqlite")


def test_a_copy_is_not_written_over_a_file_that_is_there(qtbot, sqlite_workspace, people, tmp_path):
    there = tmp_path / "mine.sqlite"
    there.write_text("mine")
    dialog = WorkOfflineDialog(sqlite_workspace, people[Role.OWNER])
    qtbot.addWidget(dialog)
    dialog.path.setText(str(there))
    dialog.take.click()
    assert dialog.result() == 0 and "exists already" in dialog.problem.text()
    assert there.read_text() == "mine"


def test_work_offline_takes_the_copy_and_the_window_works_on_it(
    qtbot, sqlite_workspace, people, tmp_path, monkeypatch
):
    from domain.accounts import create_account
    from storage.repositories import SqlUnitOfWork

    create_account(SqlUnitOfWork(sqlite_workspace), people[Role.OWNER], {"name": "Acme"})
    window = window_of(qtbot, sqlite_workspace, people[Role.OWNER])
    copy = tmp_path / "laptop" / "copy.sqlite"
    copy.parent.mkdir()

    def fill(dialog: WorkOfflineDialog) -> int:
        dialog.path.setText(str(copy))
        return 1

    monkeypatch.setattr(WorkOfflineDialog, "exec", fill)
    action(window, "Work offline…").trigger()
    qtbot.waitUntil(lambda: window.workspace.label == str(copy), timeout=30_000)
    assert copy.exists()
    assert window.model.rowCount() == 1  # Acme, in the copy
    title = window.windowTitle()
    assert "Copy of the whole team workspace" in title and str(copy) in title
    assert action(window, "Sync").isEnabled() and window.sync.toolbar.isVisibleTo(window)


def test_sync_says_what_moved_and_leads_to_the_conflicts(qtbot, team_and_copy, monkeypatch):
    team, copy, people = team_and_copy
    acme = create_account(SqlUnitOfWork(team), people[Role.OWNER], {"name": "Acme", "city": "Graz"})
    sync(copy, team)
    marketer = sign_in(copy, "Mark Marketer")
    _edit(team, people[Role.OWNER], acme.id, city="Wien")
    _edit(copy, marketer, acme.id, city="Linz")
    window = window_of(qtbot, copy, marketer)
    said: list[str] = []

    def answer(box: QMessageBox) -> None:
        said.append(box.text())
        assert len(box.buttons()) == 2  # OK, and Conflicts…
        next(b for b in box.findChildren(QPushButton) if b.text() == "Conflicts…").click()

    monkeypatch.setattr(QMessageBox, "exec", answer)
    opened: list[list[str]] = []
    monkeypatch.setattr(ConflictsDialog, "exec", lambda d: opened.append(_cells(d.table, 0)))
    action(window, "Sync").trigger()
    qtbot.waitUntil(lambda: bool(opened), timeout=10_000)
    assert action(window, "Conflicts…").iconText() == "Conflicts (1)"  # on the toolbar
    assert said[0].startswith("Sent 1 change and received ")
    assert "1 field changed on both sides waits in Conflicts for you to settle." in said[0]
    assert opened[0][:5:2] == ["Account Acme", "Linz", "Wien"]


def test_one_sync_at_a_time(qtbot, sqlite_workspace, people, monkeypatch):
    as_device(sqlite_workspace, "copy", rep="Rita Rep", source="team.sqlite")
    window = window_of(qtbot, sqlite_workspace, people[Role.REP])
    release = threading.Event()

    def slow(*_args: object) -> SyncSummary:
        release.wait(10)
        return SyncSummary()

    monkeypatch.setattr(sync_actions, "with_team", slow)
    first = window.sync.sync_quietly()
    assert first is not None and first.dialog is None  # the automatic sync shows no dialog
    assert not action(window, "Sync").isEnabled()
    assert window.sync.sync() is None and window.sync.sync_quietly() is None
    assert "under way" in window.statusBar().currentMessage()
    release.set()
    qtbot.waitUntil(lambda: window.sync.running is None, timeout=10_000)
    assert action(window, "Sync").isEnabled()


def test_the_automatic_sync_says_a_failure_once_in_the_status_bar(
    qtbot, sqlite_workspace, people, tmp_path, monkeypatch
):
    gone = tmp_path / "unplugged" / "team.sqlite"
    as_device(sqlite_workspace, "copy", rep="Rita Rep", source=str(gone))
    window = window_of(qtbot, sqlite_workspace, people[Role.REP])
    boxes: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: boxes.append(box.text()))
    window.sync.sync_quietly()
    qtbot.waitUntil(lambda: window.sync.running is None, timeout=10_000)
    message = window.statusBar().currentMessage()
    assert message.startswith("Not synced (") and str(gone) in message
    window.statusBar().showMessage("Logged; the account's timeline shows it.")
    window.sync.sync_quietly()  # the next try, a few minutes later, fails the same way
    qtbot.waitUntil(lambda: window.sync.running is None, timeout=10_000)
    assert window.statusBar().currentMessage() == "Logged; the account's timeline shows it."
    assert boxes == [] and not gone.exists()


def test_sync_brings_the_team_s_changes_into_the_window(qtbot, team_and_copy, monkeypatch):
    team, copy, people = team_and_copy
    window = window_of(qtbot, copy, sign_in(copy, "Mark Marketer"))
    assert window.model.rowCount() == 0
    create_account(SqlUnitOfWork(team), people[Role.OWNER], {"name": "Borealis", "city": "Oslo"})
    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: said.append(box.text()))
    action(window, "Sync").trigger()
    qtbot.waitUntil(lambda: bool(said), timeout=10_000)
    assert said[0].startswith("Sent 0 changes and received ")
    assert window.model.rowCount() == 1  # Borealis, in the list without a refresh by hand
    assert "Copy of the whole team workspace, last synced " in window.user_label.text()


def _edit(ws: Workspace, user: User, account_id: object, **values: str) -> None:
    with SqlUnitOfWork(ws) as uow:
        loaded = uow.accounts.get(account_id)
    assert loaded is not None
    update_account(SqlUnitOfWork(ws), user, loaded, values)


def _city(ws: Workspace, account_id: object) -> str | None:
    with SqlUnitOfWork(ws) as uow:
        account = uow.accounts.get(account_id)
    assert account is not None
    return account.city


def _cells(table, row: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [table.item(row, column).text() for column in range(table.columnCount())]


@pytest.fixture
def conflicted(team_and_copy):  # type: ignore[no-untyped-def]
    """Acme's city changed on the team database (Wien) and on the copy (Linz) before they
    met, then synced: a conflict on both."""
    team, copy, people = team_and_copy
    acme = create_account(SqlUnitOfWork(team), people[Role.OWNER], {"name": "Acme", "city": "Graz"})
    sync(copy, team)
    _edit(team, people[Role.OWNER], acme.id, city="Wien")
    _edit(copy, sign_in(copy, "Mark Marketer"), acme.id, city="Linz")
    summary = sync(copy, team)
    assert summary.conflicts == 1
    return team, copy, people, acme


def test_the_conflicts_view_shows_both_values_with_who_and_when(qtbot, conflicted):
    _team, copy, _people, _acme = conflicted
    dialog = ConflictsDialog(copy, sign_in(copy, "Mark Marketer"), device_id(copy))
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 1
    record, field, mine, mine_by, theirs, theirs_by = _cells(dialog.table, 0)
    assert (record, field, mine, theirs) == ("Account Acme", "City", "Linz", "Wien")
    assert mine_by.startswith("Mark Marketer, ") and theirs_by.startswith("Olivia Owner, ")
    assert "1 field changed on both sides" in dialog.heading.text()
    assert dialog.mine.isEnabled() and dialog.theirs.isEnabled() and dialog.merge.isEnabled()


def test_keep_mine_settles_the_conflict_here_and_on_the_team_after_a_sync(qtbot, conflicted):
    team, copy, _people, acme = conflicted
    dialog = ConflictsDialog(copy, sign_in(copy, "Mark Marketer"), device_id(copy))
    qtbot.addWidget(dialog)
    dialog.mine.click()
    assert dialog.table.rowCount() == 0
    assert dialog.heading.text() == "No conflicts: no field was changed on both sides."
    assert _city(copy, acme.id) == "Linz"
    sync(copy, team)
    assert _city(team, acme.id) == "Linz"
    on_team = ConflictsDialog(team, sign_in(team, "Olivia Owner"), device_id(team))
    qtbot.addWidget(on_team)
    assert on_team.table.rowCount() == 0


def test_merge_keeps_a_value_typed_for_the_field(qtbot, conflicted, monkeypatch):
    _team, copy, _people, acme = conflicted
    dialog = ConflictsDialog(copy, sign_in(copy, "Mark Marketer"), device_id(copy))
    qtbot.addWidget(dialog)

    def typed(ask: QInputDialog) -> int:
        assert ask.textValue() == "Linz"  # the value every copy shows now, to edit
        ask.setTextValue("Linz (Wien office)")
        return 1

    monkeypatch.setattr(QInputDialog, "exec", typed)
    dialog.merge.click()
    assert dialog.table.rowCount() == 0
    assert _city(copy, acme.id) == "Linz (Wien office)"


def test_a_change_kept_aside_for_its_author_s_role_is_listed_with_why(qtbot, team_and_copy):
    team, copy, people = team_and_copy
    acme = create_account(SqlUnitOfWork(team), people[Role.OWNER], {"name": "Acme", "city": "Graz"})
    sync(copy, team)
    with copy.write() as conn:  # a rep's edit made on the copied file outside Accord
        conn.execute(
            table_of(AccountRow).update().where(table_of(AccountRow).c.id == acme.id)
            .values(city="<b>Rome</b>", changed_by="Rita Rep"))  # fmt: skip
    assert sync(copy, team).refused == 1
    dialog = ConflictsDialog(team, people[Role.OWNER], device_id(team))
    qtbot.addWidget(dialog)
    assert dialog.refused.rowCount() == 1
    _when, who, record, field, value, why = _cells(dialog.refused, 0)
    assert (who, record, field, value) == ("Rita Rep", "Account", "City", "<b>Rome</b>")
    assert why.startswith("Rita Rep (rep) may not ")
    assert "1 change kept aside" in dialog.refused_heading.text()
    assert _city(team, acme.id) == "Graz"


def test_a_workspace_without_a_server_syncs_through_the_folder_chosen_once(
    qtbot, sqlite_workspace, people, tmp_path, monkeypatch
):
    shared = tmp_path / "shared"
    shared.mkdir()
    asked: list[str] = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        lambda *_args: asked.append("folder") or str(shared))  # fmt: skip
    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: said.append(box.text()))
    create_account(SqlUnitOfWork(sqlite_workspace), people[Role.OWNER], {"name": "Acme"})
    window = window_of(qtbot, sqlite_workspace, people[Role.OWNER])
    assert not window.sync.toolbar.isVisibleTo(window)
    for _ in range(2):
        action(window, "Sync").trigger()
        qtbot.waitUntil(lambda: window.sync.running is None, timeout=10_000)
    assert asked == ["folder"]  # the first time only
    assert said[0].startswith("Sent ") and said[1].startswith("Nothing to sync")
    assert any(shared.iterdir())  # this laptop's changes, for the others to read
    assert "Syncs through a shared folder" in window.windowTitle()
    assert window.sync.toolbar.isVisibleTo(window)
    assert window.sync.timer.isActive()  # from now on it syncs by itself too
    shared.rename(shared.with_name("elsewhere"))  # the network drive is gone
    window.sync.sync_quietly()
    qtbot.waitUntil(lambda: window.sync.running is None, timeout=10_000)
    assert "There is no folder" in window.statusBar().currentMessage()
    assert len(said) == 2  # no message box for a quiet sync


def test_a_rep_sees_a_conflict_on_an_account_but_leaves_settling_it_to_others(qtbot, conflicted):
    _team, copy, _people, _acme = conflicted
    dialog = ConflictsDialog(copy, sign_in(copy, "Rita Rep"), device_id(copy))
    qtbot.addWidget(dialog)
    assert _cells(dialog.table, 0)[:3:2] == ["Account Acme", "Linz"]
    assert not (dialog.mine.isEnabled() or dialog.theirs.isEnabled() or dialog.merge.isEnabled())
    assert "Someone else settles it: Rita Rep (rep) may not edit accounts" in dialog.detail.text()
