"""Tables written as CSV or XLSX: the accounts export and the rejected rows of an import."""

from __future__ import annotations

import csv
import re
import unicodedata
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from itertools import chain, islice
from pathlib import Path
from typing import Any

from domain.errors import AccordError
from domain.progress import Cancel, Progress
from domain.tables import ColumnKind, TableData
from domain.values import clean_text, counted, in_words, protect_cell, unprotect_cell
from reports.output import beside, writing


class ExportCancelled(AccordError):
    def __init__(self) -> None:
        super().__init__("The export was cancelled; no file was written.")


_REPORT_EVERY = 1000
#: The most characters a spreadsheet cell holds (Excel's limit; openpyxl cuts at it).
CELL_LIMIT = 32_767


@dataclass(frozen=True)
class Written:
    """What an export wrote: how many rows, and which cells had to cut a longer text."""

    path: Path
    rows: int
    cut: tuple[str, ...] = ()  # cell references, such as "K12"

    @property
    def warning(self) -> str | None:
        """The sentence to show when a text did not fit whole, else None."""
        if not self.cut:
            return None
        return (
            f"{counted(len(self.cut), 'text')} longer than a spreadsheet cell holds "
            f"({CELL_LIMIT:,} characters) {'is' if len(self.cut) == 1 else 'are'} cut in "
            f"{self.path.name}; its Notes sheet lists the cells. Export to CSV to keep "
            "every text whole."
        )


def write_table(
    table: TableData, path: Path, *, progress: Progress | None = None, cancel: Cancel | None = None
) -> Written:
    """Write ``table`` to ``path`` (.csv or .xlsx).

    The file appears only when complete: it is written beside the target and renamed.
    """
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise AccordError(f"{path.name}: export to .csv or .xlsx")
    ticker = Ticker(table.count, progress, cancel)
    with writing(path) as partial:
        if suffix == ".csv":
            return Written(path, _write_csv(table, partial, ticker))
        count, cut = _write_xlsx(table, partial, ticker, beside_of=path)
        return Written(path, count, cut)


class Ticker:
    def __init__(self, total: int | None, progress: Progress | None, cancel: Cancel | None) -> None:
        self.total, self.progress, self.cancel = total, progress, cancel

    def rows(self, rows: Iterable[Sequence[Any]]) -> Iterator[Sequence[Any]]:
        done = 0
        for done, row in enumerate(rows, 1):
            if done % _REPORT_EVERY == 0:
                if self.cancel is not None and self.cancel():
                    raise ExportCancelled
                if self.progress is not None:
                    self.progress(done, self.total)
            yield row
        if self.progress is not None:
            self.progress(done, self.total)


def _csv_value(value: Any, kind: ColumnKind) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if kind is ColumnKind.TEXT:
        return protect_cell(clean_text(str(value)))
    if kind is ColumnKind.CSV_CELL:
        return clean_text(str(value))
    return str(value)


def _write_csv(table: TableData, path: Path, ticker: Ticker) -> int:
    kinds = [c.kind for c in table.columns]
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        # A heading is text, except a file's own (its rejected rows' header row).
        heading = [
            c.kind if c.kind is ColumnKind.CSV_CELL else ColumnKind.TEXT for c in table.columns
        ]
        writer.writerow(
            [_csv_value(c.label, k) for c, k in zip(table.columns, heading, strict=True)]
        )
        for row in ticker.rows(table.rows):
            writer.writerow([_csv_value(v, k) for v, k in zip(row, kinds, strict=True)])
            count += 1
    return count


#: How a workbook shows each kind of number (a share as a percentage of its 0-1 value).
NUMBER_FORMATS = {
    ColumnKind.INTEGER: "0",
    ColumnKind.AMOUNT: "#,##0",
    ColumnKind.SHARE: "0%",
    ColumnKind.DECIMAL: "0.0",
    ColumnKind.DATETIME: "yyyy-mm-dd hh:mm",
    ColumnKind.DATE: "yyyy-mm-dd",
}


