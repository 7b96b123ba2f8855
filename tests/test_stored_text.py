"""Typed text through every door and every writer: control characters are cleaned where
text comes in (import, forms, command line), every writer survives what was stored before,
an export imports back unchanged, and a text too long for a spreadsheet cell is said."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import select, update

from domain.accounts import add_contact, create_account, update_account
from domain.dossiers import DossierEdit, Source, rate_dossier, save_dossier, start_dossier
from domain.users import Role
from domain.values import clean_text
from main import main
from reports.tabular import CELL_LIMIT, write_table
from storage.dossiers import SqlDossierStore, ratings_of
from storage.importing.importer import import_accounts
from storage.read_models.export import account_table
from storage.repositories import SqlUnitOfWork
from storage.schema import DossierRow, table_of
from storage.targets import accounts
from storage.users import list_users, sign_in
from storage.workspace import open_workspace

#: What a tester pasted: NUL, bell, vertical tab, escape sequences, a form feed, CR LF.
DIRTY = "Ac\x00me\x07 \x1b[31mGmbH\x0c"


def test_control_characters_are_dropped_and_lines_and_tabs_kept():
    assert clean_text(DIRTY) == "Acme [31mGmbH\n"
    assert clean_text("one\r\ntwo\rthree\x0bfour\tcolumn") == "one\ntwo\nthree\nfour\tcolumn"
    assert clean_text("Zoë 北京 ✓") == "Zoë 北京 ✓"


def test_an_import_cleans_control_characters_so_the_workspace_exports_to_xlsx(
    workspace, people, tmp_path
):
    source = tmp_path / "dirty.csv"
    with source.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([
            ["Company name", "City", "Custom: Note", "First name"],
            [DIRTY, "Gr\x00az", "line\x07 one\r\nline two\tend", ""],
        ])  # fmt: skip
    summary = import_accounts(workspace, people[Role.OWNER], source)
    assert (summary.created, summary.rejected) == (1, 0)
    with workspace.read() as conn:
        name, city, custom = conn.execute(
            select(accounts.c.name, accounts.c.city, accounts.c.custom)
        ).one()
    assert (name, city) == ("Acme [31mGmbH", "Graz")
    assert custom == {"Note": "line one\nline two\tend"}
    out = tmp_path / "accounts.xlsx"
    assert write_table(account_table(workspace), out).rows == 1
    assert list(openpyxl.load_workbook(out).active.values)[1][0] == "Acme [31mGmbH"


def test_forms_clean_what_they_store(sqlite_workspace, sqlite_people):
    owner = sqlite_people[Role.OWNER]
    account = create_account(
        SqlUnitOfWork(sqlite_workspace), owner, {"name": DIRTY, "custom": {"No\x07te": "a\x1bb"}}
    )
    assert (account.name, account.custom) == ("Acme [31mGmbH", {"Note": "ab"})
    edited = update_account(SqlUnitOfWork(sqlite_workspace), owner, account, {"city": "Wi\x00en"})
    assert edited.city == "Wien"
    contact = add_contact(
        SqlUnitOfWork(sqlite_workspace),
        owner,
        account.id,
        {"name": "Jo\x07 Roe", "title": "C\x1bEO"},
    )
    assert (contact.name, contact.title) == ("Jo Roe", "CEO")
    store = SqlDossierStore(sqlite_workspace)
    marketer = sqlite_people[Role.MARKETING]
    dossier = start_dossier(store, marketer, account.id)
    edit = DossierEdit({"overview": "Pumps\x07\r\n- valves\tand\x00 pipes"},
                       (Source("https://example.com/\x1b", "Pre\x07ss"),))  # fmt: skip
    saved = save_dossier(store, marketer, dossier, edit).dossier
    assert saved.texts["overview"] == "Pumps\n- valves\tand pipes"
    assert saved.sources == (Source("https://example.com/", "Press"),)
    rate_dossier(store, sqlite_people[Role.REP], saved, 4, "use\x07ful")
    assert [r.comment for r in ratings_of(sqlite_workspace, saved.id)] == ["useful"]


def test_the_command_line_cleans_what_it_stores(tmp_path):
    db = str(tmp_path / "w.sqlite")
    assert (
        main(["--db", db, "--user", "Ann\x07", "users", "--add", "B\x1bob", "--role", "rep"]) == 0
    )
    assert {u.name for u in list_users(open_workspace(db))} == {"Ann", "Bob"}


def _stored_dirty(tmp_path: Path) -> tuple[str, str]:
    """A demo workspace whose first account and its dossier hold control characters, put
    there by an older Accord (straight into the database); and that account's website."""
    db = str(tmp_path / "w.sqlite")
    main(["--db", db, "--user", "Alex Morgan", "demo", "--accounts", "60"])
    workspace = open_workspace(db)
    dossiers = table_of(DossierRow)
    with workspace.write() as conn:
        account_id, texts = conn.execute(select(dossiers.c.account_id, dossiers.c.texts)).first()
        website = conn.execute(
            select(accounts.c.website).where(accounts.c.id == account_id)
        ).scalar_one()
        texts = {key: f"{text}\x07 bell\x00 nul \x1b[1m" for key, text in texts.items()}
        conn.execute(
            update(dossiers).where(dossiers.c.account_id == account_id).values(texts=texts)
        )
        conn.execute(
            update(accounts)
            .where(accounts.c.id == account_id)
            .values(name="Stored\x00 \x07Dirty\x1b Co", custom={"Note": "x\x0by\x00z"})
        )
    workspace.close()
    return db, website


