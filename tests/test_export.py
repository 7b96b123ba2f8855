"""Exports: CSV and XLSX that a user opens, that keep hostile text as text, and that
re-import unchanged."""

from __future__ import annotations

import csv
import tempfile
import zipfile
from datetime import UTC, date, datetime, time
from functools import partial
from pathlib import Path
from unittest.mock import patch

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.accounts import create_account
from domain.tables import ColumnKind, TableColumn, TableData
from domain.users import Role
from main import main
from reports.tabular import WIDEST, WIDTH_SAMPLE, ExportCancelled, write_table
from storage.demo.build import build_demo
from storage.importing.importer import import_accounts
from storage.read_models.account_list import ListQuery, Scope, count
from storage.read_models.export import account_table
from storage.repositories import SqlUnitOfWork
from storage.workspace import open_workspace

HOSTILE = ["=HYPERLINK(\"http://evil\",\"x\")", "+49 30 1234", "@SUM(A1)", "<b>&amp;</b>",
           "Ωμέγα Ltd", "Ромашка ООО", "北京科技有限公司"]  # fmt: skip


def _hostile_workspace(workspace, owner):
    for text in HOSTILE:
        create_account(SqlUnitOfWork(workspace), owner, {"name": text, "phone": text,
                                                         "employees": "12"})  # fmt: skip


def test_csv_keeps_hostile_text_as_text(workspace, people, tmp_path):
    _hostile_workspace(workspace, people[Role.OWNER])
    out = tmp_path / "accounts.csv"
    write_table(account_table(workspace), out)
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    names = sorted(r["Account Name"] for r in rows)
    assert '\'=HYPERLINK("http://evil","x")' in names and "'@SUM(A1)" in names
    assert "北京科技有限公司" in names and "<b>&amp;</b>" in names
    assert {r["Employees"] for r in rows} == {"12"}


def test_xlsx_has_typed_cells_frozen_header_and_filter(workspace, people, tmp_path):
    _hostile_workspace(workspace, people[Role.OWNER])
    out = tmp_path / "accounts.xlsx"
    write_table(account_table(workspace, ListQuery(search="ltd")), out)
    sheet = openpyxl.load_workbook(out).active
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["Account Name", "Website", "Industry", "Employees"]
    assert [(c.value, c.data_type) for c in sheet[2][:1]] == [("Ωμέγα Ltd", "s")]
    assert sheet.cell(2, 4).value == 12 and sheet.max_row == 2


def test_formula_text_is_a_string_cell_in_xlsx(workspace, people, tmp_path):
    _hostile_workspace(workspace, people[Role.OWNER])
    out = tmp_path / "accounts.xlsx"
    write_table(account_table(workspace), out)
    cells = [r[0] for r in openpyxl.load_workbook(out).active.iter_rows(min_row=2)]
    formula = next(c for c in cells if str(c.value).startswith("=HYPERLINK"))
    assert formula.data_type == "s"


def test_cancelled_export_leaves_no_file(sqlite_workspace, sqlite_people, tmp_path, monkeypatch):
    build_demo(sqlite_workspace, accounts=1500, replace=True)
    scratch = tmp_path / "temp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    out = tmp_path / "accounts.xlsx"
    with pytest.raises(ExportCancelled):
        write_table(account_table(sqlite_workspace), out,
                    cancel=lambda: True)  # fmt: skip
    assert not out.exists() and not any(p.name.endswith(".partial") for p in tmp_path.iterdir())
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_an_export_reimports_unchanged(tmp_path, suffix):
    main(["--db", str(tmp_path / "a.sqlite"), "--user", "Alex Morgan", "demo", "--accounts", "300"])
    first = tmp_path / f"first{suffix}"
    assert main(["--db", str(tmp_path / "a.sqlite"), "export", "accounts", str(first)]) == 0
    copy = open_workspace(tmp_path / "b.sqlite")
    from storage.users import sign_in

    summary = import_accounts(copy, sign_in(copy, "Alex Morgan"), first)
    assert (summary.created, summary.rejected) == (300, 0)
    second = tmp_path / f"second{suffix}"
    assert main(["--db", str(tmp_path / "b.sqlite"), "export", "accounts", str(second)]) == 0
    if suffix == ".csv":
        assert first.read_bytes() == second.read_bytes()
    else:
        rows = [list(openpyxl.load_workbook(p).active.values) for p in (first, second)]
        assert rows[0] == rows[1]


