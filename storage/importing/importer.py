"""Importing accounts and contacts: one transaction per file, dedupe against the file and
the workspace, an import batch that can be undone as a whole."""

from __future__ import annotations

import errno
import os
import pickle
import sqlite3
import tempfile
import uuid
import weakref
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from operator import add, itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Connection, Table, delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError, OperationalError

from domain.fields import ACCOUNT_FIELDS, CONTACT_FIELDS, CONTACT_FILE_FIELDS, Field
from domain.importing import (
    SHOWN_REJECTS,
    Brief,
    DiskFull,
    FileRefused,
    ImportCancelled,
    ImportOptions,
    ImportSummary,
    Matched,
    Outcome,
    RowError,
    account_of_contact,
    apply_saved_mapping,
    auto_mapping,
    column_scales,
    doubled_fields,
    load_mapping,
    mapping_line,
    merge,
    missing_required,
    named,
    number_format,
    number_reading,
    possible_duplicate,
    shared_fields,
)
from domain.progress import Cancel, Progress
from domain.users import User
from domain.values import (
    NumberReading,
    counted,
    country_code,
    normalize_domain,
    normalize_name,
    phone_e164,
)
from storage.bulk import bulk_insert, cycle_collector_paused, indexes_rebuilt, new_id
from storage.change_log import log_change
from storage.goal_facts import refresh_goal_facts, with_goal_facts
from storage.icps import rescore_batch
from storage.importing.files import SourceTable, open_table
from storage.importing.reading import Cells, Chunk, Reading, read_chunks
from storage.keys import Keys, account_keys, derived_columns, email_key
from storage.queries import LIVE_ACCOUNT
from storage.queue_facts import refresh_queue_facts, with_queue_facts
from storage.schema import (
    AccountRow,
    ContactRow,
    EngagementRow,
    ImportBatchRow,
    ImportChangeRow,
    PossibleDuplicateRow,
    table_of,
    utcnow,
)
from storage.segments import refresh_campaigns
from storage.sla_facts import handed_off_in, refresh_sla_facts
from storage.workspace import Workspace, sqlite_file

accounts = table_of(AccountRow)
contacts = table_of(ContactRow)
batches = table_of(ImportBatchRow)
changes_table = table_of(ImportChangeRow)
flags = table_of(PossibleDuplicateRow)
engagements = table_of(EngagementRow)

CHUNK = 5000
REBUILD_AT_ROWS = 50_000
#: Rows from which a file of accounts or engagement is read and parsed in a process of its
#: own, beside the import (starting it takes about half a second).
OWN_READER_AT_ROWS = 50_000
ACCOUNT_VALUES = [f.name for f in ACCOUNT_FIELDS] + ["custom"]
CONTACT_VALUES = [f.name for f in CONTACT_FIELDS if f.name != "account"]
EMPTY_ACCOUNT: dict[str, Any] = dict.fromkeys(ACCOUNT_VALUES)
EMPTY_CONTACT: dict[str, Any] = {**dict.fromkeys(CONTACT_VALUES), "decision_maker": False}


def _mapped_fields(
    table: SourceTable, fields: tuple[Field, ...], options: ImportOptions
) -> tuple[list[str], list[int]]:
    """The field of each column, and its scale (those given with the options win over a
    mapping file's)."""
    saved = load_mapping(options.mapping_file) if options.mapping_file is not None else None
    if options.mapped_fields is not None:
        mapped_fields = list(options.mapped_fields)
    elif saved is not None:
        mapped_fields = apply_saved_mapping(table.headers, saved.fields, fields)
    else:
        mapped_fields = auto_mapping(table.headers, fields)
    check_mapped_fields(table, mapped_fields, fields)
    scales = {**(saved.scales if saved else {}), **options.scales}
    return mapped_fields, column_scales(table.headers, mapped_fields, scales, fields)


def number_columns(mapped_fields: list[str], fields: tuple[Field, ...]) -> list[int]:
    """The columns mapped to a field whose cells are numbers (an amount, a head count)."""
    numeric = {f.name for f in fields if f.numeric}
    return [index for index, mapped_to in enumerate(mapped_fields) if mapped_to in numeric]


