"""Shared fixtures. Storage tests take ``workspace``, which runs each test on SQLite and,
when ``ACCORD_TEST_PG_URL`` names a server, on PostgreSQL too. Without a server the
PostgreSQL runs are skipped with a reason shown in the summary; with
``ACCORD_REQUIRE_PG=1`` (set by .ci/run) a missing server fails instead."""

from __future__ import annotations

import gc
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from sqlalchemy import event

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from domain.users import Role, User, add_user
from storage.importing import importer
from storage.users import SqlUserStore, sign_in
from storage.workspace import Workspace, open_workspace
from ui.workers import collect_garbage

PG_URL = os.environ.get("ACCORD_TEST_PG_URL")


@pytest.fixture(autouse=True, scope="session")
def _garbage_on_the_test_thread() -> Iterator[None]:
    """As the app does (ui.workers.collect_on_gui_thread): Python's collector runs on the
    thread of the tests, between them, never in a worker thread that would delete a widget."""
    gc.disable()
    yield
    gc.enable()


@pytest.fixture(autouse=True)
def _collected() -> Iterator[None]:
    yield
    collect_garbage()


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Keep QSettings and the data folder out of the developer's home."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    # Qt reads the settings folder once per process: point it at this test's home.
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope,
                      str(home / ".config"))  # fmt: skip


@pytest.fixture
def india_clock() -> Iterator[timedelta]:
    """This computer's clock set to India's time, UTC+5:30 all year; gives that offset."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Kolkata"
    time.tzset()
    yield timedelta(hours=5, minutes=30)
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def _pg_database() -> Iterator[str]:
    if not PG_URL:
        if os.environ.get("ACCORD_REQUIRE_PG") == "1":
            pytest.fail("ACCORD_REQUIRE_PG=1 but ACCORD_TEST_PG_URL is not set")
        pytest.skip("PostgreSQL not available: set ACCORD_TEST_PG_URL to run this on PostgreSQL")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"accord_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield str(tmp_path / "workspace.sqlite")
    else:
        yield from _pg_database()


@pytest.fixture
def workspace(db_url: str) -> Iterator[Workspace]:
    ws = open_workspace(db_url)
    yield ws
    ws.close()


@pytest.fixture
def sqlite_workspace(tmp_path: Path) -> Iterator[Workspace]:
    """For tests that need a workspace but say nothing about the database behind it."""
    ws = open_workspace(tmp_path / "workspace.sqlite")
    yield ws
    ws.close()


def _people(ws: Workspace) -> dict[Role, User]:
    owner = sign_in(ws, "Olivia Owner")
    return {
        Role.OWNER: owner,
        Role.MARKETING: add_user(SqlUserStore(ws), owner, "Mark Marketer", Role.MARKETING),
        Role.REP: add_user(SqlUserStore(ws), owner, "Rita Rep", Role.REP),
    }


@pytest.fixture
def people(workspace: Workspace) -> dict[Role, User]:
    return _people(workspace)


@pytest.fixture
def sqlite_people(sqlite_workspace: Workspace) -> dict[Role, User]:
    return _people(sqlite_workspace)


def statements_of(workspaces: Iterable[Workspace], work: Callable[[], object]) -> list[str]:
    """The SQL ``work`` sends to the ``workspaces``' databases, a statement run for many rows
    at once (executemany) counted once."""
    sent: list[str] = []

    def note(_conn, _cursor, statement, _parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        sent.append(statement)

    engines = [ws.engine for ws in workspaces]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", note)
    try:
        work()
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", note)
    return sent


@pytest.fixture(params=["small file", "big file", "big file read apart"])
def file_size(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """An import's three ways through a file: a small one stored through the workspace's
    indexes; a big one (bigger than what the workspace holds, on SQLite) with indexes
    dropped while it loads and built again at the end (accounts' duplicates then found
    through keys read up front); and a big one read and parsed by a process of its own."""
    if request.param.startswith("big file"):
        monkeypatch.setattr(importer, "REBUILD_AT_ROWS", 0)
        monkeypatch.setattr(importer, "_BYTES_PER_ROW", 1)
    monkeypatch.setattr(
        importer, "OWN_READER_AT_ROWS", 0 if request.param == "big file read apart" else 10**12
    )
    return str(request.param)
