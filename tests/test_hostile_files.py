"""Hostile and broken import files: each is refused in one sentence that names the file
(and the row and column where there is one) before it can take the memory or the terminal
over, in the reader, on the command line and in the wizard, and changes nothing."""

from __future__ import annotations

import os
import sqlite3
import struct
import subprocess
import sys
import zipfile
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import openpyxl
import pytest
from PySide6.QtWidgets import QMessageBox

from domain.importing import FileRefused
from domain.users import Role
from main import main
from storage.importing import files
from storage.importing.importer import import_accounts
from storage.users import sign_in
from ui.import_wizard import ImportWizard

SHEET = "xl/worksheets/sheet1.xml"
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _cell(row: int, text: str) -> str:
    return f'<row r="{row}"><c r="A{row}" t="inlineStr"><is><t>{text}</t></is></c></row>'


def _sheet(prolog: str = "", rows: str = _cell(1, "Company name") + _cell(2, "Acme")) -> str:
    return (
        f'<?xml version="1.0"?>\n{prolog}<worksheet xmlns="{_MAIN}">'
        f"<sheetData>{rows}</sheetData></worksheet>"
    )


def _workbook(tmp_path: Path, parts: dict[str, str | bytes], name: str = "list.xlsx") -> Path:
    """A workbook openpyxl wrote, with ``parts`` put in place of its own or added."""
    book = openpyxl.Workbook()
    book.active.title = "Accounts"
    book.active.append(["Company name", "Country"])
    book.active.append(["Acme", "Germany"])
    plain = tmp_path / "plain.xlsx"
    book.save(plain)
    path = tmp_path / name
    parts = dict(parts)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            out.writestr(info.filename, parts.pop(info.filename, source.read(info)))
        for filename, data in parts.items():
            out.writestr(filename, data)
    return path


def _understated(path: Path) -> Path:
    """The workbook with its zip directory saying the sheet unpacks to 100 bytes."""
    data = bytearray(path.read_bytes())
    entry = data.rindex(SHEET.encode()) - 46  # the directory, last in the file, names it last
    struct.pack_into("<I", data, entry + 24, 100)
    path.write_bytes(data)
    return path


def _text(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "list.csv"
    path.write_text(text, encoding="utf-8")
    return path


_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol0 "lol">'
    + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    + "]>"
)

