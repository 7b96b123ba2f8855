"""Engagement import: kinds and times as exports write them, headers of marketing tools'
exports, matching rows to accounts (contact e-mail, website domain, name), rejected and
unmatched rows, all-or-nothing, undo, roles (SQLite and PostgreSQL)."""

from __future__ import annotations

import sqlite3
import uuid
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import event, insert, inspect, select

from domain.accounts import add_contact, create_account, update_contact
from domain.engagement import (
    ENGAGEMENT_FIELDS,
    EngagementKind,
    EngagementOptions,
    import_engagement,
    parse_kind,
    parse_time,
)
from domain.errors import PermissionDenied
from domain.importing import (
    FileRefused,
    ImportCancelled,
    RowParser,
    auto_mapping,
    import_file,
    undo_import,
)
from domain.users import Role
from reports.rejects import rejects_table
from storage.importing import engagement, importer, reading
from storage.importing.engagement import SqlEngagementImporter, engagements
from storage.importing.importer import SqlImporter, list_batches
from storage.repositories import SqlUnitOfWork
from storage.schema import AccountRow, ContactRow
from storage.users import sign_in
from storage.workspace import MIGRATIONS, open_workspace, sqlite_file
from tests.conftest import statements_of
from tests.test_importer import _read_while, _Ready

# --- kinds, times and headers ---------------------------------------------------------------


def test_a_kind_is_read_as_marketing_tools_write_it():
    assert parse_kind("Webinar") is EngagementKind.WEBINAR
    assert parse_kind("Checked In") is EngagementKind.EVENT  # Eventbrite's attendee status
    assert parse_kind("Responded") is EngagementKind.CAMPAIGN  # a Salesforce member's status
    assert parse_kind("form_submission") is EngagementKind.FORM
    assert parse_kind(" Whitepaper ") is EngagementKind.CONTENT
    assert parse_kind("EMAIL REPLY") is EngagementKind.EMAIL_REPLY
    with pytest.raises(ValueError, match="'Sent' is not a kind of engagement"):
        parse_kind("Sent")


def test_every_kind_has_a_label_and_no_synonym_names_two_kinds():
    assert EngagementKind.EVENT.label == "Event attended"
    from domain.engagement import SYNONYMS

    words = [w for kind in EngagementKind for w in (kind.value, *SYNONYMS[kind])]
    assert len(words) == len(set(words))


def test_a_time_is_read_as_exports_write_it_and_kept_in_utc():
    def local(*parts: int) -> datetime:
        return datetime(*parts).astimezone(UTC)

    assert parse_time("2025-03-14T15:30:00Z") == datetime(2025, 3, 14, 15, 30, tzinfo=UTC)
    assert parse_time("2025-03-14 15:30 UTC") == datetime(2025, 3, 14, 15, 30, tzinfo=UTC)
    # the zone is looked for at the text's end only, however many spaces come before it
    assert parse_time("14.03.2025 15:30   gmt") == datetime(2025, 3, 14, 15, 30, tzinfo=UTC)
    assert parse_time("3/14/2025 3:30 PM Z") == datetime(2025, 3, 14, 15, 30, tzinfo=UTC)
    assert parse_time("2025-03-14T15:30:00+01:00") == datetime(2025, 3, 14, 14, 30, tzinfo=UTC)
    assert parse_time("2025-03-14") == local(2025, 3, 14)
    assert parse_time("3/4/2025 3:30 PM") == local(2025, 3, 4, 15, 30)  # month first
    assert parse_time("25/03/2025 09:05") == local(2025, 3, 25, 9, 5)  # no 25th month
    assert parse_time("14.03.2025") == local(2025, 3, 14)
    assert parse_time("Mar 14, 2025 03:30 PM") == local(2025, 3, 14, 15, 30)
    with pytest.raises(ValueError, match="'next Tuesday' is not a date"):
        parse_time("next Tuesday")