def read_numbers(
    table: SourceTable, mapped_fields: list[str], fields: tuple[Field, ...], chosen: str | None
) -> NumberReading | None:
    """How the file's numbers are read: in the format ``chosen``, else in the one that the
    numbers of its first rows show (those of the columns mapped to a number field); None
    when no column is."""
    columns = number_columns(mapped_fields, fields)
    if not columns:
        if chosen is not None:
            number_format(chosen)  # a format mistyped is said all the same
        return None
    return number_reading(table.written_numbers(columns), chosen)


def check_mapped_fields(
    table: SourceTable, mapped_fields: list[str], fields: tuple[Field, ...]
) -> None:
    """Refuse a mapping that leaves a required field out or gives a name part two columns
    (any other field takes the first filled of its columns)."""
    if missing := missing_required(mapped_fields, fields):
        raise FileRefused(
            f"{table.path.name}: no column is mapped to {', '.join(missing)} "
            f"(header row {table.header_row}: {', '.join(h for h in table.headers if h)})."
        )
    if doubled := doubled_fields(table.headers, mapped_fields):
        raise FileRefused(
            f"{table.path.name}: more than one column is mapped to {'; '.join(doubled)}. "
            "A contact's name joins its parts: map each part from one column and ignore the "
            "others."
        )


class RejectedRows:
    """Every rejected row of an import, in a temporary file: an import of a big file of bad
    rows keeps them on disk, not in memory. The file sits beside the workspace (in the
    system's temporary folder for a server's) and has no name: it goes when the summary
    that holds it goes, or when the process ends, however it ends. The rows are written
    WRITTEN_ROWS at a time, each batch pickled at once (a rejection's reason, the same text
    for many rows, is written once a batch): a few times cheaper than a line each."""

    def __init__(self, folder: Path | None, file_name: str) -> None:
        self.file_name = file_name
        # open while the summary lives: closed (and so removed) when it is collected
        self.file = tempfile.TemporaryFile("w+b", dir=folder)  # noqa: SIM115
        weakref.finalize(self, self.file.close)
        self.waiting: list[tuple[int, str, str, list[str]]] = []

    def add_all(self, rejected: Sequence[tuple[int, str, str]], cells: Sequence[list[str]]) -> None:
        """Add rows, each given by its number, column and reason, and its cells."""
        self.waiting += map(add, rejected, zip(cells))
        if len(self.waiting) >= WRITTEN_ROWS:
            self._write()

    def _write(self) -> None:
        """Write the rows waiting, at the file's end."""
        self.file.seek(0, os.SEEK_END)
        try:
            pickle.dump(self.waiting, self.file, pickle.HIGHEST_PROTOCOL)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise DiskFull(self.file_name) from None
            raise
        self.waiting = []

    def __iter__(self) -> Iterator[tuple[RowError, list[str]]]:
        if self.waiting:
            self._write()
        self.file.flush()
        self.file.seek(0)
        while True:
            try:
                # Accord's own rows, written by this process to a file no one else can open.
                written = pickle.load(self.file)
            except EOFError:
                return
            for row, column, reason, cells in written:
                yield RowError(row, column, reason), cells


#: Rejected rows written to the file at a time (RejectedRows).
WRITTEN_ROWS = 2000