#: name → (the file, what its one sentence says)
HOSTILE: dict[str, tuple[Callable[[Path], Path], str]] = {
    "billion laughs": (
        lambda tmp: _workbook(
            tmp, {SHEET: _sheet(_LAUGHS, _cell(1, "Company name") + _cell(2, "&lol9;"))}
        ),
        "list.xlsx: its part xl/worksheets/sheet1.xml declares a DTD",
    ),
    "external entity": (
        lambda tmp: _workbook(
            tmp,
            {
                SHEET: _sheet(
                    '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
                    _cell(1, "Company name") + _cell(2, "&xxe;"),
                )
            },
        ),
        "declares a DTD",
    ),
    "a DTD behind a long comment": (
        lambda tmp: _workbook(
            tmp,
            {
                SHEET: _sheet(
                    f"<!-- {'x' * 5000} -->" + _LAUGHS,
                    _cell(1, "Company name") + _cell(2, "&lol9;"),
                )
            },
        ),
        "list.xlsx, sheet 'Accounts': the sheet cannot be read (",
    ),
    "zip bomb": (  # 3.6 MB of rows packed into a few KB
        lambda tmp: _workbook(
            tmp,
            {
                SHEET: _sheet(
                    rows=_cell(1, "Company name")
                    + ('<row><c t="inlineStr"><is><t>Acme</t></is></c></row>' * 70_000)
                )
            },
        ),
        "times its size (4 MB); Accord refuses a workbook that unpacks more than 100 times",
    ),
    "a sheet bigger than the zip says": (
        lambda tmp: _understated(
            _workbook(
                tmp,
                {
                    SHEET: _sheet(
                        rows=_cell(1, "Company name")
                        + ('<row><c t="inlineStr"><is><t>Acme</t></is></c></row>' * 70_000)
                    )
                },
            )
        ),
        "list.xlsx: not a readable spreadsheet (Bad CRC-32",
    ),
    "not a zip inside": (
        lambda tmp: _text(tmp, "Company name\nAcme\n").rename(tmp / "list.xlsx"),
        "list.xlsx: not a readable spreadsheet",
    ),
    "200,000 characters in a field": (
        lambda tmp: _text(tmp, f"Company name,Notes\nAcme,short\nBeta,{'x' * 200_000}\n"),
        "list.csv: row 3, column 'Notes': the text is 200,000 characters long, and a field "
        "holds at most 131,072. Shorten it",
    ),
    "200,000 characters in a cell": (
        lambda tmp: _workbook(
            tmp, {SHEET: _sheet(rows=_cell(1, "Company name") + _cell(2, "y" * 200_000))}
        ),
        "list.xlsx, sheet 'Accounts': row 2, column 'Company name': the text is 200,000",
    ),
    "a header twice": (
        lambda tmp: _text(tmp, "Company name,City,Country,city\nAcme,Berlin,Germany,Bonn\n"),
        "list.csv: row 1 names 2 columns 'City' (columns 2, 4), and a row would keep one of "
        "their values only. Give each column its own name",
    ),
    "a header twice in a sheet": (
        lambda tmp: _workbook(
            tmp,
            {
                SHEET: _sheet(
                    rows=(
                        '<row r="1"><c r="A1" t="inlineStr"><is><t>Company name</t></is></c>'
                        '<c r="AB1" t="inlineStr"><is><t>Company name</t></is></c></row>'
                    )
                )
            },
        ),
        "list.xlsx, sheet 'Accounts': row 1 names 2 columns 'Company name' (columns A, AB)",
    ),
    "terminal escapes in the header": (
        lambda tmp: _text(tmp, "\x1b[31mFirma\x1b[0m,Ort\u202e\nAcme,Berlin\n"),
        "(header row 1: \\x1b[31mFirma\\x1b[0m, Ort\\u202e)",
    ),
}


#: A sheet that reaches XFD1048576, as calamine says it: the span a reader would build.
_SPAN = (
    "list.xlsx, sheet 'Accounts': the sheet reaches cell XFD1048576, so it spans "
    "17,179,869,184 cells (1,048,576 rows × 16,384 columns, the empty ones included); Accord "
    "reads sheets of up to 20,000,000 cells. Delete the cells beyond the list and import it "
    "again."
)
_NAMED = _cell(1, "Company name") + _cell(2, "Acme")
_SHARED = "xl/sharedStrings.xml"