@pytest.mark.parametrize(
    ("tool", "headers", "expected"),
    [
        ("HubSpot", ["Email", "Company Name", "Company Domain Name", "Recent Conversion",
                     "Recent Conversion Date", "Original Source"],
         ["email", "account", "website", "campaign", "at", "source"]),
        ("Mailchimp", ["Email Address", "First Name", "Last Name", "OPTIN_TIME", "LAST_CHANGED"],
         ["email", "", "", "at", "at"]),
        ("Salesforce campaign members", ["Campaign Name", "Status", "First Responded Date",
                                         "Email", "Company / Account", "Lead Source"],
         ["campaign", "kind", "at", "email", "account", "source"]),
        ("Eventbrite", ["Order Date", "Event Name", "Attendee Status", "Email", "Company"],
         ["at", "campaign", "kind", "email", "account"]),
        ("Zoom", ["User Name (Original Name)", "Email", "Join Time", "Topic", "Organization"],
         ["", "email", "at", "campaign", "account"]),
    ],
)  # fmt: skip
def test_the_headers_of_marketing_tools_exports_are_recognised(tool, headers, expected):
    mapped = auto_mapping(headers, ENGAGEMENT_FIELDS)
    assert [m if not m.startswith("custom:") else "" for m in mapped] == expected, tool


# --- the import -----------------------------------------------------------------------------

HEADER = "Email,Website,Company,Activity,Date,Campaign,Source,Notes\n"


