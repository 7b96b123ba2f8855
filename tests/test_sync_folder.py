"""Change sets as files in a shared folder: each device writes its own, complete or not at
all; a reader takes what it has not read yet and refuses what it cannot read."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from sqlalchemy import select, update

from domain.accounts import create_account
from domain.sync import BadChangeSet, Change, ChangeSet, SchemaTooNew, Stamp, SyncSummary
from domain.users import Role
from storage.repositories import SqlUnitOfWork
from storage.schema import AccountRow, table_of
from storage.sync.engine import device_of
from storage.sync.folder import (
    FolderMissing,
    last_written,
    read_change_set,
    sync_through_folder,
    unread,
    write_change_set,
)
from storage.workspace import Workspace, open_workspace
from tests.conftest import _people

A, B = "aaaaaaaaaaaa", "bbbbbbbbbbbb"
accounts = table_of(AccountRow)


def _set(device: str, *millis: int, schema: str = "0014") -> ChangeSet:
    changes = tuple(
        Change(Stamp(m, 0, device), "accounts", f"row{m}", "city", "Gießen <b>", "Ann")
        for m in millis
    )
    return ChangeSet(device, schema, changes)


def test_a_change_set_reads_back_as_written(tmp_path: Path) -> None:
    written = write_change_set(tmp_path, _set(A, 1_700_000_000_000, 1_700_000_000_001))
    assert written is not None and written.parent == tmp_path / A
    assert read_change_set(written, A) == _set(A, 1_700_000_000_000, 1_700_000_000_001)
    assert [p.name for p in (tmp_path / A).iterdir()] == [written.name]  # no temporary left
    assert last_written(tmp_path, A) == Stamp(1_700_000_000_001, 0, A)
    assert write_change_set(tmp_path, _set(A)) is None  # nothing to say, no file


def test_a_device_reads_only_the_others_files_it_has_not_read(tmp_path: Path) -> None:
    first = write_change_set(tmp_path, _set(B, 1_700_000_000_000))
    second = write_change_set(tmp_path, _set(B, 1_700_000_000_500))
    write_change_set(tmp_path, _set(A, 1_700_000_000_100))
    (tmp_path / B / f".{Stamp(1_700_000_000_900, 0, B)}.changes.gz.1.partial").write_bytes(b"")
    assert list(unread(tmp_path, A, {})) == [(B, first), (B, second)]
    assert list(unread(tmp_path, A, {B: Stamp(1_700_000_000_000, 0, B)})) == [(B, second)]


def test_a_damaged_file_is_refused_in_a_sentence(tmp_path: Path) -> None:
    written = write_change_set(tmp_path, _set(B, 1_700_000_000_000))
    assert written is not None
    written.write_bytes(written.read_bytes()[:20])  # cut short, as a half-copied file
    with pytest.raises(BadChangeSet, match=r"cannot be read .* read again at the next sync"):
        read_change_set(written, B)
    with gzip.open(written, "wb") as out:
        out.write(b'{"format": "something else"}\n')
    with pytest.raises(BadChangeSet, match="not a change set Accord wrote"):
        read_change_set(written, B)


def test_a_change_set_of_another_device_s_folder_is_refused(tmp_path: Path) -> None:
    written = write_change_set(tmp_path, _set(B, 1_700_000_000_000))
    assert written is not None
    moved = tmp_path / A / written.name
    moved.parent.mkdir()
    written.rename(moved)
    with pytest.raises(BadChangeSet, match="another device"):
        read_change_set(moved, A)


def test_a_change_set_from_a_newer_accord_is_refused(tmp_path: Path) -> None:
    written = write_change_set(tmp_path, _set(B, 1_700_000_000_000, schema="0099"))
    assert written is not None
    with pytest.raises(SchemaTooNew, match=r"newer Accord .* Nothing was applied"):
        read_change_set(written, B).require_schema("0014")


def _accounts(ws: Workspace) -> list[tuple[object, ...]]:
    with ws.read() as conn:
        return [tuple(r) for r in conn.execute(
            select(accounts.c.id, accounts.c.name, accounts.c.city, accounts.c.industry)
            .order_by(accounts.c.id))]  # fmt: skip


def test_two_laptops_stay_in_step_through_a_shared_folder(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    first = open_workspace(tmp_path / "first.sqlite")
    second = open_workspace(tmp_path / "second.sqlite")
    try:
        owner = _people(first)[Role.OWNER]
        acme = create_account(SqlUnitOfWork(first), owner, {"name": "Acme", "city": "Graz"})
        create_account(SqlUnitOfWork(first), owner, {"name": "Bolt"})
        sent = sync_through_folder(first, shared, owner)
        assert sent.sent > 0 and sent.received == 0
        joined = sync_through_folder(second, shared, owner)  # a new, empty workspace
        with second.read() as conn:
            device = device_of(conn)
        assert device is not None and device.last_synced_at is not None  # the window says it
        assert joined.received == sent.sent
        assert _accounts(second) == _accounts(first)

        with first.write() as conn:
            conn.execute(update(accounts).where(accounts.c.id == acme.id)
                         .values(city="Linz", changed_by=owner.name))  # fmt: skip
        with second.write() as conn:
            conn.execute(update(accounts).where(accounts.c.id == acme.id)
                         .values(industry="Software", changed_by=owner.name))  # fmt: skip
        for ws in (first, second, first):
            sync_through_folder(ws, shared, owner)
        assert _accounts(first) == _accounts(second)
        assert ("Linz", "Software") in {(row[2], row[3]) for row in _accounts(first)}
        assert sync_through_folder(second, shared, owner) == SyncSummary()
        written = sorted(
            p.relative_to(shared).parent.name for p in shared.rglob("*") if p.is_file()
        )
        assert all(p.name.endswith(".changes.gz") for p in shared.rglob("*") if p.is_file())
        assert len(set(written)) == 2  # one subfolder per laptop, nothing else
    finally:
        first.close()
        second.close()


def test_a_folder_that_is_not_there_is_said(tmp_path: Path, sqlite_workspace: Workspace) -> None:
    owner = _people(sqlite_workspace)[Role.OWNER]
    with pytest.raises(FolderMissing, match="There is no folder"):
        sync_through_folder(sqlite_workspace, tmp_path / "nowhere", owner)