def test_demo_is_varied_and_reproducible(sqlite_workspace, tmp_path):
    build_demo(sqlite_workspace, accounts=400, seed=3, replace=True)
    rows = list(account_table(sqlite_workspace).rows)
    assert len({r[2] for r in rows}) >= 10 and len({r[5] for r in rows}) >= 8
    assert len({r[1] for r in rows}) == 400
    other = open_workspace(tmp_path / "other.sqlite")
    build_demo(other, accounts=400, seed=3)
    again = list(account_table(other).rows)
    assert [r[:4] for r in rows] == [r[:4] for r in again]


def test_demo_refuses_a_workspace_with_accounts(sqlite_workspace, sqlite_people):
    create_account(SqlUnitOfWork(sqlite_workspace), sqlite_people[Role.OWNER], {"name": "Real"})
    with pytest.raises(Exception, match="already has accounts"):
        build_demo(sqlite_workspace, accounts=10)


def test_the_export_holds_what_the_list_shows(sqlite_workspace, tmp_path):
    """A rep on "My accounts" exports their accounts, not the whole workspace."""
    from storage.users import sign_in

    build_demo(sqlite_workspace, accounts=300, seed=4, replace=True, owner_name="Olivia Owner")
    rep = sign_in(sqlite_workspace, "Sam Rivera")
    mine = ListQuery(scope=Scope.MINE, owner_id=rep.id)
    out = tmp_path / "mine.csv"
    written = write_table(account_table(sqlite_workspace, mine), out).rows
    with out.open(encoding="utf-8-sig", newline="") as f:
        names = [r["Account Name"] for r in csv.DictReader(f)]
    assert 0 < written == len(names) == count(sqlite_workspace, mine) < 300
    targets = ListQuery(scope=Scope.TARGETS, search="gmbh")
    assert len(list(account_table(sqlite_workspace, targets).rows)) == count(
        sqlite_workspace, targets
    )


def test_a_workbook_shows_every_text_whole_and_prints_page_wide(sqlite_workspace, tmp_path):
    """Columns as wide as their content (a long text wraps in its cell), printed landscape,
    one page wide, the header row on every page."""
    build_demo(sqlite_workspace, accounts=300, seed=5, replace=True)
    out = tmp_path / "accounts.xlsx"
    write_table(account_table(sqlite_workspace), out)
    sheet = openpyxl.load_workbook(out).active
    for column in sheet.iter_cols():
        width = sheet.column_dimensions[column[0].column_letter].width
        assert len(str(column[0].value)) < width <= WIDEST  # the heading, beside its filter
        for cell in column[1:]:
            shown = len(f"{cell.value:,}") if isinstance(cell.value, int) else len(str(cell.value))
            assert shown < width or cell.alignment.wrap_text, (cell.coordinate, cell.value)
    setup = sheet.page_setup
    assert (setup.orientation, setup.fitToWidth, setup.fitToHeight) == ("landscape", 1, 0)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$1:$1"


