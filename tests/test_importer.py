"""Importing into a workspace (SQLite and PostgreSQL): dedupe, duplicates policy,
all-or-nothing, undo, roles."""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import time
from contextlib import nullcontext
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, select

from domain.accounts import update_account
from domain.fields import ACCOUNT_FIELDS
from domain.importing import (
    FileRefused,
    ImportCancelled,
    ImportOptions,
    OnDuplicate,
    auto_mapping,
)
from domain.users import Role
from storage.importing import importer, reading
from storage.importing.files import open_table
from storage.importing.importer import import_accounts, import_contacts, list_batches, undo_import
from storage.importing.reading import ReaderFailed, Reading, read_chunks
from storage.keys import SEARCHED_FIELDS, derived_columns, search_key
from storage.queries import accounts
from storage.repositories import SqlUnitOfWork
from storage.users import sign_in
from storage.workspace import open_workspace

HEADER = "Company name,Website,City,Country,Number of Employees\n"


def _csv(tmp_path: Path, body: str, name: str = "list.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def _live(workspace) -> dict[str, dict]:
    with workspace.read() as conn:
        rows = conn.execute(select(accounts).where(accounts.c.deleted_at.is_(None))).mappings()
        return {r["name"]: dict(r) for r in rows}


def _indexes(workspace) -> set[str]:
    with workspace.read() as conn:
        return {i["name"] for i in inspect(conn).get_indexes("accounts")}


def test_duplicates_in_the_file_by_domain_then_name_and_country(
    workspace, people, tmp_path, file_size
):
    body = (
        "Acme GmbH,https://www.acme.de/about,Berlin,Germany,10\n"
        "ACME,acme.de,,Germany,\n"  # same domain
        "Beta Ltd,,London,UK,5\n"
        "beta limited,,,uk,\n"  # same name and country
        "Beta Ltd,,Paris,France,7\n"  # same name, other country: another company
    )
    summary = import_accounts(workspace, people[Role.OWNER], _csv(tmp_path, body))
    assert (summary.created, summary.skipped) == (3, 2)
    with workspace.read() as conn:
        cities = sorted(conn.execute(select(accounts.c.country)).scalars())
    assert cities == ["France", "Germany", "UK"]


def test_duplicates_against_the_workspace_follow_the_policy(workspace, people, tmp_path, file_size):
    owner = people[Role.OWNER]
    indexes = _indexes(workspace)
    import_accounts(workspace, owner, _csv(tmp_path, "Acme,acme.de,,Germany,10\n", "a.csv"))
    again = _csv(tmp_path, "Acme AG,www.acme.de,Munich,Germany,99\n", "b.csv")

    skip = import_accounts(workspace, owner, again)
    assert (skip.skipped, _live(workspace)["Acme"]["city"]) == (1, None)

    fill = import_accounts(workspace, owner, again, ImportOptions(on_duplicate=OnDuplicate.FILL))
    acme = _live(workspace)["Acme"]
    assert (fill.updated, acme["city"], acme["employees"]) == (1, "Munich", 10)

    import_accounts(workspace, owner, again, ImportOptions(on_duplicate=OnDuplicate.OVERWRITE))
    acme = _live(workspace)["Acme AG"]
    assert (acme["employees"], acme["version"], acme["changed_by"]) == (99, 3, owner.name)
    assert _indexes(workspace) == indexes  # built again after a big file


def test_duplicates_are_found_across_the_chunks_of_a_file(
    workspace, people, tmp_path, file_size, monkeypatch
):
    monkeypatch.setattr(importer, "CHUNK", 2)
    body = (
        "Acme,acme.de,,Germany,\n"
        "Beta,,,UK,5\n"
        "Acme AG,www.acme.de,Berlin,Germany,10\n"  # the first Acme, two chunks on
        "beta ltd,,London,UK,\n"  # the first Beta
        "Acme GmbH,,,Germany,\n"  # the first Acme by name and country
    )
    options = ImportOptions(on_duplicate=OnDuplicate.FILL)
    summary = import_accounts(workspace, people[Role.OWNER], _csv(tmp_path, body), options)
    assert (summary.created, summary.updated, summary.skipped) == (2, 2, 1)
    acme, beta = _live(workspace)["Acme"], _live(workspace)["Beta"]
    assert (acme["city"], acme["employees"], beta["city"]) == ("Berlin", 10, "London")


def test_strict_refuses_the_whole_file(workspace, people, tmp_path):
    path = _csv(tmp_path, "Acme,acme.de,,,10\nBeta,,,,many\n")
    with pytest.raises(FileRefused, match="row 3"):
        import_accounts(workspace, people[Role.OWNER], path, ImportOptions(strict=True))
    assert _live(workspace) == {}
    assert list_batches(workspace) == []


def test_cancel_mid_import_leaves_the_workspace_as_it_was(workspace, people, tmp_path, file_size):
    import_accounts(workspace, people[Role.OWNER], _csv(tmp_path, "Keep,keep.com,,,1\n", "k.csv"))
    indexes = _indexes(workspace)
    collecting = gc.isenabled()
    body = "".join(f"Company {n},c{n}.com,,,{n}\n" for n in range(12_000))
    checks = iter([False, True])
    with pytest.raises(ImportCancelled):
        import_accounts(
            workspace, people[Role.OWNER], _csv(tmp_path, body), cancel=lambda: next(checks)
        )
    assert list(_live(workspace)) == ["Keep"]
    assert len(list_batches(workspace)) == 1
    assert _indexes(workspace) == indexes
    assert gc.isenabled() is collecting  # paused while the import ran, then as it was


class _Ready:
    """The reader's queue of chunks ready for the import, here a list: ``full`` while the
    import is behind (it has every chunk it may have waiting)."""

    def __init__(self, full: bool) -> None:
        self.chunks: list = []
        self._full = full

    def full(self) -> bool:
        return self._full

    def put(self, chunk, timeout: float | None = None) -> None:
        if chunk is not None:  # the end of the rows
            self.chunks.append(chunk)


def _read_while(behind: bool, rows: Reading) -> list:
    """The chunks a reader process puts for the import, the import ``behind`` or not."""
    ready = _Ready(full=behind)
    reading._read(rows, ready)
    return ready.chunks


def _imported_apart_or_not(
    tmp_path: Path, path: Path, apart: bool, monkeypatch, behind: bool = False
) -> tuple:
    """What importing ``path`` into a new workspace says and stores, the file read and
    parsed by a process of its own or by the import's; ``behind``, by the reader's work in
    this process while the import is behind (the derived columns worked out by the reader)."""
    monkeypatch.setattr(importer, "OWN_READER_AT_ROWS", 0 if apart else 10**12)
    monkeypatch.setattr(importer, "CHUNK", 3)  # rows, rejects and unread cells in chunks
    if behind:
        monkeypatch.setattr(
            importer, "read_chunks", lambda rows, own_process: nullcontext(
                iter(_read_while(True, rows)))
        )  # fmt: skip
    workspace = open_workspace(tmp_path / f"apart-{apart}-{behind}.sqlite")
    try:
        summary = import_accounts(workspace, sign_in(workspace, "Ann"), path)
        stored = sorted(
            tuple(r[c] for c in ("name", "employees", "country_code", "phone_e164", "search_text"))
            for r in _live(workspace).values()
        )
    finally:
        workspace.close()
    said = (
        summary.tally(),
        [e.describe(summary.file_name) for e in [*summary.errors, *summary.warnings]],
        [m.describe() for m in summary.matched],
        summary.bands_line(),
        summary.unknown_countries_line(),
        list(summary.rejected_rows()),
    )
    return said, stored


def test_a_file_read_by_a_process_of_its_own_imports_as_one_read_by_the_import(
    tmp_path, monkeypatch
):
    body = (
        "Acme,acme.de,Berlin,Germany,51-200\n"
        ",nameless.com,,,5\n"  # rejected: no name
        "Beta,beta.co.uk,London,UK,many\n"  # the head count is not read
        "Gamma,gamma.io,,Atlantis,10001+\n"  # a country Accord does not know
        "Acme AG,www.acme.de,,Germany,\n"  # the first Acme by its website
        "Delta,delta.com,,,1,extra\n"  # one field too many
        "Turner,turner.com,,Grenada,\n"
        "Miles,turner.com,,Gibraltar,\n"  # a possible duplicate of Turner
        "Beta Ltd,,,uk,11-50\n"  # the first Beta by its name and country
    )
    path = _csv(tmp_path, body)
    apart = _imported_apart_or_not(tmp_path, path, True, monkeypatch)
    assert apart == _imported_apart_or_not(tmp_path, path, False, monkeypatch)
    assert apart == _imported_apart_or_not(tmp_path, path, False, monkeypatch, behind=True)
    said, stored = apart
    assert said[0] == ["5 created", "0 updated", "2 duplicates skipped",
                       "1 possible duplicate to review", "1 cell not read and left empty",
                       "2 rejected"]  # fmt: skip
    assert "'51-200' as 51, '10001+' as 10,001 and '11-50' as 11" in said[3]
    assert "'Atlantis' (1 row)" in said[4]
    assert len(stored) == 5


def test_the_reader_works_out_the_derived_columns_while_the_import_is_behind(tmp_path):
    """Rather than wait for the import to take a chunk, the reader works out the derived
    columns of the accounts itself (the import does, for the chunks that come without)."""
    path = _csv(tmp_path, "Acme,acme.de,Berlin,Germany,51-200\nBeta,,London,UK,\nGamma,g.io,,,\n")
    table = open_table(path, ACCOUNT_FIELDS)
    rows = Reading(table, ACCOUNT_FIELDS, auto_mapping(table.headers, ACCOUNT_FIELDS), 2,
                   accounts=True)  # fmt: skip
    behind = _read_while(True, rows)
    assert [len(chunk.derived) for chunk in behind] == [2, 1]
    assert [d for chunk in behind for d in chunk.derived] == [
        derived_columns(values) for chunk in behind for _, _, values in chunk.rows
    ]
    assert [chunk.derived for chunk in _read_while(False, rows)] == [[], []]


def test_a_file_refused_by_the_process_that_reads_it_is_said_as_it_is(
    sqlite_workspace, sqlite_people, tmp_path, monkeypatch
):
    """A line in another encoding further down refuses the file from the reader process,
    in the words the import's own reading would use, and nothing is imported."""
    monkeypatch.setattr(importer, "OWN_READER_AT_ROWS", 0)
    lines = "".join(f"Company {n:06}\n" for n in range(30_000))  # past the encoding's sample
    path = tmp_path / "list.csv"
    path.write_bytes(("Company name\n" + lines).encode() + "Łódź\n".encode("cp1250"))
    with pytest.raises(FileRefused, match="line 30002 is not UTF-8 text"):
        import_accounts(sqlite_workspace, sqlite_people[Role.OWNER], path)
    assert _live(sqlite_workspace) == {}


def test_a_reader_process_that_fails_is_told_with_its_traceback(tmp_path):
    """What is no user's error (here the file gone once the import has opened it) stops
    the import with the reader's own traceback, not a silent end of the rows."""
    path = _csv(tmp_path, "Acme,acme.de,,,10\n")
    table = open_table(path, ACCOUNT_FIELDS)
    path.unlink()
    mapped = auto_mapping(table.headers, ACCOUNT_FIELDS)
    rows = Reading(table, ACCOUNT_FIELDS, mapped, 2, accounts=True)
    with (
        pytest.raises(ReaderFailed, match="FileNotFoundError"),
        read_chunks(rows, own_process=True) as chunks,
    ):
        list(chunks)


def _reading_until_killed(path: str, told: str) -> None:
    """In an importing process of its own: read ``path`` a chunk at a time by a reader
    process, take one chunk, tell the reader's pid in the file ``told``, and wait."""
    table = open_table(Path(path), ACCOUNT_FIELDS)
    rows = Reading(table, ACCOUNT_FIELDS, auto_mapping(table.headers, ACCOUNT_FIELDS), 2,
                   accounts=True)  # fmt: skip
    with read_chunks(rows, own_process=True) as chunks:
        next(chunks)
        (reader,) = multiprocessing.active_children()
        Path(told).write_text(str(reader.pid))
        time.sleep(120)


def _ended(pid: int) -> bool:
    """Whether the process ``pid`` has ended (gone, or on Linux a zombie no one reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"


def test_a_reader_process_ends_when_the_importing_process_is_killed(tmp_path):
    """An import killed mid-file (the app killed, the machine's memory short) cannot stop
    its reader process: the reader ends of itself rather than wait for ever for an import
    to take its chunks, holding the file and their memory."""
    path = _csv(tmp_path, "".join(f"Company {n},c{n}.com,,,{n}\n" for n in range(1_000)))
    told = tmp_path / "reader.pid"
    importing = multiprocessing.get_context("spawn").Process(
        target=_reading_until_killed, args=(str(path), str(told))
    )
    importing.start()
    for _ in range(600):
        if told.exists() and told.read_text():
            break
        time.sleep(0.05)
    reader = int(told.read_text())
    os.kill(importing.pid, signal.SIGKILL)
    importing.join()
    for _ in range(100):  # it looks every second
        if _ended(reader):
            return
        time.sleep(0.1)
    os.kill(reader, signal.SIGKILL)
    pytest.fail("the reader process was still waiting 10 s after the import was killed")


def test_a_crash_mid_import_leaves_the_workspace_as_it_was(workspace, people, tmp_path):
    body = "".join(f"Company {n},c{n}.com,,,{n}\n" for n in range(12_000))

    def crash(done: int, _total: int | None) -> None:
        raise OSError("disk unplugged")

    with pytest.raises(OSError, match="unplugged"):
        import_accounts(workspace, people[Role.OWNER], _csv(tmp_path, body), progress=crash)
    assert _live(workspace) == {}


def test_undo_import_removes_created_and_restores_overwritten(workspace, people, tmp_path):
    owner = people[Role.OWNER]
    import_accounts(workspace, owner, _csv(tmp_path, "Acme,acme.de,Berlin,Germany,10\n", "a.csv"))
    body = "Acme,acme.de,Hamburg,Germany,20\nNewco,newco.io,Rome,Italy,3\n"
    options = ImportOptions(on_duplicate=OnDuplicate.OVERWRITE)
    summary = import_accounts(workspace, owner, _csv(tmp_path, body, "b.csv"), options)
    assert (summary.created, summary.updated) == (1, 1)

    message = undo_import(workspace, people[Role.MARKETING], str(summary.batch_id))
    live = _live(workspace)
    assert list(live) == ["Acme"]
    assert (live["Acme"]["city"], live["Acme"]["employees"]) == ("Berlin", 10)
    assert "1 record removed, 1 restored" in message
    with pytest.raises(FileRefused, match="already undone"):
        undo_import(workspace, owner, summary.batch_id)


def test_undo_leaves_records_edited_after_the_import(workspace, people, tmp_path):
    owner = people[Role.OWNER]
    summary = import_accounts(workspace, owner, _csv(tmp_path, "Acme,acme.de,Berlin,,1\n"))
    with SqlUnitOfWork(workspace) as uow:
        acme = uow.accounts.get(_live(workspace)["Acme"]["id"])
    update_account(SqlUnitOfWork(workspace), owner, acme, {"city": "Bonn"})
    message = undo_import(workspace, owner, summary.batch_id)
    assert _live(workspace)["Acme"]["city"] == "Bonn"
    assert "1 left as they are" in message


def test_imported_and_edited_accounts_keep_their_times_alike(
    sqlite_workspace, sqlite_people, tmp_path
):
    """An import writes through the driver, not the ORM: its times must be stored as the
    ORM stores them, or the list's "Updated" order would compare two kinds of text."""
    owner = sqlite_people[Role.OWNER]
    import_accounts(sqlite_workspace, owner, _csv(tmp_path, "Acme,acme.de,,,1\nBolt,bolt.io,,,2\n"))
    with SqlUnitOfWork(sqlite_workspace) as uow:
        bolt = uow.accounts.get(_live(sqlite_workspace)["Bolt"]["id"])
    update_account(SqlUnitOfWork(sqlite_workspace), owner, bolt, {"city": "Bonn"})
    with sqlite_workspace.read() as conn:
        stored = dict(conn.exec_driver_sql("SELECT name, updated_at FROM accounts").all())
    assert len(stored["Acme"]) == len(stored["Bolt"])
    assert stored["Acme"] < stored["Bolt"]


def test_contacts_link_to_accounts_by_website_or_name(workspace, people, tmp_path):
    owner = people[Role.OWNER]
    import_accounts(workspace, owner, _csv(tmp_path, "Acme GmbH,acme.de,,,1\nBeta,,,,2\n"))
    people_csv = tmp_path / "people.csv"
    people_csv.write_text(
        "Account,First name,Last name,Job Title,Email,Decision maker\n"
        "https://acme.de,Jörg,Müller,CEO,jm@acme.de,yes\n"
        "Beta,Sue,Smith,Buyer,sue@beta.com,no\n"
        "acme.de,J.,Müller,Chief Executive,JM@ACME.DE,yes\n"  # same e-mail: duplicate
        "Nobody Inc,X,Y,,,\n",
        encoding="utf-8",
    )
    summary = import_contacts(workspace, owner, people_csv)
    assert (summary.created, summary.skipped, summary.rejected) == (2, 1, 1)
    assert summary.errors[0].row == 5 and "no account" in summary.errors[0].reason


@settings(deadline=None)  # the first unknown country reads pycountry's translations
@given(st.dictionaries(st.sampled_from(SEARCHED_FIELDS), st.text(max_size=30)))
def test_search_text_holds_the_words_of_the_searched_fields_folded_together(values):
    joined = " ".join(values[f] for f in SEARCHED_FIELDS if values.get(f))
    derived = derived_columns(values)
    words = [search_key(joined), (derived["phone_e164"] or "+")[1:]]
    assert derived["search_text"] == f" {' '.join(w for w in words if w)} "


def test_a_field_takes_the_first_filled_of_its_columns(workspace, people, tmp_path):
    """A HubSpot company export has both "Company Domain Name" and "Website URL": both map
    to the Website, and a row whose domain is empty is still matched by its URL."""
    path = tmp_path / "hubspot.csv"
    path.write_text(
        "Company name,Company Domain Name,Website URL,Country\n"
        "Acme,acme.com,https://www.acme-group.com/,US\n"
        "Acme Inc,,https://www.acme.com/,US\n"
        "Beta,,https://beta.io,UK\n",
        encoding="utf-8",
    )
    summary = import_accounts(workspace, people[Role.OWNER], path)
    assert (summary.created, summary.skipped) == (2, 1)
    assert [m.row for m in summary.matched] == [3]
    assert {name: row["website"] for name, row in _live(workspace).items()} == {
        "Acme": "acme.com",  # the domain column comes first: the URL after it is not used
        "Beta": "https://beta.io",
    }
    assert summary.notes[1:] == [
        "Website comes from the first filled of 'Company Domain Name' and 'Website URL', "
        "in that order."
    ]


def test_a_bad_cell_is_named_by_the_column_it_was_taken_from(workspace, people, tmp_path):
    path = tmp_path / "hubspot.csv"
    path.write_text(
        "Company name,Company Domain Name,Website URL\nAcme,,not a site\n", encoding="utf-8"
    )
    summary = import_accounts(workspace, people[Role.OWNER], path)
    assert [(e.column, e.reason) for e in summary.warnings] == [
        ("Website URL", "'not a site' is not a website or domain: Website is left empty")
    ]


def test_a_name_part_from_two_columns_is_refused(workspace, people, tmp_path):
    """A contact's name joins its parts: two first-name columns would both go into it."""
    path = tmp_path / "people.csv"
    path.write_text("First,Given name,Last,Account\nAnn,Anna,Lee,Acme\n", encoding="utf-8")
    options = ImportOptions(mapped_fields=["first_name", "first_name", "last_name", "account"])
    with pytest.raises(FileRefused, match=r"First name \('First', 'Given name'\)"):
        import_contacts(workspace, people[Role.OWNER], path, options)
