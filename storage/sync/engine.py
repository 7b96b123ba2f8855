"""The sync engine: stamp what this database changed, read what a peer has not seen, take
in what others changed.

- :func:`seal` turns the outbox's captured changes into stamped changes (``sync_changes``):
  the hybrid logical clock (domain.sync.Clock) stamps each at the time it was made, each
  names the heads of its field it replaced, a new row carries all its fields, a deletion
  replaces the heads of every field of its row (domain.sync.Record.delete).
- :func:`changes_since` reads, device by device through ``(device, stamp)``, every change
  newer than what a peer's version vector says it has seen, within a rep's accounts when
  it is their copy.
- :func:`apply_changes` stores the changes it did not know (a known stamp is skipped, so
  applying twice changes nothing), keeps aside those their author's role does not allow
  (domain.sync.refusal), works the heads of every touched field out again from all its
  changes with the rules of domain.sync (``replay``), and writes each field's winner into
  the tables, unseen by the capture triggers; the caches of the touched accounts are
  brought up to date (storage.sync.derived.refresh_derived).

Each function works in its caller's transaction: a sync cut short leaves nothing half done.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeVar

from alembic.runtime.migration import MigrationContext
from sqlalchemy import CompoundSelect, Connection, bindparam, delete, insert, select, update

from domain.errors import AccordError
from domain.sync import (
    DELETED,
    NEW_ROW,
    SECTION,
    Applied,
    Change,
    ChangeSet,
    Clock,
    Record,
    Stamp,
    refusal,
    replay,
    signs_in,
)
from domain.users import Role
from storage.bulk import bulk_insert
from storage.schema import (
    LogExceptionRow,
    SyncChangeRow,
    SyncHeadRow,
    SyncOutboxRow,
    SyncRefusedRow,
    SyncSeenRow,
    TargetRow,
    UserRow,
    table_of,
)
from storage.sync.capture import applying, device_table
from storage.sync.derived import derived_rows, refresh_derived
from storage.sync.tables import SYNCED, Synced, column_of, column_values, row_fields
from storage.sync.versions import VERSIONED, placeholder, renumber

#: Stamps repeat (a new row's stamp heads each of its fields): each text is parsed once.
parsed = lru_cache(maxsize=1 << 16)(Stamp.parse)
changes = table_of(SyncChangeRow)
heads = table_of(SyncHeadRow)
seen = table_of(SyncSeenRow)
refused = table_of(SyncRefusedRow)
outbox = table_of(SyncOutboxRow)
users = table_of(UserRow)
targets = table_of(TargetRow)
exceptions = table_of(LogExceptionRow)
#: Ids per IN (…): well under SQLite's and PostgreSQL's limits on bound parameters.
CHUNK = 500
UNKNOWN_AUTHOR = "someone"
T = TypeVar("T")


class NotSyncing(AccordError):
    """The workspace has not taken part in sync yet."""

    def __init__(self) -> None:
        super().__init__(
            "This workspace does not sync yet: take a copy of a team workspace, or sync it "
            "through a folder, first."
        )


@dataclass
class Device:
    """This database as a device that syncs (its ``sync_device`` row)."""

    device: str
    kind: str
    source: str | None
    rep: str | None
    clock: Clock
    last_synced_at: datetime | None


def device_of(conn: Connection, *, lock: bool = False) -> Device | None:
    """This database's device, None when it does not sync; ``lock`` holds its row until
    the transaction ends, so that two syncs of a team database stamp and merge one after
    the other."""
    query = select(device_table)
    if lock and conn.dialect.name != "sqlite":  # SQLite's writers already take turns
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        return None
    last = Stamp.parse(row.last) if row.last else None
    clock = Clock(row.device, last, row.offset_ms)
    return Device(row.device, row.kind, row.source, row.rep, clock, row.last_synced_at)


def _syncing(conn: Connection) -> Device:
    device = device_of(conn, lock=True)
    if device is None:
        raise NotSyncing()
    return device


def mark_synced(conn: Connection, at: datetime, offset_ms: int | None = None) -> None:
    """Note that this database synced at ``at`` (the window says when it last synced) and,
    when a team database's clock told it, by how much to correct its own clock."""
    values: dict[str, Any] = {"last_synced_at": at}
    if offset_ms is not None:
        values["offset_ms"] = offset_ms
    conn.execute(update(device_table).values(values))