def test_widths_come_from_the_first_rows_and_a_long_text_wraps(tmp_path):
    """A write-only sheet gives its widths before its rows: they are measured on the first
    rows, not on all of them (a million-row export stays a stream)."""
    note = "Met at the trade fair; wants a quote for 40 seats before the end of the quarter."
    rows = [[f"Account number {n} on the list", "", n] for n in range(WIDTH_SAMPLE)]
    rows += [["An account whose name is longer than any before", note, 1_000_000]]
    columns = [TableColumn("Account Name"), TableColumn("Notes"),
               TableColumn("Employees", ColumnKind.INTEGER)]  # fmt: skip
    out = tmp_path / "wide.xlsx"
    write_table(TableData("Accounts", columns, iter(rows)), out)
    sheet = openpyxl.load_workbook(out).active
    widths = [sheet.column_dimensions[letter].width for letter in "ABC"]
    name = len("Account number 999 on the list")  # not the longer name after the sample
    assert widths == [name + 2, len("Notes") + 5, len("Employees") + 5]
    last = sheet[WIDTH_SAMPLE + 2]
    assert [cell.alignment.wrap_text for cell in last] == [True, True, None]
    assert {cell.alignment.vertical for cell in last} == {"top"}  # side by side
    assert not sheet["A2"].alignment.wrap_text


def test_a_workbooks_rows_are_written_without_a_cell_per_value(tmp_path, monkeypatch):
    """openpyxl writes a cell by making a cell object and an lxml element for it, its value
    and its text: about 8 µs a cell, which made a report's raw sheets cost more than all
    the rest of it. A row is written as the one string of XML openpyxl would write for it
    (held to openpyxl's below): only the headings are openpyxl's cells, and every value
    shows as before, texts that read as a formula or an error value as text."""
    from openpyxl.worksheet import _writer

    written = []  # the cells openpyxl wrote, by their references
    real = _writer.write_cell

    def counting(xf, sheet, cell, styled=False):
        written.append(cell.coordinate)
        return real(xf, sheet, cell, styled)

    monkeypatch.setattr(_writer, "write_cell", counting)
    at = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    rows = [[f"Account {n}", "called", n, at] for n in range(100)]
    rows += [["=SUM(A1:A9)", "#N/A", None, None]]
    columns = [TableColumn("Account"), TableColumn("Outcome"),
               TableColumn("Deal value", ColumnKind.AMOUNT),
               TableColumn("At", ColumnKind.DATETIME)]  # fmt: skip
    out = tmp_path / "plain.xlsx"
    write_table(TableData("Interactions", columns, iter(rows)), out)
    assert written == ["A1", "B1", "C1", "D1"]
    sheet = openpyxl.load_workbook(out).active
    assert [(c.value, c.data_type) for c in sheet[2]] == [
        ("Account 0", "s"),
        ("called", "s"),
        (0, "n"),
        (datetime(2026, 3, 2, 9, 30), "d"),
    ]
    assert [c.number_format for c in sheet[2]][2:] == ["#,##0", "yyyy-mm-dd hh:mm"]
    assert [(c.value, c.data_type) for c in sheet[102]][:2] == [
        ("=SUM(A1:A9)", "s"), ("#N/A", "s")]  # fmt: skip


_TEXTS = st.one_of(
    st.none(),
    st.text(max_size=60),
    st.sampled_from(["", " padded ", "=1+1", "#N/A", "_x0041_", "a & b < c > d\r\n", "😀 é"]),
    st.text(alphabet=" abc\n", min_size=50, max_size=120),  # wraps in its column
)
_NUMBERS = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
    st.booleans(),
)
#: What a column of each kind holds: text or nothing, or a value of its kind.
_VALUES = {
    ColumnKind.TEXT: _TEXTS | _NUMBERS,
    **{kind: _TEXTS | _NUMBERS for kind in (ColumnKind.INTEGER, ColumnKind.AMOUNT,
                                            ColumnKind.SHARE, ColumnKind.DECIMAL)},
    ColumnKind.DATETIME: _TEXTS | st.datetimes(min_value=datetime(1900, 3, 1),
                                               timezones=st.none() | st.just(UTC)),
    ColumnKind.DATE: _TEXTS | st.dates(min_value=date(1900, 3, 1)),
    ColumnKind.CSV_CELL: _TEXTS,
}  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(kinds=st.lists(st.sampled_from(list(ColumnKind)), min_size=1, max_size=5), data=st.data())
def test_a_workbooks_rows_are_the_xml_openpyxl_writes_for_them(kinds, data):
    """A workbook written from rows of any values their columns hold is, byte for byte,
    the workbook openpyxl's cells make of them: the same cells, types, styles and texts."""
    from reports.sheet_rows import RowXml

    columns = [TableColumn(f"Column {n}", kind) for n, kind in enumerate(kinds)]
    rows = data.draw(st.lists(st.tuples(*(_VALUES[kind] for kind in kinds)), max_size=12))

    def written(folder: str) -> dict[str, bytes]:
        out = Path(folder) / "table.xlsx"
        write_table(TableData("Rows", columns, iter(rows)), out)
        with zipfile.ZipFile(out) as book:  # the file's own times apart
            return {n: book.read(n) for n in book.namelist() if n != "docProps/core.xml"}

    with tempfile.TemporaryDirectory() as folder:
        ours = written(folder)
        with patch.object(RowXml, "row", lambda *_: None):  # every row openpyxl's cells
            theirs = written(folder)
    assert ours == theirs


