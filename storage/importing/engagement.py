"""Importing engagement: a marketing tool's export read as the account import reads a file
(the same readers, limits, mapping and rejected rows), each row matched to an account by a
contact's e-mail, a website's domain or the account's name, in one transaction whose
import batch undoes it whole."""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Column, ColumnElement, Connection, case, func, select, type_coerce
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
from domain.values import normalize_domain, normalize_name
from storage.bulk import (
    bind_processor,
    bulk_insert,
    cycle_collector_paused,
    indexes_rebuilt,
    new_ids,
)
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
from storage.importing.reading import Reading, read_chunks
from storage.keys import email_key
from storage.queries import LIVE_ACCOUNT, live_account_id
from storage.schema import EngagementRow, table_of
from storage.workspace import Workspace, sqlite_file

engagements = table_of(EngagementRow)

#: The columns an engagement row is written with.
COLUMNS = ("id", "account_id", "contact_id", "kind", "at", "campaign", "source", "detail",
           "import_batch_id", "created_at", "created_by")  # fmt: skip
#: The columns written as the matching read them, in the database's own form.
_STORED = ("account_id", "contact_id", "at")
#: The indexes an import reads while it writes: a row stored before is found by its time.
_READ_INDEXES = ("ix_engagements_at",)


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
#: UUID): a matched row's account and contact are written back in that form, and only the
#: accounts an ambiguous row may be are made UUIDs.
_RawId = Any
#: What makes a row the same engagement: its account and contact, kind, time (all four as
#: the database stores them) and campaign.
_Key = tuple[_RawId, _RawId | None, str, Any, str | None]
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


