"""The engagement import's work in set form: the whole file staged, then its matched rows
added by one statement; a chunk's keys looked up in one statement a way, which also says
how many accounts share each, and the accounts they are said to be in one more."""

from __future__ import annotations

import pytest

from domain.accounts import create_account
from domain.engagement import import_engagement
from domain.importing import ImportCancelled
from domain.users import Role
from storage.importing import importer
from storage.importing.engagement import SqlEngagementImporter
from storage.importing.importer import list_batches
from storage.repositories import SqlUnitOfWork
from tests.conftest import statements_of
from tests.test_engagement import _csv, _import, _stored, crm  # noqa: F401 (crm: a fixture)


@pytest.mark.usefixtures("crm")
def test_a_chunks_keys_are_looked_up_in_one_statement_a_way_and_the_shared_ones_said_in_one(
    workspace, people, tmp_path
):
    """Each way's keys are looked up in one statement for the chunk (every holder of an
    e-mail or a domain, a name's first two, each through the key's index); the names that
    two hold are counted, with their first few, in one more; and the accounts every shared
    key lists are read in one for all three ways."""
    owner = people[Role.OWNER]
    create_account(SqlUnitOfWork(workspace), owner, {"name": "Gamma France", "website": "gamma.fr"})
    path = _csv(tmp_path, (
        "info@gamma.example,,,Webinar,2025-03-01,,,\n"
        ",www.gamma.fr,,Webinar,2025-03-02,,,\n"
        ",,Gamma,Webinar,2025-03-03,,,\n"
    ))  # fmt: skip
    sent = statements_of([workspace], lambda: _import(workspace, owner, path))
    assert len([s for s in sent if "contacts.email_key IN" in s]) == 1
    assert len([s for s in sent if "accounts.domain_key" in s]) == 1
    looked_up = [s for s in sent if "accounts.name_key = " in s]
    assert len(looked_up) == 2  # the first two holders; how many and the first few
    assert "count(*)" not in looked_up[0] and "count(*)" in looked_up[1]
    listed = [s for s in sent if "accounts.name, accounts.website, accounts.country" in s]
    assert len(listed) == 1  # the accounts a shared key is in, for all three ways
    summary = _import(workspace, owner, path)
    assert [e.reason.split(": ")[0] for e in summary.errors] == [
        "2 accounts have this contact e-mail (Gamma, gamma.de, Germany; Gamma, gamma.fr, France)",
        "2 accounts have this website (Gamma France, gamma.fr; Gamma, gamma.fr, France)",
        "2 accounts have this name (Gamma, gamma.de, Germany; Gamma, gamma.fr, France)",
    ]


@pytest.mark.usefixtures("crm")
def test_the_whole_file_is_staged_then_added_by_one_statement(
    workspace, people, tmp_path, file_size, monkeypatch
):
    """Each chunk is staged and matched as it comes, and the matched rows of all of them
    are added at the end in one statement (the engagement's indexes dropped meanwhile for a
    big file), a row met twice in the file, or stored before, added once."""
    monkeypatch.setattr(importer, "CHUNK", 2)
    owner = people[Role.OWNER]
    row = "ann@acme.com,,,Webinar,2025-03-0{},,,\n,acme.com,,Webinar,2025-03-0{},,,\n"
    path = _csv(tmp_path, "".join(row.format(day, day) for day in (1, 2, 1)))
    sent = statements_of([workspace], lambda: _import(workspace, owner, path))
    assert len([s for s in sent if s.startswith("INSERT INTO engagements ")]) == 1
    assert len(_stored(workspace)) == 4  # each day's e-mail's and website's rows, once
    again = []
    sent = statements_of([workspace], lambda: again.append(_import(workspace, owner, path)))
    assert (again[0].created, again[0].skipped) == (0, 6)
    # the accounts with engagement are read first only for a file as big as all of it
    engaged = [s for s in sent if s.startswith("SELECT DISTINCT engagements.account_id")]
    assert len(engaged) == (0 if file_size == "small file" else 1)


@pytest.mark.usefixtures("crm")
def test_a_cancel_once_the_file_is_read_changes_nothing(
    workspace, people, tmp_path, file_size, monkeypatch
):
    """The rows are added once every chunk was read: a cancel then still undoes it all."""
    monkeypatch.setattr(importer, "CHUNK", 2)
    path = _csv(tmp_path, "ann@acme.com,,,Webinar,2025-03-01,,,\n" * 2 + (
        ",acme.com,,Webinar,2025-03-02,,,\n"))  # fmt: skip
    asked = 0

    def cancel() -> bool:
        nonlocal asked
        asked += 1
        return asked > 2  # once both chunks were read

    with pytest.raises(ImportCancelled):
        import_engagement(SqlEngagementImporter(workspace), people[Role.OWNER], path,
                          cancel=cancel)  # fmt: skip
    assert _stored(workspace) == [] and list_batches(workspace) == []


@pytest.mark.usefixtures("crm")
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # PostgreSQL checks them all
def test_an_import_refers_to_rows_that_are_there_and_leaves_the_checks_on(
    workspace, people, tmp_path, monkeypatch
):
    """The import writes with SQLite's foreign key checks off, having read every reference
    in its own transaction: each of its rows refers to rows there are, and the checks are on
    again for the writes after it, whether it was cancelled or not."""
    monkeypatch.setattr(importer, "CHUNK", 2)
    owner = people[Role.OWNER]
    path = _csv(tmp_path, "ann@acme.com,,,Webinar,2025-03-01,,,\n,beta.io,,Webinar,2025-03-02,,,\n"
                          ",,Beta,Webinar,2025-03-03,,,\n")  # fmt: skip

    def checked() -> tuple[int, list]:
        with workspace.write() as conn:
            on = conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one()
            return on, list(conn.exec_driver_sql("PRAGMA foreign_key_check"))

    with pytest.raises(ImportCancelled):
        import_engagement(SqlEngagementImporter(workspace), owner, path, cancel=lambda: True)
    assert checked() == (1, [])
    assert _import(workspace, owner, path).created == 3
    assert checked() == (1, [])
    assert len(_stored(workspace)) == 3
