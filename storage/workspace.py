"""Opening a workspace: a SQLite file (the default) or a PostgreSQL database.

Opening brings the schema up to date with Alembic, backing a SQLite file up first, and
refuses a database written by a newer Accord.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from platformdirs import user_data_path
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from domain.errors import AccordError, WorkspaceBusy
from storage import backups, team
from storage.sync import capture

MIGRATIONS = Path(__file__).with_name("migrations")
READ_ONLY = "accord_read_only"
WROTE = "accord_wrote"
#: How a team's PostgreSQL database is written as a URL.
SERVER_URL_FORM = "postgresql+psycopg://USER:PASSWORD@HOST/DATABASE"
#: Seconds a write waits for another one to finish before the workspace is said to be busy
#: (SQLite's busy timeout, PostgreSQL's lock timeout). A single edit holds the lock for
#: milliseconds, so this outlasts a queue of them; a big import or applying an ICP holds it
#: for seconds to minutes, which a user is better told than left in a frozen window.
WRITE_WAIT = 5.0
#: PostgreSQL's SQLSTATE for a lock not granted within the lock timeout.
LOCK_NOT_AVAILABLE = "55P03"
#: The KiB of pages a SQLite connection keeps in memory (64 MiB: big imports and sorts stay
#: in memory); the readers of ``Workspace.read_together`` share as much.
CACHE_KIB = 65_536
#: How many times ``Workspace.read_together`` begins its SQLite readers again when a write
#: committed while they began, before it reads on one connection alone.
SNAPSHOT_TRIES = 5


class WorkspaceError(AccordError):
    """The workspace cannot be opened as it is."""


def data_dir() -> Path:
    return user_data_path("Accord", appauthor=False)


def default_path() -> Path:
    return data_dir() / "workspace.sqlite"


def demo_path() -> Path:
    return data_dir() / "demo.sqlite"


def to_url(db: str | Path | None) -> str:
    """``--db`` takes a file path or a SQLAlchemy URL; nothing means the default file."""
    if db is None:
        return f"sqlite:///{default_path()}"
    text = str(db)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def sqlite_file(db: str | Path | None) -> Path | None:
    """The SQLite file that ``db`` names, or None for a server or an in-memory database."""
    parsed = make_url(to_url(db))
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


@dataclass
class Workspace:
    """One open database: its engine and how to talk to it."""

    url: str
    engine: Engine
    checkpointer: Checkpointer | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def label(self) -> str:
        """What to show a user: the file path, or the server URL without password."""
        url = make_url(self.url)
        if self.is_sqlite:
            return str(url.database)
        return url.render_as_string(hide_password=True)

    @property
    def name(self) -> str:
        """What may leave this computer, in a PDF's footer: the file's name without its
        folder or extension, or the database's name; never a path, host, user or password."""
        database = make_url(self.url).database or ""
        return Path(database).stem if self.is_sqlite else database

    def session(self) -> Session:
        """A session for one write: on SQLite it takes the write lock when it begins."""
        return self._sessions()

    def read_session(self) -> Session:
        """A session that only shows data and never takes the write lock."""
        return self._read_sessions()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for queries that never takes the write lock."""
        with self.engine.connect().execution_options(**{READ_ONLY: True}) as conn:
            yield conn

    @contextmanager
    def read_together(self, count: int) -> Iterator[list[Connection]]:
        """Up to ``count`` connections that never take the write lock and all read the same
        snapshot of the workspace, for reads side by side in threads (a connection one
        thread at a time): a write committed while they are open shows in none of them.

        On PostgreSQL the first exports its snapshot and the others take it. On SQLite each
        begins its read transaction in turn, and a write committed meanwhile would give
        them different snapshots: the last one's ``data_version``, which moves when another
        connection commits, is read before the first begins and again as the last begins;
        when it moved they begin again, and after ``SNAPSHOT_TRIES`` the read goes on one
        connection alone."""
        with ExitStack() as stack:
            readers = [stack.enter_context(self.read()) for _ in range(max(count, 1))]
            if len(readers) > 1 and not self.is_sqlite:
                _share_snapshot(readers)
            elif len(readers) > 1 and not _same_snapshot(readers):
                readers = readers[:1]
            if len(readers) > 1 and self.is_sqlite:
                stack.enter_context(_cache_shared(readers))
            yield readers

    @contextmanager
    def write(self, references_checked: bool = True) -> Iterator[Connection]:
        """One write transaction (``BEGIN IMMEDIATE`` on SQLite): committed or rolled back whole.

        ``references_checked=False``: SQLite checks no foreign key meanwhile, for a bulk
        write whose every reference it read in the same transaction (an engagement import's
        rows to the accounts and contacts matched, and its batch): a check is a lookup in
        the referenced table's index, in random order, which took an import of a million
        rows more than it took to write them. SQLite turns the checks on and off only
        outside a transaction."""
        if references_checked or not self.is_sqlite:
            with self.engine.begin() as conn:
                yield conn
            return
        with self.engine.connect() as conn:
            driver = conn.connection.dbapi_connection
            assert driver is not None
            driver.execute("PRAGMA foreign_keys=OFF")
            try:
                with conn.begin():
                    yield conn
            finally:
                driver.execute("PRAGMA foreign_keys=ON")

    def close(self) -> None:
        self._closed()

    def __post_init__(self) -> None:
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        reading = self.engine.execution_options(**{READ_ONLY: True})
        self._read_sessions = sessionmaker(reading, expire_on_commit=False)
        # Also when Accord exits, or when the workspace is dropped without being closed.
        self._closed = weakref.finalize(self, _close, self.engine, self.checkpointer)


def _data_version(conn: Connection) -> int:
    """SQLite's count of the commits other connections made, as of ``conn``'s snapshot
    (reading it begins ``conn``'s read transaction)."""
    return int(conn.exec_driver_sql("PRAGMA data_version").scalar_one())


def _same_snapshot(readers: list[Connection]) -> bool:
    """Begin the SQLite ``readers``' read transactions so that they hold one snapshot;
    False when writes kept committing in between."""
    last = readers[-1]
    for _ in range(SNAPSHOT_TRIES):
        before = _data_version(last)
        last.rollback()
        versions = [_data_version(conn) for conn in readers]
        if versions[-1] == before:  # no commit since before the first began
            return True
        for conn in readers:
            conn.rollback()
    return False


@contextmanager
def _cache_shared(readers: list[Connection]) -> Iterator[None]:
    """The SQLite ``readers`` keep ``CACHE_KIB`` of pages between them, not each, while
    they read together: memory does not grow with the cores."""
    share = CACHE_KIB // len(readers)
    for conn in readers:
        conn.exec_driver_sql(f"PRAGMA cache_size=-{share}")
    try:
        yield
    finally:
        for conn in readers:
            conn.exec_driver_sql(f"PRAGMA cache_size=-{CACHE_KIB}")


def _share_snapshot(readers: list[Connection]) -> None:
    """Begin the PostgreSQL ``readers``' transactions on the first one's snapshot."""
    first, *others = readers
    first.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    snapshot = first.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
    quoted = "'" + snapshot.replace("'", "''") + "'"  # a name the server gave, as a literal
    for conn in others:
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        conn.exec_driver_sql(f"SET TRANSACTION SNAPSHOT {quoted}")


def interrupt(conn: Connection) -> None:
    """Stop the statement ``conn`` runs in another thread now (it raises there), as a
    cancel does; nothing when it runs none."""
    driver = conn.connection.driver_connection
    if isinstance(driver, sqlite3.Connection):
        driver.interrupt()
    elif driver is not None:
        driver.cancel()  # psycopg: the server stops it


def _close(engine: Engine, checkpointer: Checkpointer | None) -> None:
    """Let the checkpointer finish, then close every connection: the last one to close
    copies what is left in the write-ahead log into the file and removes the log."""
    if checkpointer is not None:
        checkpointer.close()
    engine.dispose()


class Checkpointer:
    """Copies what writes committed to a SQLite file's write-ahead log into the file
    itself, in a thread of its own after each write. SQLite would otherwise do it inside
    the commit of whichever write crosses its threshold, and a user waits for that: most of
    a second after scoring a million accounts. Readers and writers carry on meanwhile."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._changed = threading.Condition()
        self._writes = 0  # writes committed so far
        self._copied = 0  # of which the file holds
        self._stopping = False
        self._thread: threading.Thread | None = None

    def wrote(self) -> None:
        with self._changed:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="checkpoint", daemon=True)
                self._thread.start()
            self._writes += 1
            self._changed.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the file holds every write committed so far; False on timeout."""
        with self._changed:
            writes = self._writes
            return self._changed.wait_for(lambda: self._copied >= writes, timeout)

    def close(self) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        if self._thread not in (None, threading.current_thread()):
            self._thread.join()

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._stopping or self._copied < self._writes)
                if self._stopping:
                    return
                writes = self._writes
            # A connection of its own, closed after each copy so that closing the workspace
            # is the last close. On an error the next write tries again.
            with suppress(sqlite3.Error), closing(sqlite3.connect(self.path, timeout=30)) as conn:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            with self._changed:
                self._copied = writes
                self._changed.notify_all()