class ImportRun:
    """State of one import while its transaction is open."""

    def __init__(
        self,
        conn: Connection,
        user: User,
        table: SourceTable,
        kind: str,
        chunks: Iterator[Chunk],
        options: ImportOptions,
        progress: Progress | None,
        cancel: Cancel | None,
        folder: Path | None,
        summary_type: type[ImportSummary] = ImportSummary,
    ) -> None:
        self.conn, self.user, self.table, self.options = conn, user, table, options
        self.workspace_folder = folder
        self.spilled: RejectedRows | None = None
        self.chunks = chunks
        #: The employee bands read so far, with the lower bound stored for each.
        self.bands: dict[str, int] = {}
        self.progress, self.cancel = progress, cancel
        self.batch_id = new_id()
        self.now = utcnow()
        self.summary = summary_type(
            table.path.name,
            self.batch_id,
            headers=list(table.headers),
            notes=list(table.notes),
            from_csv=table.is_csv,
        )
        self.recorded: set[uuid.UUID] = set()  # records whose before-values are kept
        #: the columns every record this import creates shares
        self.bookkeeping = {
            "created_at": self.now,
            "updated_at": self.now,
            "changed_by": user.name,
            "version": 1,
            "deleted_at": None,
            "import_batch_id": self.batch_id,
        }
        conn.execute(
            insert(batches).values(
                id=self.batch_id,
                kind=kind,
                file_name=table.path.name[:500],
                created_at=self.now,
                created_by=user.name,
                created=0,
                updated=0,
                skipped=0,
                rejected=0,
            )
        )

    def reject(self, number: int, cells: list[str], column: str, reason: str) -> None:
        """Keep the row for the summary while it shows fewer than SHOWN_REJECTS, and every
        row in a file from the first one beyond."""
        self.reject_all([(number, column, reason)], Cells(tuple((cell,) for cell in cells)))

    def reject_all(self, rejected: Sequence[tuple[int, str, str]], cells: Cells) -> None:
        """Reject rows as ``reject`` does, each given by its number, column and reason, their
        cells column by column (a chunk's many rows, each handled only by built-ins)."""
        s = self.summary
        rows = list(
            map(list, zip(map(str, map(itemgetter(0), rejected)), *cells.columns, strict=True))
        )
        shown = min(max(SHOWN_REJECTS - s.rejected, 0), len(rejected))
        s.errors += [RowError(*why) for why in rejected[:shown]]
        s.rejected_cells += rows[:shown]
        if shown < len(rejected):
            self._spilled().add_all(rejected[shown:], rows[shown:])
            s.more_rejected += len(rejected) - shown

    def _spilled(self) -> RejectedRows:
        """The file of every rejected row, once a file rejects more than the summary shows:
        made, with the rows the summary kept, the first time."""
        s = self.summary
        if self.spilled is None:
            self.spilled = s.all_rejected = RejectedRows(self.workspace_folder, s.file_name)
            self.spilled.add_all([(e.row, e.column, e.reason) for e in s.errors], s.rejected_cells)
        return self.spilled

    def matched(
        self,
        number: int,
        values: dict[str, Any],
        outcome: Outcome,
        account: dict[str, Any],
        by_website: bool,
    ) -> None:
        """Name a row that matched ``account`` in the summary (skipped until merged)."""
        self.summary.matched.append(
            Matched(
                number,
                named(values["name"], values.get("country")),
                outcome,
                named(account["name"], account.get("country")),
                by_website,
            )
        )

    def flag(self, number: int, record: dict[str, Any], existing: dict[str, Any]) -> dict[str, Any]:
        """The row of ``possible_duplicates`` that keeps a new account apart for review."""
        return {
            "id": new_id(),
            "batch_id": self.batch_id,
            "row_number": number,
            "account_id": record["id"],
            "existing_id": existing["id"],
        }

    def check_cancel(self) -> None:
        """Stop the import (its transaction rolled back) if the user cancelled it."""
        if self.cancel is not None and self.cancel():
            raise ImportCancelled

    def parsed_chunks(self) -> Iterator[Chunk]:
        """The file's chunks, their rejected rows and unread cells kept for the summary."""
        done = 0
        for chunk in self.chunks:
            self.check_cancel()
            for rejected in chunk.rejected:
                self.reject(*rejected)
            for unread in chunk.unread:
                self.summary.warn(unread)
            self.bands = chunk.bands
            yield chunk
            done += chunk.read
            if self.progress is not None:
                self.progress(done, None)

    def keep_before(self, table: Table, record: dict[str, Any], names: Iterable[str]) -> None:
        """Remember the values an update overwrites (once per record), for undo."""
        if record["import_batch_id"] == self.batch_id or record["id"] in self.recorded:
            return
        self.recorded.add(record["id"])
        before = {n: record[n] for n in names}
        self.conn.execute(
            insert(changes_table).values(
                batch_id=self.batch_id,
                record_id=record["id"],
                table_name=table.name,
                before=before,
                version_after=record["version"] + 1,
            )
        )

    def finish(self) -> ImportSummary:
        s = self.summary
        s.bands = self.bands
        if self.options.strict and (s.errors or s.warnings):
            first = "; ".join(e.describe(s.file_name) for e in [*s.errors, *s.warnings][:5])
            raise FileRefused(
                f"{s.file_name}: {counted(s.rejected, 'row')} rejected and "
                f"{counted(s.warned, 'cell')} not read, nothing imported (--strict). {first}"
            )
        rescore_batch(self.conn, self.batch_id, created=True)
        self.conn.execute(
            update(batches)
            .where(batches.c.id == self.batch_id)
            .values(created=s.created, updated=s.updated, skipped=s.skipped, rejected=s.rejected)
        )
        log_change(
            self.conn, self.user, "import_batches", self.batch_id, "import",
            {"summary": s.describe()},
        )  # fmt: skip
        return s