def _csv(tmp_path: Path, body: str, name: str = "engagement.csv", header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text(header + body, encoding="utf-8")
    return path


@pytest.fixture
def crm(workspace, people):
    """Acme (acme.com, contact ann@acme.com), Beta (beta.io), two accounts named Gamma."""
    uow, owner = SqlUnitOfWork(workspace), people[Role.OWNER]
    made = {
        key: create_account(uow, owner, values)
        for key, values in {
            "acme": {"name": "Acme", "website": "acme.com", "country": "Germany"},
            "beta": {"name": "Beta", "website": "https://www.beta.io"},
            "gamma_de": {"name": "Gamma", "website": "gamma.de", "country": "Germany"},
            "gamma_fr": {"name": "Gamma", "website": "gamma.fr", "country": "France"},
        }.items()
    }
    ann = add_contact(uow, owner, made["acme"].id, {"name": "Ann", "email": "Ann@Acme.com"})
    for gamma in ("gamma_de", "gamma_fr"):  # one address for both: it tells neither apart
        add_contact(uow, owner, made[gamma].id, {"name": "Info", "email": "info@gamma.example"})
    return {**{k: a.id for k, a in made.items()}, "ann": ann.id}


def _indexes(workspace) -> set[str]:
    with workspace.read() as conn:
        return {i["name"] for i in inspect(conn).get_indexes("engagements")}


def _stored(workspace) -> list[dict]:
    with workspace.read() as conn:
        rows = conn.execute(select(engagements).order_by(engagements.c.at)).mappings()
        return [dict(r) for r in rows]


def _import(workspace, user, path, **options):
    return import_engagement(
        SqlEngagementImporter(workspace), user, path, EngagementOptions(**options)
    )


def test_rows_match_by_contact_email_then_website_domain_then_name(
    workspace, people, crm, tmp_path, file_size
):
    path = _csv(tmp_path, (
        "ann@acme.com,,Beta,Webinar,2025-03-01 10:00 UTC,Spring webinar,HubSpot,asked for a demo\n"
        "bob@beta.io,,,Whitepaper,2025-03-02 10:00 UTC,Pricing guide,,\n"
        ",beta.io,Acme,Form submission,2025-03-03 10:00 UTC,,,\n"
        ",,ACME,Checked in,2025-03-04 10:00 UTC,Trade fair,Eventbrite,\n"
    ))  # fmt: skip
    summary = _import(workspace, people[Role.MARKETING], path)
    assert (summary.created, summary.rejected) == (4, 0)
    rows = _stored(workspace)
    # the contact's e-mail wins over the company named beside it; the contact is kept
    assert (rows[0]["account_id"], rows[0]["contact_id"]) == (crm["acme"], crm["ann"])
    assert (rows[0]["kind"], rows[0]["campaign"], rows[0]["source"], rows[0]["detail"]) == (
        "webinar",
        "Spring webinar",
        "HubSpot",
        "asked for a demo",
    )
    assert _utc(rows[0]["at"]) == datetime(2025, 3, 1, 10, tzinfo=UTC)
    # an e-mail no contact has names its company by its domain
    assert (rows[1]["account_id"], rows[1]["contact_id"]) == (crm["beta"], None)
    assert rows[2]["account_id"] == crm["beta"]  # the website before the name
    assert rows[3]["account_id"] == crm["acme"]  # the name, whatever its case
    assert {r["import_batch_id"] for r in rows} == {summary.batch_id}
    assert {r["created_by"] for r in rows} == {"Mark Marketer"}


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_names_websites_and_e_mails_in_other_scripts_and_with_quotes_are_found(
    workspace, people, crm, tmp_path, file_size
):
    uow, owner = SqlUnitOfWork(workspace), people[Role.OWNER]
    made = {
        name: create_account(uow, owner, {"name": name, "website": website}).id
        for name, website in [("東京商事", "東京商事.jp"), ('Müller "Söhne"', None),
                              ("O'Brien & Ünal", None)]
    }  # fmt: skip
    add_contact(uow, owner, made["O'Brien & Ünal"], {"name": "Zoë", "email": "zoë@obrien.ie"})
    path = _csv(tmp_path, (
        ",東京商事.jp,,Webinar,2025-03-01 10:00 UTC,,,\n"
        ',,"müller ""söhne""",Webinar,2025-03-02 10:00 UTC,,,\n'
        "ZOË@obrien.ie,,,Webinar,2025-03-03 10:00 UTC,,,\n"
    ))  # fmt: skip
    summary = _import(workspace, owner, path)
    assert (summary.created, summary.rejected) == (3, 0)
    assert [r["account_id"] for r in _stored(workspace)] == list(made.values())


def test_unmatched_and_ambiguous_rows_are_listed_with_their_row_and_column(
    workspace, people, crm, tmp_path, file_size
):
    path = _csv(tmp_path, (
        "x@nowhere.example,,Nobody Inc,Webinar,2025-03-01,,,\n"
        ",,Gamma,Webinar,2025-03-01,,,\n"
        ",,Beta,Sent,2025-03-01,,,\n"
        ",,Beta,Webinar,someday,,,\n"
        ",,Beta,Webinar,2025-03-05,,,\n"
        "info@gamma.example,,Gamma,Webinar,2025-03-01,,,\n"
        "x@nowhere.example,www.gamma.fr,,Webinar,2025-03-01,,,\n"
    ))  # fmt: skip
    uow = SqlUnitOfWork(workspace)
    create_account(uow, people[Role.OWNER], {"name": "Gamma France", "website": "gamma.fr"})
    summary = _import(workspace, people[Role.OWNER], path)
    assert (summary.created, summary.rejected) == (1, 6)
    by_row = {e.row: e for e in summary.errors}
    assert by_row[2].column == "Email"
    assert "no account has this contact e-mail, website or name" in by_row[2].reason
    assert by_row[3].column == "Company"
    assert by_row[3].reason.startswith("2 accounts have this name (Gamma, gamma.de, Germany; "
                                       "Gamma, gamma.fr, France)")  # fmt: skip
    assert (by_row[4].column, by_row[5].column) == ("Activity", "Date")
    assert "'Sent' is not a kind of engagement" in by_row[4].reason
    assert by_row[7].column == "Email"  # the e-mail is tried first, and found twice
    assert by_row[7].reason.startswith("2 accounts have this contact e-mail (Gamma, gamma.de")
    assert by_row[8].column == "Website"
    assert by_row[8].reason.startswith("2 accounts have this website (Gamma France, gamma.fr; "
                                       "Gamma, gamma.fr, France)")  # fmt: skip
    table = rejects_table(summary)
    written = {r[-3]: list(r) for r in table.rows}  # by the file's row number
    assert written[2][:3] == ["x@nowhere.example", "", "Nobody Inc"]
    assert written[2][-2] == "Email"


def test_an_import_is_undone_as_a_batch_and_listed_in_the_history(
    workspace, people, crm, tmp_path, file_size
):
    owner = people[Role.OWNER]
    summary = _import(workspace, owner, _csv(tmp_path, ",acme.com,,Webinar,2025-03-01,,,\n"))
    batch = next(b for b in list_batches(workspace) if b.id == summary.batch_id)
    assert (batch.kind, batch.created) == ("engagement", 1)
    said = undo_import(SqlImporter(workspace), owner, summary.batch_id)
    assert said.startswith("Undid import of engagement.csv: 1 record removed")
    assert _stored(workspace) == []


def test_a_row_imported_before_is_skipped_not_doubled(workspace, people, crm, tmp_path, file_size):
    indexes = _indexes(workspace)
    path = _csv(tmp_path, (
        ",acme.com,,Webinar,2025-03-01 10:00 UTC,Spring,,\n"
        ",acme.com,,Webinar,2025-03-01 10:00 UTC,Spring,,\n"  # twice in the file
    ))  # fmt: skip
    assert _import(workspace, people[Role.OWNER], path).created == 1
    again = _import(workspace, people[Role.OWNER], path)
    assert (again.created, again.skipped) == (0, 2)
    assert len(_stored(workspace)) == 1
    assert _indexes(workspace) == indexes


def test_imported_engagement_has_new_time_ordered_ids(workspace, people, crm, tmp_path):
    """The database makes the ids of the rows an import adds, in new_id's layout: made now,
    distinct from each other and from another import's, which sync relies on."""
    owner = people[Role.OWNER]
    started = datetime.now(UTC)
    rows = ",acme.com,,Webinar,2025-03-0{},,,\n,,Beta,Webinar,2025-03-0{},,,\n"
    for name, days in [("one.csv", (1, 2)), ("two.csv", (3, 4))]:
        _import(workspace, owner, _csv(tmp_path, rows.format(*days), name=name))
    ids = [r["id"] for r in _stored(workspace)]
    assert len(set(ids)) == 4 and {i.version for i in ids} == {7}
    made = {datetime.fromtimestamp((i.int >> 80) / 1000, UTC) for i in ids}
    assert all(abs(at - started).total_seconds() < 60 for at in made)


def test_a_big_file_is_parsed_by_a_process_of_its_own(
    workspace, people, crm, tmp_path, monkeypatch
):
    """Its rows are read, parsed and keyed on a second core while the import matches and
    stores the rows before: the importing process parses none of them."""
    monkeypatch.setattr(importer, "OWN_READER_AT_ROWS", 0)

    def not_here(*_args: object) -> None:
        raise AssertionError("a row was parsed by the importing process")

    monkeypatch.setattr(RowParser, "__call__", not_here)  # a spawned process has its own
    path = _csv(tmp_path, ",acme.com,,Webinar,2025-03-01,,,\n,,Beta,Webinar,2025-03-02,,,\n")
    summary = _import(workspace, people[Role.MARKETING], path)
    assert summary.created == 2


@pytest.mark.parametrize("behind", [False, True], ids=["import matches", "reader matches"])
def test_rows_the_reader_matched_import_as_those_the_import_matched(
    workspace, people, crm, tmp_path, monkeypatch, behind
):
    """While the import is behind, a big file's reader process matches the rows of a chunk
    itself (on a SQLite file, on a connection of its own, opened once the import holds the
    write lock): what is added, to which account and contact, and what is refused, with its
    column and why, are what the import finds when it matches them all."""
    monkeypatch.setattr(importer, "OWN_READER_AT_ROWS", 0)
    monkeypatch.setattr(importer, "CHUNK", 2)
    owner = people[Role.OWNER]
    _import(workspace, owner, _csv(tmp_path, "ann@acme.com,,,Webinar,2025-03-01,Spring,,\n",
                                   name="before.csv"))  # fmt: skip
    read: list = []
    if behind:  # the reader's work done here first, as a reader process does while behind

        def reader_behind(rows, own_process):
            if file := sqlite_file(workspace.url):  # the reader reads what the import holds
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    sqlite3.connect(file, timeout=0).execute("BEGIN IMMEDIATE")
            read.extend(_read_while(True, rows))
            return nullcontext(iter(read))

        monkeypatch.setattr(engagement, "read_chunks", reader_behind)
    path = _csv(tmp_path, (
        "ann@acme.com,,,Webinar,2025-03-01,Spring,,\n"  # stored before
        ",www.beta.io,,Webinar,2025-03-02,Fair,,\n"
        "info@gamma.example,,,Webinar,2025-03-03,,,\n"  # two accounts' contacts
        "nobody@nowhere.example,,,Webinar,2025-03-04,,,\n"  # no account's
        ",,Acme,Webinar,2025-03-05,Fair,,\n"
        ",beta.io,,Webinar,2025-03-02,Fair,,\n"  # the same as the second row
        ",,Gamma,Webinar,2025-03-06,,,\n"  # two accounts' name
    ))  # fmt: skip
    summary = _import(workspace, owner, path)
    if behind and workspace.is_sqlite:
        assert read and all(chunk.matched for chunk in read)
    assert (summary.created, summary.skipped, summary.rejected) == (2, 2, 3)
    assert [(e.row, e.column, e.reason.split(" (")[0]) for e in summary.errors] == [
        (4, "Email", "2 accounts have this contact e-mail"),
        (5, "Email", "no account has this contact e-mail, website or name: add the account"),
        (8, "Company", "2 accounts have this name"),
    ]
    added = [(r["account_id"], r["contact_id"], r["campaign"]) for r in _stored(workspace)]
    assert added == [(crm["acme"], crm["ann"], "Spring"), (crm["beta"], None, "Fair"),
                     (crm["acme"], None, "Fair")]  # fmt: skip


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # on PostgreSQL no reader matches
def test_a_shared_key_the_reader_found_is_not_looked_up_again_by_the_import(
    workspace, people, crm, tmp_path, monkeypatch
):
    """What a big file's reader process found of a name several accounts share, while it
    matched a chunk itself, comes with that chunk: a later chunk the import matches says
    the same of the name without looking it up again."""
    monkeypatch.setattr(importer, "OWN_READER_AT_ROWS", 0)
    monkeypatch.setattr(importer, "CHUNK", 1)
    read: list = []

    def reader_behind_once(rows, own_process):  # behind for the first chunk only
        ready = _Ready(full=True)
        ready.full = lambda: not ready.chunks  # type: ignore[method-assign]
        reading._read(rows, ready)
        read.extend(chunk.matched for chunk in ready.chunks)
        return nullcontext(iter(ready.chunks))

    monkeypatch.setattr(engagement, "read_chunks", reader_behind_once)
    path = _csv(tmp_path, ",,Gamma,Webinar,2025-03-01,,,\n,,Gamma,Webinar,2025-03-02,,,\n")
    summaries: list = []
    sent = statements_of([workspace], lambda: summaries.append(
        _import(workspace, people[Role.OWNER], path)))  # fmt: skip
    assert read == [True, False]  # the reader matched the first chunk, the import the next
    assert [s for s in sent if "accounts.name_key = " in s] == []
    reasons = [(e.row, e.column, e.reason.split(" (")[0]) for e in summaries[0].errors]
    assert reasons == [(2, "Company", "2 accounts have this name"),
                       (3, "Company", "2 accounts have this name")]  # fmt: skip


def test_a_shared_key_met_again_in_a_later_chunk_is_said_without_looking_it_up_again(
    workspace, people, crm, tmp_path, monkeypatch
):
    """An import writes no account or contact, so what is said of an e-mail or a name that
    several accounts share in one chunk holds for the chunks after: each is looked up once."""
    monkeypatch.setattr(importer, "CHUNK", 1)
    row = "info@gamma.example,,,Webinar,2025-03-0{},,,\n,,Gamma,Webinar,2025-03-0{},,,\n"
    path = _csv(tmp_path, "".join(row.format(day, day) for day in range(1, 4)))
    sent = statements_of([workspace], lambda: _import(workspace, people[Role.OWNER], path))
    assert len([s for s in sent if "contacts.email_key IN" in s]) == 1
    assert len([s for s in sent if "accounts.name_key = " in s]) == 2  # looked up, counted
    summary = _import(workspace, people[Role.OWNER], path)
    assert summary.ambiguous == 6  # and all six were said the same way
    assert len({e.reason for e in summary.errors}) == 2


def test_rows_are_matched_from_the_key_indexes_alone(sqlite_workspace, sqlite_people, tmp_path):
    """A contact's e-mail, a website's domain and a name are looked up in their index, which
    holds what the matching reads (the account's id, the oldest contact, whether another
    account holds the key): no account's or contact's row is read for a key (at 100,000
    accounts a third of the matching's time)."""
    uow, owner = SqlUnitOfWork(sqlite_workspace), sqlite_people[Role.OWNER]
    acme = create_account(uow, owner, {"name": "Acme", "website": "acme.com"})
    add_contact(uow, owner, acme.id, {"name": "Ann", "email": "ann@acme.com"})
    for n in range(2):  # a name two accounts share: how many, and the first few
        create_account(uow, owner, {"name": "Gamma", "website": f"gamma{n}.example"})
    path = _csv(tmp_path, (
        "ann@acme.com,,,Webinar,2025-03-01,,,\n"
        ",acme.com,,Webinar,2025-03-02,,,\n"
        ",,Gamma,Webinar,2025-03-03,,,\n"
    ))  # fmt: skip
    plans: dict[str, str] = {}

    def explained(conn, cursor, statement, parameters, context, executemany):
        if not executemany and ("_key IN" in statement or "_key = " in statement):
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            plans[statement] = " / ".join(row[3] for row in cursor.fetchall())
        return statement, parameters

    event.listen(sqlite_workspace.engine, "before_cursor_execute", explained, retval=True)
    try:
        summary = _import(sqlite_workspace, owner, path)
    finally:
        event.remove(sqlite_workspace.engine, "before_cursor_execute", explained)
    assert (summary.created, summary.rejected) == (2, 1)
    # the three ways of matching, and the name two accounts share counted
    by_email, by_domain, by_name, shared_name = plans.values()
    assert "SEARCH contacts USING COVERING INDEX ix_contacts_live_email_key" in by_email
    assert "SEARCH accounts" not in by_email  # the deleted ones, through their own index
    for plan, index in [(by_domain, "domain_key"), (by_name, "name_key"),
                        (shared_name, "name_key")]:  # fmt: skip
        searches = [step for step in plan.split(" / ") if step.startswith("SEARCH")]
        assert searches and all(f"COVERING INDEX ix_accounts_live_{index}" in s for s in searches)


def test_a_kind_campaign_and_source_can_be_given_for_every_row(workspace, people, crm, tmp_path):
    header = "Email,Join Time,Topic\n"
    path = _csv(tmp_path, "ann@acme.com,2025-03-01 10:00,\nann@acme.com,2025-03-08 10:00,Q&A\n",
                header=header)  # fmt: skip
    with pytest.raises(FileRefused, match="no column gives the kind of engagement"):
        _import(workspace, people[Role.OWNER], path)
    summary = _import(workspace, people[Role.OWNER], path, kind=EngagementKind.WEBINAR,
                      campaign="Spring webinar", source="Zoom")  # fmt: skip
    assert summary.created == 2
    rows = _stored(workspace)
    assert [(r["kind"], r["campaign"], r["source"]) for r in rows] == [
        ("webinar", "Spring webinar", "Zoom"),
        ("webinar", "Q&A", "Zoom"),  # the row's own campaign is kept as given
    ]


def test_a_file_that_cannot_name_an_account_or_gives_the_kind_twice_is_refused(
    workspace, people, tmp_path
):
    owner = people[Role.OWNER]
    with pytest.raises(FileRefused, match="no column says which account a row is"):
        _import(workspace, owner, _csv(tmp_path, "Webinar,2025-03-01\n", header="Type,Date\n"))
    with pytest.raises(FileRefused, match="a kind is also chosen for every row"):
        _import(workspace, owner, _csv(tmp_path, "acme.com,Webinar,2025-03-01\n",
                                       header="Website,Type,Date\n"),
                kind=EngagementKind.EVENT)  # fmt: skip
    assert list_batches(workspace) == []


def test_an_xlsx_export_imports_with_its_dates(workspace, people, crm, tmp_path):
    path = tmp_path / "attendees.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Attendee list: Spring fair"])
    sheet.append(["Email", "Attendee Status", "Check-In Date", "Event Name"])
    sheet.append(["ann@acme.com", "Checked In", datetime(2025, 4, 2, 9, 30), "Spring fair"])
    book.save(path)
    summary = _import(workspace, people[Role.OWNER], path)
    assert (summary.created, summary.rejected) == (1, 0)
    (row,) = _stored(workspace)
    assert row["kind"] == "event attended"
    assert _utc(row["at"]) == datetime(2025, 4, 2, 9, 30).astimezone(UTC)


