"""Change sets as files in a shared folder: each device writes its own, complete or not at
all; a reader takes what it has not read yet and refuses what it cannot read."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from domain.sync import BadChangeSet, Change, ChangeSet, SchemaTooNew, Stamp
from storage.sync.folder import last_written, read_change_set, unread, write_change_set

A, B = "aaaaaaaaaaaa", "bbbbbbbbbbbb"


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