def _apply_update(
    run: ImportRun, table: Table, record: dict[str, Any], changes: dict[str, Any], derived: bool
) -> None:
    run.keep_before(table, record, changes)
    values = dict(changes)
    if derived:
        merged = {k: record[k] for k in ACCOUNT_VALUES} | changes
        values |= derived_columns(merged)
    run.conn.execute(
        update(table)
        .where(table.c.id == record["id"])
        .values(**values, version=table.c.version + 1, updated_at=run.now, changed_by=run.user.name)
    )
    record.update(changes)
    record["version"] += 1


def _same_company(domain: str | None, record: dict[str, Any]) -> bool:
    """Name and country match; the websites, where both have one, must not differ."""
    return domain is None or record["domain_key"] is None or record["domain_key"] == domain


class _StoredAccounts:
    """Finds the stored accounts that rows of the file may duplicate, a chunk at a time:
    through the key indexes, or (``in_memory``, for a big import that drops those indexes
    while it runs) through the keys of every live account, read once at the start."""

    COLUMNS = [accounts.c[n] for n in ACCOUNT_VALUES] + [
        accounts.c.id,
        accounts.c.version,
        accounts.c.domain_key,
        accounts.c.import_batch_id,
    ]

    def __init__(self, conn: Connection, in_memory: bool) -> None:
        self.conn = conn
        self.ids_by_domain: dict[str, list[Any]] | None = None
        self.ids_by_name: dict[str, list[Any]] = {}
        if in_memory:
            self.ids_by_domain = {}
            keys = select(accounts.c.id, accounts.c.domain_key, accounts.c.name_key)
            for id_, domain, name in conn.execute(keys.where(LIVE_ACCOUNT)):
                if domain:
                    self.ids_by_domain.setdefault(domain, []).append(id_)
                self.ids_by_name.setdefault(name, []).append(id_)

    def learn(self, record: dict[str, Any], keys: Keys | None = None) -> None:
        """Keep the keys of a record this import wrote (read up front, they lack it)."""
        if self.ids_by_domain is not None:
            domain, (name, _) = keys or account_keys(record)
            if domain:
                self.ids_by_domain.setdefault(domain, []).append(record["id"])
            self.ids_by_name.setdefault(name, []).append(record["id"])

    def matching(self, domains: set[str], names: set[str]) -> Iterator[dict[str, Any]]:
        if self.ids_by_domain is None:
            lookups = [accounts.c.name_key.in_(names)]
            if domains:
                lookups.append(accounts.c.domain_key.in_(domains))
        else:
            ids = {i for d in domains for i in self.ids_by_domain.get(d, ())}
            ids |= {i for n in names for i in self.ids_by_name.get(n, ())}
            lookups = [accounts.c.id.in_(ids)] if ids else []
        seen: set[Any] = set()
        for lookup in lookups:
            for row in self.conn.execute(select(*self.COLUMNS).where(LIVE_ACCOUNT, lookup)):
                if row.id not in seen:
                    seen.add(row.id)
                    yield dict(row._mapping)


