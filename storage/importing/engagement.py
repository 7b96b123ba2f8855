"""Importing engagement: a marketing tool's export read as the account import reads a file
(the same readers, limits, mapping and rejected rows), each row matched to an account by a
contact's e-mail, a website's domain or the account's name, in one transaction whose
import batch undoes it whole."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Connection, String, func, select, type_coerce
from sqlalchemy.exc import OperationalError

from domain.engagement import (
    ENGAGEMENT_FIELDS,
    MATCHED_BY,
    NOT_FOUND,
    Candidate,
    EngagementOptions,
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
    RowParser,
    apply_saved_mapping,
    auto_mapping,
    column_scales,
    load_mapping,
    mapping_line,
    shared_fields,
)
from domain.progress import Cancel, Progress
from domain.users import User
from domain.values import normalize_domain, normalize_name
from storage.bulk import bulk_insert, cycle_collector_paused, new_id
from storage.importing.files import SourceTable, open_table
from storage.importing.importer import (
    CHUNK,
    _disk_full,
    _Run,
    accounts,
    check_mapped_fields,
    contacts,
)
from storage.queries import LIVE_ACCOUNT
from storage.schema import EngagementRow, stored_utc, table_of
from storage.workspace import Workspace, sqlite_file

engagements = table_of(EngagementRow)

#: The columns an engagement row is written with.
COLUMNS = ("id", "account_id", "contact_id", "kind", "at", "campaign", "source", "detail",
           "import_batch_id", "created_at", "created_by")  # fmt: skip
#: Fewer bytes than an engagement row takes in a file: a file of more than one chunk of
#: rows reads every contact's e-mail once, rather than looking through the contacts (which
#: have no index on it) for each chunk.
_BYTES_PER_ROW = 40


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


_Key = tuple[uuid.UUID, uuid.UUID | None, str, datetime, str | None]


#: An id as the database hands it back uncoerced (SQLite's text, PostgreSQL's UUID): a
#: million of them are read to match a big file, and only those of matched rows are made
#: UUIDs.
_RawId = Any


def _uuid(raw: _RawId) -> uuid.UUID:
    return raw if isinstance(raw, uuid.UUID) else uuid.UUID(raw)


def _raw(column: Column[Any]) -> Any:
    return type_coerce(column, String)


class _Accounts:
    """Finds the accounts the rows of a chunk name: contacts by e-mail (all read once for
    a big file), accounts by website domain and by name through their live-row indexes."""

    def __init__(self, conn: Connection, every_email: bool) -> None:
        self.conn = conn
        self.by_email: dict[str, list[tuple[_RawId, _RawId]]] | None = None
        if every_email:
            self.by_email = self._contacts(None)

    def _contacts(self, emails: set[str] | None) -> dict[str, list[tuple[_RawId, _RawId]]]:
        """Lowercased e-mail → (account, contact) of the live contacts of live accounts."""
        email = func.lower(contacts.c.email)
        query = (
            select(email, _raw(contacts.c.account_id), _raw(contacts.c.id))
            .join(accounts, accounts.c.id == contacts.c.account_id)
            .where(LIVE_ACCOUNT, contacts.c.deleted_at.is_(None), contacts.c.email.is_not(None))
            .order_by(contacts.c.created_at, contacts.c.id)
        )
        if emails is not None:
            query = query.where(email.in_(emails))
        found: dict[str, list[tuple[_RawId, _RawId]]] = {}
        for address, account_id, contact_id in self.conn.execute(query):
            found.setdefault(address, []).append((account_id, contact_id))
        return found

    def emails(self, emails: set[str]) -> dict[str, list[tuple[_RawId, _RawId]]]:
        if self.by_email is not None:
            return self.by_email
        return self._contacts(emails) if emails else {}

    def keyed(self, key: Column[Any], keys: set[str]) -> dict[str, list[_RawId]]:
        """Key → the live accounts whose ``key`` column holds it."""
        if not keys:
            return {}
        found: dict[str, list[_RawId]] = {}
        for value, account_id in self.conn.execute(
            select(key, _raw(accounts.c.id)).where(LIVE_ACCOUNT, key.in_(keys))
        ):
            found.setdefault(value, []).append(account_id)
        return found

    def candidates(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, Candidate]:
        """The accounts ambiguous rows may be, as their rejections list them."""
        if not ids:
            return {}
        columns = [accounts.c.id, accounts.c.name, accounts.c.website, accounts.c.country]
        found = self.conn.execute(select(*columns).where(accounts.c.id.in_(ids)))
        return {row.id: Candidate(*row) for row in found}


def _email(values: dict[str, Any]) -> str | None:
    email = values.get("email")
    return email.strip().lower() if email else None


@dataclass(frozen=True)
class _Unmatched:
    """Why a row matches no account: the field whose value several accounts share ("" for
    none that matched), and the reason."""

    field: str
    reason: str


_Match = tuple[uuid.UUID, uuid.UUID | None] | _Unmatched


def _matches(found: _Accounts, chunk: list[dict[str, Any]]) -> list[_Match]:
    """The account (and contact) each row of a chunk is, or why not: by a contact's e-mail,
    then by a website's domain, then by name, each way looked up only for the rows the ways
    before left unmatched. The accounts ambiguous rows may be are read once, at the end."""
    matches: list[_Match | None] = [None] * len(chunk)
    ambiguous_rows: dict[int, tuple[list[uuid.UUID], str, str]] = {}

    def one(index: int, ids: list[_RawId], field: str, by: str) -> None:
        if len(ids) == 1:
            matches[index] = _uuid(ids[0]), None
        else:
            ambiguous_rows[index] = [_uuid(i) for i in ids], field, by
            matches[index] = _Unmatched(field, "")  # said below

    emails = [_email(values) for values in chunk]
    by_email = found.emails({e for e in emails if e})
    for index, email in enumerate(emails):
        if email and (people := by_email.get(email)):
            account_ids = list(dict.fromkeys(account_id for account_id, _ in people))
            if len(account_ids) == 1:  # the contact is kept with the engagement
                matches[index] = _uuid(people[0][0]), _uuid(people[0][1])
            else:
                one(index, account_ids, "email", "contact e-mail")
    # A row's website domain: its website's, else its e-mail's.
    domains = {
        index: domain
        for index, values in enumerate(chunk)
        if matches[index] is None
        and (domain := normalize_domain(values.get("website")) or normalize_domain(emails[index]))
    }
    by_domain = found.keyed(accounts.c.domain_key, set(domains.values()))
    for index, domain in domains.items():
        if sharing := by_domain.get(domain):
            one(index, sharing, "website" if chunk[index].get("website") else "email", "website")
    names = {
        index: name
        for index, values in enumerate(chunk)
        if matches[index] is None and (name := normalize_name(values.get("account")))
    }
    by_name = found.keyed(accounts.c.name_key, set(names.values()))
    for index, name in names.items():
        if named := by_name.get(name):
            one(index, named, "account", "name")
    candidates = found.candidates({i for ids, _, _ in ambiguous_rows.values() for i in ids})
    for index, (ids, field, by) in ambiguous_rows.items():
        matches[index] = _Unmatched(field, ambiguous(by, [candidates[i] for i in ids]))
    return [match or _Unmatched("", NOT_FOUND) for match in matches]


def _stored(conn: Connection, keys: list[_Key]) -> set[_Key]:
    """Which of these engagements are stored already (imported before, or earlier in this
    file): looked up by their times through the index on it, so that only the few stored
    at one of those very times come back to Python (an account's engagement would be read
    whole)."""
    if not keys:
        return set()
    columns = [engagements.c[n] for n in ("account_id", "contact_id", "kind", "at", "campaign")]
    rows = conn.execute(select(*columns).where(engagements.c.at.in_({key[3] for key in keys})))
    return {(a, c, k, stored_utc(at), campaign) for a, c, k, at, campaign in rows} & set(keys)


def _import_rows(run: _Run, found: _Accounts, columns: dict[str, str]) -> None:
    options = run.options
    assert isinstance(options, EngagementOptions)
    default_kind = options.kind.value if options.kind else None
    for parsed in run.parsed_chunks():
        matches = _matches(found, [values for _, _, values in parsed])
        keyed: list[tuple[_Key, dict[str, Any]]] = []  # what makes a row the same engagement
        for (number, cells, values), match in zip(parsed, matches, strict=True):
            if isinstance(match, _Unmatched):
                run.reject(number, cells, columns[match.field], match.reason)
                continue
            kind = str(values.get("kind") or default_kind)
            campaign = values.get("campaign") or options.campaign
            keyed.append(((*match, kind, values["at"], campaign), values))
        stored = _stored(run.conn, [key for key, _ in keyed])
        rows: list[tuple[Any, ...]] = []
        for key, values in keyed:
            if key in stored:
                run.summary.skipped += 1
                continue
            stored.add(key)
            account_id, contact_id, kind, at, campaign = key
            rows.append((
                new_id(), account_id, contact_id, kind, at, campaign,
                values.get("source") or options.source, values.get("detail"),
                run.batch_id, run.now, run.user.name,
            ))  # fmt: skip
        if rows:
            bulk_insert(run.conn, engagements, COLUMNS, rows)
        run.summary.created += len(rows)


def _matching_columns(headers: list[str], mapped_fields: list[str]) -> dict[str, str]:
    """The column a row's rejection names, for each way of matching it: the column that
    failed, and for a row that matched nothing the first column that could have."""
    columns: dict[str, str] = {}
    for header, mapped_to in zip(headers, mapped_fields, strict=True):
        columns.setdefault(mapped_to, header)
    first = next(columns[name] for name in MATCHED_BY if name in columns)
    return {**columns, "": first}


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
    try:
        with cycle_collector_paused(), workspace.write() as conn:
            parse = RowParser(table.headers, mapped_fields, fields, defused=table.is_csv)
            folder = file.parent if (file := sqlite_file(workspace.url)) else None
            run = _Run(conn, user, table, "engagement", parse, options, progress, cancel, folder)
            run.summary.mapping = mapping_line(table.headers, mapped_fields, fields)
            big = path.stat().st_size // _BYTES_PER_ROW > CHUNK
            _import_rows(run, _Accounts(conn, every_email=big), _matching_columns(
                table.headers, mapped_fields))  # fmt: skip
            summary = run.finish()
            summary.notes += shared_fields(table.headers, mapped_fields, fields)
            return summary
    except OperationalError as error:
        if _disk_full(error):
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
