"""The workspace and its records on SQLite and PostgreSQL: round trip, who changed what,
conflicts, tombstones, migrations and backups."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text

from domain.accounts import (
    add_contact,
    create_account,
    delete_account,
    restore_account,
    revert_account_edit,
    update_account,
)
from domain.errors import AccordError, ConcurrentEditError, PermissionDenied
from domain.users import Role
from storage.repositories import SqlUnitOfWork
from storage.schema import Base, ChangeRow
from storage.users import sign_in
from storage.workspace import (
    WorkspaceError,
    _alembic_config,
    head_revision,
    open_workspace,
    schema_revision,
)


def _get(workspace, account_id):
    with SqlUnitOfWork(workspace) as uow:
        return uow.accounts.get(account_id)


def test_account_and_contacts_round_trip(workspace, people):
    owner = people[Role.OWNER]
    account = create_account(
        SqlUnitOfWork(workspace), owner,
        {"name": "Ωμέγα <b>&</b>", "employees": "1,200", "annual_revenue": "$5M",
         "tags": "cloud; erp", "custom": {"Stack": "=cmd()"}},
    )  # fmt: skip
    add_contact(SqlUnitOfWork(workspace), owner, account.id,
                {"name": "Jörg Müller", "email": "jm@x.de", "decision_maker": True})  # fmt: skip
    loaded = _get(workspace, account.id)
    assert (loaded.name, loaded.employees, loaded.annual_revenue, loaded.tags) == (
        "Ωμέγα <b>&</b>", 1200, 5_000_000, "cloud, erp")  # fmt: skip
    assert loaded.custom == {"Stack": "=cmd()"}
    with SqlUnitOfWork(workspace) as uow:
        (contact,) = uow.contacts.for_account(account.id)
    assert (contact.name, contact.decision_maker) == ("Jörg Müller", True)


def test_every_change_records_who_and_bumps_the_version(workspace, people):
    account = create_account(SqlUnitOfWork(workspace), people[Role.OWNER], {"name": "Acme"})
    edited = update_account(SqlUnitOfWork(workspace), people[Role.MARKETING], account,
                            {"city": "Graz"})  # fmt: skip
    assert edited.version == account.version + 1
    with workspace.read() as conn:
        log = conn.execute(
            select(ChangeRow.user_name, ChangeRow.action, ChangeRow.details)
            .where(ChangeRow.record_id == account.id).order_by(ChangeRow.id)
        ).all()  # fmt: skip
    owner, marketer = people[Role.OWNER].name, people[Role.MARKETING].name
    assert [(u, a) for u, a, _ in log] == [(owner, "create"), (marketer, "update")]
    assert log[1][2] == {"city": [None, "Graz"]}


def test_two_people_saving_the_same_account_never_overwrite_silently(db_url, people, workspace):
    other = open_workspace(db_url)  # a second app on the same database
    try:
        account = create_account(SqlUnitOfWork(workspace), people[Role.OWNER], {"name": "Acme"})
        mine, theirs = _get(workspace, account.id), _get(other, account.id)
        update_account(SqlUnitOfWork(other), people[Role.MARKETING], theirs, {"city": "Paris"})
        with pytest.raises(ConcurrentEditError, match="changed by someone else"):
            update_account(SqlUnitOfWork(workspace), people[Role.OWNER], mine, {"city": "Rome"})
        assert _get(workspace, account.id).city == "Paris"
    finally:
        other.close()


def test_an_edit_is_taken_back_field_by_field_unless_changed_again(workspace, people):
    owner, marketer = people[Role.OWNER], people[Role.MARKETING]
    account = create_account(SqlUnitOfWork(workspace), owner, {"name": "Acme", "city": "Graz"})
    edited = update_account(SqlUnitOfWork(workspace), owner, account,
                            {"city": "Wien", "phone": "+43 1"})  # fmt: skip
    # someone changes another field meanwhile: it stays as they left it
    update_account(SqlUnitOfWork(workspace), marketer, edited, {"industry": "Retail"})
    revert_account_edit(SqlUnitOfWork(workspace), owner, account, edited)
    now = _get(workspace, account.id)
    assert (now.city, now.phone, now.industry) == ("Graz", None, "Retail")
    revert_account_edit(SqlUnitOfWork(workspace), owner, edited, account)  # redo
    now = _get(workspace, account.id)
    assert (now.city, now.phone, now.industry) == ("Wien", "+43 1", "Retail")
    # once someone changes a field the edit changed, taking it back is refused
    update_account(SqlUnitOfWork(workspace), marketer, now, {"city": "Linz"})
    with pytest.raises(AccordError, match="Acme: City changed again since"):
        revert_account_edit(SqlUnitOfWork(workspace), owner, account, edited)
    assert _get(workspace, account.id).city == "Linz"
    with pytest.raises(PermissionDenied):
        revert_account_edit(SqlUnitOfWork(workspace), people[Role.REP], edited, account)


def test_delete_is_a_tombstone_that_can_be_restored(workspace, people):
    owner = people[Role.OWNER]
    account = create_account(SqlUnitOfWork(workspace), owner, {"name": "Acme"})
    delete_account(SqlUnitOfWork(workspace), owner, account)
    assert _get(workspace, account.id) is None
    with workspace.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM accounts")).scalar_one() == 1
    restore_account(SqlUnitOfWork(workspace), owner, account.id)
    assert _get(workspace, account.id).name == "Acme"


def test_first_person_owns_a_workspace_file_and_newcomers_are_reps(sqlite_workspace):
    assert sign_in(sqlite_workspace, "Ann").role is Role.OWNER
    assert sign_in(sqlite_workspace, "Bob").role is Role.REP


def test_upgraded_schema_equals_the_models(workspace):
    with workspace.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    assert schema_revision(workspace) == head_revision()


def test_sqlite_settings(sqlite_workspace):
    with sqlite_workspace.engine.connect() as conn:
        pragmas = {p: conn.exec_driver_sql(f"PRAGMA {p}").scalar()
                   for p in ("journal_mode", "foreign_keys", "busy_timeout",
                             "wal_autocheckpoint")}  # fmt: skip
    # Commits leave checkpoints to the workspace's own thread (next test).
    assert pragmas == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": 5000,
        "wal_autocheckpoint": 0,
    }


def test_committed_writes_are_copied_into_the_file_itself(sqlite_workspace, tmp_path):
    def rows_in_the_file() -> int:
        # immutable=1 reads the file alone, without the write-ahead log
        uri = f"file:{tmp_path / 'workspace.sqlite'}?immutable=1"
        with closing(sqlite3.connect(uri, uri=True)) as conn:
            return conn.execute("SELECT count(*) FROM notes").fetchone()[0]

    with sqlite_workspace.write() as conn:
        conn.exec_driver_sql("CREATE TABLE notes (body BLOB)")
        conn.exec_driver_sql(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) "
            "INSERT INTO notes SELECT randomblob(1000) FROM n"
        )
    assert sqlite_workspace.checkpointer is not None
    assert sqlite_workspace.checkpointer.wait(timeout=30)
    assert rows_in_the_file() == 3000


def test_writes_take_the_lock_up_front(sqlite_workspace, tmp_path):
    path = tmp_path / "workspace.sqlite"
    with sqlite_workspace.write():
        other = sqlite3.connect(path, timeout=0.1, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()


def test_old_workspace_upgrades_with_its_data_after_a_backup(tmp_path):
    path = tmp_path / "old.sqlite"
    old = open_workspace(path, migrate=False)
    with old.engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0001")
        conn.execute(text(
            "INSERT INTO accounts (id, name, name_key, search_text, created_at, updated_at, "
            "changed_by, version) VALUES ('0123456789abcdef0123456789abcdef', 'Old Co', "
            "'old co', ' old co ', '2020-01-01', '2020-01-01', 'Ann', 1)"))  # fmt: skip
    old.close()
    upgraded = open_workspace(path)
    assert schema_revision(upgraded) == head_revision()
    with upgraded.read() as conn:
        assert conn.execute(text("SELECT name FROM accounts")).scalar_one() == "Old Co"
    upgraded.close()
    (backup,) = (tmp_path / "backups" / "old").glob("old.*.before-upgrade-from-0001.sqlite")
    with sqlite3.connect(backup) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
        assert conn.execute("SELECT name FROM accounts").fetchone() == ("Old Co",)


def test_a_workspace_from_a_newer_accord_is_refused_untouched(tmp_path):
    path = tmp_path / "new.sqlite"
    open_workspace(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    before = path.read_bytes()
    with pytest.raises(WorkspaceError, match="newer version of Accord"):
        open_workspace(path)
    assert path.read_bytes() == before


def test_a_python_with_an_old_sqlite_is_told_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 31, 1))
    monkeypatch.setattr(sqlite3, "sqlite_version", "3.31.1")
    with pytest.raises(WorkspaceError, match=r"SQLite 3\.31\.1; Accord needs 3\.35 or later"):
        open_workspace(tmp_path / "workspace.sqlite")
    assert not (tmp_path / "workspace.sqlite").exists()