def _import_accounts(run: ImportRun, stored: _StoredAccounts) -> None:
    policy = run.options.on_duplicate
    unknown = run.summary.unknown_countries
    for chunk in run.parsed_chunks():
        keys: list[Keys] = chunk.keys
        for _, _, values in chunk.rows:
            if (country := values.get("country")) and country_code(country) is None:
                unknown[country] = unknown.get(country, 0) + 1
        domains = {d for d, _ in keys if d}
        names = {n[0] for _, n in keys if n[0]}
        by_domain: dict[str, list[dict[str, Any]]] = {}
        by_name: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for record in stored.matching(domains, names):
            _remember(record, by_domain, by_name)
        inserts: list[dict[str, Any]] = []
        pending: set[uuid.UUID] = set()
        flagged: list[dict[str, Any]] = []
        bookkeeping = run.bookkeeping
        # worked out by the reader while this process was behind, else here
        derived: list[dict[str, Any] | None] = [*chunk.derived] or [None] * len(keys)
        for (number, _, values), row_keys, row_derived in zip(
            chunk.rows, keys, derived, strict=True
        ):
            match, outcome, by_website = _match(*row_keys, by_domain, by_name)
            if match is not None:
                run.matched(number, values, outcome, match, by_website)
            if match is None or outcome is Outcome.POSSIBLE:
                record = {**EMPTY_ACCOUNT, **values, **bookkeeping}
                record.update(row_derived or derived_columns(values, row_keys))
                record["custom"] = values["custom"] or None
                record["id"] = id_ = new_id()
                inserts.append(record)
                pending.add(id_)
                _remember(record, by_domain, by_name, row_keys)
                stored.learn(record, row_keys)
                if match is not None:
                    flagged.append(run.flag(number, record, match))
                continue
            existing = {k: match[k] for k in ACCOUNT_VALUES}
            changes = merge(existing, values, policy)
            if not changes:
                run.summary.skipped += 1
                continue
            run.summary.matched[-1] = replace(run.summary.matched[-1], outcome=Outcome.UPDATED)
            if match["id"] in pending:
                match.update(changes, **derived_columns({**match, **changes}))
            else:
                _apply_update(run, accounts, match, changes, derived=True)
            stored.learn(match)
            run.summary.updated += 1
        run.summary.created += len(inserts)
        _flush_inserts(run.conn, accounts, inserts)
        if flagged:
            run.conn.execute(insert(flags), flagged)


def _match(
    domain: str | None,
    name: tuple[str, str],
    by_domain: dict[str, list[dict[str, Any]]],
    by_name: dict[tuple[str, str], list[dict[str, Any]]],
) -> tuple[dict[str, Any] | None, Outcome, bool]:
    """The account a row duplicates, what becomes of the row, and whether the website
    matched. An account with the row's website whose name and country both differ is only
    a possible duplicate, and only when no account is the row's company by its website
    or by its name and country."""
    sharing = by_domain.get(domain, []) if domain else []
    for record in sharing:
        if not possible_duplicate(name, account_keys(record)[1]):
            return record, Outcome.SKIPPED, True
    # A name of punctuation alone ("?????", mangled upstream) has an empty key: it names
    # no company, so it matches none.
    for record in by_name.get(name, []) if name[0] else []:
        if _same_company(domain, record):
            return record, Outcome.SKIPPED, False
    if sharing:
        return sharing[0], Outcome.POSSIBLE, True
    return None, Outcome.SKIPPED, False


def _flush_inserts(conn: Connection, table: Table, inserts: list[dict[str, Any]]) -> None:
    if inserts:
        columns = list(inserts[0])
        bulk_insert(conn, table, columns, map(itemgetter(*columns), inserts))


def _remember(
    record: dict[str, Any],
    by_domain: dict[str, list[dict[str, Any]]],
    by_name: dict[tuple[str, str], list[dict[str, Any]]],
    keys: Keys | None = None,
) -> None:
    domain, name = keys or account_keys(record)
    if domain:
        by_domain.setdefault(domain, []).append(record)
    by_name.setdefault(name, []).append(record)


