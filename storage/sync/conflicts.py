"""Conflicts and the changes kept aside: listed for a person, and settled.

A conflict is a field with more than one head (changed on copies that had not met), or a
row deleted on one copy and edited on another where the deletion did not see the edit.
Every copy shows the same winner meanwhile; settling writes a change that replaces every
head, so the conflict is settled on each copy that syncs it.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import BigInteger, Boolean, Connection, Integer, func, insert, select, update

from domain.errors import NotFound, ValidationError
from domain.sync import (
    DELETED,
    SECTION,
    Conflict,
    Head,
    Record,
    Refused,
    Stamp,
    conflict_id,
    settle,
)
from domain.users import User
from storage.schema import AccountRow, SyncHeadRow, SyncOutboxRow, table_of
from storage.sync.capture import applying
from storage.sync.engine import NotSyncing, device_of, refused, replayed, seal
from storage.sync.tables import SYNCED, Synced, column_values
from storage.workspace import Workspace

accounts = table_of(AccountRow)
outbox = table_of(SyncOutboxRow)
head_rows = table_of(SyncHeadRow)

#: What a record is, said to a person before its name.
KINDS = {
    "accounts": "Account",
    "contacts": "Contact",
    "targets": "Target list entry of",
    "dossiers": "Dossier of",
    "dossier_ratings": "Rating of a dossier of",
    "dossier_conflicts": "Dossier section of",
    "users": "User",
    "interactions": "Interaction with",
    "log_exceptions": "Exception for",
}


def list_conflicts(conn: Connection) -> list[Conflict]:
    """Every open conflict, the rows' names as a person knows them, newest first."""
    candidates = conn.execute(
        select(head_rows.c.table_name, head_rows.c.record)
        .group_by(head_rows.c.table_name, head_rows.c.record, head_rows.c.field)
        .having(func.count() > 1)
        .union(
            select(head_rows.c.table_name, head_rows.c.record).where(head_rows.c.field == DELETED)
        )
    ).all()
    records = replayed(conn, sorted({(t, r) for t, r in candidates}))
    found = [c for (t, r), row in records.items() for c in _conflicts(conn, t, r, row)]
    return sorted(found, key=lambda c: c.winner.stamp, reverse=True)


def _conflicts(conn: Connection, table: str, record: str, row: Record) -> list[Conflict]:
    what = _what(conn, table, row.values())
    found = []
    for name, register in sorted(row.fields.items()):
        if register.disputed:
            winner, *others = [Head(w.stamp, name, w.value, w.author) for w in register.heads]
            found.append(
                Conflict(
                    conflict_id(table, record, name),
                    table,
                    record,
                    what,
                    name,
                    winner,
                    tuple(others),
                )
            )
    deletion = row.fields.get(DELETED)
    gone = None if deletion is None else deletion.winner
    if gone is not None and gone.value is not None:
        unseen = [
            Head(w.stamp, name, w.value, w.author)
            for name, register in row.fields.items()
            if name != DELETED
            for w in register.heads
            if w.stamp not in gone.replaces
        ]
        if unseen:
            winner = Head(gone.stamp, DELETED, gone.value, gone.author)
            found.append(
                Conflict(
                    conflict_id(table, record, DELETED),
                    table,
                    record,
                    what,
                    DELETED,
                    winner,
                    tuple(sorted(unseen, key=lambda h: h.stamp, reverse=True)),
                )
            )
    return found


def _what(conn: Connection, table: str, values: Mapping[str, Any]) -> str:
    """The record as a person knows it: ``Account Acme``, ``Contact Dana Boss (Acme)``."""
    account = None
    if values.get("account_id"):
        account = conn.execute(
            select(accounts.c.name).where(accounts.c.id == uuid.UUID(values["account_id"]))
        ).scalar()
    name = values.get("name") or values.get("rep") or values.get("rater")
    kind = KINDS.get(table, table.replace("_", " ").capitalize())
    if table == "contacts" and account:
        return f"{kind} {name} ({account})"
    if name and table != "log_exceptions":
        return f"{kind} {name}"
    return f"{kind} {account}" if account else kind


def list_refused(conn: Connection) -> list[Refused]:
    """The changes kept aside because their author's role did not allow them, newest first."""
    rows = conn.execute(select(refused).order_by(refused.c.stamp.desc()))
    return [
        Refused(
            Stamp.parse(r.stamp),
            r.table_name,
            r.record,
            r.field,
            json.loads(r.value),
            r.author,
            r.reason,
        )
        for r in rows
    ]


class SqlConflicts:
    """The conflicts of one database, in one write transaction."""

    def __init__(self, conn: Connection, now_ms: int) -> None:
        found = device_of(conn, lock=True)
        if found is None:
            raise NotSyncing()
        self.conn = conn
        self.device = found.device
        self.now_ms = now_ms
        seal(conn, now_ms)  # what this copy changed so far has its heads

    def conflict(self, conflict_id: str) -> Conflict:
        for conflict in list_conflicts(self.conn):
            if conflict.id == conflict_id:
                return conflict
        raise NotFound(
            f"There is no conflict {conflict_id}: it may have been settled meanwhile, "
            "here or on a copy that synced since."
        )

    def settle(self, conflict: Conflict, field: str, value: Any, user: User) -> None:
        synced = SYNCED[conflict.table]
        with applying(self.conn):
            _write_field(self.conn, synced, conflict.record, field, value)
        self.conn.execute(
            insert(outbox).values(
                table_name=conflict.table,
                record=conflict.record,
                field=field,
                at=self.now_ms,
                author=user.name,
            )
        )
        seal(self.conn, self.now_ms)


def _write_field(conn: Connection, synced: Synced, record: str, field: str, value: Any) -> None:
    """Write one field's value into its row, as typed for its column."""
    table = synced.table
    key = synced.key(record)
    if field == DELETED and not synced.tombstones:
        if value is not None:
            conn.execute(table.delete().where(table.c.id == key))
        return
    if field.startswith(SECTION):
        texts = dict(conn.execute(select(table.c.texts).where(table.c.id == key)).scalar() or {})
        section = field[len(SECTION) :]
        if value:
            texts[section] = str(value)
        else:
            texts.pop(section, None)
        conn.execute(update(table).where(table.c.id == key).values(texts=texts))
        return
    column = table.c[field]
    typed = _typed(column.type, value)
    values = column_values(synced, {field: typed})
    conn.execute(update(table).where(table.c.id == key).values(values))


def _typed(kind: Any, value: Any) -> Any:
    """A value typed by a person as the column holds it (as JSON carries it)."""
    if value is None or not isinstance(value, str):
        return value
    if isinstance(kind, Boolean):
        return value.strip().lower() in ("yes", "true", "1")
    if isinstance(kind, Integer | BigInteger):
        try:
            return int(value.replace(",", "").strip())
        except ValueError:
            raise ValidationError({"value": f"'{value}' is not a whole number"}) from None
    return value


def settle_conflict(
    workspace: Workspace, user: User, conflict_id: str, keep: Any, now_ms: int | None = None
) -> Conflict:
    """Settle a conflict on ``workspace`` (domain.sync.settle), in one transaction."""
    with workspace.write() as conn:
        store = SqlConflicts(conn, now_ms if now_ms is not None else int(time.time() * 1000))
        return settle(store, user, conflict_id, keep)
