"""Exceptions to the target list, granted, listed and revoked: on the command line and in
the window."""

from __future__ import annotations

import sqlite3
import uuid
from contextlib import closing

import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMessageBox

from domain.accounts import create_account
from domain.targets import Stage, add_to_target_list
from domain.users import Role
from main import main
from storage.interactions import account_stage_changes
from storage.repositories import SqlUnitOfWork
from storage.targets import target_entry
from ui.field_actions import ExceptionsDialog, GrantDialog, StageDialog
from ui.main_window import MainWindow
from ui.messages import Button


def _workspace(tmp_path) -> str:  # type: ignore[no-untyped-def]
    """A workspace with a rep and one account, off the target list."""
    db = str(tmp_path / "w.sqlite")
    listing = tmp_path / "list.csv"
    listing.write_text("Company name,Website\nElsewhere Ltd,https://elsewhere.example/\n",
                       encoding="utf-8")  # fmt: skip
    assert main(["--db", db, "--user", "Olivia Owner", "import", "accounts", str(listing)]) == 0
    assert main(["--db", db, "--user", "Olivia Owner", "users", "--add", "Rita Rep"]) == 0
    return db


def test_exceptions_are_granted_listed_and_revoked_on_the_command_line(tmp_path, capsys):
    db = _workspace(tmp_path)

    def run(*args: str, user: str = "Olivia Owner") -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["--db", db, "--user", user, "exceptions", *args])
        out, err = capsys.readouterr()
        return code, out, err

    code, out, _ = run("grant", "--rep", "Rita Rep", "--account", "elsewhere.example",
                       "--reason", "Met them at the trade fair")  # fmt: skip
    assert (code, out) == (0, "Rita Rep may now log calls and visits against Elsewhere Ltd.\n")
    code, out, _ = run("list")
    assert out.startswith("Rita Rep\tElsewhere Ltd\tMet them at the trade fair\tgranted by "
                          "Olivia Owner 20")  # fmt: skip
    code, _, err = run("grant", "--rep", "Rita Rep", "--account", "Elsewhere Ltd",
                       "--reason", "again", user="Rita Rep")  # fmt: skip
    assert code == 1 and "Rita Rep (rep) may not grant exceptions to the target list" in err
    code, out, _ = run("revoke", "--rep", "Rita Rep", "--account", "elsewhere ltd")
    assert out == "Rita Rep may no longer log against Elsewhere Ltd: the exception is revoked.\n"
    assert run("list")[1] == "No exception to the target list is in force.\n"
    assert "\trevoked by Olivia Owner 20" in run("list", "--revoked")[1]
    code, _, err = run("revoke", "--rep", "Rita Rep", "--account", "Elsewhere Ltd")
    assert code == 1 and "Rita Rep has no exception for Elsewhere Ltd to revoke." in err


def test_a_grant_needs_a_reason_and_a_known_account(tmp_path, capsys):
    db = _workspace(tmp_path)
    grant = ["--db", db, "--user", "Olivia Owner", "exceptions", "grant", "--rep", "Rita Rep"]
    assert main([*grant, "--account", "Elsewhere Ltd"]) == 1
    assert "say why the rep may log outside the target list" in capsys.readouterr().err
    assert main([*grant, "--account", "Nowhere Inc", "--reason", "x"]) == 1
    assert "No account has the id, name or website 'Nowhere Inc'." in capsys.readouterr().err
    with closing(sqlite3.connect(db)) as conn:
        [(account_id,)] = conn.execute("SELECT id FROM accounts").fetchall()
    account_id = str(uuid.UUID(bytes=account_id) if isinstance(account_id, bytes) else account_id)
    assert main([*grant, "--account", account_id, "--reason", "Referred by a customer"]) == 0
    assert "against Elsewhere Ltd." in capsys.readouterr().out


# --- in the window --------------------------------------------------------------------------


@pytest.fixture
def off_list(sqlite_workspace, sqlite_people):
    uow = SqlUnitOfWork(sqlite_workspace)
    return create_account(uow, sqlite_people[Role.OWNER], {"name": "Elsewhere <i>Ltd</i>"})


def _said(monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: said.append(box.text()) or Button.Yes)
    return said