#: The rows a workbook's column widths are measured on: a write-only sheet gives its widths
#: before its first row, and an export of a million rows is not held to measure them all.
WIDTH_SAMPLE = 1000
#: The widest a column is made, in characters: a longer text wraps in its cell.
WIDEST = 50
#: How wide a number or a time shows in its format, beside its digits.
_SHOWN_WIDTH = {ColumnKind.DATETIME: 16, ColumnKind.DATE: 10, ColumnKind.SHARE: 5}


def _shown_width(value: Any, kind: ColumnKind) -> int:
    """How many characters wide ``value`` shows in its cell: its longest line; a letter
    that takes two places (Chinese, Japanese, Korean) counts twice."""
    if value is None:
        return 0
    if kind in _SHOWN_WIDTH:
        return _SHOWN_WIDTH[kind]
    if isinstance(value, int | float) and kind is ColumnKind.AMOUNT:
        return len(f"{value:,.0f}")
    if isinstance(value, int | float) and kind is ColumnKind.DECIMAL:
        return len(f"{value:,.1f}")
    text = str(value)
    if text.isascii():  # every letter takes one place
        return max(map(len, text.split("\n")))
    return max(
        len(line) + sum(unicodedata.east_asian_width(ch) in "WF" for ch in line if ord(ch) > 0x1000)
        for line in text.split("\n")
    )


def column_widths(table: TableData, sample: Sequence[Sequence[Any]]) -> list[int]:
    """Each column as wide as its heading (and the filter's button) and the values in
    ``sample``, up to :data:`WIDEST` characters."""
    widths = []
    for index, column in enumerate(table.columns):
        values = (_shown_width(row[index], column.kind) for row in sample)
        widths.append(min(WIDEST, max(len(column.label) + 3, *values, 6) + 2))
    return widths


#: Text that reads as an escaped character in a workbook (``_x0041_`` is "A"): its first
#: underscore is escaped, so that it reads back as written.
_LITERAL_ESCAPE = re.compile(r"_x[0-9A-Fa-f]{4}_")
#: The kinds of value a cell holds as they come, whatever their column.
_AS_WRITTEN = (int, float)


def _written(value: Any, kind: ColumnKind) -> Any:
    """``value`` as a cell holds it: text without control characters, reading back as
    written (:func:`_written_text`); a time in UTC without its zone (Excel has none)."""
    if isinstance(value, str):
        return _written_text(value, kind)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


def _written_text(text: str, kind: ColumnKind) -> str:
    """``text`` as a cell holds it: without control characters, reading back as written."""
    if kind is ColumnKind.CSV_CELL:
        text = unprotect_cell(text)
    text = clean_text(text)
    return _LITERAL_ESCAPE.sub(r"_x005F\g<0>", text) if "_x" in text else text


def _cell(sheet: Any, value: Any, number_format: str | None) -> Any:
    """A write-only sheet's cell for a written value (:func:`_written`): text always a
    string, a number or a time in its column's ``number_format``."""
    from openpyxl.cell import WriteOnlyCell

    result = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        result.data_type = "s"  # text, even when it starts with "="
    elif number_format is not None and value is not None:
        result.number_format = number_format
    return result


def sheet_cell(sheet: Any, value: Any, kind: ColumnKind) -> Any:
    """A write-only sheet's cell for ``value``: text is always a string cell (never a
    formula, even when it starts with "="), without control characters, reading back as
    written; a number or a time has its column's number format. Times are UTC."""
    return _cell(sheet, _written(value, kind), NUMBER_FORMATS.get(kind))