def test_a_cancelled_import_changes_nothing(
    workspace, people, crm, tmp_path, file_size, monkeypatch
):
    monkeypatch.setattr(importer, "CHUNK", 2)
    path = _csv(tmp_path, "ann@acme.com,,,Webinar,2025-03-01,,,\n" * 3 + (
        "ann@acme.com,,,Webinar,2025-03-02,,,\n"))  # fmt: skip
    calls = iter([False, True])
    with pytest.raises(ImportCancelled):
        import_engagement(SqlEngagementImporter(workspace), people[Role.OWNER], path,
                          cancel=lambda: next(calls))  # fmt: skip
    assert _stored(workspace) == [] and list_batches(workspace) == []
    summary = _import(workspace, people[Role.OWNER], path)
    assert (summary.created, summary.skipped) == (2, 2)
    assert {r["contact_id"] for r in _stored(workspace)} == {crm["ann"]}


def test_a_rep_may_not_import_engagement(workspace, people, crm, tmp_path):
    with pytest.raises(PermissionDenied):
        _import(workspace, people[Role.REP], _csv(tmp_path, ",acme.com,,Webinar,2025-03-01,,,\n"))
    assert _stored(workspace) == []


# --- finding a row's account through the indexes --------------------------------------------


def _contact_of(workspace, path, user) -> list:
    _import(workspace, user, path)
    return [(r["account_id"], r["contact_id"]) for r in _stored(workspace)]