def test_marketing_grants_and_revokes_an_exception_in_the_window(
    qtbot, sqlite_workspace, sqlite_people, off_list, monkeypatch
):
    said = _said(monkeypatch)
    marketing = sqlite_people[Role.MARKETING]
    dialog = ExceptionsDialog(sqlite_workspace, marketing, off_list.name)
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 0
    assert dialog.empty.text() == "No exception to the target list is in force."
    grant = GrantDialog(sqlite_workspace, marketing, off_list.name, dialog)
    grant.accept()  # no reason
    assert said == ["reason: say why the rep may log outside the target list"]
    assert grant.granted is None
    grant.rep.setCurrentText("Rita Rep")
    grant.reason.setText("Met them at the trade fair")
    grant.accept()
    assert grant.granted is not None and grant.granted.granted_by == "Mark Marketer"
    dialog.refresh()
    cells = [dialog.table.item(0, column).text() for column in range(5)]
    assert cells[:4] == ["Rita Rep", "Elsewhere <i>Ltd</i>", "Met them at the trade fair",
                         "Mark Marketer"]  # fmt: skip
    assert dialog.table.isColumnHidden(5) and dialog.table.isColumnHidden(6)
    dialog.table.selectRow(0)
    assert dialog.revoke_button.isEnabled()
    dialog.revoke()
    assert said[-1].startswith("Revoke Rita Rep's exception for Elsewhere <i>Ltd</i>?")
    assert dialog.table.rowCount() == 0
    dialog.revoked.setChecked(True)
    assert dialog.table.item(0, 5).text() == "Mark Marketer"
    assert not dialog.table.isColumnHidden(5)


def test_a_grant_for_an_unknown_account_keeps_the_form(qtbot, sqlite_workspace, sqlite_people,
                                                       off_list, monkeypatch):  # fmt: skip
    said = _said(monkeypatch)
    grant = GrantDialog(sqlite_workspace, sqlite_people[Role.OWNER], "Nowhere Inc")
    qtbot.addWidget(grant)
    grant.reason.setText("why not")
    grant.accept()
    assert said == ["No account has the id, name or website 'Nowhere Inc'."]
    assert grant.result() == 0 and grant.reason.text() == "why not"


def test_a_rep_sees_the_exceptions_but_cannot_grant_or_revoke(
    qtbot, sqlite_workspace, sqlite_people, off_list
):
    dialog = ExceptionsDialog(sqlite_workspace, sqlite_people[Role.REP])
    qtbot.addWidget(dialog)
    assert not dialog.grant_button.isVisibleTo(dialog)
    assert not dialog.revoke_button.isVisibleTo(dialog)


def test_the_owner_corrects_a_stage_from_the_targets_menu(
    qtbot, sqlite_workspace, sqlite_people, off_list, monkeypatch
):
    said = _said(monkeypatch)
    owner = sqlite_people[Role.OWNER]
    uow = SqlUnitOfWork(sqlite_workspace)
    listed = create_account(uow, owner, {"name": "Acme GmbH"})
    add_to_target_list(uow, owner, [listed.id], "fits")
    window = MainWindow(sqlite_workspace, owner)
    qtbot.addWidget(window)
    [action] = [a for a in window.findChildren(QAction) if a.text() == "Correct stage…"]
    assert action.shortcut().toString() == "Ctrl+Shift+G"
    opened: list[StageDialog] = []

    def fill(dialog: StageDialog) -> bool:
        opened.append(dialog)
        dialog.stage.setCurrentText("lost")
        dialog.accept()  # no reason yet: refused, the form stays
        dialog.reason.setText("Bought a rival's product last week")
        dialog.accept()
        return True

    monkeypatch.setattr(StageDialog, "exec", fill)
    window.table.selectRow(0 if window.model.index(0, 0).data() == "Acme GmbH" else 1)
    action.trigger()
    assert said == ["reason: say why the stage is corrected: it is kept in the history"]
    assert target_entry(sqlite_workspace, listed.id)["stage"] == "lost"
    with sqlite_workspace.read() as conn:
        last = account_stage_changes(conn, listed.id)[-1]
    assert (last.before, last.after, last.changed_by) == (Stage.TARGETED, Stage.LOST, owner.name)
    assert last.reason == "Bought a rival's product last week"
    assert window.statusBar().currentMessage() == "Acme GmbH is now lost"
    window.table.clearSelection()
    window.table.selectRow(0 if window.model.index(0, 0).data() != "Acme GmbH" else 1)
    action.trigger()
    assert said[-1] == ("Elsewhere <i>Ltd</i> is not on the target list: only a listed account "
                        "has a stage.")  # fmt: skip
    assert len(opened) == 1


def test_a_rep_has_no_stage_correction(qtbot, sqlite_workspace, sqlite_people):
    window = MainWindow(sqlite_workspace, sqlite_people[Role.REP])
    qtbot.addWidget(window)
    [action] = [a for a in window.findChildren(QAction) if a.text() == "Correct stage…"]
    assert not action.isEnabled()