def _save_clock(conn: Connection, clock: Clock) -> None:
    conn.execute(update(device_table).values(last=str(clock.last) if clock.last else None))


def schema_of(conn: Connection) -> str:
    """The schema revision of the database ``conn`` talks to."""
    revision = MigrationContext.configure(conn).get_current_revision()
    assert revision is not None, "a workspace that syncs is migrated"
    return revision


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


# --- Seal ------------------------------------------------------------------------------------


@dataclass
class _Draft:
    at: int
    table: str
    record: str
    field: str
    value: Any
    author: str
    account: str | None


def wall_ms() -> int:
    """This computer's clock now, in milliseconds: the wall time a sync stamps and checks by."""
    return time.time_ns() // 1_000_000


def seal(conn: Connection, now_ms: int) -> int:
    """Stamp every change the outbox holds (in the caller's transaction) and empty it; how
    many changes were stamped. Nothing on a database that does not sync."""
    device = device_of(conn, lock=True)
    if device is None:
        return 0
    captured = conn.execute(
        delete(outbox).returning(
            outbox.c.table_name, outbox.c.record, outbox.c.field, outbox.c.at, outbox.c.author
        )
    ).all()
    if not captured:
        return 0
    # What changed in each row: each field's latest time and author.
    touched: dict[tuple[str, str], dict[str, tuple[int, str]]] = defaultdict(dict)
    for table, raw, field, at, author in captured:
        fields = touched[(table, raw)]
        if field not in fields or at >= fields[field][0]:
            fields[field] = (at, author or UNKNOWN_AUTHOR)
    drafts: list[_Draft] = []
    by_table: dict[str, dict[str, dict[str, tuple[int, str]]]] = defaultdict(dict)
    for (table, raw), fields in touched.items():
        by_table[table][raw] = fields
    records: list[tuple[str, str]] = []
    for table, rows in by_table.items():
        synced = SYNCED[table]
        drafts += _drafts(conn, synced, device.device, rows)
        records += [(table, d.record) for d in drafts if d.table == table]
    open_heads = _read_heads(conn, sorted(set(records)))
    made = _stamp(conn, device.clock, drafts, open_heads)
    _store(conn, made)
    # The heads as stamping left them: a local change replaces what this copy showed.
    _store_heads(conn, {key: open_heads[key] for key in {(c.table, c.record) for c in made}})
    _advance_seen(conn, made)
    _save_clock(conn, device.clock)
    return len(made)


def _drafts(
    conn: Connection, synced: Synced, device: str, rows: Mapping[str, dict[str, tuple[int, str]]]
) -> list[_Draft]:
    """The changes the captured ``rows`` of one table make, not stamped yet; what they need
    besides the rows (their accounts, the sections this copy shows) read once for all."""
    found: list[_Draft] = []
    records = {raw: synced.record(raw) if synced.uuid_key else f"{device}.{raw}" for raw in rows}
    current = {records[raw]: row for raw, row in _current_rows(conn, synced, list(rows)).items()}
    owners = _accounts_of_rows(conn, synced, current)
    # Deleted before it was sealed: only the deletion travels (a row made and deleted in
    # between never existed for anyone else).
    gone = {records[raw] for raw, fields in rows.items() if DELETED in fields and
            NEW_ROW not in fields and records[raw] not in current}  # fmt: skip
    owners.update(_accounts_of_records(conn, synced.name, sorted(gone)))
    edited = [records[raw] for raw, fields in rows.items() if synced.sectioned in fields and
              NEW_ROW not in fields and records[raw] in current]  # fmt: skip
    shown = _shown_sections(conn, synced.name, edited)
    for raw, fields in rows.items():
        record = records[raw]

        def draft(field: str, value: Any, when: tuple[int, str], record: str = record) -> None:
            found.append(
                _Draft(when[0], synced.name, record, field, value, when[1], owners.get(record))
            )

        row = current.get(record)
        if row is None:
            if record in gone:
                when = fields[DELETED]
                draft(DELETED, datetime.fromtimestamp(when[0] / 1000, UTC).isoformat(), when)
            continue
        values = row_fields(synced, row, None if NEW_ROW in fields else fields)
        if NEW_ROW in fields:
            latest = max(fields.values())
            draft(NEW_ROW, values, (fields[NEW_ROW][0], latest[1]))
            continue
        for field, when in fields.items():
            if field == synced.sectioned:
                # Each section that differs from what this copy shows of it travels.
                for name, text in _changed_sections(shown.get(record, {}), values):
                    draft(name, text, when)
            elif field in values or field.startswith(SECTION):
                draft(field, values.get(field), when)
    return found


