"""Matching an engagement file's rows to accounts: each row's account found by a contact's
e-mail, a website's domain or the account's name, a chunk at a time, by the import on its
connection, or by a big file's reader process on one of its own (apart.MatchingApart)."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from itertools import compress
from operator import itemgetter, not_
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Select,
    String,
    Uuid,
    create_engine,
    func,
    literal,
    null,
    select,
    type_coerce,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import NullType

from domain.engagement import MATCHED_BY, NOT_FOUND, SHOWN_CANDIDATES, Candidate, ambiguous
from storage.importing.importer import accounts, contacts
from storage.importing.reading import Chunk
from storage.importing.staging import FROM_WEBSITE, KEYS
from storage.queries import LIVE_ACCOUNT, live_account_id
from storage.workspace import CACHE_KIB

#: An id as the database stores it and hands it back uncoerced (SQLite's text, PostgreSQL's
#: UUID): only the accounts an ambiguous row may be are made UUIDs.
RawId = Any


def _uuid(raw: RawId) -> uuid.UUID:
    return raw if isinstance(raw, uuid.UUID) else uuid.UUID(raw)


def _one_of(
    conn: Connection, column: Any, values: Collection[Any], kind: Any = String
) -> ColumnElement[bool]:
    """``column IN values``, the values (a chunk's thousands, of ``kind``) bound as one
    array (one_column) rather than one parameter each, which SQLAlchemy would expand at
    every run."""
    return column.in_(select(one_column(conn, values, kind).c.value))  # type: ignore[no-any-return]


def one_column(conn: Connection, values: Collection[Any], kind: Any = String) -> Any:
    """The values (a chunk's thousands of keys, texts, or of numbers: ``kind``) as a table
    of one column, ``value``: bound as one JSON array on SQLite, one array on PostgreSQL."""
    if conn.dialect.name == "sqlite":
        listed = json.dumps(list(values), ensure_ascii=False)
        return func.json_each(listed).table_valued("value")
    return (
        func.unnest(literal(list(values), postgresql.ARRAY(kind)))
        .table_valued("value")
        .render_derived()
    )


def _holder(key: Column[Any], value: Any, place: int) -> Any:
    """The id of the live account in ``place`` (from 0, in their ids' order) of those whose
    ``key`` is ``value``, found in the key's index; NULL if fewer have it."""
    return (
        select(raw(accounts.c.id))
        .where(LIVE_ACCOUNT, key == value)
        .order_by(accounts.c.id)
        .limit(1)
        .offset(place)
        .scalar_subquery()
    )


def raw(column: Column[Any]) -> Any:
    """A column as the database stores it, neither read nor bound through its type."""
    return type_coerce(column, NullType())


def fetched(conn: Connection, query: Select[Any]) -> Sequence[Any]:
    """The rows of ``query`` as the driver hands them back, plain tuples: its columns need
    no type's processing (texts, and ids read raw), and a chunk's thousands of rows are not
    each made a Row (a third of the time the keys' lookups took)."""
    result = conn.execute(query)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


#: The ways a row is matched, in the order they are tried, each by the key at its place in
#: a staged row (staging.KEYS): a contact's e-mail, a domain, a name.
_WAYS = ("email", "website", "account")
#: How a rejection names the way a key several accounts share was looked up.
_SHARED = {"email": "contact e-mail", "website": "website", "account": "name"}


#: A key one live account holds, as its lookup read it: the key, the account, the oldest
#: live contact with an e-mail (else None), and the way.
_OneHolder = tuple[Any, RawId, RawId, str]


@dataclass(slots=True)
class _Shared:
    """A key several live accounts hold: how many, and the first few of them in their
    place (SHOWN_CANDIDATES); and why its rows are rejected, once said."""

    way: str
    holders: int
    first: list[RawId]
    why: str = ""


_Held = _OneHolder | _Shared


class _Holders:
    """Who holds each key of the file's rows, each way through its index, a chunk's new keys
    in one statement a way: for an e-mail the accounts with a live contact with it in the
    order their first such contact was made, for a domain or a name the accounts with it in
    their id's order (every holder of an e-mail or a domain is read, the first few of a
    name's). An import writes no account, so what a key is held by is kept for the chunks
    after (e-mails, websites and names repeat down a file); only the keys a chunk's rows
    still need are looked up, each way for the rows the ways before left unmatched (at a
    million accounts, looking up every row's domain and name as well took a second more)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        #: Per way, each key looked up → who holds it, or None for a key no live account holds.
        self.held: dict[str, dict[Any, _Held | None]] = {way: {} for way in _WAYS}
        #: The keys found held by several accounts whose rejection is not said yet.
        self.unsaid: list[_Shared] = []
        #: The keys found held by several accounts since the last chunk was matched: each
        #: way, key and what was found (Chunk.shared).
        self.found_shared: list[tuple[str, Any, _Shared]] = []

    def look_up(self, rows: Sequence[tuple[Any, ...]]) -> list[dict[Any, _Held | None]]:
        """Per way, who holds each key: those of the rows looked up, each way's for the
        rows the ways before left unmatched (a row's first key held by any account is
        ``by_email[email] or by_website[domain] or by_name[name]``). Those said to be held
        by several have their rejection's reason."""
        for way, place in zip(_WAYS, KEYS, strict=True):
            held = self.held[way]
            keys = list(map(itemgetter(place), rows))
            self._look_up(way, set(keys).difference(held))
            if way != _WAYS[-1]:  # the rows left for the next way (held: a tuple, a _Shared)
                rows = list(compress(rows, map(not_, map(held.__getitem__, keys))))
        self._say_why()
        return [self.held[way] for way in _WAYS]

    def _look_up(self, way: str, new: set[Any]) -> None:
        """Who holds each of the ``new`` keys of a way."""
        held = self.held[way]
        held.update(dict.fromkeys(new))
        new.discard(None)
        if not new:
            return
        if way == "account":
            self._look_up_names(new)
        else:
            self._look_up_each_holder(way, self._each_holder(way, new))

    def _look_up_names(self, new: set[Any]) -> None:
        """Who holds each of the ``new`` names: per name its first two holders, each found
        in the name's index (a name many accounts share is not read whole); a name two have
        is told how many have it and its first few by one more statement."""
        held = self.held["account"]
        key = accounts.c.name_key
        each = one_column(self.conn, new)
        two = [_holder(key, each.c.value, place) for place in range(2)]
        shared = []
        for value, first, second in fetched(self.conn, select(each.c.value, *two)):
            if second is not None:
                shared.append(value)
            elif first is not None:
                held[value] = (value, first, None, "account")
        if not shared:
            return
        each = one_column(self.conn, shared)
        holders = select(func.count()).where(LIVE_ACCOUNT, key == each.c.value).scalar_subquery()
        few = [_holder(key, each.c.value, place) for place in range(SHOWN_CANDIDATES)]
        for value, sharing, *first in fetched(self.conn, select(each.c.value, holders, *few)):
            self._shared("account", value, sharing, [i for i in first if i is not None])

    def _each_holder(self, way: str, new: set[Any]) -> Select[Any]:
        """Every holder of the ``new`` e-mails or domains (few hold each), in their order,
        read from the key's index: for an e-mail each live contact with it, as its account
        holds it; for a domain each live account with it."""
        if way == "email":
            c = contacts.c
            return (
                select(c.email_key, raw(c.account_id), raw(c.id), literal(way))
                .where(live_account_id(c.account_id), c.deleted_at.is_(None),
                       _one_of(self.conn, c.email_key, new))
                .order_by(c.email_key, c.created_at, c.id)
            )  # fmt: skip
        a = accounts.c
        return (
            select(a.domain_key, raw(a.id), null(), literal(way))
            .where(LIVE_ACCOUNT, _one_of(self.conn, a.domain_key, new))
            .order_by(a.domain_key, a.id)
        )

    def _look_up_each_holder(self, way: str, query: Select[Any]) -> None:
        """Who holds each key of a way, from ``query``'s rows (_OneHolder), each holder of
        each key in its place."""
        held = self.held[way]
        found = fetched(self.conn, query)
        # most keys are held once, each said by its one row; the others are grouped
        times = Counter(map(itemgetter(0), found))
        once = [row for row in found if times[row[0]] == 1]
        held.update(zip(map(itemgetter(0), once), once, strict=True))
        several: dict[Any, list[_OneHolder]] = defaultdict(list)
        for row in found:
            if times[row[0]] > 1:
                several[row[0]].append(row)
        for key, rows in several.items():
            # an account with several contacts with the e-mail is in its first one's place
            holders = list(dict.fromkeys(holder for _, holder, _, _ in rows))
            if len(holders) == 1:
                held[key] = rows[0]
            else:
                self._shared(way, key, len(holders), holders[:SHOWN_CANDIDATES])

    def _shared(self, way: str, key: Any, holders: int, first: list[RawId]) -> None:
        """A key several accounts hold, its rejection to be said."""
        self.held[way][key] = shared = _Shared(way, holders, first)
        self.unsaid.append(shared)
        self.found_shared.append((way, key, shared))

    def learn(self, shared: list[tuple[str, Any, _Shared]]) -> None:
        """Know the keys another matcher found several accounts hold (Chunk.shared)."""
        for way, key, held in shared:
            self.held[way][key] = held

    def _say_why(self) -> None:
        """Say why the rows are rejected whose key several accounts hold, for the keys not
        said before: the first few of them read in one statement for all the keys."""
        if not self.unsaid:
            return
        candidates = self._candidates({i for held in self.unsaid for i in held.first})
        for held in self.unsaid:
            listed = [candidates[i] for i in held.first]
            held.why = ambiguous(_SHARED[held.way], listed, held.holders)
        self.unsaid = []

    def _candidates(self, ids: set[RawId]) -> dict[RawId, Candidate]:
        """The accounts ambiguous rows may be, as their rejections list them."""
        columns = [raw(accounts.c.id), accounts.c.name, accounts.c.website, accounts.c.country]
        listed = _one_of(self.conn, columns[0], ids, Uuid)
        found = fetched(self.conn, select(*columns).where(listed))
        return {raw: Candidate(_uuid(raw), *row) for raw, *row in found}


class Matching:
    """Matches a chunk's staged rows to accounts (Chunk.matched): keeps those one account
    matches, as they are staged; those that no account or several match are refused, each
    with the column it names and why (a domain not from a website names the e-mail's
    column), and their cells kept."""

    def __init__(self, conn: Connection, columns: dict[str, str]) -> None:
        self.holders = _Holders(conn)
        self.columns = columns

    def __call__(self, chunk: Chunk) -> None:
        rows = chunk.staged
        by_email, by_website, by_name = self.holders.look_up(rows)
        email, domain, name = KEYS
        matched: list[tuple[Any, ...]] = []
        refused: list[tuple[int, _Shared | None]] = []
        for i, row in enumerate(rows):
            held = by_email[row[email]] or by_website[row[domain]] or by_name[row[name]]
            if held is None or isinstance(held, _Shared):
                refused.append((i, held))
                continue
            _, account, contact, way = held
            matched.append((row[0], account, contact, way, *row[4:FROM_WEBSITE]))
        chunk.staged = matched
        chunk.refused = [_why(rows[i], held, self.columns) for i, held in refused]
        chunk.cells = chunk.cells.of_rows([i for i, _ in refused])
        chunk.unmatched = sum(held is None for _, held in refused)
        chunk.matched = True
        chunk.shared, self.holders.found_shared = self.holders.found_shared, []

    def learn(self, chunk: Chunk) -> None:
        """Know the keys that the matcher of a chunk matched elsewhere (a reader process)
        found several accounts hold, rather than look them up again."""
        self.holders.learn(chunk.shared)


def matching_apart(path: Path, columns: dict[str, str]) -> Matching:
    """A reader process's matcher (apart.MatchingApart) for a SQLite workspace's ``path``,
    on a connection of its own that only reads."""
    engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(path))
    conn = engine.connect()
    conn.exec_driver_sql("PRAGMA query_only=ON")
    conn.exec_driver_sql(f"PRAGMA cache_size=-{CACHE_KIB}")
    return Matching(conn, columns)


def _why(
    row: tuple[Any, ...], held: _Shared | None, columns: dict[str, str]
) -> tuple[int, str, str]:
    """A rejected row's number, the column its rejection names and why: for a row that no
    account matches, the first column that could have; for one whose key several share,
    the key's column (a domain not from a website is the e-mail's)."""
    if held is None:
        return row[0], columns[""], NOT_FOUND
    field = "email" if held.way == "website" and not row[FROM_WEBSITE] else held.way
    return row[0], columns[field], held.why


def matching_columns(headers: list[str], mapped_fields: list[str]) -> dict[str, str]:
    """The column a row's rejection names, for each way of matching it: the column that
    failed, and for a row that matched nothing the first column that could have."""
    columns: dict[str, str] = {}
    for header, mapped_to in zip(headers, mapped_fields, strict=True):
        columns.setdefault(mapped_to, header)
    first = next(columns[name] for name in MATCHED_BY if name in columns)
    return {**columns, "": first}