class _Styles:
    """The cells of a write-only sheet's rows that take a number format or an alignment:
    one cell per column and style, made once and given each row's value (a write-only sheet
    writes a row's cells as the row is appended). Making a cell, and setting its format or
    alignment, which openpyxl looks up among the workbook's styles, took longer than
    writing it."""

    def __init__(self, sheet: Any) -> None:
        self.sheet = sheet
        self.made: dict[tuple[int, str | None, int], Any] = {}

    def cell(
        self, column: int, value: Any, number_format: str | None, alignment: Any = None
    ) -> Any:
        """Column ``column``'s cell holding a written value (:func:`_written`) as
        :func:`_cell` makes it, aligned by ``alignment`` (one of a few the sheet uses, told
        apart by their identity)."""
        from openpyxl.cell import WriteOnlyCell

        if isinstance(value, str) or value is None:  # no number to format
            number_format = None
        key = (column, number_format, id(alignment))
        cell = self.made.get(key)
        if cell is None:
            cell = self.made[key] = WriteOnlyCell(self.sheet)
            if number_format is not None:
                cell.number_format = number_format
            if alignment is not None:
                cell.alignment = alignment
        cell.value = value
        if isinstance(value, str):
            cell.data_type = "s"  # text, even when it starts with "="
        return cell


def _write_xlsx(
    table: TableData, path: Path, ticker: Ticker, *, beside_of: Path
) -> tuple[int, tuple[str, ...]]:
    """The rows, and the cells whose text was cut to :data:`CELL_LIMIT` (a Notes sheet
    lists them). openpyxl's temporary files are written beside ``beside_of``, not in the
    system's temporary folder, and removed whatever happens."""
    with StreamedWorkbook(beside_of) as workbook:
        count = workbook.table_sheet(table, ticker.rows(table.rows))
        workbook.save(path)
    return count, tuple(reference for _, reference, _, _ in workbook.cut)