def _current_rows(conn: Connection, synced: Synced, raws: list[str]) -> dict[str, Any]:
    """The rows as they are now, by the outbox's text of their id."""
    table = synced.table
    found: dict[str, Any] = {}
    keys = {synced.key(r): r for r in raws}
    for chunk in _chunks(list(keys)):
        for row in conn.execute(select(table).where(table.c.id.in_(chunk))).mappings():
            found[keys[row["id"]]] = row
    return found


def _accounts_of_rows(
    conn: Connection, synced: Synced, rows: Mapping[str, Mapping[str, Any]]
) -> dict[str, str | None]:
    """The account each row belongs to, which decides whether a rep's copy receives it (a
    rating's and a dossier conflict's through their dossier)."""
    if synced.name == "accounts":
        return {record: record for record in rows}
    if "account_id" in synced.table.c:
        return {record: str(row["account_id"]) for record, row in rows.items()}
    if "dossier_id" not in synced.table.c:
        return dict.fromkeys(rows)
    dossiers = SYNCED["dossiers"].table
    of_dossier: dict[Any, str] = {}
    for chunk in _chunks(sorted({row["dossier_id"] for row in rows.values()})):
        found = select(dossiers.c.id, dossiers.c.account_id).where(dossiers.c.id.in_(chunk))
        of_dossier.update((key, str(account)) for key, account in conn.execute(found))
    return {record: of_dossier.get(row["dossier_id"]) for record, row in rows.items()}


def _accounts_of_records(
    conn: Connection, table: str, records: Sequence[str]
) -> dict[str, str | None]:
    """The account of each of the rows ``records``, gone from their table, as their
    changes named it."""
    found: dict[str, str | None] = {}
    for chunk in _chunks(records):
        query = select(changes.c.record, changes.c.account_id).where(
            changes.c.table_name == table, changes.c.record.in_(chunk)
        )
        for record, account in conn.execute(query):
            found.setdefault(record, account)
    return {record: found.get(record) for record in records}


