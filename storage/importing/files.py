"""Reading company lists: CSV (any common encoding and delimiter) and XLSX (values only).

A :class:`SourceTable` knows its header row and yields the data rows with the row number a
person sees in the file (the line where a CSV record starts; the sheet row in XLSX).

Files come from anywhere, so they are measured before they are parsed: a file over
:data:`MAX_FILE_BYTES`, a workbook that unpacks to more than :data:`MAX_UNPACKED_BYTES` or
:data:`MAX_UNPACK_RATIO` times its size (a zip bomb), and a workbook part that declares a
DTD (entity bombs, external entities) are refused with the limit in the message. A CSV
file is read as a stream, so its size does not decide the memory an import takes.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from itertools import islice
from pathlib import Path
from typing import Any

from domain.fields import Field
from domain.importing import FileRefused, find_header_row, names_a_field, repeated_headers
from domain.values import counted
from storage.importing.sheet_extent import (
    CHUNK,
    SHARED_TEXT_BYTES,
    TagTooLong,
    column_letters,
    declared_texts,
    sheet_extent,
    sheet_names,
)

HEADER_SEARCH_ROWS = 30
PREVIEW_ROWS = 20
DELIMITERS = (",", ";", "\t", "|")
MB = 1_000_000

#: The biggest file Accord imports. The 1M-row benchmark list (bench/data.py, nine columns)
#: is 108 MB as CSV: this leaves room for a million rows of lines twice as wide. A CSV file
#: is read as a stream, so its memory does not grow with it; a workbook's is bounded below.
MAX_FILE_BYTES = 250 * MB
#: The most a workbook (a zip of XML parts) may unpack to. Calamine holds a whole sheet in
#: memory, about 3.2 times its XML: the 100,000-row benchmark workbook unpacks to 54 MB and
#: takes 175 MB to read, so this bounds reading a workbook at about 1.6 GB. A bigger list
#: imports as CSV.
MAX_UNPACKED_BYTES = 500 * MB
#: How many times its size a workbook may unpack to. Spreadsheet programs' files unpack 3 to
#: 15 times (the benchmark workbook: 10); zip bombs hundreds to thousands of times. Apache
#: POI draws the same line.
MAX_UNPACK_RATIO = 100
#: The most cells a sheet may span, counted from A1 to its last row and column, empty cells
#: included: calamine holds the whole span, 32 bytes a cell before any text (640 MB here),
#: and a stray cell at XFD1048576 would make it 17 billion cells and abort the process.
#: Twenty columns of a million rows: the 1M-row benchmark list (nine columns) fits twice.
MAX_SHEET_CELLS = 20_000_000
#: The longest text one field may hold: the csv module's own default, Accord's limit so far.
MAX_FIELD_CHARS = 131_072
#: How far the CSV reader reads one field before it gives up: a quote that is never closed
#: would otherwise take the rest of the file into one field.
FIELD_READ_CHARS = 8 * MAX_FIELD_CHARS
csv.field_size_limit(FIELD_READ_CHARS)  # the module's limit is global; nothing else reads CSV
#: Where a workbook part would declare a DTD: before its first element, in its first bytes.
_PROLOG_BYTES = 4096
#: A DTD's declarations in the encodings an XML part may use (UTF-8 or UTF-16). Calamine
#: expands no entity (it fails on one it does not know), but a part that declares them was
#: made to attack a reader, and is refused by name before any is read.
_DTD_MARKS = tuple(
    mark.encode(encoding)
    for mark in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)
_READ_CHUNK = 1 << 20


def _size(count: int) -> str:
    if count >= MB:
        return f"{count / MB:,.0f} MB"
    return f"{count / 1000:,.0f} KB" if count >= 1000 else f"{count} bytes"


def _refuse_oversized(path: Path) -> None:
    """Refuse a file over MAX_FILE_BYTES, before anything reads it."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise FileRefused(
            f"{path.name} is {_size(size)}; Accord imports files of up to "
            f"{_size(MAX_FILE_BYTES)}. Split the list into smaller files and import each."
        )


