"""Sync without a server: change sets travel as files through a shared folder (a network
drive, or a folder a file-sync service keeps), ``accord sync --folder DIR``.

Each device writes only into its own subfolder, named by its device id, and only the
changes it made: one file per sync, named by the stamp of its last change, so that file
names sort as the changes do. A file is written under a temporary name and renamed when
complete (a reader never sees half of one). Each device reads every other device's files
that are newer than what it holds from that device (its version vector, ``sync_seen``, is
how far it has read each one). A file is gzip-compressed JSON lines: the change set's
header (format, version, device, schema), then one change per line. Nothing but these
files is ever opened in the folder: a SQLite database is never opened from it.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from collections.abc import Iterator, Mapping
from contextlib import suppress
from pathlib import Path

from domain.errors import AccordError
from domain.progress import Cancel, Progress
from domain.sync import BadChangeSet, Change, ChangeSet, Stamp, SyncSummary, copy_scope, is_device
from domain.users import User
from storage.schema import utcnow
from storage.sync.capture import enable_sync, sync_enabled
from storage.sync.engine import (
    apply_changes,
    changes_since,
    device_of,
    mark_synced,
    schema_of,
    seal,
    seen_by,
    wall_ms,
)
from storage.sync.steps import Steps
from storage.workspace import Workspace

#: How a change set file's name ends.
SUFFIX = ".changes.gz"
_STEPS = 3


class FolderMissing(AccordError):
    """The shared folder is not there."""


def sync_through_folder(
    ws: Workspace,
    folder: Path,
    user: User,
    progress: Progress | None = None,
    cancelled: Cancel | None = None,
) -> SyncSummary:
    """Exchange changes with the other devices that sync through ``folder``: write this
    device's changes since its last file, then take in every file of theirs that this
    workspace has not read, in one transaction. A workspace's first sync through a folder
    also sends every row it holds, so that a new, empty workspace on another computer
    receives the whole of it. A sync cut at any point is carried on by the next one."""
    folder = folder.expanduser()
    if not folder.is_dir():
        raise FolderMissing(
            f"There is no folder {folder}: check the path, or make the shared folder first."
        )

    step = Steps(_STEPS, progress, cancelled).reached
    step(0)
    with ws.write() as conn:
        if not sync_enabled(conn):
            enable_sync(conn, "peer", snapshot=True)
        seal(conn, wall_ms())
        device = device_of(conn)
        assert device is not None  # it syncs now
    copy_scope(user, device.rep)  # a rep syncs a copy of their own accounts only
    step(1)
    with ws.read() as conn:
        last = last_written(folder, device.device)
        others = {d: s for d, s in seen_by(conn).items() if d != device.device}
        ours = changes_since(conn, {**others, **({device.device: last} if last else {})})
    write_change_set(folder, ours)
    step(2)
    with ws.write() as conn:
        schema = schema_of(conn)
        received: list[Change] = []
        for other, path in unread(folder, device.device, seen_by(conn)):
            change_set = read_change_set(path, other)
            change_set.require_schema(schema)
            received += change_set.changes
        applied = apply_changes(conn, ChangeSet(device.device, schema, tuple(received)), wall_ms())
        mark_synced(conn, utcnow())
    step(3)
    return SyncSummary(
        sent=len(ours.changes),
        received=applied.applied,
        conflicts=applied.conflicts,
        refused=applied.refused,
    )


def write_change_set(folder: Path, change_set: ChangeSet) -> Path | None:
    """Write ``change_set`` (changes its device made) into the device's own subfolder of
    ``folder``; the file's path, or None when there was nothing to write."""
    if not change_set.changes:
        return None
    own = folder / change_set.device
    own.mkdir(parents=True, exist_ok=True)
    last = max(change.stamp for change in change_set.changes)
    final = own / f"{last}{SUFFIX}"
    partial = own / f".{final.name}.{os.getpid()}.partial"
    header = {k: v for k, v in change_set.to_document().items() if k != "changes"}
    try:
        with open(partial, "wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as packed:
                packed.write(_line(header))
                for change in change_set.changes:
                    packed.write(_line(change.to_document()))
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, final)
    except BaseException:
        with suppress(FileNotFoundError):
            partial.unlink()
        raise
    return final


def _line(document: object) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def last_written(folder: Path, device: str) -> Stamp | None:
    """The stamp of the last change ``device`` wrote into ``folder``."""
    names = [stamp for stamp, _ in _files(folder / device)]
    return max(names, default=None)


def unread(folder: Path, device: str, seen: Mapping[str, Stamp]) -> Iterator[tuple[str, Path]]:
    """The other devices' files in ``folder`` holding changes newer than what this
    ``device`` has ``seen`` of each: (their device, the file), each device's in order."""
    if not folder.is_dir():
        return
    for other in sorted(p for p in folder.iterdir() if p.is_dir()):
        if other.name == device or not is_device(other.name):
            continue
        known = seen.get(other.name)
        for stamp, path in sorted(_files(other)):
            if known is None or stamp > known:
                yield other.name, path


def _files(subfolder: Path) -> Iterator[tuple[Stamp, Path]]:
    if not subfolder.is_dir():
        return
    for path in subfolder.iterdir():
        if path.name.startswith(".") or not path.name.endswith(SUFFIX):
            continue
        with suppress(ValueError):
            yield Stamp.parse(path.name.removesuffix(SUFFIX)), path


def read_change_set(path: Path, device: str) -> ChangeSet:
    """The change set in the file at ``path``, which ``device`` wrote; :class:`BadChangeSet`
    when it cannot be read as one (nothing of it is applied)."""
    try:
        with gzip.open(path, "rb") as packed:
            lines = [json.loads(line) for line in packed if line.strip()]
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadChangeSet(
            f"The change set {path} cannot be read ({_reason(error)}): nothing of it was "
            "applied, and it is read again at the next sync."
        ) from None
    if not lines or not isinstance(lines[0], dict):
        raise BadChangeSet(f"{path} is not a change set Accord wrote: nothing of it was applied.")
    change_set = ChangeSet.from_document({**lines[0], "changes": lines[1:]})
    if change_set.device != device or any(c.stamp.device != device for c in change_set.changes):
        raise BadChangeSet(
            f"{path} holds changes of another device than the folder it is in: nothing of it "
            "was applied."
        )
    return change_set


def _reason(error: Exception) -> str:
    return getattr(error, "strerror", None) or str(error) or type(error).__name__