def _shown_sections(
    conn: Connection, table: str, records: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The section texts this copy shows of each of the rows ``records``."""
    rows = replayed(conn, [(table, record) for record in records])
    return {
        record: {
            name: register.winner.value
            for name, register in row.fields.items()
            if name.startswith(SECTION) and register.winner is not None
        }
        for (_table, record), row in rows.items()
    }


def _changed_sections(shown: Mapping[str, Any], values: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The sections whose text differs from the value this copy shows of them."""
    typed = {name: text for name, text in values.items() if name.startswith(SECTION)}
    return [
        (name, typed.get(name))
        for name in sorted(set(shown) | set(typed))
        if typed.get(name) != shown.get(name)
    ]


def _stamp(
    conn: Connection,
    clock: Clock,
    drafts: list[_Draft],
    open_heads: dict[tuple[str, str], dict[str, set[Stamp]]],
) -> list[Change]:
    """Stamp the drafts in the order they were made, each replacing the heads of its field
    (a deletion or a new row: of every field of its row) as this copy shows them then."""
    made: list[Change] = []
    for draft in sorted(drafts, key=lambda d: d.at):
        fields = open_heads.setdefault((draft.table, draft.record), {})
        stamp = clock.tick(draft.at)
        whole = draft.field == NEW_ROW or (draft.field == DELETED and draft.value is not None)
        if whole:
            replaces = frozenset().union(*fields.values())
        else:
            replaces = frozenset(fields.get(draft.field, ()))
        change = Change(stamp, draft.table, draft.record, draft.field, draft.value,
                        draft.author, replaces, draft.account)  # fmt: skip
        for name, _write in change.writes():
            fields[name] = {stamp}
        made.append(change)
    return made


# --- Storing changes and heads ----------------------------------------------------------------


#: The columns of a stored change, in the order :func:`_row_of` gives them.
CHANGE_COLUMNS = ("stamp", "device", "table_name", "record", "field", "value", "author",
                  "replaces", "account_id")  # fmt: skip


def _row_of(change: Change) -> tuple[Any, ...]:
    return (
        str(change.stamp),
        change.stamp.device,
        change.table,
        change.record,
        change.field,
        json.dumps(change.value, ensure_ascii=False, sort_keys=True),
        change.author,
        json.dumps(sorted(str(s) for s in change.replaces)),
        change.account,
    )


def _change_of(row: Any) -> Change:
    return Change(
        parsed(row.stamp),
        row.table_name,
        row.record,
        row.field,
        json.loads(row.value),
        row.author,
        frozenset(parsed(s) for s in json.loads(row.replaces)),
        row.account_id,
    )


def _store(conn: Connection, made: Sequence[Change]) -> None:
    bulk_insert(conn, changes, CHANGE_COLUMNS, [_row_of(c) for c in made])


def replayed(conn: Connection, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Record]:
    """Every known change of each ``(table, record)``, replayed into its registers."""
    return replay(_changes_of(conn, keys))


@dataclass
class _Rows:
    """Rows as every change known of them makes them: their registers, and which of them
    came as a new row (only those can be made where they are missing)."""

    records: dict[tuple[str, str], Record]
    based: set[tuple[str, str]]


def _changes_of(conn: Connection, keys: Sequence[tuple[str, str]]) -> list[Change]:
    by_table: dict[str, list[str]] = defaultdict(list)
    for table, record in keys:
        by_table[table].append(record)
    found: list[Change] = []
    for table, records in by_table.items():
        for chunk in _chunks(records):
            rows = conn.execute(
                select(changes).where(changes.c.table_name == table, changes.c.record.in_(chunk))
            )
            found += [_change_of(r) for r in rows]
    found.sort(key=lambda c: c.stamp)
    return found


def _read_heads(
    conn: Connection, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, set[Stamp]]]:
    found: dict[tuple[str, str], dict[str, set[Stamp]]] = {}
    by_table: dict[str, list[str]] = defaultdict(list)
    for table, record in keys:
        by_table[table].append(record)
    for table, records in by_table.items():
        for chunk in _chunks(records):
            rows = conn.execute(
                select(heads).where(heads.c.table_name == table, heads.c.record.in_(chunk))
            )
            for row in rows:
                fields = found.setdefault((table, row.record), {})
                fields.setdefault(row.field, set()).add(parsed(row.stamp))
    return found


def _rebuild_heads(conn: Connection, known: Sequence[Change]) -> _Rows:
    """Work the heads of every field of the rows the changes ``known`` touch out again from
    them, all the changes known of those rows (domain.sync's rules), store them, and give
    the rows."""
    records = replay(known)
    _store_heads(
        conn,
        {
            key: {name: {w.stamp for w in register.heads} for name, register in row.fields.items()}
            for key, row in records.items()
        },
    )
    return _Rows(records, {(c.table, c.record) for c in known if c.field == NEW_ROW})


def _store_heads(
    conn: Connection, found: Mapping[tuple[str, str], Mapping[str, Collection[Stamp]]]
) -> None:
    """Replace the stored heads of the rows ``found`` names with the ones it holds."""
    by_table: dict[str, list[str]] = defaultdict(list)
    for table, record in found:
        by_table[table].append(record)
    for table, records in by_table.items():
        for chunk in _chunks(records):
            conn.execute(
                delete(heads).where(heads.c.table_name == table, heads.c.record.in_(chunk))
            )
    rows = [
        (table, record, name, str(stamp))
        for (table, record), fields in found.items()
        for name, stamps in fields.items()
        for stamp in stamps
    ]
    bulk_insert(conn, heads, ("table_name", "record", "field", "stamp"), rows)


