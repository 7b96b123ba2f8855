"""Importing engagement: a marketing tool's export read as the account import reads a file
(the same readers, limits, mapping and rejected rows), each row matched to an account by a
contact's e-mail, a website's domain or the account's name, in one transaction whose
import batch undoes it whole."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections import Counter, defaultdict
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from itertools import compress
from operator import itemgetter, not_
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Uuid,
    create_engine,
    delete,
    func,
    insert,
    literal,
    null,
    select,
    type_coerce,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import OperationalError
from sqlalchemy.types import NullType

from domain.engagement import (
    ENGAGEMENT_FIELDS,
    MATCHED_BY,
    NOT_FOUND,
    SHOWN_CANDIDATES,
    Candidate,
    EngagementOptions,
    EngagementSummary,
    ambiguous,
    check_kind_given,
    check_matched_by,
    engagement_fields,
    engagement_mapping,
)
from domain.fields import Field
from domain.importing import (
    DiskFull,
    ImportSummary,
    apply_saved_mapping,
    auto_mapping,
    column_scales,
    load_mapping,
    mapping_line,
    shared_fields,
)
from domain.progress import Cancel, Progress
from domain.users import User
from storage.bulk import bulk_insert, cycle_collector_paused, indexes_rebuilt, new_ids_in_sql
from storage.importing import importer
from storage.importing.files import SourceTable, open_table
from storage.importing.importer import (
    ImportRun,
    accounts,
    bigger_than_stored,
    check_mapped_fields,
    contacts,
    disk_full,
    read_apart,
)
from storage.importing.reading import Chunk, Reading, read_chunks
from storage.importing.staging import FROM_WEBSITE, KEYS, StagedRows
from storage.queries import LIVE_ACCOUNT, live_account_id
from storage.schema import EngagementRow, table_of
from storage.segments import refresh_campaigns
from storage.workspace import CACHE_KIB, Workspace, sqlite_file

engagements = table_of(EngagementRow)

#: The columns of an engagement row that the file gives, and those the import gives.
_FROM_THE_FILE = ("kind", "at", "campaign", "source", "detail")
_MADE = ("import_batch_id", "created_at", "created_by")
#: The columns a matched row is staged with: its number, what was found and the way that
#: found it, and what the file gives.
_STAGED = ("n", "account_id", "contact_id", "way", *_FROM_THE_FILE)


def mapped_engagement_fields(
    table: SourceTable, options: EngagementOptions, fields: tuple[Field, ...]
) -> list[str]:
    """The field of each column (the options', a mapping file's, or recognised from the
    headers); an engagement has no custom fields, so a column that names no field is
    ignored. Refused when no column says which account a row is, or what kind it is."""
    saved = load_mapping(options.mapping_file) if options.mapping_file is not None else None
    if options.mapped_fields is not None:
        mapped_fields = list(options.mapped_fields)
    elif saved is not None:
        mapped_fields = apply_saved_mapping(table.headers, saved.fields, fields)
    else:
        mapped_fields = auto_mapping(table.headers, fields)
    mapped_fields = engagement_mapping(mapped_fields)
    column_scales(table.headers, mapped_fields, saved.scales if saved else {}, fields)
    check_matched_by(table.path.name, mapped_fields)
    check_kind_given(table.path.name, mapped_fields, options.kind)
    check_mapped_fields(table, mapped_fields, fields)
    return mapped_fields


#: An id as the database stores it and hands it back uncoerced (SQLite's text, PostgreSQL's
#: UUID): only the accounts an ambiguous row may be are made UUIDs.
_RawId = Any


def _uuid(raw: _RawId) -> uuid.UUID:
    return raw if isinstance(raw, uuid.UUID) else uuid.UUID(raw)


def _one_of(conn: Connection, column: Any, values: Collection[Any]) -> ColumnElement[bool]:
    """``column IN values``, the values (a chunk's thousands) bound on SQLite as one JSON
    array rather than one parameter each, which SQLAlchemy would expand at every run."""
    if conn.dialect.name != "sqlite":  # its ids are uuids, which _each's texts are not
        return column.in_(values)  # type: ignore[no-any-return]
    return column.in_(select(_each(conn, values).c.value))  # type: ignore[no-any-return]


def _each(conn: Connection, values: Collection[Any], kind: Any = String) -> Any:
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
        select(_raw(accounts.c.id))
        .where(LIVE_ACCOUNT, key == value)
        .order_by(accounts.c.id)
        .limit(1)
        .offset(place)
        .scalar_subquery()
    )


def _raw(column: Column[Any]) -> Any:
    """A column as the database stores it, neither read nor bound through its type."""
    return type_coerce(column, NullType())


def _fetched(conn: Connection, query: Select[Any]) -> Sequence[Any]:
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
_OneHolder = tuple[Any, _RawId, _RawId, str]


@dataclass(slots=True)
class _Shared:
    """A key several live accounts hold: how many, and the first few of them in their
    place (SHOWN_CANDIDATES); and why its rows are rejected, once said."""

    way: str
    holders: int
    first: list[_RawId]
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
        each = _each(self.conn, new)
        two = [_holder(key, each.c.value, place) for place in range(2)]
        shared = []
        for value, first, second in _fetched(self.conn, select(each.c.value, *two)):
            if second is not None:
                shared.append(value)
            elif first is not None:
                held[value] = (value, first, None, "account")
        if not shared:
            return
        each = _each(self.conn, shared)
        holders = select(func.count()).where(LIVE_ACCOUNT, key == each.c.value).scalar_subquery()
        few = [_holder(key, each.c.value, place) for place in range(SHOWN_CANDIDATES)]
        for value, sharing, *first in _fetched(self.conn, select(each.c.value, holders, *few)):
            self._shared("account", value, sharing, [i for i in first if i is not None])

    def _each_holder(self, way: str, new: set[Any]) -> Select[Any]:
        """Every holder of the ``new`` e-mails or domains (few hold each), in their order,
        read from the key's index: for an e-mail each live contact with it, as its account
        holds it; for a domain each live account with it."""
        if way == "email":
            c = contacts.c
            return (
                select(c.email_key, _raw(c.account_id), _raw(c.id), literal(way))
                .where(live_account_id(c.account_id), c.deleted_at.is_(None),
                       _one_of(self.conn, c.email_key, new))
                .order_by(c.email_key, c.created_at, c.id)
            )  # fmt: skip
        a = accounts.c
        return (
            select(a.domain_key, _raw(a.id), null(), literal(way))
            .where(LIVE_ACCOUNT, _one_of(self.conn, a.domain_key, new))
            .order_by(a.domain_key, a.id)
        )

    def _look_up_each_holder(self, way: str, query: Select[Any]) -> None:
        """Who holds each key of a way, from ``query``'s rows (_OneHolder), each holder of
        each key in its place."""
        held = self.held[way]
        found = _fetched(self.conn, query)
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

    def _shared(self, way: str, key: Any, holders: int, first: list[_RawId]) -> None:
        """A key several accounts hold, its rejection to be said."""
        self.held[way][key] = shared = _Shared(way, holders, first)
        self.unsaid.append(shared)

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

    def _candidates(self, ids: set[_RawId]) -> dict[_RawId, Candidate]:
        """The accounts ambiguous rows may be, as their rejections list them."""
        columns = [_raw(accounts.c.id), accounts.c.name, accounts.c.website, accounts.c.country]
        found = _fetched(self.conn, select(*columns).where(_one_of(self.conn, columns[0], ids)))
        return {raw: Candidate(_uuid(raw), *row) for raw, *row in found}


#: The file's matched rows, a chunk at a time, with the account (and contact) each was
#: matched to: a temporary table that the import's statements look up in the engagement,
#: and add to it in one statement once the file is staged.
_staging = MetaData()
staged = Table(
    "engagement_staging",
    _staging,
    Column("n", Integer, primary_key=True, autoincrement=False),  # the file's row number
    Column("account_id", Uuid),
    Column("contact_id", Uuid),
    Column("way", String(20)),  # the field whose way of matching found the account
    *(Column(c.name, c.type) for c in engagements.c if c.name in _FROM_THE_FILE),
    prefixes=["TEMPORARY"],
)


#: What makes a row the same engagement: its account and contact, kind, time and campaign;
#: and those of a staged row.
_SAME = ("account_id", "contact_id", "kind", "at", "campaign")
_SAME_STAGED = itemgetter(*(_STAGED.index(name) for name in _SAME))
_CAMPAIGN = itemgetter(_STAGED.index("campaign"))


class _Adding:
    """The statements that add the file's matched rows to the engagement: a chunk's rows
    that may be the same engagement as one stored before (their account has engagement) are
    left out while it is staged if they are (each looked up by its time, in the engagement's
    index); once the file is staged, those the
    same as one earlier in the file, if a sort of the staged rows finds two of one account
    at one time (the rows numbered within their engagement, in one more sort, rather than
    each looked up); then the rest are added in one statement, under new ids made from
    their row numbers, in that order; and how many each way added."""

    def __init__(self, conn: Connection, run: ImportRun) -> None:
        s, e = staged.c, engagements.c
        ids = new_ids_in_sql(conn)
        stored = select(1).where(*(e[n].is_not_distinct_from(s[n]) for n in _SAME))
        self.conn = conn
        self.stored = stored.exists()
        same = [s[n] for n in _SAME]
        place = func.row_number().over(partition_by=same, order_by=s.n)
        placed = select(s.n, place.label("place")).subquery()
        self.repeated = delete(staged).where(s.n.in_(select(placed.c.n).where(placed.c.place > 1)))
        made = [literal(run.batch_id, e.import_batch_id.type), literal(run.now, e.created_at.type),
                literal(run.user.name, e.created_by.type)]  # fmt: skip
        rows = select(ids(s.n), *(s[n] for n in ("account_id", "contact_id", *_FROM_THE_FILE)),
                      *made).order_by(s.n)  # fmt: skip
        self.insert = insert(engagements).from_select(
            ["id", "account_id", "contact_id", *_FROM_THE_FILE, *_MADE], rows
        )
        #: How many each way added: the staged rows left.
        self.tally = select(s.way, func.count()).group_by(s.way)

    def leave_out_stored(self, numbers: Collection[int]) -> None:
        """Leave out the staged rows ``numbers`` that are the same as one stored before."""
        each = _each(self.conn, numbers, Integer)
        self.conn.execute(delete(staged).where(staged.c.n.in_(select(each.c.value)), self.stored))


def _import_rows(run: ImportRun, matching: _Matching, big: bool) -> None:
    """Stage the file a chunk at a time, each matched and its rejected rows said as it comes
    (the progress moves and a cancel stops it between chunks), then add all the matched rows
    in one statement, the engagement's indexes dropped meanwhile for a ``big`` file."""
    summary = run.summary
    assert isinstance(summary, EngagementSummary)
    conn = run.conn
    adding = _Adding(conn, run)
    # Only a row of an account with engagement may be the same as one stored before: the
    # rows of the others are not looked up.
    engaged = {i for (i,) in _fetched(conn, select(_raw(engagements.c.account_id)).distinct())}
    # Whether a row may be the same engagement as one before it in the file: the hash of
    # each one's engagement is kept (in a set, as it comes) until two are the same, when
    # the rows are numbered within their engagement; a file with none (the common case)
    # is spared that sort.
    seen: set[int] | None = set()
    campaigned: set[_RawId] = set()
    for chunk in run.parsed_chunks():
        if not chunk.matched:  # read here, or by a reader process that cannot match
            matching(chunk)
        if chunk.refused:
            run.reject_all(chunk.refused, chunk.cells)
            summary.unmatched += chunk.unmatched
            summary.ambiguous += len(chunk.refused) - chunk.unmatched
        matched = chunk.staged
        if not matched:
            continue
        bulk_insert(conn, staged, _STAGED, matched, stored=True)
        campaigned.update(compress(map(itemgetter(1), matched), map(_CAMPAIGN, matched)))
        summary.skipped += len(matched)
        if seen is not None:
            size = len(seen)
            seen.update(map(hash, map(_SAME_STAGED, matched)))
            seen = seen if len(seen) - size == len(matched) else None
        if may_be_stored := [row[0] for row in matched if row[1] in engaged]:
            adding.leave_out_stored(may_be_stored)
    run.check_cancel()
    if seen is None:
        conn.execute(adding.repeated)
    with indexes_rebuilt(conn, engagements, big):
        conn.execute(adding.insert)
        for way, added in conn.execute(adding.tally):
            summary.added_by[way] = added
            summary.created += added
            summary.skipped -= added
        run.check_cancel()
    ids = sorted(campaigned)
    for at in range(0, len(ids), importer.CHUNK):
        each = _each(conn, ids[at : at + importer.CHUNK], Uuid)
        refresh_campaigns(conn, select(each.c.value))  # the closed loop's


class _Matching:
    """Matches a chunk's staged rows to accounts (Chunk.matched): keeps those one account
    matches, as they are staged; those that no account or several match are refused, each
    with the column it names and why (a domain not from a website names the e-mail's
    column), and their cells kept."""

    def __init__(self, holders: _Holders, columns: dict[str, str]) -> None:
        self.holders = holders
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


@dataclass(frozen=True)
class MatchingApart:
    """Makes a reader process's matcher (Reading.matching) for a SQLite workspace's file,
    which it opens read-only: the import starts the reader once it holds the write lock, so
    that what the reader finds is what the import's transaction holds (no one else writes
    meanwhile, and an import writes no account or contact)."""

    path: Path
    columns: dict[str, str]

    def __call__(self) -> _Matching:
        engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(self.path))
        conn = engine.connect()
        conn.exec_driver_sql("PRAGMA query_only=ON")
        conn.exec_driver_sql(f"PRAGMA cache_size=-{CACHE_KIB}")
        return _Matching(_Holders(conn), self.columns)


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


