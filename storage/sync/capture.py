"""Capture: database triggers note every change of a synced table in ``sync_outbox``.

Generated from the SQLAlchemy metadata (storage.sync.tables.SYNCED), on SQLite and on
PostgreSQL: an UPDATE notes each synced column whose value changed, an INSERT notes the new
row (``*``), a DELETE notes the row's deletion (``deleted_at``). Triggers catch every path
that writes (the ORM, Core statements, imports, undo) without any change to it. They are
installed only on a database that takes part in sync (:func:`enable_sync`), so a workspace
that never syncs pays nothing, and installed again after each migration
(:func:`install_triggers`, from storage.workspace.upgrade).

The outbox holds which field changed, when and by whom, not the value: sealing reads the
row as it is then (storage.sync.engine.seal). Writing what other devices changed must not
be captured again: :func:`applying` puts a row in ``sync_applying`` for the length of the
applying transaction, which the triggers look for; it is deleted before the transaction
commits, so no other writer ever sees it (on PostgreSQL a concurrent edit is captured as
usual).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, delete, insert, inspect, select, text

from domain.sync import DELETED, NEW_ROW, new_device_id
from storage.schema import SyncApplyingRow, SyncDeviceRow, table_of
from storage.sync.tables import SYNCED, Synced

device_table = table_of(SyncDeviceRow)
applying_table = table_of(SyncApplyingRow)
KINDS = ("team", "copy", "peer")
TRIGGER = "accord_sync"

_SQLITE_NOW = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"
_PG_NOW = "(extract(epoch from clock_timestamp()) * 1000)::bigint"
_APPLYING = "EXISTS (SELECT 1 FROM sync_applying)"


def sync_enabled(conn: Connection) -> bool:
    """Whether this database takes part in sync (has its device row)."""
    return conn.execute(select(device_table.c.device)).first() is not None


def enable_sync(
    conn: Connection,
    kind: str,
    *,
    source: str | None = None,
    rep: str | None = None,
    snapshot: bool = False,
) -> str:
    """Make this database take part in sync as a ``team`` database, a ``copy`` or a
    ``peer``: give it a device id (kept if it has one) and install the capture triggers.
    ``snapshot`` also notes every row it holds as new, to be sent on the next sync (a
    peer's first sync through a folder: its workspace was made on its own). Returns the
    device id."""
    if kind not in KINDS:
        raise ValueError(f"a database syncs as {', '.join(KINDS)}, not {kind!r}")
    device = conn.execute(select(device_table.c.device)).scalar()
    if device is None:
        device = new_device_id(secrets.token_hex(6))
        conn.execute(
            insert(device_table).values(
                device=device, kind=kind, source=source, rep=rep, offset_ms=0
            )
        )
    install_triggers(conn)
    if snapshot:
        now = _SQLITE_NOW if conn.dialect.name == "sqlite" else _PG_NOW
        for synced in SYNCED.values():
            record = "id" if conn.dialect.name == "sqlite" else "id::text"
            conn.exec_driver_sql(
                "INSERT INTO sync_outbox (table_name, record, field, at, author) "
                f"SELECT '{synced.name}', {record}, '{NEW_ROW}', {now}, "
                f"{_author(synced, '')} FROM {synced.name}"
            )
    return str(device)


def install_triggers(conn: Connection) -> None:
    """(Re)make the capture triggers of every synced table, as the tables are now."""
    for synced in SYNCED.values():
        for statement in _statements(conn.dialect.name, synced):
            conn.exec_driver_sql(statement)


def drop_triggers(conn: Connection) -> None:
    """Remove every capture trigger (before a migration rebuilds a table, say)."""
    for synced in SYNCED.values():
        if conn.dialect.name == "sqlite":
            for event in ("insert", "update", "delete"):
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {TRIGGER}_{synced.name}_{event}")
        else:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {synced.name}")
            conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {TRIGGER}_{synced.name}()")


@contextmanager
def applying(conn: Connection) -> Iterator[None]:
    """Within the block, the triggers capture nothing: what it writes came from others."""
    conn.execute(insert(applying_table).values(id=1))
    try:
        yield
    finally:
        conn.execute(delete(applying_table))


@contextmanager
def migrating(conn: Connection) -> Iterator[None]:
    """Around a migration: its own writes are no one's edits, so the triggers go, and come
    back afterwards as the migrated tables now are. Nothing on a database that never
    synced (nor on one older than the sync tables)."""
    synced = "sync_device" in _tables(conn) and sync_enabled(conn)
    if synced:
        drop_triggers(conn)
    yield
    if synced:
        install_triggers(conn)


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


def _author(synced: Synced, row: str) -> str:
    """SQL for who made the change, from the row ``row`` (``NEW``, ``OLD`` or none)."""
    prefix = f"{row}." if row else ""
    columns = [f'{prefix}"{name}"' for name in synced.authors]
    return f"COALESCE({', '.join(columns)})" if len(columns) > 1 else columns[0]


def _changed(dialect: str, synced: Synced) -> list[tuple[str, str]]:
    """Each synced column's name and the SQL that tells it changed in an UPDATE."""
    found = []
    for column in synced.columns:
        if dialect == "sqlite":
            test = f'NEW."{column.name}" IS NOT OLD."{column.name}"'
        else:
            # json has no equality: its text is compared.
            test = f'NEW."{column.name}"::text IS DISTINCT FROM OLD."{column.name}"::text'
        found.append((column.name, test))
    return found


def _statements(dialect: str, synced: Synced) -> list[str]:
    name = synced.name
    columns = "INSERT INTO sync_outbox (table_name, record, field, at, author)"
    if dialect == "sqlite":
        now = _SQLITE_NOW
        changed = " UNION ALL ".join(
            f"SELECT '{field}' AS field WHERE {test}" for field, test in _changed(dialect, synced)
        )
        when = f"WHEN NOT {_APPLYING}"
        return [
            f"DROP TRIGGER IF EXISTS {TRIGGER}_{name}_insert",
            f"DROP TRIGGER IF EXISTS {TRIGGER}_{name}_update",
            f"DROP TRIGGER IF EXISTS {TRIGGER}_{name}_delete",
            f"CREATE TRIGGER {TRIGGER}_{name}_insert AFTER INSERT ON {name} {when} BEGIN "
            f"{columns} VALUES ('{name}', NEW.id, '{NEW_ROW}', {now}, "
            f"{_author(synced, 'NEW')}); END",
            f"CREATE TRIGGER {TRIGGER}_{name}_update AFTER UPDATE ON {name} {when} BEGIN "
            f"{columns} SELECT '{name}', NEW.id, changed.field, {now}, "
            f"{_author(synced, 'NEW')} FROM ({changed}) AS changed; END",
            f"CREATE TRIGGER {TRIGGER}_{name}_delete AFTER DELETE ON {name} {when} BEGIN "
            f"{columns} VALUES ('{name}', OLD.id, '{DELETED}', {now}, "
            f"{_author(synced, 'OLD')}); END",
        ]
    cases = ", ".join(
        f"CASE WHEN {test} THEN '{field}' END" for field, test in _changed(dialect, synced)
    )
    function = f"{TRIGGER}_{name}"
    return [
        f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE now_ms bigint := {_PG_NOW};
BEGIN
  IF {_APPLYING} THEN RETURN NULL; END IF;
  IF TG_OP = 'INSERT' THEN
    {columns} VALUES ('{name}', NEW.id::text, '{NEW_ROW}', now_ms, {_author(synced, "NEW")});
  ELSIF TG_OP = 'DELETE' THEN
    {columns} VALUES ('{name}', OLD.id::text, '{DELETED}', now_ms, {_author(synced, "OLD")});
  ELSE
    {columns} SELECT '{name}', NEW.id::text, changed.field, now_ms, {_author(synced, "NEW")}
      FROM unnest(ARRAY[{cases}]) AS changed(field) WHERE changed.field IS NOT NULL;
  END IF;
  RETURN NULL;
END $$""",
        f"DROP TRIGGER IF EXISTS {TRIGGER} ON {name}",
        f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON {name} "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()",
    ]


def outbox_size(conn: Connection) -> int:
    """How many captured changes wait to be sealed."""
    return int(conn.execute(text("SELECT count(*) FROM sync_outbox")).scalar_one())
