"""Reading company lists: CSV (any common encoding and delimiter) and XLSX (values only).

A :class:`SourceTable` knows its header row and yields the data rows with the row number a
person sees in the file (the line where a CSV record starts; the sheet row in XLSX).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from itertools import islice
from pathlib import Path
from typing import Any

from domain.fields import Field
from domain.importing import FileRefused, find_header_row, names_a_field

HEADER_SEARCH_ROWS = 30
PREVIEW_ROWS = 20
DELIMITERS = (",", ";", "\t", "|")


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252, else Latin-1 (never fails)."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the most consistent, widest rows."""
    sample = "\n".join(text.splitlines()[:50])
    best, best_score = ",", -1.0
    for delimiter in DELIMITERS:
        try:
            widths = [len(r) for r in csv.reader(io.StringIO(sample), delimiter=delimiter) if r]
        except csv.Error:
            continue
        wide = [w for w in widths if w > 1]
        if not wide:
            continue
        width, count = Counter(wide).most_common(1)[0]
        score = count * width
        if score > best_score:
            best, best_score = delimiter, score
    return best


def cell_text(value: Any) -> str:
    """A spreadsheet value as the text a person sees: 1200.0 → "1200", dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ") if value.time() != time() else value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class BadRow:
    """A row whose shape is wrong: it cannot be read field by field."""

    number: int
    cells: list[str]
    reason: str


@dataclass
class SourceTable:
    """One table of a file: where its header is, and its rows."""

    path: Path
    sheet: str | None
    sheets: list[str]
    header_row: int  # its row number in the file, as the user sees it
    headers: list[str]
    raw_top: list[list[str]]  # the first rows of the file, header included

    @property
    def is_csv(self) -> bool:
        return self.sheet is None

    def preview(self, count: int = PREVIEW_ROWS) -> list[tuple[int, list[str]]]:
        rows = []
        for row in self.rows():
            if isinstance(row, BadRow):
                continue
            rows.append(row)
            if len(rows) == count:
                break
        return rows

    def rows(self) -> Iterator[tuple[int, list[str]] | BadRow]:
        """Data rows after the header: (row number, cells), or a BadRow for a row with the
        wrong number of fields. Blank rows are skipped."""
        width = len(self.headers)
        for number, cells in _raw_rows(self.path, self.sheet):
            if number <= self.header_row or not "".join(cells).strip():
                continue
            filled = len(cells)
            while filled and not cells[filled - 1].strip():
                filled -= 1
            if filled > width or (self.is_csv and len(cells) < width):
                count = len(cells) if self.is_csv else filled
                yield BadRow(
                    number,
                    cells,
                    f"has {count} fields where the header has {width}: "
                    "check for a stray delimiter or quote",
                )
                continue
            yield number, (cells + [""] * width)[:width]


def _csv_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    text = decode(path.read_bytes())
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text), strict=True)
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise FileRefused(
                f"{path.name}: line {start}: the file cannot be read as CSV ({exc}); "
                "a quote opened here is probably never closed. Nothing was imported."
            ) from None
        yield start, row
        start = reader.line_num + 1


def _xlsx_rows(path: Path, sheet: str | None) -> Iterator[tuple[int, list[str]]]:
    from python_calamine import CalamineWorkbook

    workbook = _open_workbook(path)
    name = sheet or workbook.sheet_names[0]
    if name not in workbook.sheet_names:
        raise FileRefused(f"{path.name}: there is no sheet '{name}'.")
    assert isinstance(workbook, CalamineWorkbook)
    for number, row in enumerate(workbook.get_sheet_by_name(name).iter_rows(), 1):
        yield number, [cell_text(c) for c in row]


def _open_workbook(path: Path) -> Any:
    from python_calamine import CalamineWorkbook

    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several types for unreadable files
        raise FileRefused(f"{path.name}: not a readable spreadsheet ({exc}).") from None


def is_spreadsheet(path: Path) -> bool:
    return path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods")


def _raw_rows(path: Path, sheet: str | None) -> Iterator[tuple[int, list[str]]]:
    return _xlsx_rows(path, sheet) if sheet is not None else _csv_rows(path)


def _top_rows(path: Path, sheet: str | None) -> tuple[list[int], list[list[str]]]:
    """The numbers and cells of the first rows, where the header is looked for."""
    rows = list(islice(_raw_rows(path, sheet), HEADER_SEARCH_ROWS))
    return [number for number, _ in rows], [cells for _, cells in rows]


def _sheet_with_the_list(path: Path, sheets: list[str], fields: tuple[Field, ...]) -> str:
    """The first sheet whose top rows name a known field (a workbook often starts with a
    cover or notes sheet); the first sheet when none does."""
    for name in sheets:
        if names_a_field(_top_rows(path, name)[1], fields):
            return name
    return sheets[0]


def open_table(path: Path, fields: tuple[Field, ...], sheet: str | None = None) -> SourceTable:
    """Read the top of ``path`` and find its header row."""
    if not path.is_file():
        raise FileRefused(f"{path}: no such file.")
    sheets: list[str] = []
    if is_spreadsheet(path):
        sheets = list(_open_workbook(path).sheet_names)
        if not sheets:
            raise FileRefused(f"{path.name}: the workbook has no sheets.")
        sheet = sheet or _sheet_with_the_list(path, sheets, fields)
    numbers, top = _top_rows(path, sheet)
    where = f"{path.name}, sheet '{sheet}'" if sheet else path.name
    if not top:
        raise FileRefused(f"{where}: the {'sheet' if sheet else 'file'} is empty.")
    try:
        index = find_header_row(top, fields)
    except FileRefused as exc:
        others = f" The workbook's sheets: {', '.join(sheets)}." if len(sheets) > 1 else ""
        raise FileRefused(f"{where}: {exc}{others}") from None
    headers = list(top[index])
    while headers and not headers[-1].strip():
        headers.pop()
    return SourceTable(path, sheet, sheets, numbers[index], headers, top)
