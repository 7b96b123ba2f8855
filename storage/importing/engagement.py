"""Importing engagement: a marketing tool's export read as the account import reads a file
(the same readers, limits, mapping and rejected rows), each row matched to an account by a
contact's e-mail, a website's domain or the account's name, in one transaction whose
import batch undoes it whole."""

from __future__ import annotations

import json
import uuid
from bisect import bisect_left
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    Connection,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    TextClause,
    Uuid,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    type_coerce,
    union_all,
)
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
from storage.importing.staging import StagedRows
from storage.queries import LIVE_ACCOUNT, live_account_id
from storage.schema import EngagementRow, table_of
from storage.segments import refresh_campaigns
from storage.workspace import Workspace, sqlite_file

engagements = table_of(EngagementRow)

#: The columns of an engagement row that the file gives, and those the import gives.
_FROM_THE_FILE = ("kind", "at", "campaign", "source", "detail")
_MADE = ("import_batch_id", "created_at", "created_by")
#: The columns a row is staged with: its number, its keys, what the file gives and where
#: its domain is from (staging.staged_row).
_STAGED = ("n", "email", "domain", "name", *_FROM_THE_FILE, "from_website")


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
#: How many live accounts hold a key, and the first few of them (SHOWN_CANDIDATES).
_Holders = tuple[int, list[_RawId]]


def _uuid(raw: _RawId) -> uuid.UUID:
    return raw if isinstance(raw, uuid.UUID) else uuid.UUID(raw)


def _one_of(conn: Connection, column: Any, values: Collection[Any]) -> ColumnElement[bool]:
    """``column IN values``, the values (a chunk's thousands) bound on SQLite as one JSON
    array rather than one parameter each, which SQLAlchemy would expand at every run."""
    if conn.dialect.name != "sqlite":
        return column.in_(values)  # type: ignore[no-any-return]
    listed = func.json_each(json.dumps(list(values), ensure_ascii=False)).table_valued("value")
    return column.in_(select(listed.c.value))  # type: ignore[no-any-return]


def _raw(column: Column[Any]) -> Any:
    """A column as the database stores it, neither read nor bound through its type."""
    return type_coerce(column, NullType())


#: How a rejection names the way a key several accounts share was looked up.
_SHARED = {"email": "contact e-mail", "website": "website", "account": "name"}


