"""Importing engagement: a marketing tool's export read as the account import reads a file
(the same readers, limits, mapping and rejected rows), each row matched to an account by a
contact's e-mail, a website's domain or the account's name (matching.py), in one
transaction whose import batch undoes it whole."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from functools import partial
from itertools import compress
from operator import itemgetter
from pathlib import Path

from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    delete,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.exc import OperationalError

from domain.engagement import (
    ENGAGEMENT_FIELDS,
    EngagementOptions,
    EngagementSummary,
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
from storage.importing.apart import MatchingApart
from storage.importing.files import SourceTable, open_table
from storage.importing.importer import (
    ImportRun,
    bigger_than_stored,
    check_mapped_fields,
    disk_full,
    read_apart,
)
from storage.importing.matching import Matching, RawId, fetched, matching_columns, one_column, raw
from storage.importing.reading import Reading, read_chunks
from storage.importing.staging import StagedRows
from storage.schema import EngagementRow, table_of
from storage.segments import refresh_campaigns
from storage.workspace import Workspace, sqlite_file

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
    that may be the same engagement as one stored before are left out while it is staged if
    they are (each looked up by its time, in the engagement's index); once the file is
    staged, those the same as one earlier in the file, if a sort of the staged rows finds
    two of one account at one time (the rows numbered within their engagement, in one more
    sort, rather than each looked up); then the rest are added in one statement, under new
    ids made from their row numbers, in that order; and how many each way added."""

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
        each = one_column(self.conn, numbers, Integer)
        self.conn.execute(delete(staged).where(staged.c.n.in_(select(each.c.value)), self.stored))


def _import_rows(run: ImportRun, matching: Matching, big: bool) -> None:
    """Stage the file a chunk at a time, each matched and its rejected rows said as it comes
    (the progress moves and a cancel stops it between chunks), then add all the matched rows
    in one statement, the engagement's indexes dropped meanwhile for a ``big`` file."""
    summary = run.summary
    assert isinstance(summary, EngagementSummary)
    conn = run.conn
    adding = _Adding(conn, run)
    # Only a row of an account with engagement may be the same as one stored before: for a
    # file as big as the stored engagement, those accounts are read first, in one pass over
    # its index, and the rows of the others not looked up; a smaller file's rows all are.
    engaged = (
        {i for (i,) in fetched(conn, select(raw(engagements.c.account_id)).distinct())}
        if big
        else None
    )
    # Whether a row may be the same engagement as one before it in the file: the hash of
    # each one's engagement is kept (in a set, as it comes) until two are the same, when
    # the rows are numbered within their engagement; a file with none (the common case)
    # is spared that sort.
    seen: set[int] | None = set()
    campaigned: set[RawId] = set()
    for chunk in run.parsed_chunks():
        if not chunk.matched:  # read here, or by a reader process that cannot match
            matching(chunk)
        else:
            matching.learn(chunk)
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
        if may_be_stored := [row[0] for row in matched if engaged is None or row[1] in engaged]:
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
    # the accounts' ids bound a chunk at a time, in order: selected from the staged rows
    # inside the statement, they were sorted and looked up again (a second more)
    ids = sorted(campaigned)
    for at in range(0, len(ids), importer.CHUNK):
        each = one_column(conn, ids[at : at + importer.CHUNK], Uuid)
        refresh_campaigns(conn, select(each.c.value))  # the closed loop's


@contextmanager
def _staging_table(conn: Connection) -> Iterator[None]:
    """The staging table while the rows are imported, dropped at the end (a failure rolls
    back its making with the rest)."""
    staged.create(conn)
    yield
    staged.drop(conn)


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
    columns = matching_columns(table.headers, mapped_fields)
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
                _import_rows(run, Matching(conn, columns), big)
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