def test_every_writer_survives_text_stored_before_the_cleaning(tmp_path, capsys):
    db, website = _stored_dirty(tmp_path)
    for name in ("a.xlsx", "a.csv"):
        assert main(["--db", db, "export", "accounts", str(tmp_path / name)]) == 0
    names = [row[0] for row in openpyxl.load_workbook(tmp_path / "a.xlsx").active.values]
    assert "Stored Dirty Co" in names
    with (tmp_path / "a.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = {row["Account Name"]: row for row in csv.DictReader(f)}
    assert rows["Stored Dirty Co"]["Custom: Note"] == "x\nyz"
    assert main(["--db", db, "export", "targets", str(tmp_path / "t.xlsx")]) == 0
    pdf = tmp_path / "d.pdf"
    assert main(["--db", db, "report", "dossier", "--account", website,
                 "--out", str(pdf)]) == 0  # fmt: skip
    text = PdfReader(pdf).pages[0].extract_text()
    assert "Stored Dirty Co" in text and "bell nul [1m" in text
    assert "Traceback" not in capsys.readouterr().err


def test_the_list_shows_stored_text_without_control_characters(qtbot, tmp_path):
    from ui.accounts_model import AccountsModel

    workspace = open_workspace(_stored_dirty(tmp_path)[0])
    model = AccountsModel(workspace)
    shown = {model.data(model.index(row, 0)) for row in range(model.rowCount())}
    assert "Stored Dirty Co" in shown


# --- an export imports back unchanged --------------------------------------------------

_TRICKY = st.sampled_from(["'", "=", "+", "-", "@", "\t", " ", '"', ",", ";", "\n", "_x0041_"])
_NAMES = st.lists(st.one_of(_TRICKY, st.characters()), min_size=1, max_size=12).map("".join)
#: A name as the door stores it: cleaned, trimmed, not empty.
_STORED_NAMES = _NAMES.map(lambda text: clean_text(text).strip()).filter(bool)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(names=st.lists(_STORED_NAMES, min_size=1, max_size=15))
@example(names=["'=already", "''=x", "=1+1", "'", "'\t=x", "-5", "@SUM(A1)", "'+49", "_x0041_"])
def test_an_export_imports_back_unchanged(suffix, names):
    # a number after each name keeps them apart for the importer's duplicate check
    names = [f"{name} {n}" for n, name in enumerate(names)]
    with tempfile.TemporaryDirectory() as folder:
        first = open_workspace(Path(folder) / "first.sqlite")
        owner = sign_in(first, "Alex Morgan")
        for name in names:
            create_account(SqlUnitOfWork(first), owner, {"name": name})
        out = Path(folder) / f"accounts{suffix}"
        write_table(account_table(first), out)
        second = open_workspace(Path(folder) / "second.sqlite")
        summary = import_accounts(second, sign_in(second, "Alex Morgan"), out)
        with second.read() as conn:
            imported = conn.execute(select(accounts.c.name)).scalars().all()
        first.close()
        second.close()
    assert summary.rejected == 0
    assert sorted(imported) == sorted(names)


# --- a text longer than a spreadsheet cell ---------------------------------------------


def test_a_text_too_long_for_a_cell_is_said_in_the_workbook_and_on_the_command_line(
    tmp_path, capsys
):
    db = str(tmp_path / "w.sqlite")
    main(["--db", db, "--user", "Ann", "users"])
    workspace = open_workspace(db)
    history = "Called. " * 5000 + "THE END"
    create_account(SqlUnitOfWork(workspace), sign_in(workspace, "Ann"),
                   {"name": "Chatty Ltd", "custom": {"History": history}})  # fmt: skip
    workspace.close()
    capsys.readouterr()
    assert main(["--db", db, "export", "accounts", str(tmp_path / "a.xlsx")]) == 0
    err = capsys.readouterr().err
    assert "1 text longer than a spreadsheet cell holds (32,767 characters) is cut" in err
    book = openpyxl.load_workbook(tmp_path / "a.xlsx")
    rows = list(book["Accounts"].values)
    column = rows[0].index("Custom: History")
    assert rows[1][column] == history[:CELL_LIMIT]
    notes = list(book["Notes"].values)
    assert "32,767" in notes[0][0]
    letter = openpyxl.utils.get_column_letter(column + 1)
    assert notes[2] == (f"{letter}2", "Custom: History", len(history))
    assert main(["--db", db, "export", "accounts", str(tmp_path / "a.csv")]) == 0
    assert "cut" not in capsys.readouterr().err
    with (tmp_path / "a.csv").open(encoding="utf-8-sig", newline="") as f:
        assert next(csv.DictReader(f))["Custom: History"] == history


def test_the_window_warns_when_an_export_cut_a_text(qtbot, sqlite_workspace, tmp_path,
                                                    monkeypatch):  # fmt: skip
    from PySide6.QtWidgets import QMessageBox

    from ui.main_window import MainWindow

    owner = sign_in(sqlite_workspace, "Olivia Owner")
    create_account(SqlUnitOfWork(sqlite_workspace), owner,
                   {"name": "Chatty Ltd", "custom": {"History": "x" * 40_000}})  # fmt: skip
    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: said.append(box.text()) or 0)
    window = MainWindow(sqlite_workspace, owner)
    qtbot.addWidget(window)
    out = tmp_path / "a.xlsx"
    task = window.export_to(out)
    assert task is not None
    qtbot.waitUntil(lambda: bool(said), timeout=10_000)
    assert "is cut in a.xlsx; its Notes sheet lists the cells" in said[0]
