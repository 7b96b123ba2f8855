"""Fast paths for many rows: time-ordered ids and inserts straight through the driver."""

from __future__ import annotations

import gc
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import count, repeat
from operator import is_, itemgetter
from random import getrandbits
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Connection, Table, Uuid, cast, func, literal

_sequence = count()
#: Helper threads SQLite's sorter may start while it builds an index again, and the
#: memory (bytes) it sorts in with them: the entries are sorted in parts of SORT_PART
#: bytes, each part by a helper while the building thread reads on, then merged by helpers
#: too. A million accounts' twelve indexes, on two cores: 7-8 s of the building thread
#: (12.5-15 s of CPU in all) instead of 14-17 s sorted whole by it in SORT_MEMORY; parts
#: of 16 or 32 MB left it 9-11 s.
SORT_HELPERS = 2
SORT_PART = 4 * 1024 * 1024
#: Memory (bytes) SQLite sorts in when it has no helpers: room for all the entries, rather
#: than parts spilled to temporary files, 15% faster.
SORT_MEMORY = 512 * 1024 * 1024


def new_id() -> uuid.UUID:
    """A UUID whose leading bits are the time (UUIDv7 layout): new rows append to the
    primary-key index instead of landing at random places in it, which keeps big imports
    fast, and ids stay unique across laptops for sync."""
    return _time_ordered(time.time_ns() // 1_000_000, getrandbits(64))


def new_ids(count: int) -> list[uuid.UUID]:
    """``count`` new ids (:func:`new_id`'s) for the rows of a bulk insert: the clock read
    once, not once each."""
    millis = time.time_ns() // 1_000_000
    return [_time_ordered(millis, getrandbits(64)) for _ in range(count)]


def new_ids_in_sql(conn: Connection) -> Callable[[ColumnElement[int]], ColumnElement[Any]]:
    """What makes new ids (:func:`new_id`'s layout) in SQL for the rows an INSERT ... SELECT
    writes, each from its row's number (distinct, from 0 to 2**59): the same millisecond and
    sequence number for all, then random bits plus the number, in the stored form. The same
    number makes the same id, so that a statement after can find the row it was given to."""
    head = _time_ordered(time.time_ns() // 1_000_000, 0).hex[:17]
    noise = getrandbits(59)

    def made(number: ColumnElement[int]) -> ColumnElement[Any]:
        bits = literal(noise, BigInteger()) + number
        if conn.dialect.name == "sqlite":
            return func.printf(f"{head}%015x", bits)
        return cast(func.concat(head, func.lpad(func.to_hex(bits), 15, "0")), Uuid)

    return made


def _time_ordered(millis: int, noise: int) -> uuid.UUID:
    """The id of this millisecond, its sequence number next and 60 of the 64 bits of
    ``noise`` last: random bits from the process's generator, seeded from the system's at
    start and after a fork (an id is to be unique, not secret, and asking the system for
    each one cost a big import a microsecond a row)."""
    sequence = next(_sequence) & 0xFFF
    value = (millis & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | sequence << 64 | 0x8 << 60 | noise >> 4
    return uuid.UUID(int=value)


#: The namespace of the ids :func:`one_id` derives.
ONE_IDS = uuid.UUID("5d1e0c0a-8f7e-4c55-9a51-0d055ee12017")


def one_id(table: str, key: object) -> uuid.UUID:
    """The id of the one row of ``table`` that ``key`` names (an account's dossier, a
    user's name), the same on every copy: the row made on two offline copies is one record
    when they sync, merged field by field, instead of two rows that a unique index
    refuses."""
    return uuid.uuid5(ONE_IDS, f"{table}/{key}")


def bulk_insert(conn: Connection, table: Table, columns: Sequence[str],
                rows: Iterable[Sequence[Any]],
                stored: bool | Collection[str] = False) -> None:  # fmt: skip
    """INSERT ``rows`` (tuples in ``columns`` order) with one executemany through the driver.

    Values go through the bind processor of each column's type on this database (UUID →
    text and times → SQLAlchemy's text form on SQLite, JSON → text, …), so the stored
    form is the same as the ORM's; ``stored`` rows (True), or the ``stored`` columns, are
    in that form already (read raw from another database of the same kind, or from this
    one) and go in as they are. A column that is NULL on every row and has no default is
    left out of the statement: it is NULL all the same, and each value bound costs the
    driver time (a third of an import's insert).
    """
    batch = list(rows)
    if not batch:
        return
    kept: list[int] = []
    processors: dict[int, Callable[[Any], Any]] = {}
    for index, name in enumerate(columns):
        column = table.c[name]
        if column.server_default is None and all(
            map(is_, map(itemgetter(index), batch), repeat(None))
        ):
            continue
        kept.append(index)
        processor = None if stored is True or (stored and name in stored) else (
            bind_processor(conn, column))  # fmt: skip
        if processor is not None:
            processors[index] = processor
    # Processed a column at a time: a column that holds one value on every row (an
    # import's time, user and batch) is processed once. Rows that go in whole and as they
    # are (an engagement file's staged rows) are not taken apart.
    if processors or len(kept) < len(columns):
        by_column: list[Sequence[Any]] = list(zip(*batch, strict=True))
        for index, processor in processors.items():
            by_column[index] = _processed(by_column[index], processor)
        batch = list(zip(*[by_column[index] for index in kept], strict=True))
    marks = ", ".join(["?" if conn.dialect.paramstyle == "qmark" else "%s"] * len(kept))
    named = ", ".join(columns[index] for index in kept)
    sql = f"INSERT INTO {table.name} ({named}) VALUES ({marks})"
    conn.exec_driver_sql(sql, batch)


def bind_processor(conn: Connection, column: ColumnElement[Any]) -> Callable[[Any], Any] | None:
    """What turns a value of ``column`` into its stored form on this database (None: the
    driver takes it as it is)."""
    return column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)


def _processed(values: Sequence[Any], processor: Callable[[Any], Any]) -> Sequence[Any]:
    first = values[0]
    if all(map(is_, values, repeat(first))):
        return (None if first is None else processor(first),) * len(values)
    return [None if value is None else processor(value) for value in values]


@contextmanager
def indexes_rebuilt(
    conn: Connection,
    table: Table,
    big: bool = True,
    keep: Collection[str] = (),
    helpers: int = SORT_HELPERS,
) -> Iterator[bool]:
    """Drop ``table``'s indexes (but those the write reads, named in ``keep``) while a
    ``big`` write runs and build them again at the end (much faster than keeping them up to
    date row by row), sorting with up to ``helpers`` threads; yields whether it did. SQLite
    only: its writer holds the lock anyway; on a shared PostgreSQL database others keep
    using the indexes meanwhile."""
    if not big or conn.dialect.name != "sqlite":
        yield False
        return
    indexes = [i for i in table.indexes if i.name and i.name not in keep]
    for index in indexes:
        index.drop(conn)
    yield True
    # Each index is built by sorting an entry of every row, in memory up to the cache's
    # size (SQLite has no other setting for it).
    memory = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    threads = conn.exec_driver_sql("PRAGMA threads").scalar()
    sort_memory = SORT_PART if helpers else SORT_MEMORY
    conn.exec_driver_sql(f"PRAGMA cache_size=-{sort_memory // 1024}")
    conn.exec_driver_sql(f"PRAGMA threads={helpers}")
    try:
        for index in indexes:
            index.create(conn)
    finally:
        conn.exec_driver_sql(f"PRAGMA threads={threads}")
        conn.exec_driver_sql(f"PRAGMA cache_size={memory}")


@contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a bulk job builds millions of short-lived
    records (reference counting still frees them): each of its passes walks every object
    the job keeps, which made a million-row import a fifth slower. Cycles are collected
    again afterwards."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()