#: Workbooks of a few KB that make calamine reserve more memory than any computer has: the
#: process aborts (signal 6) unless they are refused before it reads them.
SPRAWLING: dict[str, tuple[Callable[[Path], Path], str]] = {
    "cells at A1 and XFD1048576": (
        lambda tmp: _workbook(
            tmp,
            {SHEET: _sheet(rows=_NAMED + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')},
        ),
        _SPAN,
    ),
    "a far cell without a reference, after an empty one": (
        lambda tmp: _workbook(
            tmp,
            {
                SHEET: _sheet(
                    rows=_NAMED + '<row r="1048576"><c r="XFC1048576" s="1"/><c><v>1</v></c></row>'
                )
            },
        ),
        _SPAN,
    ),
    "a row without a number after the last one, a cell after XFC1": (
        lambda tmp: _workbook(
            tmp,
            {
                SHEET: _sheet(
                    rows=_NAMED + '<row r="1048575"/><row><c r="XFC1"/><c><v>1</v></c></row>'
                )
            },
        ),
        _SPAN,
    ),
    "a second reference in other quotes": (
        lambda tmp: _workbook(
            tmp,
            {
                SHEET: _sheet(
                    rows=_NAMED + '<row r="3"><c r="A3" r = \'XFD1048576\'><v>1</v></c></row>'
                )
            },
        ),
        _SPAN,
    ),
    "a prefixed cell": (
        lambda tmp: _workbook(
            tmp,
            {
                SHEET: _sheet(
                    rows=_NAMED + '<x:row r="3"><x:c r="XFD1048576"><v>1</v></x:c></x:row>'
                )
            },
        ),
        _SPAN,
    ),
    "a trillion shared strings declared": (
        lambda tmp: _workbook(
            tmp,
            {
                _SHARED: f'<?xml version="1.0"?>\n<sst xmlns="{_MAIN}" count="1000000000000" '
                'uniqueCount="1000000000000"><si><t>Acme</t></si></sst>'
            },
        ),
        "list.xlsx: its part xl/sharedStrings.xml declares 1,000,000,000,000 texts, and its "
        "169 bytes hold at most 13; a file declares more to make a reader run out of memory. "
        "Save the list again from your spreadsheet program.",
    ),
}
HOSTILE |= SPRAWLING
HOSTILE["a cell tag over 1 MB"] = (  # its reference could hide past the first megabyte
    lambda tmp: _workbook(
        tmp,
        {
            SHEET: _sheet(
                rows=_NAMED + f'<x:row><x:c x="{os.urandom(1_100_000).hex()}" r="A3"><v>1</v>'
                "</x:c></x:row>"
            )
        },
    ),
    "list.xlsx: not a readable spreadsheet (a cell of its part xl/worksheets/sheet1.xml runs "
    "over 1 MB of markup).",
)


def _accounts_in(db: Path) -> int:
    with closing(sqlite3.connect(db)) as conn:
        return int(conn.execute("SELECT count(*) FROM accounts").fetchone()[0])


@pytest.mark.parametrize("case", HOSTILE)
def test_the_reader_refuses_a_hostile_file_and_imports_nothing(
    sqlite_workspace, sqlite_people, tmp_path, case
):
    make, said = HOSTILE[case]
    with pytest.raises(FileRefused) as refused:
        import_accounts(sqlite_workspace, sqlite_people[Role.OWNER], make(tmp_path))
    assert said in str(refused.value)
    with sqlite_workspace.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM accounts").scalar_one() == 0


@pytest.mark.parametrize("case", HOSTILE)
def test_the_command_line_says_a_hostile_file_in_one_line(tmp_path, capsys, case):
    make, said = HOSTILE[case]
    db = tmp_path / "w.sqlite"
    code = main(["--db", str(db), "--user", "Ann", "import", "accounts", str(make(tmp_path))])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("accord: ") and said in err
    assert "\x1b" not in err and "\u202e" not in err
    assert _accounts_in(db) == 0


def test_the_wizard_says_a_hostile_file_once_and_stays_on_the_file(
    qtbot, sqlite_workspace, tmp_path, monkeypatch
):
    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: said.append(box.text()))
    wizard = ImportWizard(sqlite_workspace, sign_in(sqlite_workspace, "Olivia Owner"))
    qtbot.addWidget(wizard)
    wizard.show()
    for case in ("billion laughs", "200,000 characters in a cell", "a header twice"):
        folder = tmp_path / case
        folder.mkdir()
        make, sentence = HOSTILE[case]
        wizard.file_page.path.setText(str(make(folder)))
        wizard.next()
        assert wizard.currentPage() is wizard.file_page
        assert len(said) == 1 and sentence in said.pop()
    make, sentence = HOSTILE["terminal escapes in the header"]
    wizard.file_page.path.setText(str(make(tmp_path)))
    wizard.next()
    wizard.next()  # no column is the company name: said on the mapping page
    assert wizard.currentPage() is wizard.mapping_page
    assert len(said) == 1 and sentence in said.pop()


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 1000)
    path = _text(tmp_path, "Company name\n" + "Acme\n" * 300)
    assert main(["--db", str(tmp_path / "w.sqlite"), "import", "accounts", str(path)]) == 1
    assert capsys.readouterr().err == (
        "accord: list.csv is 2 KB; Accord imports files of up to 1 KB. "
        "Split the list into smaller files and import each.\n"
    )