def test_a_contact_is_found_by_its_email_however_it_was_typed_edited_or_imported(
    workspace, people, crm, tmp_path
):
    owner = people[Role.OWNER]
    with SqlUnitOfWork.reading(workspace) as reading:
        ann = reading.contacts.get(crm["ann"])
    assert ann is not None  # she marries, and her e-mail changes
    update_contact(SqlUnitOfWork(workspace), owner, ann, {"email": " Ann.Berg@ACME.com "})
    people_file = tmp_path / "people.csv"
    people_file.write_text("Name,Email,Company\nCy Dahl,CY@Beta.IO,Beta\n", encoding="utf-8")
    contacts_import = import_file(SqlImporter(workspace), owner, people_file, "contacts")
    with workspace.read() as conn:
        cy = conn.execute(select(ContactRow.id).where(ContactRow.name == "Cy Dahl")).scalar_one()
    path = _csv(tmp_path, (
        "ann.berg@acme.com,,,Webinar,2025-03-01 10:00 UTC,,,\n"
        "ann@acme.com,,,Webinar,2025-03-02 10:00 UTC,,,\n"  # her old address: only the domain
        "cy@beta.io,,,Webinar,2025-03-03 10:00 UTC,,,\n"
    ))  # fmt: skip
    assert _contact_of(workspace, path, owner) == [
        (crm["acme"], crm["ann"]),
        (crm["acme"], None),
        (crm["beta"], cy),
    ]
    # the contacts import undone, its contact is no longer found by its e-mail
    undo_import(SqlImporter(workspace), owner, contacts_import.batch_id)
    path = _csv(tmp_path, "cy@beta.io,,,Webinar,2025-03-04 10:00 UTC,,,\n", name="again.csv")
    assert _contact_of(workspace, path, owner)[-1] == (crm["beta"], None)