#: DROP COLUMN (migration 0005) arrived in SQLite 3.35 (2021).
SQLITE_AT_LEAST = (3, 35)


def _sqlite_engine(url: str, checkpointer: Checkpointer | None) -> Engine:
    if sqlite3.sqlite_version_info < SQLITE_AT_LEAST:
        raise WorkspaceError(
            f"This Python uses SQLite {sqlite3.sqlite_version}; Accord needs "
            f"{'.'.join(map(str, SQLITE_AT_LEAST))} or later. Install a newer Python."
        )
    # Connections move between the GUI thread and workers through the pool, one user at a time.
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={round(WRITE_WAIT * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        if checkpointer is not None:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    if checkpointer is not None:

        @event.listens_for(engine, "commit")
        def _on_commit(conn: Connection) -> None:
            conn.info[WROTE] = True

        @event.listens_for(engine, "checkin")
        def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
            # Back in the pool, so the commit is done.
            if record.info.pop(WROTE, False):
                checkpointer.wrote()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the lock up front, so two writers never deadlock half-way.
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    event.listen(engine, "handle_error", _busy)
    return engine


def _lock_timeout(dbapi_connection: Any, _record: Any) -> None:
    """A PostgreSQL connection's writes wait WRITE_WAIT for a row or table lock."""
    dbapi_connection.execute(f"SET lock_timeout = {round(WRITE_WAIT * 1000)}")
    dbapi_connection.commit()


def _busy(context: ExceptionContext) -> None:
    """A write that waited WRITE_WAIT for the lock in vain is said as WorkspaceBusy."""
    error = context.original_exception
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None and code & 0xFF == sqlite3.SQLITE_BUSY:
        raise WorkspaceBusy() from error
    if getattr(error, "sqlstate", None) == LOCK_NOT_AVAILABLE:
        raise WorkspaceBusy() from error


def open_workspace(
    db: str | Path | None = None, *, migrate: bool = True, create: bool = True
) -> Workspace:
    """Open the workspace at ``db`` and bring its schema up to date; a SQLite file that is
    not there yet is created, unless ``create`` is off."""
    url = to_url(db)
    parsed = make_url(url)
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise WorkspaceError(
            f"A workspace is a SQLite file or a PostgreSQL database ({SERVER_URL_FORM}), "
            f"not '{parsed.drivername}'."
        )
    checkpointer = None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            if not create and not Path(parsed.database).exists():
                raise WorkspaceError(
                    f"There is no workspace at {parsed.database}: check --db. "
                    "(Importing a file or building a demo makes a new one.)"
                )
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            checkpointer = Checkpointer(parsed.database)
        engine = _sqlite_engine(url, checkpointer)
    else:
        # A server that does not answer is said after 10 s, not after the system's TCP
        # timeout of minutes (a URL may set its own connect_timeout).
        waits = {} if "connect_timeout" in parsed.query else {"connect_timeout": 10}
        engine = create_engine(url, pool_pre_ping=True, connect_args=waits)
        event.listen(engine, "connect", _lock_timeout)
        event.listen(engine, "handle_error", _busy)
    workspace = Workspace(url, engine, checkpointer)
    try:
        _reachable(workspace)
        if checkpointer is not None:
            backups.require_sound(Path(checkpointer.path), backups.OPEN_CHECK_SECONDS)
        if migrate:
            upgrade(workspace)
    except DBAPIError as error:
        workspace.close()
        if not team.refused(error):
            raise
        reason = " ".join(str(error.orig).split())
        raise WorkspaceError(
            f"Cannot open the workspace {workspace.label}: the server refused your login "
            f"({reason}). Ask the workspace's owner to add you, or to open it first after "
            "an update of Accord."
        ) from None
    except Exception:
        workspace.close()
        raise
    return workspace


def _reachable(workspace: Workspace) -> None:
    """Connect once, so that a wrong path, a file that is no workspace, a server that is
    down or refuses the login is said in a sentence rather than a traceback."""
    try:
        with workspace.read() as conn:
            conn.exec_driver_sql("SELECT 1" if not workspace.is_sqlite else
                                 "SELECT count(*) FROM sqlite_master")  # fmt: skip
    except DBAPIError as error:
        if workspace.is_sqlite and backups.is_damage(error):
            raise backups.damaged(Path(workspace.label)) from None
        raise WorkspaceError(
            f"Cannot open the workspace {workspace.label}: {_reason(error)}"
        ) from None


def _reason(error: Exception) -> str:
    """What went wrong, on one line: the driver's words when there are some."""
    return " ".join(str(getattr(error, "orig", None) or error).split())


def _alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def schema_revision(workspace: Workspace) -> str | None:
    with workspace.read() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def upgrade(workspace: Workspace) -> None:
    """Migrate to the newest schema; back a SQLite file up first if it holds data."""
    scripts = ScriptDirectory.from_config(_alembic_config())
    current = schema_revision(workspace)
    head = scripts.get_current_head()
    if current == head:
        return
    backup = None
    if current is not None:
        try:
            scripts.get_revision(current)
        except Exception:
            raise WorkspaceError(
                f"This workspace was written by a newer version of Accord (schema {current}). "
                "Update Accord to open it."
            ) from None
        if workspace.is_sqlite:
            backup = backup_sqlite(workspace, reason=f"before-upgrade-from-{current}")
    try:
        with workspace.engine.begin() as conn, capture.migrating(conn):
            command.upgrade(_alembic_config(conn), "head")
            if not workspace.is_sqlite and team.is_set_up(conn):
                team.set_up(conn)  # the tables a migration made get their grants too
    except Exception as error:  # a migration that fails is said, with where the copy is
        since = f" from schema {current}" if current else ""
        kept = f", with a copy made before the upgrade at {backup}" if backup else ""
        raise WorkspaceError(
            f"Accord could not upgrade the workspace {workspace.label}{since} "
            f"({_reason(error)}). It is left as it was{kept}; the Accord you used before "
            "still opens it."
        ) from error


def backup_sqlite(workspace: Workspace, *, reason: str) -> Path:
    """Back the SQLite file up among its other backups (storage.backups); the copy's path."""
    return backups.make_backup(Path(workspace.label), reason).path
