"""Backups of a SQLite workspace: made while it is open, checked, rotated, listed and
restored, on disk, on the command line and in the window; a damaged workspace is found at
opening and its newest good backup offered."""

from __future__ import annotations

import shlex
import sqlite3
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from domain.accounts import create_account
from domain.errors import WorkspaceDamaged
from domain.values import shown_time
from main import main
from storage import backups
from storage.importing.importer import import_accounts
from storage.repositories import SqlUnitOfWork
from storage.users import sign_in
from storage.workspace import (
    WorkspaceError,
    _alembic_config,
    open_workspace,
    schema_revision,
)
from ui.app import _open_at_start
from ui.backups import BackupsDialog
from ui.main_window import MainWindow
from ui.workers import DAMAGED, show_error

NOW = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)


MANY = [f"Company {n:04}" for n in range(400)]  # enough for a page in the middle


def _names(path: Path) -> list[str]:
    with closing(sqlite3.connect(f"file:{path}?immutable=1", uri=True)) as conn:
        return [name for (name,) in conn.execute("SELECT name FROM accounts ORDER BY name")]


def _workspace_with(path: Path, *names: str) -> None:
    listing = path.with_name("names.csv")
    listing.write_text("Company name\n" + "".join(f"{name}\n" for name in names))
    workspace = open_workspace(path)
    import_accounts(workspace, sign_in(workspace, "Ann"), listing)
    workspace.close()
    listing.unlink()