def _advance_seen(conn: Connection, made: Iterable[Change]) -> None:
    """The version vector: the latest stamp held from each device."""
    latest: dict[str, Stamp] = {}
    for change in made:
        device = change.stamp.device
        if device not in latest or change.stamp > latest[device]:
            latest[device] = change.stamp
    if not latest:
        return
    known = {d: s for d, s in conn.execute(select(seen.c.device, seen.c.stamp))}
    for device, stamp in latest.items():
        if device not in known:
            conn.execute(insert(seen).values(device=device, stamp=str(stamp)))
        elif Stamp.parse(known[device]) < stamp:
            conn.execute(update(seen).where(seen.c.device == device).values(stamp=str(stamp)))


def seen_by(conn: Connection) -> dict[str, Stamp]:
    """This database's version vector: the latest stamp it holds from each device."""
    return {d: Stamp.parse(s) for d, s in conn.execute(select(seen.c.device, seen.c.stamp))}


# --- Reading what a peer has not seen ------------------------------------------------------


def changes_since(
    conn: Connection, since: Mapping[str, Stamp], scope: Collection[str] | None = None
) -> ChangeSet:
    """Every change this database holds that the version vector ``since`` does not, in
    stamp order; within ``scope``'s account ids when given (a rep's copy: see
    :func:`rep_scope`), plus the changes that belong to no account (the ICP, the template,
    users …)."""
    device = device_of(conn)
    if device is None:
        raise NotSyncing()
    found: list[Change] = []
    for name, latest in seen_by(conn).items():
        known = since.get(name)
        if known is not None and known >= latest:
            continue
        query = select(changes).where(changes.c.device == name)
        if known is not None:
            query = query.where(changes.c.stamp > str(known))
        for row in conn.execute(query.order_by(changes.c.stamp)):
            if scope is None or row.account_id is None or row.account_id in scope:
                found.append(_change_of(row))
    found.sort(key=lambda c: c.stamp)
    return ChangeSet(device.device, schema_of(conn), tuple(found))


def rep_accounts(rep: str) -> CompoundSelect[Any]:
    """The accounts a rep's copy holds: those they own on the target list, and those they
    have an exception to log against."""
    owner = select(users.c.id).where(users.c.name == rep).scalar_subquery()
    owned = select(targets.c.account_id).where(
        targets.c.owner_id == owner, targets.c.deleted_at.is_(None)
    )
    granted = select(exceptions.c.account_id).where(
        exceptions.c.rep == rep, exceptions.c.revoked_at.is_(None)
    )
    return owned.union(granted)


def rep_scope(conn: Connection, rep: str) -> frozenset[str]:
    """The ids of :func:`rep_accounts`, as changes name their account."""
    return frozenset(str(a) for a in conn.execute(rep_accounts(rep)).scalars())


# --- Taking changes in -------------------------------------------------------------------------


def apply_changes(conn: Connection, change_set: ChangeSet, now_ms: int) -> Applied:
    """Take ``change_set`` in, in the caller's transaction (see the module's text).
    :class:`domain.sync.SchemaTooNew` and :class:`domain.sync.ClockDrift` refuse all of
    it."""
    change_set.require_schema(schema_of(conn))
    device = _syncing(conn)
    incoming = list({str(c.stamp): c for c in change_set.changes}.values())
    known = _known(conn, [str(c.stamp) for c in incoming])
    new = [c for c in incoming if str(c.stamp) not in known]
    if not new:
        return Applied(known=len(incoming))
    for change in new:
        device.clock.observe(change.stamp, now_ms)
    accepted, kept_aside = _checked(conn, new)
    # The changes known before of the rows these touch: with them, all there are.
    before = _changes_of(conn, sorted({(c.table, c.record) for c in accepted}))
    _store(conn, accepted)
    for chunk in _chunks(kept_aside):
        conn.execute(insert(refused), [{**dict(zip(CHANGE_COLUMNS, _row_of(c), strict=True)),
                                        "reason": why} for c, why in chunk])  # fmt: skip
    _advance_seen(conn, new)
    with applying(conn):
        rows = _rebuild_heads(conn, [*before, *accepted])
        _write(conn, rows, {(c.table, c.record) for c in accepted if c.field == NEW_ROW})
    _save_clock(conn, device.clock)
    refresh_derived(conn, accepted)
    accounts = {c.account for c in accepted if c.account}
    return Applied(
        applied=len(accepted),
        known=len(incoming) - len(new),
        refused=len(kept_aside),
        conflicts=sum(1 for r in rows.records.values() for g in r.fields.values() if g.disputed),
        accounts=frozenset(accounts),
    )


