"""Backups of a SQLite workspace file, and SQLite's check for damaged pages.

Backups live in ``backups/STEM/`` beside the workspace file, named
``STEM.YYYYMMDD-HHMMSS[.REASON].sqlite`` (UTC). They are made with SQLite's online
backup API, so Accord and others may go on working meanwhile, and every one is opened
and checked (``PRAGMA quick_check``) before it takes its name: a file with a backup's
name is a good copy. Rotating backups (no reason) are thinned out by
``domain.backups.kept_backups``; those made before an upgrade or a restore are kept.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import threading
from contextlib import closing, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from domain.backups import Kept, backup_due, described, kept_backups
from domain.errors import AccordError, WorkspaceDamaged

FOLDER = "backups"
BEFORE_RESTORE = "before-restore"
#: How long opening a workspace may spend checking it: about 100 MB of workspace (some
#: 40,000 accounts). A bigger file is checked whole, off the GUI thread, once it is open.
OPEN_CHECK_SECONDS = 0.25
_STAMP = "%Y%m%d-%H%M%S"


class BackupError(AccordError):
    """A backup cannot be made or restored as asked."""


@dataclass(frozen=True)
class Backup:
    """One backup file of a workspace."""

    path: Path
    made: datetime  # UTC
    reason: str | None  # None for a rotating backup

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def folder(workspace: Path) -> Path:
    """Where the backups of the workspace file ``workspace`` live."""
    return workspace.parent / FOLDER / workspace.stem


def _names(workspace: Path) -> re.Pattern[str]:
    return re.compile(
        re.escape(workspace.stem)
        + r"\.(?P<stamp>\d{8}-\d{6})(?:-\d+)?(?:\.(?P<reason>[a-z0-9-]+))?\.sqlite"
    )


def backups(workspace: Path) -> list[Backup]:
    """The backups of ``workspace``, newest first."""
    names = _names(workspace)
    found = []
    for path in folder(workspace).glob("*.sqlite"):
        if match := names.fullmatch(path.name):
            made = datetime.strptime(match["stamp"], _STAMP).replace(tzinfo=UTC)
            found.append(Backup(path, made, match["reason"]))
    return sorted(found, key=lambda b: (b.made, len(b.path.name), b.path.name), reverse=True)


def why_kept(workspace: Path, now: datetime | None = None) -> dict[Path, set[Kept]]:
    """Why each rotating backup of ``workspace`` is kept."""
    rotating = [b for b in backups(workspace) if b.reason is None]
    kept = kept_backups((b.made for b in rotating), now or datetime.now(UTC))
    return {b.path: kept[b.made] for b in rotating if b.made in kept}


def listed(workspace: Path) -> list[tuple[Backup, str]]:
    """The backups of ``workspace``, newest first, each with what it is."""
    kept = why_kept(workspace)
    return [(b, described(b.reason, kept.get(b.path, set()))) for b in backups(workspace)]


def _new_path(workspace: Path, made: datetime, reason: str | None) -> Path:
    tail = f".{reason}.sqlite" if reason else ".sqlite"
    stamp = made.strftime(_STAMP)
    path, number = folder(workspace) / f"{workspace.stem}.{stamp}{tail}", 1
    while path.exists():  # two in one second: never replace one
        number += 1
        path = folder(workspace) / f"{workspace.stem}.{stamp}-{number}{tail}"
    return path


def _connect(path: Path, timeout: float = 30, check_same_thread: bool = True) -> sqlite3.Connection:
    """A connection to the SQLite file at ``path``, which must be there (never a new one)."""
    uri = f"{path.absolute().as_uri()}?mode=rw"
    return sqlite3.connect(uri, timeout, check_same_thread=check_same_thread, uri=True)


def is_damage(error: BaseException) -> bool:
    """Whether ``error`` (or the driver's error inside it) is SQLite finding broken pages."""
    error = getattr(error, "orig", None) or error
    code = getattr(error, "sqlite_errorcode", None)
    return isinstance(error, sqlite3.DatabaseError) and code == sqlite3.SQLITE_CORRUPT


def check(path: Path, seconds: float | None = None) -> bool | None:
    """Run SQLite's quick check on the file: True when it is sound, False when pages are
    broken, None when it took longer than ``seconds`` and was stopped."""
    with closing(_connect(path, check_same_thread=False)) as conn:
        done = threading.Event()
        stopper = threading.Thread(target=_interrupt, args=(conn, seconds, done))
        if seconds is not None:
            stopper.start()
        try:
            result = conn.execute("PRAGMA quick_check").fetchall()
        except sqlite3.DatabaseError as error:
            if is_damage(error):
                return False
            if getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_INTERRUPT:
                return None
            raise
        finally:
            done.set()
            if stopper.is_alive():
                stopper.join()
    return result == [("ok",)]


def _interrupt(conn: sqlite3.Connection, seconds: float, done: threading.Event) -> None:
    """Interrupt what ``conn`` runs once ``seconds`` have passed, until it is ``done``.
    (A progress handler is not called while the check walks the b-trees, where it spends
    most of its time; and an interrupt before the check starts would be lost.)"""
    if done.wait(seconds):
        return
    while not done.is_set():
        conn.interrupt()
        done.wait(0.01)


def newest_good(workspace: Path) -> Backup | None:
    """The newest backup of ``workspace`` that passes the check now."""
    return next((b for b in backups(workspace) if _sound(b.path)), None)


def _sound(path: Path) -> bool:
    with suppress(sqlite3.DatabaseError):
        return check(path) is True
    return False


def damaged(workspace: Path) -> WorkspaceDamaged:
    """The error that says ``workspace`` is damaged and names the backup to restore."""
    backup = newest_good(workspace)
    return WorkspaceDamaged(str(workspace), str(backup.path) if backup else None)


def require_sound(workspace: Path, seconds: float | None = None) -> None:
    """Raise WorkspaceDamaged if the check finds broken pages in ``workspace``."""
    if check(workspace, seconds) is False:
        raise damaged(workspace)


def make_backup(workspace: Path, reason: str | None = None, now: datetime | None = None) -> Backup:
    """Back ``workspace`` up with SQLite's backup API and check the copy; a rotating
    backup (no ``reason``) then thins out the older ones."""
    made = now or datetime.now(UTC)
    target = _new_path(workspace, made, reason)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    try:
        with (
            closing(_connect(workspace)) as src,
            closing(sqlite3.connect(part)) as dst,
        ):
            src.backup(dst)  # in one step: a consistent copy while others write
            dst.execute("PRAGMA journal_mode=DELETE")  # the copy is one file
        if check(part) is not True:
            raise damaged(workspace)
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
    if reason is None:
        _rotate(workspace, made)
    return Backup(target, made, reason)


def _rotate(workspace: Path, now: datetime) -> None:
    kept = why_kept(workspace, now)
    for backup in backups(workspace):
        if backup.reason is None and backup.path not in kept:
            backup.path.unlink(missing_ok=True)


def backup_if_due(workspace: Path, now: datetime | None = None) -> Backup | None:
    """Make a rotating backup if the newest is a day old; otherwise check the workspace
    (the backup's check covers it): WorkspaceDamaged either way when pages are broken."""
    now = now or datetime.now(UTC)
    if backup_due((b.made for b in backups(workspace) if b.reason is None), now):
        return make_backup(workspace, now=now)
    require_sound(workspace)
    return None


def _require_closed(workspace: Path) -> None:
    """Refuse to replace a workspace file that Accord (or another program) has open: what
    it wrote next would go to the file kept aside."""
    if not workspace.exists():
        return
    try:
        with closing(_connect(workspace, timeout=1)) as conn:
            conn.isolation_level = None  # the transaction below is ours
            conn.execute("PRAGMA locking_mode=EXCLUSIVE")  # in WAL mode: no other connection
            conn.execute("BEGIN EXCLUSIVE")
            conn.execute("ROLLBACK")
    except sqlite3.DatabaseError as error:
        if getattr(error, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            raise BackupError(
                f"The workspace {workspace} is open in Accord or another program: close it "
                "there, then restore."
            ) from None
        # A file too damaged to lock is replaced all the same.


def _move(pairs: list[tuple[Path, Path]]) -> None:
    """Rename each file to its new name: all of them, or none when one fails."""
    done: list[tuple[Path, Path]] = []
    try:
        for source, target in pairs:
            os.replace(source, target)
            done.append((source, target))
    except OSError:
        for source, target in reversed(done):
            os.replace(target, source)
        raise


def restore(workspace: Path, backup: Path, now: datetime | None = None) -> Path | None:
    """Put ``backup`` in the place of ``workspace``, whole or not at all. The workspace
    file as it was (with its write-ahead log, which holds its latest commits) is kept
    aside first, among the backups; returns where, or None when there was no workspace
    file. Accord must not have the workspace open meanwhile."""
    if not backup.is_file():
        raise BackupError(f"There is no backup at {backup}: `accord backups` lists them.")
    if not _sound(backup):
        raise BackupError(
            f"The backup {backup} is damaged too: restore an older one (`accord backups`)."
        )
    _require_closed(workspace)
    incoming = workspace.with_name(workspace.name + ".restoring")
    wal = workspace.with_name(workspace.name + "-wal")
    aside = None
    moves = []
    if workspace.exists():
        aside = _new_path(workspace, now or datetime.now(UTC), BEFORE_RESTORE)
        moves.append((workspace, aside))
        if wal.exists():
            moves.append((wal, aside.with_name(aside.name + "-wal")))
    moves.append((incoming, workspace))
    try:
        folder(workspace).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(backup, incoming)
        with open(incoming, "rb+") as file:
            os.fsync(file.fileno())
        _move(moves)
    except OSError as error:
        raise BackupError(
            f"Could not restore {backup} to {workspace} ({error.strerror or error}); "
            "the workspace is as it was."
        ) from None
    finally:
        incoming.unlink(missing_ok=True)
    workspace.with_name(workspace.name + "-shm").unlink(missing_ok=True)
    return aside