class _Accounts:
    """Says why a row is rejected whose key several accounts hold: how many there are and
    the first few of them, each way through its index (contacts by their e-mail's key,
    accounts by website domain and by name; the demo gives a name to a hundred accounts or
    more). An import writes no account, so what is said of a key is kept for the chunks
    after (names, websites and e-mails repeat across a file)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        #: (way, key) → why a row with that key is rejected, for the keys accounts share.
        self.ambiguous: dict[tuple[str, str], str] = {}

    def say(self, shared: set[tuple[str, str]]) -> None:
        """Why rows are rejected whose key several accounts hold, for the (way, key) not
        said before: how many hold each and the first few of them read in one statement for
        all the keys, their candidates in one more."""
        new = shared - self.ambiguous.keys()
        if not new:
            return
        held: dict[tuple[str, str], _Holders] = {}
        for way, key, holders, holder in self.conn.execute(self._holders(new)).all():
            held.setdefault((way, key), (holders, []))[1].append(holder)
        candidates = self.candidates({i for _, ids in held.values() for i in ids})
        for (way, key), (sharing, ids) in held.items():
            listed = [candidates[i] for i in ids]
            self.ambiguous[way, key] = ambiguous(_SHARED[way], listed, sharing)

    def _holders(self, shared: set[tuple[str, str]]) -> Select[Any]:
        """Per (way, key): how many live accounts hold it and the first few of them
        (SHOWN_CANDIDATES), in their place, each way through its key's index: the accounts
        with a live contact with the e-mail in the order their first such contact was made,
        those with the website's domain or the name in their id's order (any few will do)."""
        ways = []
        for way in _SHARED:
            if not (keys := {key for w, key in shared if w == way}):
                continue
            if way == "email":
                c = contacts.c
                first = func.row_number().over(
                    partition_by=[c.email_key, c.account_id], order_by=[c.created_at, c.id]
                )
                firsts = (
                    select(c.email_key.label("key"), _raw(c.account_id).label("holder"),
                           c.created_at, c.id, first.label("first"))
                    .where(live_account_id(c.account_id), c.deleted_at.is_(None),
                           _one_of(self.conn, c.email_key, keys))
                    .subquery()
                )  # fmt: skip
                key, order = firsts.c.key, [firsts.c.created_at, firsts.c.id]
                found = select(literal(way).label("way"), key, firsts.c.holder)
                found = found.where(firsts.c.first == 1)
            else:
                key = accounts.c.domain_key if way == "website" else accounts.c.name_key
                order = [accounts.c.id]
                found = select(literal(way).label("way"), key.label("key"),
                               _raw(accounts.c.id).label("holder"))  # fmt: skip
                found = found.where(LIVE_ACCOUNT, _one_of(self.conn, key, keys))
            holders = func.count().over(partition_by=key)
            place = func.row_number().over(partition_by=key, order_by=order)
            ways.append(found.add_columns(holders.label("holders"), place.label("place")))
        placed = union_all(*ways).subquery()
        return (
            select(placed.c.way, placed.c.key, placed.c.holders, placed.c.holder)
            .where(placed.c.place <= SHOWN_CANDIDATES)
            .order_by(placed.c.way, placed.c.key, placed.c.place)
        )

    def candidates(self, ids: set[_RawId]) -> dict[_RawId, Candidate]:
        """The accounts ambiguous rows may be, as their rejections list them."""
        if not ids:
            return {}
        columns = [_raw(accounts.c.id), accounts.c.name, accounts.c.website, accounts.c.country]
        found = self.conn.execute(
            select(*columns).where(_one_of(self.conn, _raw(accounts.c.id), ids))
        ).all()
        return {raw: Candidate(_uuid(raw), *row) for raw, *row in found}


#: A chunk of the file's rows, with the keys each is matched by and then what the matching
#: found: a temporary table that the import's statements match against the key indexes,
#: add to the engagement and read the rejected rows back from, emptied for the next chunk.
_staging = MetaData()
staged = Table(
    "engagement_staging",
    _staging,
    Column("n", Integer, primary_key=True, autoincrement=False),  # the file's row number
    Column("email", String),  # the keys: a contact's e-mail, a website's domain, a name
    Column("domain", String),
    Column("name", String),
    *(Column(c.name, c.type) for c in engagements.c if c.name in _FROM_THE_FILE),
    Column("account_id", Uuid),
    Column("contact_id", Uuid),
    Column("from_website", Boolean),  # its domain is its website's (else its e-mail's)
    Column("way", String(20)),  # the field whose way of matching found the account
    Column("shared", Boolean),  # several live accounts hold the key that found it
    prefixes=["TEMPORARY"],
)
#: A row the same as one earlier in the file is found by its time: the index is built once
#: the file is staged, in one sort, rather than kept up row by row.


def _matching(conn: Connection) -> list[TextClause]:
    """The statements that match a chunk's rows (those numbered from ``first`` on), each way
    through its index, for the rows the ways before left unmatched: by a contact's e-mail
    (its oldest live contact with it, kept with the engagement), a website's domain, a name.
    Each sets the account found first, the way that found it, and whether another live
    account holds the key too (the row is then rejected, listing a few of them)."""
    live = live_account_id(contacts.c.account_id).compile(conn)
    other_live = live_account_id(contacts.alias("other").c.account_id).compile(conn)
    by_email = f"""
        UPDATE engagement_staging SET (account_id, contact_id, way, shared) = (
            SELECT contacts.account_id, contacts.id, 'email', EXISTS (
                SELECT 1 FROM contacts AS other
                WHERE other.email_key = contacts.email_key AND other.deleted_at IS NULL
                    AND other.account_id <> contacts.account_id AND {other_live})
            FROM contacts
            WHERE contacts.email_key = engagement_staging.email
                AND contacts.deleted_at IS NULL AND {live}
            ORDER BY contacts.created_at, contacts.id LIMIT 1)
        WHERE n >= :first AND email IS NOT NULL"""
    by_account = """
        UPDATE engagement_staging SET (account_id, way, shared) = (
            SELECT accounts.id, '{way}', EXISTS (
                SELECT 1 FROM accounts AS other
                WHERE other.{key} = accounts.{key} AND other.deleted_at IS NULL
                    AND other.id <> accounts.id)
            FROM accounts
            WHERE accounts.{key} = engagement_staging.{column} AND accounts.deleted_at IS NULL
            LIMIT 1)
        WHERE n >= :first AND account_id IS NULL AND {column} IS NOT NULL"""
    ways = [("website", "domain_key", "domain"), ("account", "name_key", "name")]
    return [text(by_email)] + [
        text(by_account.format(way=way, key=key, column=column)) for way, key, column in ways
    ]


#: What makes a row the same engagement: its account and contact, kind, time and campaign.
_SAME = ("account_id", "contact_id", "kind", "at", "campaign")
#: The staged rows whose account was found, and was the only one holding their key.
_MATCHED = and_(staged.c.account_id.is_not(None), staged.c.shared.is_(False))
#: The rows of the chunk being staged: those numbered from its first row on.
_IN_CHUNK = staged.c.n >= bindparam("first")


class _Adding:
    """The statements that add the file's matched rows to the engagement: a chunk's rows
    that are the same engagement as one stored before are left out while it is staged (each
    looked up by its time, in the engagement's index); once the file is staged, those the
    same as one earlier in the file, if a sort of the matched rows finds two of one account
    at one time (the matched rows numbered within their engagement, in one more sort,
    rather than each looked up); then the rest are added in one statement, under new ids
    made from their row numbers, in that order; and how many each way added."""

    def __init__(self, conn: Connection, run: ImportRun) -> None:
        s, e = staged.c, engagements.c
        ids = new_ids_in_sql(conn)
        stored = select(1).where(*(e[n].is_not_distinct_from(s[n]) for n in _SAME))
        self.stored = delete(staged).where(_IN_CHUNK, _MATCHED, stored.exists())
        same = [s[n] for n in _SAME]
        place = func.row_number().over(partition_by=same, order_by=s.n)
        placed = select(s.n, place.label("place")).where(_MATCHED).subquery()
        self.repeated = delete(staged).where(s.n.in_(select(placed.c.n).where(placed.c.place > 1)))
        #: Whether any matched rows may be the same engagement, of one account at one time:
        #: a sort of them by those two alone, a quarter of the numbering's cost, which a file
        #: with none (the common case) is spared.
        alike = (s.at, s.account_id)
        repeats = select(*alike).where(_MATCHED).group_by(*alike).having(func.count() > 1)
        self.any_repeated = select(repeats.exists())
        made = [literal(run.batch_id, e.import_batch_id.type), literal(run.now, e.created_at.type),
                literal(run.user.name, e.created_by.type)]  # fmt: skip
        rows = (
            select(ids(s.n), *(s[n] for n in ("account_id", "contact_id", *_FROM_THE_FILE)), *made)
            .where(_MATCHED)
            .order_by(s.n)
        )
        self.insert = insert(engagements).from_select(
            ["id", "account_id", "contact_id", *_FROM_THE_FILE, *_MADE], rows
        )
        #: How many each way added: the matched rows left.
        self.tally = select(s.way, func.count()).where(_MATCHED).group_by(s.way)


#: The chunk's rows that were matched, and its rejected ones with the key of the way that
#: found several accounts and the field whose column it is in (a domain not from a website
#: is the e-mail's).
_MATCHED_ROWS = select(func.count()).where(_IN_CHUNK, _MATCHED)
_REJECTED = (
    select(
        staged.c.n,
        staged.c.way,
        case(
            {"email": staged.c.email, "website": staged.c.domain, "account": staged.c.name},
            value=staged.c.way,
        ),
        case(
            (and_(staged.c.way == "website", staged.c.from_website.is_(False)), "email"),
            else_=staged.c.way,
        ),
    )
    .where(_IN_CHUNK, or_(staged.c.account_id.is_(None), staged.c.shared.is_(True)))
    .order_by(staged.c.n)
)


def _import_rows(run: ImportRun, found: _Accounts, columns: dict[str, str], big: bool) -> None:
    """Stage the file a chunk at a time, each matched and its rejected rows said as it comes
    (the progress moves and a cancel stops it between chunks), then add all the matched rows
    in one statement, the engagement's indexes dropped meanwhile for a ``big`` file."""
    summary = run.summary
    assert isinstance(summary, EngagementSummary)
    conn = run.conn
    matching, adding = _matching(conn), _Adding(conn, run)
    # a workspace with no engagement yet holds none of the file's rows: no row is looked up
    stored_before = conn.execute(select(engagements.c.id).limit(1)).first() is not None
    for chunk in run.parsed_chunks():
        if not chunk.staged:
            continue
        first = {"first": chunk.staged[0][0]}
        bulk_insert(conn, staged, _STAGED, chunk.staged, stored=True)
        for statement in matching:
            conn.execute(statement, first)
        summary.skipped += conn.execute(_MATCHED_ROWS, first).scalar_one()
        rejected = [tuple(row) for row in conn.execute(_REJECTED, first)]
        _reject(run, found, columns, chunk, rejected)
        if stored_before:
            conn.execute(adding.stored, first)
    run.check_cancel()
    if conn.execute(adding.any_repeated).scalar_one():
        conn.execute(adding.repeated)
    with indexes_rebuilt(conn, engagements, big):
        conn.execute(adding.insert)
        for way, added in conn.execute(adding.tally):
            summary.added_by[way] = added
            summary.created += added
            summary.skipped -= added
        run.check_cancel()
    engaged = select(staged.c.account_id).where(_MATCHED, staged.c.campaign != "")
    refresh_campaigns(conn, engaged)  # the closed loop's


def _reject(
    run: ImportRun,
    found: _Accounts,
    columns: dict[str, str],
    chunk: Chunk,
    rejected: Sequence[tuple[int, str | None, str | None, str | None]],
) -> None:
    """Reject the chunk's rows that no account or several match (their number, the way
    that found several, its key and the field it is in), each with the column it names and
    why."""
    summary = run.summary
    assert isinstance(summary, EngagementSummary)
    found.say({(way, key) for _, way, key, _ in rejected if way is not None and key is not None})
    for number, way, key, field in rejected:
        # the staged rows are in their numbers' order: each found by a binary search
        cells = chunk.cells[bisect_left(chunk.staged, (number,))]
        if way is None or key is None or field is None:
            run.reject(number, cells, columns[""], NOT_FOUND)
            summary.unmatched += 1
            continue
        run.reject(number, cells, columns[field], found.ambiguous[way, key])
        summary.ambiguous += 1


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
) -> Reading:
    """How an engagement file's rows are read: each made the row the staging table takes
    (staging.StagedRows), its time in the form the workspace's database stores it: the text
    SQLAlchemy binds on SQLite, the time itself on PostgreSQL."""
    dialect = workspace.engine.dialect
    as_text = engagements.c.at.type.dialect_impl(dialect).bind_processor(dialect) is not None
    given = (options.kind, options.campaign, options.source)
    staged_of = partial(StagedRows, as_text, given)
    return Reading(table, fields, mapped_fields, importer.CHUNK, staged_of=staged_of)


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
    reading = engagement_reading(workspace, table, options, fields, mapped_fields)
    try:
        with (
            read_chunks(reading, own_process=read_apart(path)) as parsed,
            cycle_collector_paused(),
            workspace.write(references_checked=False) as conn,
        ):
            folder = file.parent if (file := sqlite_file(workspace.url)) else None
            run = ImportRun(conn, user, table, "engagement", parsed, options, progress, cancel,
                            folder, EngagementSummary)  # fmt: skip
            run.summary.mapping = mapping_line(table.headers, mapped_fields, fields)
            big = bigger_than_stored(conn, path, engagements)
            columns = _matching_columns(table.headers, mapped_fields)
            with _staging_table(conn):
                _import_rows(run, _Accounts(conn), columns, big)
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