def _inspect_workbook(path: Path) -> bool:
    """Refuse a workbook that unpacks too far or declares a DTD, from its zip directory and
    the first bytes of its XML parts, before a reader parses it. True when it holds macros.
    An .xls file is no zip: its size alone bounds it."""
    if not zipfile.is_zipfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
            unpacked = sum(part.file_size for part in parts)
            if unpacked > MAX_UNPACKED_BYTES:
                raise FileRefused(
                    f"{path.name} unpacks to {_size(unpacked)}; Accord reads workbooks of up to "
                    f"{_size(MAX_UNPACKED_BYTES)} unpacked. Save the list as CSV, or split it."
                )
            ratio = unpacked / max(1, path.stat().st_size)
            if ratio > MAX_UNPACK_RATIO:
                raise FileRefused(
                    f"{path.name} unpacks to {ratio:,.0f} times its size ({_size(unpacked)}); "
                    f"Accord refuses a workbook that unpacks more than {MAX_UNPACK_RATIO} times, "
                    "as zip bombs do. Save the list again from your spreadsheet program."
                )
            for part in parts:
                if part.filename.endswith((".xml", ".rels")):
                    with archive.open(part) as stream:
                        prolog = stream.read(_PROLOG_BYTES)
                    if any(mark in prolog for mark in _DTD_MARKS):
                        raise FileRefused(
                            f"{path.name}: its part {part.filename} declares a DTD, which "
                            "spreadsheet programs never write and which can hide an entity bomb "
                            "or read other files. Save the list again from your spreadsheet "
                            "program."
                        )
            _refuse_sprawling_sheets(path, archive)
            return any(part.filename.lower().endswith("vbaproject.bin") for part in parts)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        raise FileRefused(f"{path.name}: not a readable spreadsheet ({exc}).") from None


def _refuse_sprawling_sheets(path: Path, archive: zipfile.ZipFile) -> None:
    """Refuse a workbook whose sheet spans more than MAX_SHEET_CELLS, or whose shared
    strings declare more texts than their part can hold: calamine would reserve the memory
    for either up front, and abort the process when it cannot. Every part is measured, not
    only those the workbook names as sheets, so that none is missed."""
    names: dict[str, str] | None = None
    for part in archive.infolist():
        size = part.file_size
        if part.filename.lower().replace("\\", "/").endswith("sharedstrings.xml"):
            declared = declared_texts(archive, part)
            if declared is not None and declared > size // SHARED_TEXT_BYTES:
                raise FileRefused(
                    f"{path.name}: its part {part.filename} declares {declared:,} texts, and "
                    f"its {_size(size)} hold at most {size // SHARED_TEXT_BYTES:,}; a file "
                    "declares more to make a reader run out of memory. Save the list again "
                    "from your spreadsheet program."
                )
        try:
            extent = sheet_extent(archive, part, MAX_SHEET_CELLS)
        except TagTooLong:
            raise FileRefused(
                f"{path.name}: not a readable spreadsheet (a cell of its part {part.filename} "
                f"runs over {_size(CHUNK)} of markup)."
            ) from None
        if extent.cells > MAX_SHEET_CELLS:
            if names is None:
                names = sheet_names(archive)
            sheet = names.get(part.filename.lower())
            where = _where(path, sheet) if sheet else f"{path.name}, part {part.filename}"
            raise FileRefused(
                f"{where}: the sheet reaches cell {extent.corner}, so it spans "
                f"{extent.cells:,} cells ({extent.rows:,} rows × {extent.columns:,} columns, "
                f"the empty ones included); Accord reads sheets of up to {MAX_SHEET_CELLS:,} "
                "cells. Delete the cells beyond the list and import it again."
            )


def _encoding(path: Path) -> str:
    """UTF-16 by its byte order mark, UTF-8 (with or without BOM) when the whole file decodes
    as such, else Windows-1252, else Latin-1 (which never fails); read a chunk at a time."""
    with path.open("rb") as file:
        if file.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            return "utf-16"
    for encoding in ("utf-8-sig", "cp1252"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as file:
                while chunk := file.read(_READ_CHUNK):
                    decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    return "latin-1"


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
    #: What the user should know about how the file is read (a workbook's macros ignored).
    notes: list[str] = field(default_factory=list)

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
        for number, cells in _raw_rows(self.path, self.sheet, self.headers):
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
                    f"has {counted(count, 'field')} where the header has {width}: "
                    "check for a stray delimiter or quote",
                )
                continue
            yield number, (cells + [""] * width)[:width]


def _where(path: Path, sheet: str | None) -> str:
    return f"{path.name}, sheet '{sheet}'" if sheet else path.name


def _column(index: int, sheet: str | None, headers: list[str] | None = None) -> str:
    """A column as the user finds it: by its header, else by its letter in a sheet or its
    number in a CSV file."""
    if headers and index < len(headers) and headers[index].strip():
        return f"column '{headers[index].strip()}'"
    if sheet is None:
        return f"column {index + 1}"
    return f"column {column_letters(index + 1)}"


#: How much of a CSV file the delimiter is guessed from.
_SNIFF_CHARS = 64 * 1024


def _csv_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    encoding = _encoding(path)
    with path.open(encoding=encoding, newline="") as file:
        delimiter = sniff_delimiter(file.read(_SNIFF_CHARS))
    with path.open(encoding=encoding, newline="") as file:
        reader = csv.reader(file, delimiter=delimiter, strict=True)
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