def _import_contacts(run: ImportRun, mapped_fields: list[str]) -> None:
    policy = run.options.on_duplicate
    columns = [contacts.c[n] for n in CONTACT_VALUES] + [
        contacts.c.email_key,
        contacts.c.phone_e164,
        contacts.c.id,
        contacts.c.version,
        contacts.c.account_id,
        contacts.c.import_batch_id,
    ]
    headers = zip(run.table.headers, mapped_fields, strict=False)
    column = next((h for h, mapped_to in headers if mapped_to == "account"), "Account")
    for chunk in run.parsed_chunks():
        parsed = chunk.rows
        candidates = _accounts_for(run.conn, {values["account"] for _, _, values in parsed})
        ids = {c.id for found in candidates.values() for c in found}
        countries = dict(
            run.conn.execute(
                select(accounts.c.id, accounts.c.country_code).where(accounts.c.id.in_(ids))
            ).all()
        )
        known: dict[tuple[uuid.UUID, str], dict[str, Any]] = {}
        for row in run.conn.execute(
            select(*columns).where(contacts.c.deleted_at.is_(None), contacts.c.account_id.in_(ids))
        ).mappings():
            _remember_contact(dict(row), known)
        inserts: list[dict[str, Any]] = []
        pending: set[uuid.UUID] = set()
        for number, cells, values in parsed:
            found = candidates.get(values.pop("account"), [])
            account = account_of_contact(
                found, values.pop("account_website", None), values.get("email")
            )
            if isinstance(account, str):
                run.reject(number, cells, column, account)
                continue
            account_id = account.id
            values.pop("custom", None)
            e164 = phone_e164(values.get("phone"), countries[account_id])
            match = known.get(_contact_key(account_id, values))
            if match is None:
                record = {
                    **EMPTY_CONTACT,
                    **values,
                    "email_key": email_key(values.get("email")),
                    "phone_e164": e164,
                    "account_id": account_id,
                    "id": new_id(),
                    **run.bookkeeping,
                }
                inserts.append(record)
                pending.add(record["id"])
                _remember_contact(record, known)
                run.summary.created += 1
                continue
            changes = merge({k: match[k] for k in CONTACT_VALUES}, values, policy)
            if "phone" in changes:
                changes["phone_e164"] = e164
            if "email" in changes:
                changes["email_key"] = email_key(changes["email"])
            if not changes:
                run.summary.skipped += 1
            elif match["id"] in pending:
                match.update(changes)
                run.summary.updated += 1
            else:
                _apply_update(run, contacts, match, changes, derived=False)
                run.summary.updated += 1
        _flush_inserts(run.conn, contacts, inserts)


def _contact_key(account_id: uuid.UUID, values: dict[str, Any]) -> tuple[uuid.UUID, str]:
    return account_id, email_key(values.get("email")) or "name:" + normalize_name(
        values.get("name")
    )


def _remember_contact(
    record: dict[str, Any], known: dict[tuple[uuid.UUID, str], dict[str, Any]]
) -> None:
    known.setdefault(_contact_key(record["account_id"], record), record)
    known.setdefault((record["account_id"], "name:" + normalize_name(record["name"])), record)


def _accounts_for(conn: Connection, refs: set[str]) -> dict[str, list[Brief]]:
    """Account reference (website/domain or name) → the accounts it may name, for the refs
    that match: by website, else by name."""
    by_domain = {ref: d for ref in refs if (d := normalize_domain(ref))}
    found = _briefs(conn, accounts.c.domain_key, by_domain)
    by_name = {ref: normalize_name(ref) for ref in refs if ref not in found}
    return found | _briefs(conn, accounts.c.name_key, by_name)


def _briefs(conn: Connection, key: Column[Any], keys: dict[str, Any]) -> dict[str, list[Brief]]:
    """Reference → the live accounts whose ``key`` column holds the reference's key."""
    if not keys:
        return {}
    columns = [accounts.c.id, accounts.c.name, accounts.c.website, accounts.c.country]
    briefs: dict[str, list[Brief]] = {}
    for value, *brief in conn.execute(
        select(key, *columns).where(LIVE_ACCOUNT, key.in_(set(keys.values())))
    ):
        briefs.setdefault(value, []).append(Brief(*brief))
    return {ref: briefs[k] for ref, k in keys.items() if k in briefs}