def _known(conn: Connection, stamps: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(stamps):
        found.update(
            conn.execute(select(changes.c.stamp).where(changes.c.stamp.in_(chunk))).scalars()
        )
        found.update(
            conn.execute(select(refused.c.stamp).where(refused.c.stamp.in_(chunk))).scalars()
        )
    return found


def _checked(
    conn: Connection, new: Sequence[Change]
) -> tuple[list[Change], list[tuple[Change, str]]]:
    """The changes their authors' roles allow, and the others with the reason. A person
    added by a change of the same set is known by the changes after it."""
    names = sorted({c.author for c in new})
    roles: dict[str, Role] = {}
    for chunk in _chunks(names):
        rows = conn.execute(
            select(users.c.name, users.c.role).where(
                users.c.name.in_(chunk), users.c.deleted_at.is_(None)
            )
        )
        roles.update({name: Role(role) for name, role in rows})
    accepted: list[Change] = []
    kept_aside: list[tuple[Change, str]] = []
    has_owner = _has_owner(conn)
    for change in sorted(new, key=lambda c: c.stamp):
        if change.table not in SYNCED:
            why: str | None = f"This Accord keeps no {change.table.replace('_', ' ')}."
        elif signs_in(change, has_owner):
            why = None
        else:
            why = refusal(change.author, roles.get(change.author), change.table, change.field)
        if why is not None:
            kept_aside.append((change, why))
            continue
        accepted.append(change)
        if change.table == "users" and change.field == NEW_ROW:
            roles[change.value["name"]] = Role(change.value["role"])
        elif change.table == "users" and change.field == "role":
            roles.update(_user_named(conn, change.record, change.value))
        has_owner = has_owner or Role.OWNER in roles.values()
    return accepted, kept_aside


def _has_owner(conn: Connection) -> bool:
    owner = select(users.c.id).where(users.c.role == Role.OWNER.value).limit(1)
    return conn.execute(owner).first() is not None


def _user_named(conn: Connection, record: str, role: str) -> dict[str, Role]:
    name = conn.execute(select(users.c.name).where(users.c.id == uuid.UUID(record))).scalar()
    return {} if name is None else {name: Role(role)}


def _write(conn: Connection, rows_of: _Rows, new_rows: set[tuple[str, str]]) -> None:
    """Write each record's winners into its table: a row that is there takes the fields that
    differ, one that is not is made from its new-row change, a row deleted for good goes.
    Tables in the order their rows can be written, rows in the order they were made."""
    by_table: dict[str, dict[str, Record]] = defaultdict(dict)
    for (table, record), row in rows_of.records.items():
        by_table[table][record] = row
    gone: list[tuple[Synced, list[str]]] = []
    for name, synced in SYNCED.items():
        rows = by_table.get(name)
        if not rows:
            continue
        if not synced.uuid_key:  # numbered history: a row is new once, never edited
            made = [r for r in rows if (name, r) in new_rows]
            _insert(conn, synced, {r: rows[r] for r in made}, with_id=False)
            continue
        current = _current_rows(conn, synced, list(rows))
        missing = {
            r: row for r, row in rows.items() if r not in current and (name, r) in rows_of.based
        }
        deleted = [r for r, row in rows.items() if not synced.tombstones and _deleted(row)]
        _insert(conn, synced, {r: row for r, row in missing.items() if r not in deleted})
        _update(
            conn,
            synced,
            [(r, current[r], row) for r, row in rows.items() if r in current and r not in deleted],
        )
        gone.append((synced, [r for r in deleted if r in current]))
    for synced, records in reversed(gone):
        keys = [synced.key(r) for r in records]
        for chunk in _chunks(keys):
            conn.execute(delete(synced.table).where(synced.table.c.id.in_(chunk)))


def _deleted(row: Record) -> bool:
    register = row.fields.get(DELETED)
    winner = None if register is None else register.winner
    return winner is not None and winner.value is not None


def _latest(row: Record) -> tuple[datetime, str]:
    """When the row's newest winning value was written, and by whom."""
    winners = [r.winner for r in row.fields.values() if r.winner is not None]
    newest = max(winners, key=lambda w: w.stamp)
    return datetime.fromtimestamp(newest.stamp.millis / 1000, UTC), newest.author


def _bookkeeping(synced: Synced, row: Record) -> dict[str, Any]:
    if not synced.tracked:
        return {}
    at, author = _latest(row)
    return {"updated_at": at, "changed_by": author}


def _insert(
    conn: Connection, synced: Synced, rows: Mapping[str, Record], *, with_id: bool = True
) -> None:
    made = []
    numbered = synced.name in VERSIONED and bool(rows)
    spare = placeholder(conn, synced.name, len(rows)) if numbered else []
    ordered = sorted(rows.items(), key=lambda item: _first(item[1]))
    for n, (record, row) in enumerate(ordered):
        values = column_values(synced, row.values())
        if numbered:
            values["number"] = spare[n]
        values.update(_bookkeeping(synced, row))
        if synced.tracked:
            values["version"] = 1
        if with_id:
            values["id"] = synced.key(record)
        made.append(values)
    for values, derived in zip(made, derived_rows(conn, synced.name, made), strict=True):
        values.update(derived)
    # In the order they were made (a row may name one made just before it), as few
    # statements as rows of the same columns allow.
    batch: list[dict[str, Any]] = []
    for values in made:
        if batch and batch[0].keys() != values.keys():
            conn.execute(insert(synced.table), batch)
            batch = []
        batch.append(values)
    if batch:
        conn.execute(insert(synced.table), batch)
    if numbered:
        renumber(conn, synced.name)


def _first(row: Record) -> Stamp:
    return min(w.stamp for r in row.fields.values() for w in r.writes.values())


def _update(
    conn: Connection, synced: Synced, rows: Sequence[tuple[str, Mapping[str, Any], Record]]
) -> None:
    """Write the winners that differ from what each row holds (fields and sections no change
    touched keep their value): one statement for all the rows that change the same columns."""
    changed = [(record, current, row, written) for record, current, row in rows
               if (written := _written(synced, current, row))]  # fmt: skip
    whole = [{**dict(current), **written} for _record, current, _row, written in changed]
    alike: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for (record, current, row, written), derived in zip(
        changed, derived_rows(conn, synced.name, whole), strict=True
    ):
        written.update({k: v for k, v in derived.items() if current[k] != v})
        if synced.tracked:
            written.update(_bookkeeping(synced, row))
        # Named apart from the columns, which SQLAlchemy keeps for the SET clause.
        params = {f"new_{name}": value for name, value in written.items()}
        alike[tuple(sorted(written))].append({**params, "row_key": synced.key(record)})
    table = synced.table
    for columns, batch in alike.items():
        values: dict[str, Any] = {c: bindparam(f"new_{c}") for c in columns}
        if synced.tracked:
            values["version"] = table.c.version + 1
        statement = update(table).where(table.c.id == bindparam("row_key")).values(values)
        conn.execute(statement, batch)


def _written(synced: Synced, current: Mapping[str, Any], row: Record) -> dict[str, Any]:
    """The synced columns of the row ``current`` to write so that it holds its winners."""
    winners = row.values()
    shown = row_fields(synced, current, {column_of(name) for name in winners})
    differ = {
        name
        for name, value in winners.items()
        if (name in shown or name.startswith(SECTION)) and shown.get(name) != value
    }
    if not differ:
        return {}
    values = column_values(synced, {**shown, **winners})
    return {name: values[name] for name in {column_of(n) for n in differ}}


__all__ = [
    "Device",
    "NotSyncing",
    "apply_changes",
    "changes_since",
    "device_of",
    "mark_synced",
    "rep_accounts",
    "rep_scope",
    "schema_of",
    "seal",
    "seen_by",
    "wall_ms",
]
