"""A CSV file's encoding and delimiter: guessed from its first lines, said, changeable in
the wizard and on the command line, and never read into mojibake without a word."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from domain.fields import ACCOUNT_FIELDS
from domain.importing import FileRefused, ImportOptions
from domain.users import Role
from main import main
from storage.importing import files
from storage.importing.importer import import_accounts
from storage.queries import accounts
from storage.users import sign_in
from ui.import_wizard import ImportWizard

CENTRAL = "Company name;Country\nŁódź Przędza Sp. z o.o.;Polska\nGyőr Kft.;Magyarország\n"
WESTERN = "Company name,Country\nMüller Café GmbH,Österreich\nZürich Straße AG,Schweiz\n"
UNICODE_TEXT = "Company name\tCountry\nŁódź Przędza Sp. z o.o.\tPoland\nGyőr Kft.\tHungary\n"


def _names(workspace) -> list[str]:
    with workspace.read() as conn:
        return list(conn.scalars(select(accounts.c.name).order_by(accounts.c.name)))


def _write(tmp_path: Path, text: str, encoding: str) -> Path:
    path = tmp_path / "list.csv"
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    ("text", "encoding", "delimiter", "said"),
    [
        (CENTRAL, "cp1250", ";", "Windows-1250 (Central European) text, its columns "
         "separated by semicolons."),
        (WESTERN, "cp1252", ",", "Windows-1252 (Western European) text, its columns "
         "separated by commas."),
        (UNICODE_TEXT, "utf-16-le", "\t", "UTF-16 little-endian text, its columns "
         "separated by tabs."),
        (UNICODE_TEXT, "utf-16", "\t", "UTF-16 (Excel's Unicode text) text"),
        (CENTRAL, "utf-8", ";", "UTF-8 text, its columns separated by semicolons."),
    ],
    ids=["cp1250 semicolons", "cp1252 commas", "UTF-16 without its mark, tabs",
         "UTF-16 with its mark", "UTF-8"],
)  # fmt: skip
def test_the_encoding_and_delimiter_are_found_and_said(
    sqlite_workspace, sqlite_people, tmp_path, text, encoding, delimiter, said
):
    path = _write(tmp_path, text, encoding)
    summary = import_accounts(sqlite_workspace, sqlite_people[Role.OWNER], path)
    rows = [line.split(delimiter)[0] for line in text.splitlines()[1:]]
    assert (summary.created, _names(sqlite_workspace)) == (2, sorted(rows))
    (note,) = [n for n in summary.notes if n.startswith("list.csv is read as")]
    assert said in note and "Another encoding fits" not in note


def test_a_guess_another_encoding_fits_as_well_is_said_and_can_be_changed(
    sqlite_workspace, sqlite_people, tmp_path
):
    """Windows-1250's "Győr" is "Gyõr" in Windows-1252, a name someone could write too: the
    import says that it guessed; named, the encoding is used as given."""
    path = _write(tmp_path, "Company name\nGyőr Kft.\n", "cp1250")
    table = files.open_table(path, ACCOUNT_FIELDS)
    assert table.reading == files.CsvReading("cp1252", ",", unsure=True)
    assert "choose the file's encoding if they do not" in table.notes[0]
    summary = import_accounts(
        sqlite_workspace, sqlite_people[Role.OWNER], path, ImportOptions(encoding="cp1250")
    )
    assert _names(sqlite_workspace) == ["Győr Kft."]
    assert summary.notes == ["list.csv is read as Windows-1250 (Central European) text, "
                             "its columns separated by commas."]  # fmt: skip


def test_a_file_that_changes_encoding_after_its_first_lines_is_refused(
    sqlite_workspace, sqlite_people, tmp_path
):
    """The encoding is guessed from the first 256 KB; a later line in another encoding
    refuses the file rather than store what it cannot read."""
    lines = "".join(f"Company {n:06}\n" for n in range(30_000))
    path = tmp_path / "list.csv"
    path.write_bytes(("Company name\n" + lines).encode() + "Łódź\n".encode("cp1250"))
    with pytest.raises(FileRefused, match="line 30002 is not UTF-8 text"):
        import_accounts(sqlite_workspace, sqlite_people[Role.OWNER], path)
    assert _names(sqlite_workspace) == []


def test_the_command_line_takes_the_encoding_and_delimiter_and_prints_them(tmp_path, capsys):
    db = str(tmp_path / "w.sqlite")
    path = _write(tmp_path, "Company name|Country\nGyőr Kft.|Hungary\n", "cp1250")
    code = main(["--db", db, "--user", "Ann", "import", "accounts", str(path),
                 "--encoding", "cp1250", "--delimiter", "vertical bar"])  # fmt: skip
    out, _ = capsys.readouterr()
    assert code == 0 and "1 created" in out
    assert ("list.csv is read as Windows-1250 (Central European) text, its columns separated "
            "by vertical bars.") in out  # fmt: skip
    code = main(["--db", db, "--user", "Ann", "import", "accounts", str(path),
                 "--encoding", "klingon"])  # fmt: skip
    _, err = capsys.readouterr()
    assert code == 1 and "Accord knows no encoding 'klingon'" in err


def test_the_wizard_shows_the_guess_and_reads_the_file_as_the_user_chooses(
    qtbot, sqlite_workspace, tmp_path
):
    path = _write(tmp_path, "Company name;Country\nGyőr Kft.;Hungary\n", "cp1250")
    wizard = ImportWizard(sqlite_workspace, sign_in(sqlite_workspace, "Olivia Owner"))
    qtbot.addWidget(wizard)
    wizard.show()
    page = wizard.file_page
    page.path.setText(str(path))
    page.load_sheets()
    assert page.encoding.currentText() == "Windows-1252 (Western European)"
    assert page.delimiter.currentText() == "Semicolon"
    assert "another one fits the file as well" in page.unsure.text()
    wizard.next()
    assert wizard.mapping_page.preview.item(0, 0).text() == "Gyõr Kft."
    assert "choose the file's encoding if they do not" in wizard.mapping_page.found.text()
    wizard.back()
    page.encoding.setCurrentIndex(page.encoding.findData("cp1250"))
    wizard.next()
    assert wizard.mapping_page.preview.item(0, 0).text() == "Győr Kft."
    assert "Another encoding fits" not in wizard.mapping_page.found.text()
    page.path.setText(str(tmp_path / "other.xlsx"))
    page.load_sheets()
    assert not page.encoding.isEnabled() and page.unsure.text() == ""


def test_a_long_central_european_list_is_read_as_such(tmp_path):
    """On a long, repetitive list charset-normalizer's noise measure leaves Windows-1250
    out of its answer; the text nobody writes still finds it."""
    rows = "".join(f"Łódź Przędza {n};Polska\n" for n in range(20_000))
    path = _write(tmp_path, "Company name;Country\n" + rows, "cp1250")
    assert files.csv_reading(path) == files.CsvReading("cp1250", ";", unsure=False)


@pytest.mark.parametrize(
    ("text", "encoding"),
    [("Москва ООО,Россия\n", "cp1251"), ("İstanbul Şirketi,Türkiye\n", "cp1254"),
     ("Rīga SIA,Latvija\n", "cp1257")],
)  # fmt: skip
def test_a_code_page_the_guess_cannot_tell_apart_is_said_to_be_a_guess(tmp_path, text, encoding):
    path = _write(tmp_path, "Company name,Country\n" + text, encoding)
    assert files.csv_reading(path).unsure