def test_a_value_the_rows_xml_does_not_know_is_written_by_openpyxl(tmp_path):
    """A time of day (no read model gives one) is none of the values a row's XML is made
    of: openpyxl writes its row, as it would."""
    columns = [TableColumn("Account"), TableColumn("Opens at")]
    out = tmp_path / "times.xlsx"
    write_table(TableData("Hours", columns, [["Acme", time(9, 30)], ["Initech", "=1"]]), out)
    sheet = openpyxl.load_workbook(out).active
    assert [[c.value for c in row] for row in sheet.iter_rows(min_row=2)] == [
        ["Acme", time(9, 30)], ["Initech", "=1"]]  # fmt: skip
    assert sheet["B2"].number_format == "h:mm:ss" and sheet["B3"].data_type == "s"


@pytest.mark.parametrize("rows", [100, 1000])
def test_a_workbooks_cells_take_styles_made_once_whatever_the_rows(tmp_path, monkeypatch, rows):
    """Setting a cell's number format or alignment makes openpyxl look the style up among
    the workbook's, which took longer than the rest of the cell: a report's raw sheets
    (their times formatted, most rows wrapping a learning) took twice as long as a bare
    openpyxl workbook of the same rows. Each style is made once, however many rows take it,
    and the cells show as before: times in their format, a wrapping row's cells at the top."""
    from openpyxl.styles import styleable

    looked_up = []
    for descriptor in (styleable.StyleDescriptor, styleable.NumberFormatDescriptor):
        real = descriptor.__set__

        def counting(self, instance, value, real=real):
            looked_up.append(value)
            return real(self, instance, value)

        monkeypatch.setattr(descriptor, "__set__", counting)
    at = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    learned = "Wants a quote for forty seats before the end of the quarter, and a visit first."
    columns = [TableColumn("At", ColumnKind.DATETIME), TableColumn("Learned"),
               TableColumn("Rating", ColumnKind.INTEGER), TableColumn("Reason")]  # fmt: skip
    made = iter([[at, learned if n % 2 else "", n % 5, None] for n in range(rows)])
    table = TableData("Interactions", columns, made)
    out = tmp_path / "styled.xlsx"
    write_table(table, out)
    assert len(looked_up) <= 12  # the header's font, then each style's model: not per row
    sheet = openpyxl.load_workbook(out).active
    plain, wrapping = sheet[2], sheet[3]
    assert [c.number_format for c in plain] == ["yyyy-mm-dd hh:mm", "General", "0", "General"]
    assert [c.number_format for c in wrapping] == ["yyyy-mm-dd hh:mm", "General", "0", "General"]
    assert [c.alignment.wrap_text for c in wrapping] == [None, True, None, None]
    # what shows starts at the top; an empty cell, with nothing to align, is not written
    assert [c.alignment.vertical for c in wrapping] == ["top", "top", "top", None]
    assert wrapping[0].value == datetime(2026, 3, 2, 9, 30)
    # each row's own values, though its cells' styles are the rows' before
    assert [[c.value for c in sheet[n]][1:] for n in (rows, rows + 1)] == [
        [learned if (rows - 2) % 2 else None, (rows - 2) % 5, None],
        [learned if (rows - 1) % 2 else None, (rows - 1) % 5, None],
    ]