def test_a_workbook_over_the_unpacked_limit_is_refused(tmp_path, sqlite_workspace, monkeypatch):
    monkeypatch.setattr(files, "MAX_UNPACKED_BYTES", 10_000)
    owner = sign_in(sqlite_workspace, "Olivia Owner")
    with pytest.raises(FileRefused, match=r"Accord reads workbooks of up to 10 KB unpacked"):
        import_accounts(sqlite_workspace, owner, _workbook(tmp_path, {}))


def test_a_quote_never_closed_is_still_said_as_one(sqlite_workspace, sqlite_people, tmp_path):
    """A field past what the reader reads is an open quote, not a long field."""
    path = _text(tmp_path, 'Company name,Notes\nAcme,"open\n' + "more text\n" * 120_000)
    with pytest.raises(FileRefused, match=r"list\.csv: line 2: .* quote opened here"):
        import_accounts(sqlite_workspace, sqlite_people[Role.OWNER], path)


def test_a_long_field_within_the_limit_imports(sqlite_workspace, sqlite_people, tmp_path):
    notes = "n" * files.MAX_FIELD_CHARS
    path = _text(tmp_path, f"Company name,Custom: Notes\nAcme,{notes}\n")
    summary = import_accounts(sqlite_workspace, sqlite_people[Role.OWNER], path)
    assert (summary.created, summary.rejected) == (1, 0)


def test_a_utf16_text_export_from_excel_imports(sqlite_workspace, sqlite_people, tmp_path):
    path = tmp_path / "list.txt"
    path.write_bytes("Company name\tCity\nMüller GmbH\tKöln\n".encode("utf-16"))
    import_accounts(sqlite_workspace, sqlite_people[Role.OWNER], path)
    with sqlite_workspace.read() as conn:
        assert conn.exec_driver_sql("SELECT name, city FROM accounts").one() == (
            "Müller GmbH", "Köln")  # fmt: skip


MACROS = "list.xlsm: its macros are ignored; only cell values are imported."


def test_a_workbook_with_macros_imports_its_values_and_says_the_macros_are_ignored(
    tmp_path, capsys
):
    path = _workbook(tmp_path, {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0" * 64}, "list.xlsm")
    assert main(["--db", str(tmp_path / "w.sqlite"), "import", "accounts", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == MACROS and "1 created" in out


def test_the_wizard_says_the_macros_are_ignored(qtbot, sqlite_workspace, tmp_path):
    path = _workbook(tmp_path, {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0" * 64}, "list.xlsm")
    wizard = ImportWizard(sqlite_workspace, sign_in(sqlite_workspace, "Olivia Owner"))
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.file_page.path.setText(str(path))
    wizard.next()
    assert wizard.currentPage() is wizard.mapping_page
    assert MACROS in wizard.mapping_page.found.text()


@pytest.mark.parametrize("case", SPRAWLING)
def test_a_sprawling_workbook_is_refused_without_killing_the_process(tmp_path, case):
    """Run as the user runs it: calamine's failed allocation would abort the process
    (return code -6), which no Python code can catch."""
    make, said = SPRAWLING[case]
    db = tmp_path / "w.sqlite"
    main_py = Path(__file__).resolve().parent.parent / "main.py"
    command = [sys.executable, str(main_py), "--db", str(db), "--user", "Ann",
               "import", "accounts", str(make(tmp_path))]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == f"accord: {said}\n"
    assert _accounts_in(db) == 0


def test_a_sheet_at_the_limit_and_empty_cells_beyond_it_import(
    sqlite_workspace, sqlite_people, tmp_path
):
    """Twenty columns of a million rows is a list Accord reads; a formatted empty cell far
    away holds nothing, and calamine leaves it out."""
    rows = (
        _NAMED
        + '<row r="1000000"><c r="T1000000"><v>1</v></c></row>'
        + '<row r="1048576"><c r="XFD1048576" s="1"/></row>'
    )
    path = _workbook(tmp_path, {SHEET: _sheet(rows=rows)})
    summary = import_accounts(sqlite_workspace, sqlite_people[Role.OWNER], path)
    assert (summary.created, summary.rejected) == (1, 1)  # the row of the far cell has no name