@contextmanager
def _staging_table(conn: Connection) -> Iterator[None]:
    """The staging table while the rows are imported, dropped at the end (a failure rolls
    back its making with the rest)."""
    staged.create(conn)
    yield
    staged.drop(conn)


def _matching_columns(headers: list[str], mapped_fields: list[str]) -> dict[str, str]:
    """The column a row's rejection names, for each way of matching it: the column that
    failed, and for a row that matched nothing the first column that could have."""
    columns: dict[str, str] = {}
    for header, mapped_to in zip(headers, mapped_fields, strict=True):
        columns.setdefault(mapped_to, header)
    first = next(columns[name] for name in MATCHED_BY if name in columns)
    return {**columns, "": first}


def engagement_reading(
    workspace: Workspace,
    table: SourceTable,
    options: EngagementOptions,
    fields: tuple[Field, ...],
    mapped_fields: list[str],
    matching: MatchingApart | None = None,
) -> Reading:
    """How an engagement file's rows are read: each made the row the staging table takes
    (staging.StagedRows), its time in the form the workspace's database stores it: the text
    SQLAlchemy binds on SQLite, the time itself on PostgreSQL; and by a reader process,
    matched to accounts there too if ``matching``."""
    dialect = workspace.engine.dialect
    as_text = engagements.c.at.type.dialect_impl(dialect).bind_processor(dialect) is not None
    given = (options.kind, options.campaign, options.source)
    staged_of = partial(StagedRows, as_text, given)
    return Reading(table, fields, mapped_fields, importer.CHUNK, staged_of=staged_of,
                   matching=matching)  # fmt: skip


