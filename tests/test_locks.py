"""Someone else is writing: reads go on at once, a write that cannot get the lock in time
says the workspace is busy and keeps what was typed. On SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager

import pytest
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import storage.workspace
from domain.accounts import Account, create_account, update_account
from domain.errors import WorkspaceBusy
from main import main
from storage.read_models.export import account_table
from storage.repositories import SqlUnitOfWork
from storage.users import list_users, sign_in
from storage.workspace import Workspace, open_workspace, schema_revision
from ui.account_dialog import AccountDialog

#: How long the tests let a write wait for the lock (Accord's own wait is longer).
WAIT = 0.5


@contextmanager
def someone_else_writing(workspace: Workspace, account: Account) -> Iterator[None]:
    """Another connection's write transaction, holding the write lock (SQLite) or the
    account's row (PostgreSQL) until the block ends, then rolled back."""
    if workspace.is_sqlite:
        path = str(make_url(workspace.url).database)
        with closing(sqlite3.connect(path, isolation_level=None)) as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE accounts SET city = 'Theirs' WHERE id = ?", (account.id.hex,))
            yield
            conn.execute("ROLLBACK")
    else:
        engine = create_engine(workspace.url)
        with engine.connect() as conn:
            conn.execute(
                text("UPDATE accounts SET city = 'Theirs' WHERE id = :id"), {"id": account.id}
            )
            yield
            conn.rollback()
        engine.dispose()


@pytest.fixture
def impatient(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """The workspace of ``db_url``, whose writes wait WAIT seconds for the lock."""
    monkeypatch.setattr(storage.workspace, "WRITE_WAIT", WAIT)
    ws = open_workspace(db_url)
    yield ws
    ws.close()


@pytest.fixture
def account(impatient: Workspace) -> Account:
    owner = sign_in(impatient, "Olivia Owner")
    return create_account(SqlUnitOfWork(impatient), owner, {"name": "Acme", "city": "Graz"})


def test_reads_go_on_while_someone_else_writes(impatient, account, db_url):
    # A read that waited for the write lock would raise WorkspaceBusy after WAIT seconds.
    with someone_else_writing(impatient, account):
        with SqlUnitOfWork.reading(impatient) as uow:
            assert uow.accounts.get(account.id).city == "Graz"  # the account window
        owner = sign_in(impatient, "Olivia Owner")
        assert [u.name for u in list_users(impatient)] == [owner.name]
        assert [row[0] for row in account_table(impatient).rows] == ["Acme"]
        assert schema_revision(impatient) is not None
        open_workspace(db_url).close()  # the schema check at open


def test_a_write_that_cannot_get_the_lock_says_the_workspace_is_busy(impatient, account):
    owner = sign_in(impatient, "Olivia Owner")
    with someone_else_writing(impatient, account):
        started = time.monotonic()
        with pytest.raises(WorkspaceBusy, match="The workspace is busy"):
            update_account(SqlUnitOfWork(impatient), owner, account, {"city": "Mine"})
        assert time.monotonic() - started >= WAIT  # it waited before saying so
    update_account(SqlUnitOfWork(impatient), owner, account, {"city": "Mine"})  # a retry
    with SqlUnitOfWork.reading(impatient) as uow:
        assert uow.accounts.get(account.id).city == "Mine"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_busy_save_keeps_the_account_window_open_with_its_typing(
    qtbot, impatient, account, monkeypatch
):
    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: said.append(box.text()))
    dialog = AccountDialog(impatient, sign_in(impatient, "Olivia Owner"), account)
    qtbot.addWidget(dialog)
    dialog.form.inputs["city"].setText("Mine")
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    with someone_else_writing(impatient, account):
        save.click()
    assert said == [str(WorkspaceBusy())]
    assert dialog.result() != dialog.DialogCode.Accepted
    assert dialog.form.inputs["city"].text() == "Mine"
    save.click()
    assert dialog.result() == dialog.DialogCode.Accepted


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_command_line_says_busy_in_one_line(impatient, account, db_url, tmp_path, capsys):
    listing = tmp_path / "list.csv"
    listing.write_text("Company name\nBeta\n", encoding="utf-8")
    with someone_else_writing(impatient, account):
        assert main(["--db", db_url, "--user", "Olivia Owner", "export", "accounts",
                     str(tmp_path / "out.csv")]) == 0  # fmt: skip
        assert main(["--db", db_url, "--user", "Olivia Owner", "import", "accounts",
                     str(listing)]) == 1  # fmt: skip
    err = capsys.readouterr().err
    assert err == f"accord: {WorkspaceBusy()}\n"