class StreamedWorkbook:
    """A write-only workbook (rows go to disk as they are written, so memory stays flat
    whatever the rows) whose sheets keep their temporary files beside ``beside_of``; used
    as a context manager, it removes them whatever happens."""

    def __init__(self, beside_of: Path) -> None:
        from openpyxl import Workbook

        self.workbook = Workbook(write_only=True)
        self.beside_of = beside_of
        self.sheets: list[Any] = []
        #: The cells whose text was cut to CELL_LIMIT: sheet, cell, column, characters.
        self.cut: list[tuple[str, str, str, int]] = []

    def __enter__(self) -> StreamedWorkbook:
        return self

    def __exit__(self, *exc: object) -> None:
        discard_temporaries(self.sheets)

    def sheet(self, title: str, widths: Sequence[float] = (), freeze: str | None = None,
              printed_wide: bool = False) -> Any:  # fmt: skip
        """A new sheet named ``title`` (cut to what a sheet name holds), its columns
        ``widths`` characters wide, the rows above ``freeze`` frozen, printed as wide as the
        page (:func:`print_setup`) when ``printed_wide``: what a write-only sheet must know
        before its first row. Ready for rows."""
        from openpyxl.utils import get_column_letter

        sheet = self.workbook.create_sheet(sheet_title(title))
        for index, width in enumerate(widths, 1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        if freeze:
            sheet.freeze_panes = freeze
        if printed_wide:
            print_setup(sheet)
        self.sheets.append(sheet)
        write_beside(sheet, self.beside_of)
        return sheet

    def table_sheet(self, table: TableData, rows: Iterable[Sequence[Any]],
                    excel_table: str | None = None) -> int:  # fmt: skip
        """A sheet of ``table``: a bold header row, frozen, over ``rows`` (streamed), each
        column as wide as its first rows, long text wrapped, printed landscape as wide as
        the page with the header on every page; filtered, or an Excel table named
        ``excel_table``. Returns how many rows it wrote."""
        from openpyxl.styles import Alignment, Font
        from openpyxl.utils import get_column_letter

        from reports.sheet_rows import RowXml

        rows = iter(rows)
        sample = list(islice(rows, WIDTH_SAMPLE))
        widths = column_widths(table, sample)
        sheet = self.sheet(table.title, widths, freeze="A2", printed_wide=True)
        wrapped, top = Alignment(wrap_text=True, vertical="top"), Alignment(vertical="top")
        letters = [get_column_letter(i) for i in range(1, len(table.columns) + 1)]
        formats = [NUMBER_FORMATS.get(column.kind) for column in table.columns]
        styles = _Styles(sheet)
        written_rows = RowXml(sheet, formats)

        kinds = [column.kind for column in table.columns]

        def row_cells(row: Sequence[Any], number: int) -> Sequence[Any]:
            values: list[Any] = []
            wrapping: list[bool] | None = None  # whether each cell wraps, once one does
            for index, (value, kind) in enumerate(zip(row, kinds, strict=True)):
                if isinstance(value, str):
                    if len(value) > CELL_LIMIT:
                        self.cut.append((sheet.title, f"{letters[index]}{number}",
                                         table.columns[index].label, len(value)))  # fmt: skip
                    value = _written_text(value, kind)[:CELL_LIMIT]  # as openpyxl cuts it
                    if _text_wraps(value, widths[index]):
                        if wrapping is None:
                            wrapping = [False] * len(kinds)
                        wrapping[index] = True
                elif value is not None and type(value) not in _AS_WRITTEN:
                    value = _written(value, kind)
                values.append(value)
            # a taller row: its cells start at the top, side by side (nothing to align in an
            # empty one)
            alignments = None
            if wrapping is not None:
                alignments = [None if value is None or value == "" else wrapped if wraps else top
                              for value, wraps in zip(values, wrapping, strict=True)]  # fmt: skip
            xml = written_rows.row(number, values, alignments)
            if xml is not None:
                return xml
            if alignments is not None:
                return [value if alignment is None
                        else styles.cell(index, value, number_format, alignment)
                        for index, (value, number_format, alignment)
                        in enumerate(zip(values, formats, alignments, strict=True))]  # fmt: skip
            # A value goes into the row as it is when openpyxl alone writes it as _cell would
            # (nothing; a text that cannot read as a formula or an error value, which start
            # with "=" and "#"; a number without a format): openpyxl takes three times as
            # long over a cell of its own.
            for index, value in enumerate(values):
                if value is None:
                    continue
                if isinstance(value, str):
                    if value[:1] not in ("=", "#"):
                        continue
                elif formats[index] is None and not isinstance(value, datetime):
                    continue
                values[index] = styles.cell(index, value, formats[index])
            return values

        header = []
        for column in table.columns:
            head = sheet_cell(sheet, column.label, ColumnKind.TEXT)
            head.font = Font(bold=True)
            header.append(head)
        sheet.append(header)
        count = 0
        for row in chain(sample, rows):
            sheet.append(row_cells(row, count + 2))
            count += 1
        last = letters[-1] if letters else "A"
        if excel_table is None:
            sheet.auto_filter.ref = f"A1:{last}{count + 1}"
        else:  # an empty table keeps one empty row, as Excel makes one
            add_table(sheet, excel_table, f"A1:{last}{max(count, 1) + 1}",
                      [c.label for c in table.columns])  # fmt: skip
        return count

    def save(self, path: Path) -> None:
        """Save the workbook to ``path``, with a Notes sheet listing the cells whose text
        was cut, if any was."""
        from reports.sheet_rows import save_workbook

        if self.cut:
            notes = self.sheet("Notes", (12, 30, 14))
            titles = sorted({f"'{sheet}'" for sheet, _, _, _ in self.cut})
            notes.append([
                f"These cells of the sheet{'s' if len(titles) > 1 else ''} "
                f"{in_words(titles)} held more than the {CELL_LIMIT:,} characters a "
                f"spreadsheet cell holds: each keeps its first {CELL_LIMIT:,}. Accord keeps "
                "the whole text; a CSV export writes it whole."
            ])  # fmt: skip
            notes.append([sheet_cell(notes, label, ColumnKind.TEXT)
                          for label in ("Cell", "Column", "Characters")])  # fmt: skip
            for sheet, cell, label, length in self.cut:
                # a cell of another sheet than the only one named above says its sheet
                reference = f"'{sheet}'!{cell}" if len(titles) > 1 else cell
                notes.append([sheet_cell(notes, reference, ColumnKind.TEXT),
                              sheet_cell(notes, label, ColumnKind.TEXT),
                              sheet_cell(notes, length, ColumnKind.INTEGER)])  # fmt: skip
        save_workbook(self.workbook, path)


def _row_of_cells(sheet: Any, values: Iterable[Any], row: int) -> Iterator[Any]:
    """A row's values as the cells a write-only sheet writes, as openpyxl makes them
    (``WriteOnlyWorksheet._values_to_row``), without its detour for a cell made beforehand
    (:func:`_cell`): openpyxl first takes it for a plain value, which fails with an error
    message it builds and throws away, and that took longer than writing the cell."""
    from openpyxl.cell.cell import Cell, WriteOnlyCell

    cell = WriteOnlyCell(sheet)
    for column, value in enumerate(values, 1):
        if value is None:
            continue
        if isinstance(value, Cell):
            cell = value
        else:
            cell.value = value
        cell.column, cell.row = column, row
        if cell.hyperlink is not None:
            cell.hyperlink.ref = cell.coordinate
        yield cell
        if cell.has_style or cell.hyperlink:  # a plain value's cell took a format: a new one
            cell = WriteOnlyCell(sheet)


def add_table(sheet: Any, name: str, ref: str, headings: Sequence[str]) -> None:
    """Make ``ref`` of a write-only sheet an Excel table (banded rows, a filter on each
    heading) named ``name``, whose header row holds ``headings``."""
    from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

    table = Table(displayName=name, ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    table.tableColumns = [TableColumn(id=n, name=h) for n, h in enumerate(headings, 1)]
    table._initialise_columns = lambda: None  # the columns are given: keep them
    with warnings.catch_warnings():
        # openpyxl warns that a write-only sheet cannot read its table's headings from its
        # cells; they are given above
        warnings.filterwarnings("ignore", "In write-only mode", UserWarning)
        sheet.add_table(table)


def discard_temporaries(sheets: Iterable[Any]) -> None:
    """Remove the write-only sheets' temporary files that a failed workbook leaves (a
    saved one's are gone already)."""
    for each in sheets:
        if each._writer is not None:
            if not each.closed:
                with suppress(OSError):  # a full disk: the file goes all the same
                    each.close()  # closes the file, so that Windows removes it
            Path(each._writer.out).unlink(missing_ok=True)


def _text_wraps(text: str, width: int) -> bool:
    """Whether a cell's text is wider than its column, or on more than one line."""
    if "\n" in text:
        return True
    if text.isascii():  # every letter takes one place
        return len(text) > width
    # a letter takes at most two places: a text of half the width fits, measured or not
    return 2 * len(text) > width and _shown_width(text, ColumnKind.TEXT) > width


def print_setup(sheet: Any) -> None:
    """Print the sheet landscape, as wide as the page (as many pages down as it takes),
    with the header row on every page."""
    from openpyxl.worksheet.properties import PageSetupProperties

    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_title_rows = "1:1"


def write_beside(sheet: Any, path: Path) -> None:
    """Give a write-only sheet its temporary file beside ``path``: a big export's sheet
    is as big as the export, and one in the system's temporary folder outlives a killed
    export there; this one is overwritten by the next export to ``path``."""
    from openpyxl.worksheet._writer import ALL_TEMP_FILES

    from reports.sheet_rows import SheetWriter

    out = str(beside(path, f".partial.{sheet.title}.xml"))
    ALL_TEMP_FILES.append(out)  # openpyxl removes it at exit, and its cleanup expects it here
    sheet._writer = SheetWriter(sheet, out, _row_of_cells)
    sheet._writer.write_top()


def sheet_title(title: str) -> str:
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in title).strip("'")
    return cleaned[:31] or "Sheet"