def _damage(path: Path) -> None:
    """Scribble over a page in the middle of the accounts table, as a failing disk would."""
    with closing(sqlite3.connect(path)) as conn:
        pages = [p for (p,) in conn.execute(
            "SELECT pageno FROM dbstat WHERE name = 'accounts' AND pagetype = 'leaf'")]  # fmt: skip
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    with open(path, "r+b") as file:
        file.seek((pages[len(pages) // 2] - 1) * size + 8)
        file.write(b"\xff" * 64)


def test_a_backup_is_made_while_the_workspace_is_open_and_is_one_checked_file(tmp_path):
    path = tmp_path / "team plan.sqlite"
    workspace = open_workspace(path)
    owner = sign_in(workspace, "Ann")
    create_account(SqlUnitOfWork(workspace), owner, {"name": "Acme"})
    backup = backups.make_backup(path, now=NOW)  # the workspace stays open meanwhile
    create_account(SqlUnitOfWork(workspace), owner, {"name": "Bolt"})
    workspace.close()
    assert backup.path == tmp_path / "backups" / "team plan" / "team plan.20261129-180000.sqlite"
    assert sorted(p.name for p in backup.path.parent.iterdir()) == [backup.path.name]
    assert _names(backup.path) == ["Acme"]
    assert backups.check(backup.path) is True
    assert _names(path) == ["Acme", "Bolt"]


def test_daily_backups_are_thinned_out_and_those_made_for_a_reason_are_kept(tmp_path):
    path = tmp_path / "w.sqlite"
    _workspace_with(path, "Acme")
    backups.make_backup(path, "before-upgrade-from-0004", now=NOW - timedelta(days=300))
    for days in range(40, -1, -1):  # a backup a day for six weeks
        assert backups.backup_if_due(path, now=NOW - timedelta(days=days)) is not None
    assert backups.backup_if_due(path, now=NOW + timedelta(hours=1)) is None  # not due
    listed = [(b.made.date().isoformat(), what) for b, what in backups.listed(path)]
    assert listed[0] == ("2026-11-29", "newest, daily, weekly, monthly")
    assert listed[7] == ("2026-11-22", "weekly")
    assert listed[-2] == ("2026-10-31", "monthly")
    assert listed[-1] == ("2026-02-02", "before upgrade from 0004")
    assert len(listed) == 7 + 4 + 1 + 1


def test_a_damaged_workspace_is_found_at_opening_left_as_it_is_and_a_good_backup_named(
    tmp_path,
):
    path = tmp_path / "w.sqlite"
    _workspace_with(path, *MANY)
    good = backups.make_backup(path, now=NOW - timedelta(days=2))
    newer = backups.make_backup(path, now=NOW - timedelta(days=1))
    _damage(newer.path)  # the newest backup went bad too: the one before is named
    _damage(path)
    before = path.read_bytes()
    with pytest.raises(WorkspaceDamaged) as raised:
        open_workspace(path)
    assert raised.value.backup == str(good.path)
    assert str(raised.value) == (
        f"The workspace {path} is damaged (SQLite found broken pages in it); it was left as it is."
    )
    assert path.read_bytes() == before


def test_a_restore_keeps_the_workspace_as_it_was_among_the_backups(tmp_path):
    path = tmp_path / "w.sqlite"
    _workspace_with(path, "Acme")
    backup = backups.make_backup(path, now=NOW)
    _workspace_with(path, "Bolt")
    aside = backups.restore(path, backup.path, now=NOW + timedelta(hours=1))
    assert _names(path) == ["Acme"]
    assert aside is not None and _names(aside) == ["Acme", "Bolt"]
    assert backups.listed(path)[0][1] == "before restore"
    workspace = open_workspace(path)  # it opens and works
    create_account(SqlUnitOfWork(workspace), sign_in(workspace, "Ann"), {"name": "Cole"})
    workspace.close()
    assert _names(path) == ["Acme", "Cole"]


def test_a_damaged_backup_is_not_restored_and_nothing_changes(tmp_path):
    path = tmp_path / "w.sqlite"
    _workspace_with(path, *MANY)
    backup = backups.make_backup(path, now=NOW)
    _damage(backup.path)
    before = path.read_bytes()
    with pytest.raises(backups.BackupError, match="is damaged too: restore an older one"):
        backups.restore(path, backup.path)
    assert path.read_bytes() == before
    assert [b.path for b in backups.backups(path)] == [backup.path]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backups", "w.sqlite"]


def test_a_restore_that_cannot_finish_leaves_the_workspace_where_it_was(tmp_path, monkeypatch):
    path = tmp_path / "w.sqlite"
    _workspace_with(path, "Acme")
    backup = backups.make_backup(path, now=NOW)
    _workspace_with(path, "Bolt")
    real_replace = backups.os.replace

    def replace(source, target):
        if Path(source).name.endswith(".restoring"):
            raise OSError(28, "No space left on device")
        real_replace(source, target)

    monkeypatch.setattr(backups.os, "replace", replace)
    with pytest.raises(backups.BackupError, match=r"No space left on device.*as it was"):
        backups.restore(path, backup.path)
    assert _names(path) == ["Acme", "Bolt"]
    assert [b.path for b in backups.backups(path)] == [backup.path]


def test_opening_a_big_workspace_checks_it_for_a_bounded_time(tmp_path):
    path = tmp_path / "big.sqlite"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE t (x TEXT)")
        rows = ((f"row {n}" * 20,) for n in range(400_000))
        conn.executemany("INSERT INTO t VALUES (?)", rows)
        conn.commit()
    started = time.monotonic()
    assert backups.check(path) is True
    whole = time.monotonic() - started
    assert backups.check(path, seconds=0) is None  # stopped, not judged
    assert backups.check(path, seconds=whole * 20) is True  # in time


def test_a_failing_migration_is_said_in_one_line_with_the_backup(tmp_path, capsys):
    path = tmp_path / "old.sqlite"
    old = open_workspace(path, migrate=False)
    with old.engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0004")
        conn.execute(text("CREATE TABLE account_scores (x INTEGER)"))  # 0005 makes it
    old.close()
    with pytest.raises(WorkspaceError) as raised:
        open_workspace(path)
    (backup,) = backups.backups(path)
    assert backup.reason == "before-upgrade-from-0004"
    assert str(raised.value) == (
        f"Accord could not upgrade the workspace {path} from schema 0004 (table "
        "account_scores already exists). It is left as it was, with a copy made before the "
        f"upgrade at {backup.path}; the Accord you used before still opens it."
    )
    assert main(["--db", str(path), "users"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "account_scores" in err
    check = open_workspace(path, migrate=False)
    assert schema_revision(check) == "0004"
    check.close()


def test_the_command_line_lists_backups_and_restores_one(tmp_path, capsys):
    path = tmp_path / "w.sqlite"
    _workspace_with(path, "Acme")
    backup = backups.make_backup(path, now=NOW)
    _workspace_with(path, "Bolt")
    assert main(["--db", str(path), "backups"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"1 backup of {path} in {tmp_path / 'backups' / 'w'}"
    assert "newest, daily, weekly, monthly" in out[1] and out[1].endswith(str(backup.path))
    assert main(["--db", str(path), "restore", str(backup.path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Restored {path} from {backup.path}; the file it replaced is kept as ")
    assert _names(path) == ["Acme"]


def test_a_damaged_workspace_on_the_command_line_names_the_command_that_restores(tmp_path, capsys):
    path = tmp_path / "w.sqlite"
    _workspace_with(path, *MANY)
    backup = backups.make_backup(path, now=NOW)
    _damage(path)
    out = tmp_path / "out.csv"
    assert main(["--db", str(path), "--user", "Ann", "export", "accounts", str(out)]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    restore = f"accord --db {path} restore {backup.path}"
    assert line == (
        f"accord: The workspace {path} is damaged (SQLite found broken pages in it); it was "
        f"left as it is. Restore its newest good backup with: {restore}"
    )
    assert main(shlex.split(restore)[1:]) == 0
    assert main(["--db", str(path), "--user", "Ann", "export", "accounts", str(out)]) == 0
    assert out.read_text(encoding="utf-8-sig").count("\n") == 401


def test_broken_pages_the_opening_check_had_no_time_for_are_said_in_one_line(
    tmp_path, capsys, monkeypatch
):
    path = tmp_path / "w.sqlite"
    _workspace_with(path, *MANY)
    _damage(path)
    monkeypatch.setattr(backups, "require_sound", lambda *_args: None)  # no time for it
    out = tmp_path / "out.csv"
    assert main(["--db", str(path), "--user", "Ann", "export", "accounts", str(out)]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith("it was left as it is. There is no good backup of it to restore.")


def test_a_team_database_is_not_backed_up_by_accord(capsys):
    assert main(["--db", "postgresql+psycopg://ann@127.0.0.1:1/team", "backups"]) == 1
    assert "back a team database up on its server" in capsys.readouterr().err


# --- in the window ------------------------------------------------------------------------
def _click(button_text: str, said: list[str] | None = None):
    """A QMessageBox.exec that clicks the button with ``button_text``, noting the text."""

    def exec_(box: QMessageBox) -> int:
        if said is not None:
            said.append(f"{box.text()} {box.informativeText()}".strip())
        (button,) = [b for b in box.buttons() if b.text() == button_text]
        button.click()
        return 0

    return exec_


def _window(qtbot, path: Path) -> MainWindow:
    workspace = open_workspace(path)
    window = MainWindow(workspace, sign_in(workspace, "Ann"))
    qtbot.addWidget(window)
    return window


def test_the_window_backs_up_off_its_thread_and_restores_from_the_file_menu(
    qtbot, tmp_path, monkeypatch
):
    path = tmp_path / "w.sqlite"
    _workspace_with(path, "Acme")
    window = _window(qtbot, path)
    assert window.keeper is not None
    with qtbot.waitSignal(window.keeper.made, timeout=10_000):
        window.keeper.start()
    assert window.statusBar().currentMessage().startswith("Backed up to ")
    assert len(backups.backups(path)) == 1
    create_account(SqlUnitOfWork(window.workspace), window.user, {"name": "Bolt"})
    window.refresh()
    assert window.count.text() == "2 accounts"

    def choose_the_backup(dialog: BackupsDialog) -> int:
        assert dialog.table.item(0, 2).text() == "newest, daily, weekly, monthly"
        dialog.table.selectRow(0)
        assert dialog.restore.isEnabled()
        dialog.restore.click()
        return dialog.result()

    monkeypatch.setattr(QMessageBox, "exec", _click("Restore"))
    monkeypatch.setattr(BackupsDialog, "exec", choose_the_backup)
    (action,) = [a for a in window.findChildren(QAction) if a.text() == "Restore a backup…"]
    action.trigger()
    qtbot.waitUntil(lambda: window.count.text() == "1 account", timeout=10_000)
    assert _names(path) == ["Acme"]
    (aside,) = [b for b in backups.backups(path) if b.reason == "before-restore"]
    assert _names(aside.path) == ["Acme", "Bolt"]
    # the owner's home, the dashboard, reads the restored file: a read under way would keep
    # the next write in the log, where the file alone (read below) does not show it
    window.dashboard.stop()
    create_account(SqlUnitOfWork(window.workspace), window.user, {"name": "Cole"})
    assert window.workspace.checkpointer is not None and window.workspace.checkpointer.wait(10)
    assert _names(path) == ["Acme", "Cole"]  # the window works on the restored file


def test_a_damaged_workspace_at_start_is_offered_its_newest_good_backup(
    qtbot, tmp_path, monkeypatch
):
    path = tmp_path / "w.sqlite"
    _workspace_with(path, *MANY)
    backups.make_backup(path, now=NOW)
    _damage(path)
    damaged = path.read_bytes()
    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", _click("Restore the newest good backup", said))
    opened = _open_at_start(str(path), lambda: "Ann")
    assert opened is not None
    workspace, _user = opened
    workspace.close()
    assert said == [
        f"The workspace {path} is damaged (SQLite found broken pages in it); it was left as "
        f"it is. Its newest good backup (made {shown_time(NOW)}) can take its place; the "
        "damaged file is kept among the backups."
    ]
    assert len(_names(path)) == 400
    (aside,) = [b for b in backups.backups(path) if b.reason == "before-restore"]
    assert aside.path.read_bytes() == damaged


def test_a_damaged_workspace_without_a_backup_offers_another_or_quit(tmp_path, monkeypatch):
    path = tmp_path / "w.sqlite"
    _workspace_with(path, *MANY)
    _damage(path)
    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", _click("Quit", said))
    assert _open_at_start(str(path), lambda: "Ann") is None
    assert said[0].endswith("it was left as it is. No good backup of it was found.")
    assert not backups.folder(path).exists()


def test_damage_found_by_the_daily_check_offers_the_backup_in_the_window(
    qtbot, tmp_path, monkeypatch
):
    path = tmp_path / "w.sqlite"
    _workspace_with(path, *MANY)
    backups.make_backup(path, now=datetime.now(UTC) - timedelta(hours=1))  # none is due
    window = _window(qtbot, path)
    _damage(path)  # while the window is open, as a failing disk would
    monkeypatch.setattr(QMessageBox, "exec", _click("Restore the newest good backup"))
    assert window.keeper is not None
    window.keeper.start()
    qtbot.waitUntil(lambda: any(b.reason == "before-restore" for b in backups.backups(path)),
                    timeout=10_000)  # fmt: skip
    qtbot.waitUntil(lambda: window.count.text() == "400 accounts", timeout=10_000)
    assert backups.check(path) is True


def test_a_broken_page_met_in_the_window_is_said_with_what_to_do(monkeypatch):
    broken = sqlite3.DatabaseError("database disk image is malformed")
    broken.sqlite_errorcode = sqlite3.SQLITE_CORRUPT
    error = OperationalError("SELECT name FROM accounts", {}, broken)
    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: said.append(box.text()))
    show_error(None, "Export", error)
    assert said == [DAMAGED]


def test_a_workspace_open_elsewhere_is_not_replaced(tmp_path, capsys):
    path = tmp_path / "w.sqlite"
    _workspace_with(path, "Acme")
    backup = backups.make_backup(path, now=NOW)
    _workspace_with(path, "Bolt")
    elsewhere = open_workspace(path)  # Accord's window on it, say
    assert main(["--db", str(path), "restore", str(backup.path)]) == 1
    assert capsys.readouterr().err == (
        f"accord: The workspace {path} is open in Accord or another program: close it there, "
        "then restore.\n"
    )
    elsewhere.close()
    assert _names(path) == ["Acme", "Bolt"]
    assert [b.path for b in backups.backups(path)] == [backup.path]


def test_a_backup_of_a_workspace_that_is_gone_makes_no_empty_one(tmp_path):
    path = tmp_path / "gone.sqlite"
    with pytest.raises(sqlite3.OperationalError, match="unable to open"):
        backups.make_backup(path)
    assert not path.exists() and backups.backups(path) == []