def _xlsx_rows(path: Path, sheet: str) -> Iterator[tuple[int, list[str]]]:
    from python_calamine import CalamineError, CalamineWorkbook

    workbook = _open_workbook(path)
    if sheet not in workbook.sheet_names:
        raise FileRefused(f"{path.name}: there is no sheet '{sheet}'.")
    assert isinstance(workbook, CalamineWorkbook)
    try:
        for number, row in enumerate(workbook.get_sheet_by_name(sheet).iter_rows(), 1):
            yield number, [cell_text(c) for c in row]
    except CalamineError as exc:
        raise FileRefused(
            f"{_where(path, sheet)}: the sheet cannot be read ({exc}). Nothing was imported."
        ) from None


def _open_workbook(path: Path) -> Any:
    from python_calamine import CalamineWorkbook

    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several types for unreadable files
        raise FileRefused(f"{path.name}: not a readable spreadsheet ({exc}).") from None


def is_spreadsheet(path: Path) -> bool:
    return path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods")


def _raw_rows(
    path: Path, sheet: str | None, headers: list[str] | None = None
) -> Iterator[tuple[int, list[str]]]:
    """Every row of the file or sheet; given the ``headers``, refused at the first field
    longer than a field may be."""
    rows = _xlsx_rows(path, sheet) if sheet is not None else _csv_rows(path)
    if headers is None:
        return rows
    return (_within_limit(path, sheet, number, cells, headers) for number, cells in rows)


def _within_limit(
    path: Path, sheet: str | None, number: int, cells: list[str], headers: list[str] | None
) -> tuple[int, list[str]]:
    """The row, unless a field is longer than MAX_FIELD_CHARS (named by its header, where
    the row has one)."""
    if cells and max(map(len, cells)) > MAX_FIELD_CHARS:
        index = next(i for i, cell in enumerate(cells) if len(cell) > MAX_FIELD_CHARS)
        raise FileRefused(
            f"{_where(path, sheet)}: row {number}, {_column(index, sheet, headers)}: the "
            f"text is {len(cells[index]):,} characters long, and a field holds at most "
            f"{MAX_FIELD_CHARS:,}. Shorten it and import the file again."
        )
    return number, cells


def _top_rows(path: Path, sheet: str | None) -> tuple[list[int], list[list[str]]]:
    """The numbers and cells of the first rows, where the header is looked for."""
    rows = list(islice(_raw_rows(path, sheet), HEADER_SEARCH_ROWS))
    return [number for number, _ in rows], [cells for _, cells in rows]


def _sheet_with_the_list(
    path: Path, sheets: list[str], fields: tuple[Field, ...]
) -> tuple[str, tuple[list[int], list[list[str]]]]:
    """The first sheet whose top rows name a known field (a workbook often starts with a
    cover or notes sheet), the first sheet when none does; with its top rows, so that the
    sheet is not read again for them."""
    first = None
    for name in sheets:
        top = _top_rows(path, name)
        if names_a_field(top[1], fields):
            return name, top
        first = first or (name, top)
    assert first is not None, "a workbook without sheets is refused before"
    return first


def open_table(path: Path, fields: tuple[Field, ...], sheet: str | None = None) -> SourceTable:
    """Measure ``path``, read its top and find its header row."""
    if not path.is_file():
        raise FileRefused(f"{path}: no such file.")
    _refuse_oversized(path)
    sheets: list[str] = []
    notes: list[str] = []
    top_rows = None
    if is_spreadsheet(path):
        if _inspect_workbook(path):
            notes.append(f"{path.name}: its macros are ignored; only cell values are imported.")
        sheets = list(_open_workbook(path).sheet_names)
        if not sheets:
            raise FileRefused(f"{path.name}: the workbook has no sheets.")
        if not sheet:
            sheet, top_rows = _sheet_with_the_list(path, sheets, fields)
    numbers, top = top_rows or _top_rows(path, sheet)
    where = _where(path, sheet)
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
    for number, cells in zip(numbers, top, strict=True):
        _within_limit(path, sheet, number, cells, headers if number > numbers[index] else None)
    if repeated := repeated_headers(headers):
        columns = repeated[0]
        raise FileRefused(
            f"{where}: row {numbers[index]} names {len(columns)} columns "
            f"'{headers[columns[0]].strip()}' (columns "
            f"{', '.join(_column(i, sheet).removeprefix('column ') for i in columns)}), and "
            "a row would keep one of their values only. Give each column its own name and "
            "import the file again."
        )
    return SourceTable(path, sheet, sheets, numbers[index], headers, top, notes)
