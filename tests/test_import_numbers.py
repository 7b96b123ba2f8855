"""A file's number format: decided once from the numbers of its first rows, said on every
import, changeable; every cell read in it, a cell that contradicts it listed."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from domain.importing import IGNORE, FileRefused, ImportOptions
from domain.users import Role
from domain.values import (
    ENGLISH,
    FRENCH,
    GERMAN,
    SWISS,
    decide_numbers,
    parse_amount,
    parse_employees,
)
from main import main
from storage.importing.importer import import_accounts
from storage.queries import accounts
from storage.users import sign_in
from ui.import_wizard import ImportWizard


def _stored(workspace):
    with workspace.read() as conn:
        rows = conn.execute(
            select(accounts.c.name, accounts.c.annual_revenue, accounts.c.employees)
            .where(accounts.c.deleted_at.is_(None))
            .order_by(accounts.c.name)
        )
        return [tuple(r) for r in rows]


def _write(tmp_path: Path, text: str, name: str = "export.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _numbers_line(notes: list[str]) -> str:
    return next(note for note in notes if note.startswith("Numbers in "))


#: A German HubSpot export: semicolons, Windows-1252, the German column names, amounts with
#: a decimal comma and dots between the thousands.
GERMAN_HUBSPOT = (
    "Firmenname;Jährlicher Umsatz;Anzahl der Mitarbeiter;Land/Region\n"
    "Müller Präzisionstechnik GmbH;1.500.000,00;1.500;Deutschland\n"
    "Bäckerei Schmidt KG;250.000,50;1,5;Deutschland\n"
    "Weber & Söhne AG;12.345.678,90;1,500;Österreich\n"
    "Keller Logistik GmbH;1.250,5;12.000;Schweiz\n"
)


def test_a_german_hubspot_export_reads_every_number_the_german_way(
    sqlite_workspace, sqlite_people, tmp_path
):
    path = _write(tmp_path, GERMAN_HUBSPOT, encoding="cp1252")
    summary = import_accounts(sqlite_workspace, sqlite_people[Role.OWNER], path)
    # 1.500 is one thousand five hundred, and 1,500 (like 1,5) one and a half
    assert _stored(sqlite_workspace) == [
        ("Bäckerei Schmidt KG", 250_000, 2),
        ("Keller Logistik GmbH", 1_250, 12_000),
        ("Müller Präzisionstechnik GmbH", 1_500_000, 1_500),
        ("Weber & Söhne AG", 12_345_679, 2),
    ]
    assert summary.warnings == []
    assert summary.notes[:2] == [
        "export.csv is read as Windows-1252 (Western European) text, its columns separated "
        "by semicolons.",
        "Numbers in export.csv are read as 1.234,56: a decimal comma, thousands grouped by dots.",
    ]


def test_a_french_export_groups_thousands_with_no_break_spaces(
    sqlite_workspace, sqlite_people, tmp_path
):
    text = (
        "Nom de l'entreprise;Annual Revenue;Employees\n"  # Excel's French CSV: semicolons
        "Boulangerie Dupont;1\u202f234\u202f567,89;1\u00a0250\n"
        "Atelier Martin;950\u00a0000,5;12\n"
        "Société Durand;2 500 000;3,5\n"
    )
    path = _write(tmp_path, text)
    summary = import_accounts(
        sqlite_workspace,
        sqlite_people[Role.OWNER],
        path,
        ImportOptions(mapped_fields=["name", "annual_revenue", "employees"]),
    )
    assert _stored(sqlite_workspace) == [
        ("Atelier Martin", 950_000, 12),
        ("Boulangerie Dupont", 1_234_568, 1_250),
        ("Société Durand", 2_500_000, 4),
    ]
    assert _numbers_line(summary.notes) == (
        "Numbers in export.csv are read as 1 234,56: a decimal comma, thousands grouped by spaces."
    )


def test_a_swiss_export_groups_thousands_with_apostrophes(
    sqlite_workspace, sqlite_people, tmp_path
):
    text = (
        "Company name,Annual Revenue,Employees\n"
        "Zürcher Uhren AG,1'234'567.50,1'250\n"
        "Berner Käserei GmbH,CHF 980’000.25,85\n"
    )
    summary = import_accounts(sqlite_workspace, sqlite_people[Role.OWNER], _write(tmp_path, text))
    assert _stored(sqlite_workspace) == [
        ("Berner Käserei GmbH", 980_000, 85),
        ("Zürcher Uhren AG", 1_234_568, 1_250),
    ]
    assert _numbers_line(summary.notes) == (
        "Numbers in export.csv are read as 1'234.56: a decimal point, thousands grouped by "
        "apostrophes."
    )


def test_an_english_export_reads_commas_as_thousands(sqlite_workspace, sqlite_people, tmp_path):
    text = (
        "Account Name,Annual Revenue,Employees\n"
        'Acme Corp,"1,500,000.00","1,500"\n'
        "Bolt Inc,$2.5M,51-200\n"
        'Crane LLC,"250,000.75",1.5\n'
    )
    summary = import_accounts(sqlite_workspace, sqlite_people[Role.OWNER], _write(tmp_path, text))
    assert _stored(sqlite_workspace) == [
        ("Acme Corp", 1_500_000, 1_500),
        ("Bolt Inc", 2_500_000, 51),
        ("Crane LLC", 250_001, 2),
    ]
    assert _numbers_line(summary.notes) == (
        "Numbers in export.csv are read as 1,234.56: a decimal point, thousands grouped by commas."
    )


def test_an_ambiguous_file_keeps_the_english_reading_and_says_it_is_a_guess(
    sqlite_workspace, sqlite_people, tmp_path
):
    text = 'Account Name,Employees\nAcme,"1,500"\nBolt,"2,250"\n'
    summary = import_accounts(sqlite_workspace, sqlite_people[Role.OWNER], _write(tmp_path, text))
    assert [row[2] for row in _stored(sqlite_workspace)] == [1_500, 2_250]
    assert _numbers_line(summary.notes) == (
        "Numbers in export.csv are read as 1,234.56: a decimal point, thousands grouped by "
        "commas. This is a guess: no number in the file's first rows shows its decimal "
        "separator, and another format reads '1,500' as another number. Choose the file's "
        "number format if the numbers are not meant so."
    )


def test_a_cell_that_contradicts_the_file_s_format_is_listed_never_read_otherwise(
    sqlite_workspace, sqlite_people, tmp_path
):
    text = (
        "Firmenname;Umsatz;Mitarbeiter\n"
        "Müller GmbH;1.500.000,00;1.500\n"
        "Schmidt AG;2.750.000,00;250\n"
        "Weber AG;1,234,567.89;2.75\n"  # written the English way, in a German file
        "Keller KG;980.000,00;1,5\n"
    )
    summary = import_accounts(sqlite_workspace, sqlite_people[Role.OWNER], _write(tmp_path, text))
    assert _stored(sqlite_workspace) == [
        ("Keller KG", 980_000, 2),
        ("Müller GmbH", 1_500_000, 1_500),
        ("Schmidt AG", 2_750_000, 250),
        ("Weber AG", None, None),
    ]
    assert [w.describe("export.csv") for w in summary.warnings] == [
        "export.csv: row 4, column 'Umsatz': '1,234,567.89' is not a number in the file's "
        "number format, 1.234,56 (a decimal comma, thousands grouped by dots): Annual "
        "Revenue is left empty",
        "export.csv: row 4, column 'Mitarbeiter': '2.75' is not a number of employees in the "
        "file's number format, 1.234,56 (a decimal comma, thousands grouped by dots): "
        "Employees is left empty",
    ]
    assert (summary.created, summary.rejected) == (4, 0)


def test_the_format_is_decided_from_the_first_rows_and_kept_for_the_whole_file(
    sqlite_workspace, sqlite_people, tmp_path, monkeypatch
):
    monkeypatch.setattr("domain.values.NUMBER_SAMPLE_ROWS", 3)
    monkeypatch.setattr("storage.importing.files.NUMBER_SAMPLE_ROWS", 3)
    rows = ["Acme;1.250,5", "Bolt;2.000", "Crane;12,5", "Delta;3,250", "Echo;1.5"]
    text = "Company name;Annual Revenue\n" + "\n".join(rows) + "\n"
    summary = import_accounts(sqlite_workspace, sqlite_people[Role.OWNER], _write(tmp_path, text))
    assert [row[1] for row in _stored(sqlite_workspace)] == [1_250, 2_000, 12, 3, None]
    assert [(w.row, w.column) for w in summary.warnings] == [(6, "Annual Revenue")]


def test_a_chosen_format_wins_over_the_file_s_numbers(sqlite_workspace, sqlite_people, tmp_path):
    text = 'Account Name,Annual Revenue\nAcme,"1,500"\nBolt,"2,5"\n'
    summary = import_accounts(
        sqlite_workspace,
        sqlite_people[Role.OWNER],
        _write(tmp_path, text),
        ImportOptions(numbers="1.234,56"),
    )
    assert [row[1] for row in _stored(sqlite_workspace)] == [2, 2]
    assert _numbers_line(summary.notes) == (
        "Numbers in export.csv are read as 1.234,56: a decimal comma, thousands grouped by "
        "dots, as chosen."
    )


def test_a_format_accord_does_not_know_is_refused_in_a_sentence(
    sqlite_workspace, sqlite_people, tmp_path
):
    text = "Account Name,City\nAcme,Berlin\n"
    with pytest.raises(FileRefused, match=r"^Accord knows no number format '1\.234'; name"):
        import_accounts(
            sqlite_workspace,
            sqlite_people[Role.OWNER],
            _write(tmp_path, text),
            ImportOptions(numbers="1.234"),
        )
    assert _stored(sqlite_workspace) == []


def test_a_workbook_s_real_numbers_are_numbers_whatever_its_format(
    sqlite_workspace, sqlite_people, tmp_path
):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Firmenname", "Umsatz", "Mitarbeiter"])
    sheet.append(["Müller GmbH", "1.500.000,00", "1.500"])  # typed as text
    sheet.append(["Schmidt AG", 2_750_000.6, 1_250.0])  # real numbers
    sheet.append(["Weber AG", 1234.4, "2,5"])
    path = tmp_path / "export.xlsx"
    workbook.save(path)
    summary = import_accounts(sqlite_workspace, sqlite_people[Role.OWNER], path)
    assert _stored(sqlite_workspace) == [
        ("Müller GmbH", 1_500_000, 1_500),
        ("Schmidt AG", 2_750_001, 1_250),
        ("Weber AG", 1_234, 2),
    ]
    assert summary.warnings == []
    assert _numbers_line(summary.notes).startswith("Numbers in export.xlsx are read as 1.234,56")


def test_the_command_line_says_the_format_and_takes_another(tmp_path, capsys):
    db = str(tmp_path / "w.sqlite")
    path = _write(tmp_path, GERMAN_HUBSPOT, encoding="cp1252")
    assert main(["--db", db, "--user", "Ann", "import", "accounts", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [
        "export.csv is read as Windows-1252 (Western European) text, its columns separated "
        "by semicolons.",
        "Numbers in export.csv are read as 1.234,56: a decimal comma, thousands grouped by dots.",
    ]
    again = ["--db", str(tmp_path / "v.sqlite"), "--user", "Ann", "import", "accounts"]
    assert main([*again, str(path), "--numbers", "1,234.56"]) == 0
    out, err = capsys.readouterr()
    assert "Numbers in export.csv are read as 1,234.56: a decimal point, thousands grouped " in out
    assert "row 2, column 'Jährlicher Umsatz': '1.500.000,00' is not a number in the " in err
    assert main([*again, str(path), "--numbers", "1.234"]) == 1
    assert "Accord knows no number format '1.234'" in capsys.readouterr().err


def test_the_wizard_shows_the_format_and_imports_in_the_one_chosen(
    qtbot, sqlite_workspace, tmp_path
):
    path = _write(tmp_path, GERMAN_HUBSPOT, encoding="cp1252")
    wizard = ImportWizard(sqlite_workspace, sign_in(sqlite_workspace, "Olivia Owner"))
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.file_page.path.setText(str(path))
    wizard.next()
    page = wizard.mapping_page
    assert page.numbers.currentData() == "1.234,56"
    assert page.numbers_said.text() == (
        "Numbers in export.csv are read as 1.234,56: a decimal comma, thousands grouped by dots."
    )
    page.units[1].setCurrentIndex(page.units[1].findData(1_000))
    assert page.preview.item(3, 1).text() == "1,250,500"  # 1.250,5 thousand
    page.numbers.setCurrentIndex(page.numbers.findData("1,234.56"))
    assert page.numbers_said.text().endswith("thousands grouped by commas, as chosen.")
    assert page.preview.item(3, 1).text() == "1.250,5"  # no number in English: as written
    page.combos[3].setCurrentIndex(page.combos[3].findData(IGNORE))  # no new guess
    assert page.numbers.currentData() == "1,234.56"
    wizard.next()
    wizard.next()  # starts the import on a worker thread
    qtbot.waitUntil(lambda: wizard.summary is not None, timeout=10_000)
    assert (
        "Numbers in export.csv are read as 1,234.56: a decimal point, thousands grouped "
        "by commas, as chosen." in wizard.summary.notes
    )
    assert [(w.row, w.column) for w in wizard.summary.warnings] == [
        (2, "Jährlicher Umsatz"),
        (3, "Jährlicher Umsatz"),
        (3, "Anzahl der Mitarbeiter"),  # 1,5
        (4, "Jährlicher Umsatz"),
        (5, "Jährlicher Umsatz"),
    ]


def test_the_wizard_previews_a_workbook_s_real_numbers_in_the_file_s_format(
    qtbot, sqlite_workspace, tmp_path
):
    workbook = openpyxl.Workbook()
    workbook.active.append(["Firmenname", "Umsatz"])
    workbook.active.append(["Müller GmbH", "1.500,25"])  # typed as text: a decimal comma
    workbook.active.append(["Schmidt AG", 2_750.5])  # a real number
    path = tmp_path / "export.xlsx"
    workbook.save(path)
    wizard = ImportWizard(sqlite_workspace, sign_in(sqlite_workspace, "Olivia Owner"))
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.file_page.path.setText(str(path))
    wizard.next()
    page = wizard.mapping_page
    assert page.numbers.currentData() == "1.234,56"
    assert page.preview.item(1, 1).text() == "2750,5"  # as German Excel shows it
    page.units[1].setCurrentIndex(page.units[1].findData(1_000))
    assert [page.preview.item(row, 1).text() for row in range(2)] == ["1,500,250", "2,750,500"]
    page.numbers.setCurrentIndex(page.numbers.findData("1,234.56"))
    assert page.preview.item(1, 1).text() == "2,750,500"  # a real number whatever the format


def test_the_wizard_says_a_guess_and_decides_again_for_a_column_mapped_to_a_number(
    qtbot, sqlite_workspace, tmp_path
):
    text = 'Company name,Employees,Notes\nAcme,"1,500","2,5"\n'
    wizard = ImportWizard(sqlite_workspace, sign_in(sqlite_workspace, "Olivia Owner"))
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.file_page.path.setText(str(_write(tmp_path, text)))
    wizard.next()
    page = wizard.mapping_page
    assert page.numbers.currentData() == "1,234.56"
    assert "This is a guess" in page.numbers_said.text()
    page.combos[2].setCurrentIndex(page.combos[2].findData("annual_revenue"))
    assert page.numbers.currentData() == "1.234,56"  # "2,5" proves a decimal comma
    assert "This is a guess" not in page.numbers_said.text()
    page.combos[1].setCurrentIndex(page.combos[1].findData(IGNORE))
    page.combos[2].setCurrentIndex(page.combos[2].findData(IGNORE))
    assert not page.numbers.isEnabled() and not page.numbers_said.isVisibleTo(page)


@pytest.mark.parametrize(
    ("cells", "numbers", "unsure"),
    [(["1.500.000,00", "1.500"], GERMAN, False), (["1,5"], GERMAN, False),
     (["12.345.678"], GERMAN, False), (["1,500"], ENGLISH, True), (["1.500"], GERMAN, True),
     (["1 234,56"], FRENCH, False), (["1\u202f234,5", "12\u00a0000"], FRENCH, False),
     (["1'234.56"], SWISS, False), (["2.75", "1,500"], ENGLISH, False),
     (["6.0E7"], ENGLISH, False), (["USD 1.500"], GERMAN, True), ([], ENGLISH, False),
     (["1,5", "2,5", "1,234.56"], GERMAN, False), (["51-200", "Acme"], ENGLISH, False),
     (["1.001-5.000", "10.001+"], GERMAN, True), (["1,001-5,000"], ENGLISH, True)],
)  # fmt: skip
def test_a_file_s_format_is_what_its_numbers_prove(cells, numbers, unsure):
    reading = decide_numbers(cells)
    assert (reading.numbers, reading.unsure) == (numbers, unsure)


@pytest.mark.parametrize(
    ("text", "numbers", "value"),
    [("1.500", GERMAN, 1500), ("1,500", GERMAN, 2), ("1.234.567,89", GERMAN, 1_234_568),
     ("6,0E+07", GERMAN, 60_000_000), ("1,5 Mio", GERMAN, 1_500_000), ("10.001+", GERMAN, 10001),
     ("1,500", ENGLISH, 1500), ("1.500", ENGLISH, 2), ("1 234,56", FRENCH, 1235),
     ("1 234.56", ENGLISH, 1235), ("1'234.56", SWISS, 1235), ("€ 1.250,50", GERMAN, 1250)],
)  # fmt: skip
def test_a_number_is_read_in_its_file_s_format(text, numbers, value):
    assert parse_amount(text, 1, numbers) == value


@pytest.mark.parametrize(
    ("text", "numbers"),
    [("2.75", GERMAN), ("1,234.56", GERMAN), ("1,5", ENGLISH), ("1.234", FRENCH),
     ("1,5", SWISS), ("6.0E7", GERMAN)],
)  # fmt: skip
def test_a_number_the_format_does_not_write_is_no_number(text, numbers):
    with pytest.raises(ValueError, match=f"'{text}' is not a number in the file's number format"):
        parse_amount(text, 1, numbers)


def test_a_file_of_german_employee_bands_stores_their_lower_bound_in_thousands(
    sqlite_workspace, sqlite_people, tmp_path
):
    text = "Firmenname;Mitarbeiter\nMüller GmbH;1.001-5.000\nSchmidt AG;5.001-10.000\n"
    summary = import_accounts(sqlite_workspace, sqlite_people[Role.OWNER], _write(tmp_path, text))
    assert [row[2] for row in _stored(sqlite_workspace)] == [1_001, 5_001]
    assert summary.bands == {"1.001-5.000": 1_001, "5.001-10.000": 5_001}


@pytest.mark.parametrize("text", ["12x", "1,5 apples", "lots"])
def test_a_cell_no_format_reads_is_simply_no_number(text):
    with pytest.raises(ValueError, match=f"^'{text}' is not a number$"):
        parse_amount(text, 1, GERMAN)


def test_a_band_is_read_in_its_file_s_format():
    assert parse_employees("1.001-5.000", GERMAN) == 1001
    assert parse_employees("1,001-5,000", ENGLISH) == 1001