def _run_import(
    workspace: Workspace,
    user: User,
    path: Path,
    kind: str,
    options: ImportOptions,
    progress: Progress | None,
    cancel: Cancel | None,
) -> ImportSummary:
    fields = ACCOUNT_FIELDS if kind == "accounts" else CONTACT_FILE_FIELDS
    table = open_table(path, fields, options.sheet, options.encoding, options.delimiter)
    mapped_fields, scales = _mapped_fields(table, fields, options)
    reading = read_numbers(table, mapped_fields, fields, options.numbers)
    numbers = reading.numbers if reading else None
    if numbers:
        table = replace(table, decimal=numbers.decimal)
    rows = Reading(table, fields, mapped_fields, CHUNK, scales, numbers, kind == "accounts")
    apart = rows.accounts and read_apart(path)
    try:
        with (
            read_chunks(rows, own_process=apart) as chunks,
            cycle_collector_paused(),
            workspace.write() as conn,
        ):
            folder = file.parent if (file := sqlite_file(workspace.url)) else None
            run = ImportRun(conn, user, table, kind, chunks, options, progress, cancel, folder)
            if reading:
                run.summary.notes.append(reading.describe(path.name))
            run.summary.mapping = mapping_line(table.headers, mapped_fields, fields)
            if kind == "accounts":
                bigger = bigger_than_stored(conn, path, accounts)
                with indexes_rebuilt(conn, accounts, bigger) as rebuilt:
                    _import_accounts(run, _StoredAccounts(conn, in_memory=rebuilt))
            else:
                _import_contacts(run, mapped_fields)
            summary = run.finish()
            summary.notes += shared_fields(table.headers, mapped_fields, fields)
            return summary
    except OperationalError as error:
        if disk_full(error):
            raise DiskFull(path.name) from None
        raise


