"""Matching is explained, never silent: a shared website with another name and country is
a possible duplicate, kept apart and reviewed (merge, keep both); every skipped or merged
row is named; a contact goes to the account its row points at, or is rejected naming the
candidates."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import select

from domain.errors import NotFound, PermissionDenied
from domain.importing import OnDuplicate, Outcome, review_possible_duplicate
from domain.users import Role
from main import main
from reports.rejects import rejects_table
from reports.tabular import write_table
from storage.importing.duplicates import (
    CannotMerge,
    keep_both,
    merge_possible_duplicate,
    possible_duplicates,
    to_review,
)
from storage.importing.importer import ImportOptions, import_accounts, import_contacts, undo_import
from storage.queries import accounts
from storage.schema import ContactRow, table_of
from storage.users import sign_in
from ui.import_history import HEADERS, ImportHistoryDialog, PossibleDuplicatesDialog
from ui.import_wizard import ImportWizard

contacts = table_of(ContactRow)

TURNER = (
    "Company,Website,Country,City\n"
    "Arroyo Inc,turner.com,Grenada,St. George's\n"
    "Miles-Dominguez,http://www.turner.com/,Gibraltar,\n"
)


def _file(tmp_path: Path, text: str, name: str = "companies.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _live(workspace) -> dict[str, dict]:
    with workspace.read() as conn:
        rows = conn.execute(select(accounts).where(accounts.c.deleted_at.is_(None))).mappings()
        return {r["name"]: dict(r) for r in rows}


def _overwrite(workspace, user, path: Path):
    return import_accounts(workspace, user, path, ImportOptions(on_duplicate=OnDuplicate.OVERWRITE))


def test_a_shared_website_with_another_name_and_country_is_kept_apart(workspace, people, tmp_path):
    owner = people[Role.OWNER]
    _overwrite(
        workspace, owner, _file(tmp_path, TURNER.splitlines(True)[0] + TURNER.splitlines(True)[1])
    )
    summary = _overwrite(workspace, owner, _file(tmp_path, TURNER, "again.csv"))
    live = _live(workspace)
    assert (live["Arroyo Inc"]["country"], live["Miles-Dominguez"]["country"]) == (
        "Grenada", "Gibraltar")  # fmt: skip
    assert (summary.created, summary.updated, summary.skipped, summary.possible) == (1, 0, 1, 1)
    assert "1 duplicate skipped, 1 possible duplicate to review" in summary.describe()
    assert [m.describe() for m in summary.matched] == [
        "row 2: Arroyo Inc (Grenada) matches Arroyo Inc (Grenada) by its website: skipped.",
        "row 3: Miles-Dominguez (Gibraltar) may duplicate Arroyo Inc (Grenada): the website is "
        "the same, the name and the country are not. It was imported as a new account; merge "
        "the two or keep both in File › Import history.",
    ]
    pairs = possible_duplicates(workspace, summary.batch_id)
    assert [(p.row, p.imported.name, p.stored.name) for p in pairs] == [
        (3, "Miles-Dominguez", "Arroyo Inc")
    ]
    # The same file once more: each row finds its own company among those with the website.
    again = _overwrite(workspace, owner, _file(tmp_path, TURNER, "third.csv"))
    assert (again.created, again.possible, len(_live(workspace))) == (0, 0, 2)


def test_one_shared_website_without_a_country_to_tell_them_apart_is_one_company(
    workspace, people, tmp_path
):
    text = (
        "Company,Website,Country\nAlphabet,abc.xyz,USA\nGoogle,abc.xyz,\nAlphabet Inc,abc.xyz,UK\n"
    )
    summary = import_accounts(workspace, people[Role.OWNER], _file(tmp_path, text))
    outcomes = [(m.row, m.outcome) for m in summary.matched]
    # Row 3 has no country to differ, row 4 the same name: neither is only "possible".
    assert outcomes == [(3, Outcome.SKIPPED), (4, Outcome.SKIPPED)]


def test_merging_a_possible_duplicate_moves_its_contacts_and_fills_empty_fields(
    workspace, people, tmp_path
):
    owner, marketer = people[Role.OWNER], people[Role.MARKETING]
    summary = import_accounts(workspace, owner, _file(tmp_path, TURNER))
    people_csv = _file(tmp_path, "Account,Contact Name,Email\nMiles-Dominguez,Ann Lee,ann@x.org\n",
                       "people.csv")  # fmt: skip
    assert import_contacts(workspace, owner, people_csv).created == 1
    [pair] = possible_duplicates(workspace, summary.batch_id)
    with pytest.raises(PermissionDenied):
        review_possible_duplicate(people[Role.REP], lambda: "never run")
    message = review_possible_duplicate(
        marketer, lambda: merge_possible_duplicate(workspace, marketer, pair.id)
    )
    assert message == (
        "Miles-Dominguez is merged into Arroyo Inc: 1 contact moved over, no empty field to fill."
    )
    live = _live(workspace)
    assert list(live) == ["Arroyo Inc"] and live["Arroyo Inc"]["version"] == 2
    with workspace.read() as conn:
        owners = conn.execute(select(contacts.c.account_id)).scalars().all()
    assert owners == [live["Arroyo Inc"]["id"]]
    assert to_review(workspace) == {}
    with pytest.raises(NotFound, match=r"already reviewed by Mark Marketer \(merged\)"):
        merge_possible_duplicate(workspace, owner, pair.id)


def test_the_stored_account_takes_the_merged_ones_values_only_where_it_has_none(
    workspace, people, tmp_path
):
    owner = people[Role.OWNER]
    text = (
        "Company,Website,Country,City,Industry\n"
        "Arroyo Inc,turner.com,Grenada,,Retail\nMiles,turner.com,Gibraltar,Gib,Media\n"
    )
    summary = import_accounts(workspace, owner, _file(tmp_path, text))
    [pair] = possible_duplicates(workspace, summary.batch_id)
    message = merge_possible_duplicate(workspace, owner, pair.id)
    assert message.endswith("0 contacts moved over, City filled in from it.")
    arroyo = _live(workspace)["Arroyo Inc"]
    assert (arroyo["city"], arroyo["industry"], arroyo["country"]) == ("Gib", "Retail", "Grenada")
    assert " gib " in arroyo["search_text"]


def test_keep_both_settles_the_pair_and_an_undone_import_has_none_to_review(
    workspace, people, tmp_path
):
    owner = people[Role.OWNER]
    first = import_accounts(workspace, owner, _file(tmp_path, TURNER))
    [pair] = possible_duplicates(workspace, first.batch_id)
    assert keep_both(workspace, owner, pair.id) == (
        "Miles-Dominguez and Arroyo Inc are kept as two accounts.")  # fmt: skip
    assert len(_live(workspace)) == 2 and to_review(workspace) == {}
    second = import_accounts(
        workspace, owner, _file(tmp_path, TURNER + "Bolt,turner.com,Peru,\n", "b.csv")
    )
    assert to_review(workspace) == {second.batch_id: 1}
    undo_import(workspace, owner, second.batch_id)
    assert to_review(workspace) == {}


def test_an_account_on_the_target_list_is_not_merged_away(workspace, people, tmp_path):
    from domain.targets import add_to_target_list
    from storage.repositories import SqlUnitOfWork

    owner = people[Role.OWNER]
    summary = import_accounts(workspace, owner, _file(tmp_path, TURNER))
    [pair] = possible_duplicates(workspace, summary.batch_id)
    add_to_target_list(SqlUnitOfWork(workspace), owner, [pair.imported.id], "a fair lead")
    with pytest.raises(CannotMerge, match="Miles-Dominguez is on the target list"):
        merge_possible_duplicate(workspace, owner, pair.id)
    assert len(_live(workspace)) == 2


def test_the_command_line_names_every_skipped_merged_and_possible_row(tmp_path, capsys):
    db = str(tmp_path / "w.sqlite")
    first = _file(
        tmp_path,
        "Company,Website,Country\nArroyo Inc,turner.com,Grenada\nBeta,beta.io,UK\n",
        "a.csv",
    )
    assert main(["--db", db, "--user", "Ann", "import", "accounts", str(first)]) == 0
    second = _file(tmp_path, TURNER + "Beta Ltd,,UK,London\n", "b.csv")
    capsys.readouterr()
    argv = [
        "--db",
        db,
        "--user",
        "Ann",
        "import",
        "accounts",
        str(second),
        "--on-duplicate",
        "fill",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "1 created, 2 updated, 0 duplicates skipped, 1 possible duplicate to review" in out
    assert (
        "row 2: Arroyo Inc (Grenada) matches Arroyo Inc (Grenada) by its website: merged into it."
        in out
    )
    assert "row 3: Miles-Dominguez (Gibraltar) may duplicate Arroyo Inc (Grenada)" in out
    assert "row 4: Beta Ltd (UK) matches Beta (UK) by its name and country: merged into it." in out


def test_the_wizard_lists_duplicates_and_the_history_reviews_them(
    qtbot, sqlite_workspace, tmp_path, monkeypatch
):
    owner = sign_in(sqlite_workspace, "Olivia Owner")
    wizard = ImportWizard(sqlite_workspace, owner)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.file_page.path.setText(str(_file(tmp_path, TURNER)))
    wizard.next()
    wizard.next()
    wizard.next()  # imports
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.summary_page, timeout=10_000)
    page = wizard.summary_page
    assert "1 possible duplicate to review" in page.counts.text()
    assert (page.matched.item(0, 0).text(), page.matched.item(0, 1).text()[:45]) == (
        "3", "Miles-Dominguez (Gibraltar) may duplicate Arr")  # fmt: skip
    assert page.matched.isVisibleTo(page) and not page.errors.isVisibleTo(page)

    history = ImportHistoryDialog(sqlite_workspace, owner)
    qtbot.addWidget(history)
    assert history.table.item(0, HEADERS.index("To review")).text() == "1"
    assert not history.review.isEnabled()
    history.table.selectRow(0)
    assert history.review.isEnabled()
    review = PossibleDuplicatesDialog(
        sqlite_workspace, owner, wizard.summary.batch_id, "companies.csv", history
    )
    qtbot.addWidget(review)
    assert review.table.item(0, 1).text() == "Miles-Dominguez, http://www.turner.com/, Gibraltar"
    assert review.table.item(0, 2).text() == "Arroyo Inc, turner.com, Grenada"
    said: list[str] = []
    answers = [
        QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.Yes,
        QMessageBox.StandardButton.Ok,
    ]
    monkeypatch.setattr(QMessageBox, "exec", lambda box: said.append(box.text()) or answers.pop(0))
    review.table.selectRow(0)
    review.merge.click()  # asked, and No
    assert len(_live(sqlite_workspace)) == 2 and review.table.rowCount() == 1
    review.merge.click()  # Yes
    assert said[0].startswith("Merge Miles-Dominguez into Arroyo Inc?")
    assert said[-1].startswith("Miles-Dominguez is merged into Arroyo Inc")
    assert list(_live(sqlite_workspace)) == ["Arroyo Inc"]
    assert review.table.rowCount() == 0 and "Nothing left to review" in review.count.text()


def test_a_rep_sees_possible_duplicates_but_cannot_settle_them(qtbot, sqlite_workspace, tmp_path):
    owner = sign_in(sqlite_workspace, "Olivia Owner")
    summary = import_accounts(sqlite_workspace, owner, _file(tmp_path, TURNER))
    rep = sign_in(sqlite_workspace, "Sam Rep")
    review = PossibleDuplicatesDialog(sqlite_workspace, rep, summary.batch_id, "companies.csv")
    qtbot.addWidget(review)
    review.table.selectRow(0)
    assert not review.merge.isEnabled() and not review.keep.isEnabled()


# --- contacts: which account ---------------------------------------------------------------
SIMONS = (
    "Company,Website,Country\n"
    "Simon LLC,simon.com,Gibraltar\n"
    "Simon LLC,https://simonllc.net,Peru\n"
    "Hinton PLC,hinton.org,\n"
)
#: Datablist's customers file, cut down: the person's company, e-mail and website.
CUSTOMERS = (
    "Index,Customer Id,First Name,Last Name,Company,City,Email,Website\n"
    "1,a1,Chloe,Hutchinson,Simon LLC,Lima,chloe@simonllc.net,\n"
    "2,b2,Rhonda,Pope,Simon LLC,Gibraltar,rhonda@mail.com,http://www.simon.com/\n"
    "3,c3,Ian,Fry,Simon LLC,Leeds,ian@gmail.com,http://ianfry.me/\n"
    "4,d4,Ann,Hale,Hinton PLC,,ann@gmail.com,http://ianfry.me/\n"
)


def _linked(workspace) -> dict[str, str]:
    """Contact → the country of its account."""
    with workspace.read() as conn:
        rows = conn.execute(
            select(contacts.c.name, accounts.c.country).join(
                accounts, accounts.c.id == contacts.c.account_id
            )
        )
        return dict(rows.all())


def test_a_contact_goes_to_the_account_its_website_or_email_names(workspace, people, tmp_path):
    owner = people[Role.OWNER]
    import_accounts(workspace, owner, _file(tmp_path, SIMONS))
    summary = import_contacts(workspace, owner, _file(tmp_path, CUSTOMERS, "customers.csv"))
    assert _linked(workspace) == {
        "Chloe Hutchinson": "Peru",  # her e-mail's domain is that Simon LLC's website
        "Rhonda Pope": "Gibraltar",  # her row's website is that one's
        "Ann Hale": None,  # one Hinton PLC: her website does not matter
    }
    [error] = summary.errors
    assert (error.row, error.column) == (4, "Company")
    assert error.reason == (
        "2 accounts have this name or website (Simon LLC, https://simonllc.net, Peru; "
        "Simon LLC, simon.com, Gibraltar) and neither the row's website nor its e-mail tells "
        "which: give the account's website in a Website column"
    )


def test_a_website_column_names_the_account_unless_another_column_does():
    from domain.fields import CONTACT_FILE_FIELDS
    from domain.importing import auto_mapping

    assert auto_mapping(["Website", "Name", "Email"], CONTACT_FILE_FIELDS) == [
        "account", "name", "email"]  # fmt: skip
    assert auto_mapping(["Website", "Company", "Name"], CONTACT_FILE_FIELDS) == [
        "account_website", "account", "name"]  # fmt: skip


def test_names_of_punctuation_alone_name_no_company_to_match(workspace, people, tmp_path):
    listing = "Company,Country\n?????,China\n?????,China\n(—),China\nAcme,China\nACME,China\n"
    summary = import_accounts(workspace, people[Role.OWNER], _file(tmp_path, listing))
    assert (summary.created, summary.skipped) == (4, 1)
    assert [m.describe() for m in summary.matched] == [
        "row 6: ACME (China) matches Acme (China) by its name and country: skipped."]  # fmt: skip
    again = import_accounts(workspace, people[Role.OWNER], _file(tmp_path, listing))
    assert (again.created, again.skipped) == (3, 2)


# --- the rejects file ----------------------------------------------------------------------
#: Makes a name longer than Accord keeps: the rows of LISTING it pads are rejected.
PADDING = "." * 252
LISTING = (
    "Company name,City,Number of Employees,Custom: Margin\n"
    "Acme,'=1+1,12,-14.2\n"
    f"Beta{PADDING},'=1+1,lots,-14.2\n"  # an export's apostrophe, a minus: the file's own cells
    f"Gamma{PADDING},@home,many,+3\n"
)


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def test_the_rejects_file_holds_the_files_own_cells(workspace, people, tmp_path):
    owner = people[Role.OWNER]
    source = _file(tmp_path, LISTING, "listing.csv")
    summary = import_accounts(workspace, owner, source)
    rejects = tmp_path / "fix.csv"
    write_table(rejects_table(summary), rejects)
    rows = _rows(rejects)
    assert [row[:4] for row in rows] == [_rows(source)[i] for i in (0, 2, 3)]
    assert rows[1][4:] == ["3", "Company name", "longer than 255 characters"]
    # Fixed, it imports as the first file would have.
    rejects.write_text(rejects.read_text(encoding="utf-8-sig").replace(PADDING, "").replace(
        "lots", "7").replace("many", "8"), encoding="utf-8")  # fmt: skip
    assert import_accounts(workspace, owner, rejects).created == 2
    live = _live(workspace)
    assert {n: (live[n]["city"], live[n]["custom"]) for n in ("Acme", "Beta", "Gamma")} == {
        "Acme": ("=1+1", {"Margin": "-14.2"}),
        "Beta": ("=1+1", {"Margin": "-14.2"}),
        "Gamma": ("@home", {"Margin": "+3"}),
    }


def test_a_workbook_of_rejected_rows_holds_the_text_the_cells_mean(workspace, people, tmp_path):
    from openpyxl import load_workbook

    summary = import_accounts(workspace, people[Role.OWNER], _file(tmp_path, LISTING, "l.csv"))
    write_table(rejects_table(summary), tmp_path / "fix.xlsx")
    sheet = load_workbook(tmp_path / "fix.xlsx").active
    assert [c.value for c in sheet[2]][:4] == [f"Beta{PADDING}", "=1+1", "lots", "-14.2"]
    assert sheet["B2"].data_type == "s"


def test_a_rejects_file_from_an_earlier_run_is_not_left_behind(tmp_path, capsys):
    db = str(tmp_path / "w.sqlite")
    rejects = tmp_path / "fix.csv"
    argv = ["--db", db, "--user", "Ann", "import", "accounts"]
    assert main([*argv, str(_file(tmp_path, LISTING)), "--rejects", str(rejects)]) == 0
    assert len(_rows(rejects)) == 3
    clean = _file(tmp_path, "Company name\nDelta\n", "clean.csv")
    assert main([*argv, str(clean), "--rejects", str(rejects)]) == 0
    assert "No row was rejected: " in capsys.readouterr().out
    assert _rows(rejects) == [["Company name", "Accord row", "Accord column", "Accord error"]]
    refused = _file(tmp_path, 'Company name\n"Epsilon\n', "refused.csv")
    assert main([*argv, str(refused), "--rejects", str(rejects)]) == 1
    assert not rejects.exists()
    assert "fix.csv (an earlier run's rejected rows) is removed." in capsys.readouterr().err
    assert main([*argv, str(clean), "--rejects", str(clean)]) == 1
    assert clean.read_text(encoding="utf-8") == "Company name\nDelta\n"
    assert "is the file being imported" in capsys.readouterr().err