def test_a_contact_stored_before_the_email_key_is_found_by_its_email(db_url, tmp_path):
    """0013 gives the contacts already stored the key an import looks them up by."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    old = open_workspace(db_url, migrate=False)
    account_id, contact_id = uuid.uuid4(), uuid.uuid4()
    with old.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0012")
        conn.execute(
            insert(AccountRow.__table__).values(
                id=account_id, name="Acme", name_key="acme", search_text=" acme ", changed_by="Ann"
            )
        )
        conn.execute(insert(ContactRow.__table__).values(
            id=contact_id, account_id=account_id, name="Ann", email=" Ann@Acme.COM ",
            changed_by="Ann"))  # fmt: skip
    old.close()
    workspace = open_workspace(db_url)
    owner = sign_in(workspace, "Olivia Owner")
    path = _csv(tmp_path, "ann@acme.com,,,Webinar,2025-03-01 10:00 UTC,,,\n")
    assert _contact_of(workspace, path, owner) == [(account_id, contact_id)]
    workspace.close()


def test_a_name_that_many_accounts_share_is_said_with_a_few_of_them(
    workspace, people, crm, tmp_path
):
    uow, owner = SqlUnitOfWork(workspace), people[Role.OWNER]
    for n in range(4):  # six accounts named Gamma in all
        create_account(uow, owner, {"name": "GAMMA", "website": f"gamma{n}.example"})
    path = _csv(tmp_path, ",,Gamma,Webinar,2025-03-01,,,\n,,gamma,Webinar,2025-03-02,,,\n")
    summary = _import(workspace, owner, path)
    assert summary.rejected == 2
    first, second = (e.reason for e in summary.errors)
    assert first == second
    listed = first.removeprefix("6 accounts have this name (").split(" and 3 more): ")
    assert len(listed) == 2 and listed[1].startswith("give a contact's e-mail")
    assert len(listed[0].split("; ")) == 3  # three of them, by name, website and country


def test_the_summary_says_what_was_added_and_how_and_why_rows_were_not(
    workspace, people, crm, tmp_path
):
    owner = people[Role.OWNER]
    path = _csv(tmp_path, (
        "ann@acme.com,,,Webinar,2025-03-01 10:00 UTC,,,\n"
        "someone@beta.io,,,Webinar,2025-03-01 10:00 UTC,,,\n"  # no such contact: the domain
        ",beta.io,,Webinar,2025-03-02 10:00 UTC,,,\n"
        ",,Acme,Webinar,2025-03-03 10:00 UTC,,,\n"
        ",,Gamma,Webinar,2025-03-03 10:00 UTC,,,\n"
        ",,Nobody,Webinar,2025-03-03 10:00 UTC,,,\n"
        ",,Acme,Webinar,someday,,,\n"
    ))  # fmt: skip
    summary = _import(workspace, owner, path)
    assert summary.describe() == (
        f"engagement.csv: 4 engagements added (1 by contact e-mail, 2 by website domain and "
        f"1 by name), 3 rejected (1 matching no account, 1 matching several accounts and 1 "
        f"with a cell Accord cannot read) (batch {summary.batch_id})"
    )
    again = _import(workspace, owner, _csv(tmp_path, ",,Acme,Webinar,2025-03-03 10:00 UTC,,,\n",
                                           name="again.csv"))  # fmt: skip
    assert again.tally() == ["0 engagements added", "1 row imported before, skipped", "0 rejected"]