def disk_full(error: DBAPIError) -> bool:
    """SQLite's SQLITE_FULL, PostgreSQL's disk_full."""
    orig = error.orig
    return (
        getattr(orig, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
        or getattr(orig, "sqlstate", None) == "53100"
    )


#: Roughly the smallest number of bytes a company-list row takes in a file.
_BYTES_PER_ROW = 60


def read_apart(path: Path) -> bool:
    """Whether the file may hold OWN_READER_AT_ROWS rows: then a process of its own reads it."""
    return path.stat().st_size // _BYTES_PER_ROW >= OWN_READER_AT_ROWS


def bigger_than_stored(conn: Connection, path: Path, table: Table) -> bool:
    """Whether the file may hold as many rows as ``table`` holds (and REBUILD_AT_ROWS): an
    import that big drops the table's indexes and builds them again at the end."""
    existing = conn.execute(select(func.count()).select_from(table)).scalar_one()
    return path.stat().st_size // _BYTES_PER_ROW >= max(REBUILD_AT_ROWS, existing)


def import_accounts(
    workspace: Workspace,
    user: User,
    path: Path,
    options: ImportOptions | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> ImportSummary:
    """Import a company list; all or nothing (a crash or cancel changes nothing)."""
    return _run_import(
        workspace, user, path, "accounts", options or ImportOptions(), progress, cancel
    )


def import_contacts(
    workspace: Workspace,
    user: User,
    path: Path,
    options: ImportOptions | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> ImportSummary:
    """Import people and link each to its account by the account's website or name."""
    return _run_import(
        workspace, user, path, "contacts", options or ImportOptions(), progress, cancel
    )


class SqlImporter:
    """The domain's importer (domain.importing.Importer) on a workspace."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def run(
        self,
        user: User,
        path: Path,
        kind: str,
        options: ImportOptions,
        progress: Progress | None,
        cancel: Cancel | None,
    ) -> ImportSummary:
        run = import_accounts if kind == "accounts" else import_contacts
        return run(self.workspace, user, path, options, progress, cancel)

    def undo(self, user: User, batch_id: str | uuid.UUID) -> str:
        return undo_import(self.workspace, user, batch_id)


@dataclass(frozen=True)
class BatchInfo:
    id: uuid.UUID
    kind: str
    file_name: str
    created_at: datetime
    created_by: str
    created: int
    updated: int
    skipped: int
    rejected: int
    undone_at: datetime | None
    undone_by: str | None


def list_batches(workspace: Workspace) -> list[BatchInfo]:
    with workspace.read() as conn:
        rows = conn.execute(select(batches).order_by(batches.c.created_at.desc())).mappings()
        return [BatchInfo(**row) for row in rows]


def undo_import(workspace: Workspace, user: User, batch_id: str | uuid.UUID) -> str:
    """Take a whole import back: created records become tombstones, overwritten values come
    back. Records someone changed after the import are left as they are, and said so."""
    try:
        key = batch_id if isinstance(batch_id, uuid.UUID) else uuid.UUID(str(batch_id).strip())
    except ValueError:
        raise FileRefused(f"'{batch_id}' is not an import batch id.") from None
    now = utcnow()
    with workspace.write() as conn:
        batch = conn.execute(select(batches).where(batches.c.id == key)).mappings().first()
        if batch is None:
            raise FileRefused(f"There is no import batch {key}.")
        if batch["undone_at"] is not None:
            raise FileRefused(f"Import {key} was already undone by {batch['undone_by']}.")
        kept = 0
        removed = 0
        for table in (contacts, accounts):
            untouched = (table.c.import_batch_id == key) & table.c.deleted_at.is_(None)
            kept += conn.execute(
                select(func.count()).where(untouched, table.c.version > 1)
            ).scalar_one()
            removed += conn.execute(
                update(table)
                .where(untouched, table.c.version == 1)
                .values(
                    deleted_at=now,
                    updated_at=now,
                    changed_by=user.name,
                    version=table.c.version + 1,
                )
            ).rowcount
        # An engagement batch's rows are history the import brought in: they go with it,
        # and the campaigns of the accounts they named with them.
        brought = engagements.c.import_batch_id == key
        engaged = conn.execute(select(engagements.c.account_id).where(brought).distinct())
        engaged_ids = list(engaged.scalars())
        removed += conn.execute(delete(engagements).where(brought)).rowcount
        refresh_campaigns(conn, engaged_ids)
        restored = 0
        for change in (
            conn.execute(select(changes_table).where(changes_table.c.batch_id == key))
            .mappings()
            .all()
        ):
            table = accounts if change["table_name"] == "accounts" else contacts
            before = dict(change["before"])
            if table is accounts:
                current = (
                    conn.execute(
                        select(*[accounts.c[n] for n in ACCOUNT_VALUES]).where(
                            accounts.c.id == change["record_id"]
                        )
                    )
                    .mappings()
                    .one()
                )
                before |= derived_columns(dict(current) | before)
            done = conn.execute(
                update(table)
                .where(
                    table.c.id == change["record_id"], table.c.version == change["version_after"]
                )
                .values(**before, updated_at=now, changed_by=user.name, version=table.c.version + 1)
            ).rowcount
            restored += done
            kept += 1 - done
        conn.execute(
            update(batches).where(batches.c.id == key).values(undone_at=now, undone_by=user.name)
        )
        rescore_batch(conn, key)
        batch_accounts = select(accounts.c.id).where(accounts.c.import_batch_id == key)
        refresh_sla_facts(conn, handed_off_in(conn, batch_accounts))
        refresh_goal_facts(conn, with_goal_facts(conn, batch_accounts))
        refresh_queue_facts(conn, with_queue_facts(conn, batch_accounts))
        message = (
            f"Undid import of {batch['file_name']}: {counted(removed, 'record')} removed, "
            f"{restored:,} restored to their values before the import"
        )
        if kept:
            message += f"; {kept:,} left as they are because someone changed them since"
        log_change(conn, user, "import_batches", key, "undo import", {"summary": message})
        return message + "."
