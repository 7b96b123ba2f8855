"""Real company-list files: encodings, delimiters, quoting, title rows, number formats."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from domain.importing import (
    FileRefused,
    ImportOptions,
    OnDuplicate,
    load_mapping,
    mapping_document,
)
from domain.users import Role
from storage.importing import files
from storage.importing.importer import import_accounts
from storage.queries import accounts


def _names(workspace):
    with workspace.read() as conn:
        rows = conn.execute(
            select(accounts.c.name, accounts.c.employees, accounts.c.annual_revenue)
            .where(accounts.c.deleted_at.is_(None))
            .order_by(accounts.c.name)
        )
        return [tuple(r) for r in rows]


def _write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "list.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_encodings_keep_accented_names(sqlite_workspace, sqlite_people, tmp_path, encoding):
    path = _write(tmp_path, "Company name,Country\nMüller Café GmbH,Österreich\n", encoding)
    import_accounts(sqlite_workspace, sqlite_people[Role.OWNER], path)
    assert _names(sqlite_workspace)[0][0] == "Müller Café GmbH"


@pytest.mark.parametrize("delimiter", [";", "\t", ","])
def test_delimiter_is_sniffed(sqlite_workspace, sqlite_people, tmp_path, delimiter):
    text = delimiter.join(["Account Name", "Employees", "Annual Revenue"]) + "\n"
    text += delimiter.join(["Acme", "120", "5000"]) + "\n"
    import_accounts(sqlite_workspace, sqlite_people[Role.OWNER], _write(tmp_path, text))
    assert _names(sqlite_workspace) == [("Acme", 120, 5000)]


def test_title_rows_blank_rows_embedded_newlines_and_trailing_columns(
    sqlite_workspace, sqlite_people, tmp_path
):
    text = (
        "Accounts exported 2026-11-01,,,\n"
        ",,,\n"
        "Company name,Phone Number,Industry,\n"
        '"Acme\nHoldings",+49 30 1,Software,\n'
        "Beta,,Retail,\n"
    )
    summary = import_accounts(sqlite_workspace, sqlite_people[Role.OWNER], _write(tmp_path, text))
    assert (summary.created, summary.rejected) == (2, 0)
    assert [n for n, _, _ in _names(sqlite_workspace)] == ["Acme\nHoldings", "Beta"]


@pytest.mark.parametrize(
    ("employees", "revenue", "expected"),
    [("1,200", "$5M", (1200, 5_000_000)), ("1.200", "5 000", (1200, 5000)),
     ("51-200", "1,5 Mio", (51, 1_500_000)), ("10,001+", "€2.5M", (10001, 2_500_000))],
)  # fmt: skip
def test_numbers_as_people_write_them(
    sqlite_workspace, sqlite_people, tmp_path, employees, revenue, expected
):
    text = f'Company name,Number of Employees,Annual Revenue\nAcme,"{employees}","{revenue}"\n'
    import_accounts(sqlite_workspace, sqlite_people[Role.OWNER], _write(tmp_path, text))
    assert _names(sqlite_workspace) == [("Acme", *expected)]


def test_unclosed_quote_refuses_the_file_naming_the_line(sqlite_workspace, sqlite_people, tmp_path):
    text = 'Company name,City\nAcme,Berlin\n"Beta,Paris\nGamma,Rome\n'
    with pytest.raises(FileRefused, match=r"list\.csv: line 3"):
        import_accounts(sqlite_workspace, sqlite_people[Role.OWNER], _write(tmp_path, text))
    assert _names(sqlite_workspace) == []


def test_wrong_field_count_is_rejected_never_shifted(sqlite_workspace, sqlite_people, tmp_path):
    text = "Company name,City,Industry\nAcme,Berlin,Software\nBeta,Paris,Retail,Extra\nGamma,Rome\n"
    summary = import_accounts(sqlite_workspace, sqlite_people[Role.OWNER], _write(tmp_path, text))
    assert [n for n, _, _ in _names(sqlite_workspace)] == ["Acme"]
    assert [(e.row, "fields" in e.reason) for e in summary.errors] == [(3, True), (4, True)]


def test_an_unreadable_cell_is_left_empty_and_named_by_row_and_column(
    sqlite_workspace, sqlite_people, tmp_path
):
    text = "Company name,Number of Employees,Website\nAcme,12,acme.de\nBeta,lots,beta.de\n"
    summary = import_accounts(sqlite_workspace, sqlite_people[Role.OWNER], _write(tmp_path, text))
    assert [w.describe("list.csv") for w in summary.warnings] == [
        "list.csv: row 3, column 'Number of Employees': 'lots' is not a number of employees: "
        "Employees is left empty"
    ]
    assert (summary.created, summary.rejected, summary.errors) == (2, 0, [])
    assert "1 cell not read and left empty" in summary.tally()
    assert _names(sqlite_workspace)[1][:2] == ("Beta", None)


def test_a_salesforce_export_imports_its_numbers_and_websites_as_written(
    sqlite_workspace, sqlite_people, tmp_path
):
    text = (
        "Account Name,Website,Annual Revenue,Employees\n"
        "Yangquan Coal,http://www.ymjt.com.cn%20,6.0E7,10001+\n"
        "Acme,acme.de,$1.2M,51-200\n"
        "Beta,beta.de,soon,\n"
    )
    summary = import_accounts(sqlite_workspace, sqlite_people[Role.OWNER], _write(tmp_path, text))
    assert (summary.created, summary.rejected) == (3, 0)
    assert _names(sqlite_workspace) == [
        ("Acme", 51, 1_200_000),
        ("Beta", None, None),
        ("Yangquan Coal", 10001, 60_000_000),
    ]
    assert [(w.row, w.column) for w in summary.warnings] == [(4, "Annual Revenue")]
    assert summary.bands_line() == (
        "Employee bands are stored as their lower bound, the fewest employees the company "
        "has: '10001+' as 10,001 and '51-200' as 51."
    )


def test_xlsx_imports_values_never_formulas(sqlite_workspace, sqlite_people, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Leads"
    sheet.append(["Accounts from the fair"])
    sheet.append(["Company name", "Number of Employees", "Industry"])
    sheet.append(["Acme", 1200, '=HYPERLINK("http://evil")'])
    sheet.append(["Beta", 51.0, "Retail"])
    path = tmp_path / "fair.xlsx"
    workbook.save(path)
    options = ImportOptions(sheet="Leads", on_duplicate=OnDuplicate.SKIP)
    summary = import_accounts(sqlite_workspace, sqlite_people[Role.OWNER], path, options)
    assert summary.created == 2
    assert _names(sqlite_workspace) == [("Acme", 1200, None), ("Beta", 51, None)]
    with sqlite_workspace.read() as conn:
        industries = set(conn.execute(select(accounts.c.industry)).scalars())
    assert not any(i and i.startswith("=") for i in industries)


def test_crm_export_headers_map_themselves(sqlite_workspace, sqlite_people, tmp_path):
    text = (
        "Account Name,Company Domain Name,NumberOfEmployees,AnnualRevenue,BillingCountry,"
        "Phone Number,Lead Source\nAcme,acme.com,50,1000000,Germany,+49 1,Trade show\n"
    )
    import_accounts(sqlite_workspace, sqlite_people[Role.OWNER], _write(tmp_path, text))
    with sqlite_workspace.read() as conn:
        row = conn.execute(select(accounts)).mappings().one()
    assert (row["website"], row["employees"], row["country"], row["phone"], row["source"]) == (
        "acme.com", 50, "Germany", "+49 1", "Trade show")  # fmt: skip


def test_saved_mapping_file_maps_odd_headers(sqlite_workspace, sqlite_people, tmp_path):
    mapping = tmp_path / "mapping.json"
    mapping.write_text('{"Firma": "name", "Mitarbeiter": "employees", "Notiz": "custom:Note"}')
    text = "Firma,Mitarbeiter,Notiz\nAcme,12,call after 5\n"
    options = ImportOptions(mapping_file=mapping)
    import_accounts(sqlite_workspace, sqlite_people[Role.OWNER], _write(tmp_path, text), options)
    with sqlite_workspace.read() as conn:
        row = conn.execute(select(accounts)).mappings().one()
    assert (row["name"], row["employees"], row["custom"]) == ("Acme", 12, {"Note": "call after 5"})


def test_a_file_without_a_name_column_is_refused(sqlite_workspace, sqlite_people, tmp_path):
    with pytest.raises(FileRefused, match="Account Name"):
        import_accounts(
            sqlite_workspace, sqlite_people[Role.OWNER], _write(tmp_path, "City,Phone\nRome,1\n")
        )


def test_a_saved_mapping_gives_a_field_the_first_filled_of_its_columns(
    sqlite_workspace, sqlite_people, tmp_path
):
    mapping = tmp_path / "mapping.json"
    mapping.write_text('{"Firma": "name", "Web": "website", "Domain": "website"}')
    text = "Firma,Web,Domain\nAcme,,acme.com\nBeta,beta.io,beta.com\n"
    options = ImportOptions(mapping_file=mapping)
    owner = sqlite_people[Role.OWNER]
    import_accounts(sqlite_workspace, owner, _write(tmp_path, text), options)
    with sqlite_workspace.read() as conn:
        stored = conn.execute(select(accounts.c.name, accounts.c.website)).all()
    assert sorted(stored) == [("Acme", "acme.com"), ("Beta", "beta.io")]


def test_a_workbook_is_read_from_the_sheet_with_the_list(
    sqlite_workspace, sqlite_people, tmp_path, monkeypatch
):
    reads: list[str] = []
    read_sheet = files._xlsx_rows

    def counted_reads(path: Path, sheet: str):
        reads.append(sheet)
        return read_sheet(path, sheet)

    monkeypatch.setattr(files, "_xlsx_rows", counted_reads)
    workbook = openpyxl.Workbook()
    workbook.active.title = "Read me"
    workbook.active.append(["Exported from our CRM on Monday"])
    sheet = workbook.create_sheet("Accounts")
    sheet.append(["Company name", "Country"])
    sheet.append(["Acme", "Germany"])
    path = tmp_path / "crm.xlsx"
    workbook.save(path)
    owner = sqlite_people[Role.OWNER]
    assert import_accounts(sqlite_workspace, owner, path).created == 1
    # calamine reads a whole sheet for its top rows: the list's are read once, not again
    # once the sheet is found, then its data
    assert reads == ["Read me", "Accounts", "Accounts"]
    with pytest.raises(
        FileRefused, match=r"crm.xlsx, sheet 'Read me': no header row .* Read me, Accounts"
    ):
        import_accounts(sqlite_workspace, owner, path, ImportOptions(sheet="Read me"))


def test_a_saved_mapping_keeps_a_column_s_unit(sqlite_workspace, sqlite_people, tmp_path):
    mapping = tmp_path / "mapping.json"
    mapping.write_text(mapping_document(["Firma", "Umsatz"], ["name", "annual_revenue"], [1, 1000]))
    assert json.loads(mapping.read_text()) == {
        "Firma": "name",
        "Umsatz": {"field": "annual_revenue", "scale": 1000},
    }
    assert load_mapping(mapping).scales == {"Umsatz": 1000}
    text = 'Firma,Umsatz\nAcme,"1.250,5"\n'
    options = ImportOptions(mapping_file=mapping)
    import_accounts(sqlite_workspace, sqlite_people[Role.OWNER], _write(tmp_path, text), options)
    with sqlite_workspace.read() as conn:
        assert conn.execute(select(accounts.c.annual_revenue)).scalar_one() == 1_250_500