def import_engagement(
    workspace: Workspace,
    user: User,
    path: Path,
    options: EngagementOptions | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> ImportSummary:
    """Import a file of engagement; all or nothing (a crash or cancel changes nothing)."""
    options = options or EngagementOptions()
    table = open_table(path, ENGAGEMENT_FIELDS, options.sheet, options.encoding, options.delimiter)
    fields = engagement_fields(options.kind is not None)
    mapped_fields = mapped_engagement_fields(table, options, fields)
    columns = _matching_columns(table.headers, mapped_fields)
    apart = read_apart(path)
    # A big file's reader process matches its rows itself on a SQLite file (on the second
    # core, a third of the import's work); on a team database the import matches them, on
    # its connection, which the database's roles and row security are the user's for.
    file = sqlite_file(workspace.url)
    matching = MatchingApart(file, columns) if apart and file is not None else None
    reading = engagement_reading(workspace, table, options, fields, mapped_fields, matching)
    try:
        with (
            workspace.write(references_checked=False) as conn,
            read_chunks(reading, own_process=apart) as parsed,  # once the write lock is held
            cycle_collector_paused(),
        ):
            folder = file.parent if file is not None else None
            run = ImportRun(conn, user, table, "engagement", parsed, options, progress, cancel,
                            folder, EngagementSummary)  # fmt: skip
            run.summary.mapping = mapping_line(table.headers, mapped_fields, fields)
            big = bigger_than_stored(conn, path, engagements)
            with _staging_table(conn):
                _import_rows(run, _Matching(_Holders(conn), columns), big)
            summary = run.finish()
            summary.notes += shared_fields(table.headers, mapped_fields, fields)
            return summary
    except OperationalError as error:
        if disk_full(error):
            raise DiskFull(path.name) from None
        raise


class SqlEngagementImporter:
    """The domain's engagement importer (domain.engagement.EngagementImporter) on a
    workspace."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def run(
        self,
        user: User,
        path: Path,
        options: EngagementOptions,
        progress: Progress | None,
        cancel: Cancel | None,
    ) -> ImportSummary:
        return import_engagement(self.workspace, user, path, options, progress, cancel)