def test_a_cell_made_for_its_format_is_written_without_an_error_made_and_thrown_away(
    tmp_path, monkeypatch
):
    """openpyxl takes every value of a row for a plain one first, and a cell made for a
    number's or a time's format fails that with an error message, the cell's description
    in it, built and thrown away: that took longer than writing the cell (a report's raw
    sheets have several a row). The cells go in as cells, and show as before."""
    from openpyxl.cell.cell import Cell

    described = []
    real = Cell.__repr__

    def describing(cell):
        described.append(cell)
        return real(cell)

    monkeypatch.setattr(Cell, "__repr__", describing)
    at = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    columns = [TableColumn("Account"), TableColumn("Deal value", ColumnKind.AMOUNT),
               TableColumn("At", ColumnKind.DATETIME)]  # fmt: skip
    out = tmp_path / "formatted.xlsx"
    write_table(TableData("Interactions", columns, [[f"Account {n}", n, at] for n in range(100)]),
                out)  # fmt: skip
    assert described == []
    sheet = openpyxl.load_workbook(out).active
    assert [c.value for c in sheet[101]] == ["Account 99", 99, datetime(2026, 3, 2, 9, 30)]
    assert [c.number_format for c in sheet[101]] == ["General", "#,##0", "yyyy-mm-dd hh:mm"]


def _members(path: Path) -> dict[str, tuple[object, ...]]:
    """Each member of a workbook's archive as it is stored: its compressed bytes, CRC,
    sizes, flags and versions (not its time)."""
    out = {}
    with zipfile.ZipFile(path) as book, path.open("rb") as file:
        for member in book.infolist():
            file.seek(member.header_offset + 26)
            name, extra = (
                int.from_bytes(file.read(2), "little"),
                int.from_bytes(file.read(2), "little"),
            )
            file.seek(name + extra, 1)
            out[member.filename] = (file.read(member.compress_size), member.CRC,
                                    member.file_size, member.flag_bits, member.extract_version,
                                    member.external_attr)  # fmt: skip
    return out


def test_a_sheet_compressed_as_it_is_written_is_stored_as_openpyxl_stores_it(tmp_path, monkeypatch):
    """Compressing the sheets when the workbook was saved took a quarter of a report
    workbook's writing: each sheet's file is compressed a chunk at a time beside the writing
    of the next rows, and copied into the workbook as it is. The archive holds the same
    members, byte for byte, as openpyxl's save compressing the plain files makes."""
    from reports import sheet_rows

    monkeypatch.setattr(sheet_rows, "DEFLATED_CHUNK", 5_000)  # a sheet in many chunks
    at = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    columns = [TableColumn("Account"), TableColumn("At", ColumnKind.DATETIME),
               TableColumn("Learned")]  # fmt: skip
    rows = [[f"Account {n}", at, "Wants a visit first. " * (n % 7)] for n in range(3000)]
    compressed, plain = tmp_path / "compressed.xlsx", tmp_path / "plain.xlsx"
    write_table(TableData("Interactions", columns, iter(rows)), compressed)
    monkeypatch.setattr(sheet_rows, "DeflatedFile", partial(open, mode="wb"))
    monkeypatch.setattr(sheet_rows, "save_workbook", lambda workbook, path: workbook.save(path))
    write_table(TableData("Interactions", columns, iter(rows)), plain)
    ours, theirs = _members(compressed), _members(plain)
    del ours["docProps/core.xml"], theirs["docProps/core.xml"]  # the time it was made
    assert ours == theirs
    assert len(ours["xl/worksheets/sheet1.xml"][0]) > 10 * 5_000
    assert openpyxl.load_workbook(compressed).active["C3"].value == "Wants a visit first. " * 1