class _Accounts:
    """Finds the accounts the rows of a chunk name, each way through its index: contacts
    by their e-mail's key, accounts by website domain and by name. Of the accounts that
    share a key, only how many there are and the first few are read (the demo gives a
    name to a hundred accounts or more). An import writes no account, so what a key was
    found to be is kept for the chunks after (names, websites and e-mails repeat across a
    file)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        #: Column → key → its holders (None: no live account holds it).
        self.known: dict[str, dict[str, _Holders | None]] = {}
        #: E-mail key → the accounts whose contacts have it and the oldest such contact.
        self.people: dict[str, tuple[_Holders, _RawId] | None] = {}
        #: (way, key) → why a row with that key is rejected, for the keys accounts share.
        self.ambiguous: dict[tuple[str, str], str] = {}

    def emails(self, keys: set[str]) -> dict[str, tuple[_Holders, _RawId] | None]:
        """E-mail key → how many live accounts have a live contact with it and the first
        few of them (the oldest contact's first), with that oldest contact; or None."""
        known = self.people
        if unknown := keys - known.keys():
            known |= dict.fromkeys(unknown)
            query = (
                select(contacts.c.email_key, _raw(contacts.c.account_id), _raw(contacts.c.id))
                .where(
                    live_account_id(contacts.c.account_id),
                    contacts.c.deleted_at.is_(None),
                    _one_of(self.conn, contacts.c.email_key, unknown),
                )
                .order_by(contacts.c.created_at, contacts.c.id)
            )
            found: dict[str, tuple[dict[_RawId, None], _RawId]] = {}
            # all the rows at once: fetched one at a time, a lookup took twice as long
            for key, account_id, contact_id in self.conn.execute(query).all():
                found.setdefault(key, ({}, contact_id))[0][account_id] = None
            known |= {
                key: ((len(ids), list(ids)[:SHOWN_CANDIDATES]), contact_id)
                for key, (ids, contact_id) in found.items()
            }
        return known

    def keyed(self, key: Column[Any], keys: set[str]) -> dict[str, _Holders | None]:
        """Key → how many live accounts hold it in ``key`` and the first few of them, or
        None."""
        known = self.known.setdefault(key.name, {})
        if unknown := keys - known.keys():
            known |= dict.fromkeys(unknown)
            known |= self._holders(key, unknown)
        return known

    def _holders(self, key: Column[Any], keys: set[str]) -> dict[str, _Holders]:
        """The count from the key's index alone, each of the few by one correlated lookup
        (in the index's order: any few will do)."""
        held = (
            select(key.label("key"), func.count().label("holders"))
            .where(LIVE_ACCOUNT, _one_of(self.conn, key, keys))
            .group_by(key)
            .subquery()
        )
        other = accounts.alias()

        def nth(n: int) -> ColumnElement[Any]:
            holder = (
                select(_raw(other.c.id))
                .where(other.c.deleted_at.is_(None), other.c[key.name] == held.c.key)
                .limit(1)
                .offset(n)
                .scalar_subquery()
            )
            # a key that one account holds (most websites) looks up that one alone
            return holder if n == 0 else case((held.c.holders > n, holder))

        few = [nth(n) for n in range(SHOWN_CANDIDATES)]
        rows = self.conn.execute(select(held.c.key, held.c.holders, *few)).all()
        return {k: (holders, list(dict.fromkeys(filter(None, ids)))) for k, holders, *ids in rows}

    def candidates(self, ids: set[_RawId]) -> dict[_RawId, Candidate]:
        """The accounts ambiguous rows may be, as their rejections list them."""
        if not ids:
            return {}
        columns = [_raw(accounts.c.id), accounts.c.name, accounts.c.website, accounts.c.country]
        found = self.conn.execute(
            select(*columns).where(_one_of(self.conn, _raw(accounts.c.id), ids))
        ).all()
        return {raw: Candidate(_uuid(raw), *row) for raw, *row in found}


class _Found(NamedTuple):
    """The account (and contact) a row is, raw, and the field whose way of matching found
    it."""

    account_id: _RawId
    contact_id: _RawId | None
    by: str


@dataclass(frozen=True)
class _Unmatched:
    """Why a row matches no account: the field whose value several accounts share ("" for
    none that matched), and the reason."""

    field: str
    reason: str

    @property
    def ambiguous(self) -> bool:
        return bool(self.field)


_Match = _Found | _Unmatched


#: What a row is matched by: its e-mail's key, its website's domain (else its e-mail's),
#: and its account's name, normalised.
_MatchKeys = tuple[str | None, str | None, str]


def _match_keys(values: dict[str, Any]) -> _MatchKeys:
    """What a row is matched by (worked out where the file is read)."""
    email = email_key(values.get("email"))
    domain = normalize_domain(values.get("website")) or normalize_domain(email)
    return email, domain, normalize_name(values.get("account"))


def _matches(found: _Accounts, chunk: list[dict[str, Any]], keys: list[_MatchKeys]) -> list[_Match]:
    """The account (and contact) each row of a chunk is, or why not: by a contact's e-mail,
    then by a website's domain, then by name, each way looked up only for the rows the ways
    before left unmatched. The accounts ambiguous rows may be are read once, at the end."""
    matches: list[_Match | None] = [None] * len(chunk)
    #: Row → the key several accounts share, how it is said, and the first of them.
    shared: dict[int, tuple[tuple[str, str], _Holders]] = {}

    def one(index: int, way: str, key: str, holders: _Holders, column: str,
            contact_id: _RawId | None = None) -> None:  # fmt: skip
        sharing, ids = holders
        if sharing == 1:
            matches[index] = _Found(ids[0], contact_id, way)
        else:
            shared[index] = (way, key), holders
            matches[index] = _Unmatched(column, "")  # said below

    by_email = found.emails({email for email, _, _ in keys if email})
    for index, (email, _, _) in enumerate(keys):
        if email and (people := by_email[email]):
            sharing, contact_id = people  # the contact is kept with the engagement
            one(index, "email", email, sharing, "email", contact_id)
    domains = {
        index: domain
        for index, (_, domain, _) in enumerate(keys)
        if matches[index] is None and domain
    }
    by_domain = found.keyed(accounts.c.domain_key, set(domains.values()))
    for index, domain in domains.items():
        if held := by_domain[domain]:
            column = "website" if chunk[index].get("website") else "email"
            one(index, "website", domain, held, column)
    names = {
        index: name for index, (_, _, name) in enumerate(keys) if matches[index] is None and name
    }
    by_name = found.keyed(accounts.c.name_key, set(names.values()))
    for index, name in names.items():
        if held := by_name[name]:
            one(index, "account", name, held, "account")
    _say_ambiguous(found, {key: holders for key, holders in shared.values()})
    for index, (key, _) in shared.items():
        unmatched = matches[index]
        assert isinstance(unmatched, _Unmatched)
        matches[index] = _Unmatched(unmatched.field, found.ambiguous[key])
    return [match or _Unmatched("", NOT_FOUND) for match in matches]


#: How a rejection names the way a key several accounts share was looked up.
_SHARED = {"email": "contact e-mail", "website": "website", "account": "name"}


def _say_ambiguous(found: _Accounts, shared: dict[tuple[str, str], _Holders]) -> None:
    """Why rows are rejected whose key several accounts share, for the keys not said
    before, their candidates read in one query."""
    new = {key: holders for key, holders in shared.items() if key not in found.ambiguous}
    candidates = found.candidates({i for _, ids in new.values() for i in ids})
    for (way, key), (sharing, ids) in new.items():
        listed = [candidates[i] for i in ids]
        found.ambiguous[way, key] = ambiguous(_SHARED[way], listed, sharing)


def _stored(conn: Connection, keys: list[_Key]) -> set[_Key]:
    """Which of these engagements are stored already (imported before, or earlier in this
    file): looked up by their times through the index on it, so that only the few stored
    at one of those very times come back to Python (an account's engagement would be read
    whole)."""
    if not keys:
        return set()
    c = engagements.c
    columns = [_raw(c.account_id), _raw(c.contact_id), c.kind, _raw(c.at), c.campaign]
    at = _one_of(conn, _raw(c.at), {key[3] for key in keys})
    return set(map(tuple, conn.execute(select(*columns).where(at)).all())) & set(keys)


def _as_it_is(value: Any) -> Any:
    return value


def _import_rows(run: ImportRun, found: _Accounts, columns: dict[str, str]) -> None:
    options = run.options
    assert isinstance(options, EngagementOptions)
    default_kind = options.kind.value if options.kind else None
    summary = run.summary
    assert isinstance(summary, EngagementSummary)
    at_stored = bind_processor(run.conn, engagements.c.at) or _as_it_is
    made = (run.batch_id, run.now, run.user.name)
    for chunk in run.parsed_chunks():
        parsed = chunk.rows
        matches = _matches(found, [values for _, _, values in parsed], chunk.keys)
        # what makes a row the same engagement, and how its account was found
        keyed: list[tuple[_Key, str, dict[str, Any]]] = []
        for (number, cells, values), match in zip(parsed, matches, strict=True):
            if isinstance(match, _Unmatched):
                run.reject(number, cells, columns[match.field], match.reason)
                if match.ambiguous:
                    summary.ambiguous += 1
                else:
                    summary.unmatched += 1
                continue
            account_id, contact_id, by = match
            kind = str(values.get("kind") or default_kind)
            campaign = values.get("campaign") or options.campaign
            key = (account_id, contact_id, kind, at_stored(values["at"]), campaign)
            keyed.append((key, by, values))
        stored = _stored(run.conn, [key for key, _, _ in keyed])
        rows: list[tuple[Any, ...]] = []
        ids = iter(new_ids(len(keyed)))  # those of rows stored before go unused
        for key, by, values in keyed:
            if key in stored:
                summary.skipped += 1
                continue
            stored.add(key)
            summary.added_by[by] = summary.added_by.get(by, 0) + 1
            source = values.get("source") or options.source
            rows.append((next(ids), *key, source, values.get("detail"), *made))
        if rows:
            bulk_insert(run.conn, engagements, COLUMNS, rows, stored=_STORED)
        summary.created += len(rows)


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
    reading = Reading(table, fields, mapped_fields, importer.CHUNK, keys_of=_match_keys)
    try:
        with (
            read_chunks(reading, own_process=read_apart(path)) as parsed,
            cycle_collector_paused(),
            workspace.write() as conn,
        ):
            folder = file.parent if (file := sqlite_file(workspace.url)) else None
            run = ImportRun(conn, user, table, "engagement", parsed, options, progress, cancel,
                            folder, EngagementSummary)  # fmt: skip
            run.summary.mapping = mapping_line(table.headers, mapped_fields, fields)
            big = bigger_than_stored(conn, path, engagements)
            with indexes_rebuilt(conn, engagements, big, keep=_READ_INDEXES):
                _import_rows(run, _Accounts(conn), _matching_columns(table.headers, mapped_fields))
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
