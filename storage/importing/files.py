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
import json
import os
import unicodedata
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from itertools import islice
from pathlib import Path
from typing import Any

from domain.fields import Field
from domain.importing import FileRefused, find_header_row, names_a_field, repeated_headers
from domain.values import NUMBER_SAMPLE_ROWS, counted
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


#: The largest JSON document Accord reads: an agreement, an ICP or territory rules are a few
#: KB, and a document is parsed whole, so its size bounds the memory it takes.
MAX_DOCUMENT_BYTES = 1 * MB
#: How deep a JSON document's lists and objects may nest (Accord's go three or four deep).
MAX_DOCUMENT_DEPTH = 20


def read_document(path: Path) -> object:
    """The JSON document in ``path`` (an agreement, an ICP, territory rules), measured
    before it is parsed: a file over :data:`MAX_DOCUMENT_BYTES`, or nesting deeper than
    :data:`MAX_DOCUMENT_DEPTH`, is refused (FileRefused), as is one that is not JSON."""
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_DOCUMENT_BYTES + 1)  # never more, even if it grows meanwhile
            size = max(len(raw), os.fstat(file.fileno()).st_size)
    except OSError as exc:
        raise FileRefused(f"{path.name} cannot be read ({exc.strerror}).") from None
    if size > MAX_DOCUMENT_BYTES:
        raise FileRefused(
            f"{path.name} is {_size(size)}; an agreement, ICP or territory file is at most "
            f"{_size(MAX_DOCUMENT_BYTES)}, so this is not one."
        )
    try:
        document = json.loads(raw.decode("utf-8-sig"))
    except RecursionError:
        document = _TOO_DEEP
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FileRefused(f"{path.name} is not valid JSON ({exc}).") from None
    if document is _TOO_DEEP or _depth(document) > MAX_DOCUMENT_DEPTH:
        raise FileRefused(
            f"{path.name} nests lists and objects more than {MAX_DOCUMENT_DEPTH} deep; an "
            "agreement, ICP or territory file never does, so this is not one."
        )
    return document


_TOO_DEEP = object()


def _depth(document: object) -> int:
    """How deep ``document``'s lists and objects nest (a number or a text: 0)."""
    deepest, level = 0, [(document, 0)]
    while level:
        value, depth = level.pop()
        deepest = max(deepest, depth)
        if isinstance(value, dict):
            level += [(v, depth + 1) for v in value.values()]
        elif isinstance(value, list):
            level += [(v, depth + 1) for v in value]
    return deepest


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


#: The encodings a person can choose for a CSV file, with the names they know them by; the
#: first ones are what spreadsheet programs and CRMs write.
ENCODINGS = {
    "utf-8-sig": "UTF-8",
    "utf-16": "UTF-16 (Excel's Unicode text)",
    "utf-16-le": "UTF-16 little-endian",
    "utf-16-be": "UTF-16 big-endian",
    "cp1252": "Windows-1252 (Western European)",
    "cp1250": "Windows-1250 (Central European)",
    "cp1251": "Windows-1251 (Cyrillic)",
    "cp1253": "Windows-1253 (Greek)",
    "cp1254": "Windows-1254 (Turkish)",
    "cp1257": "Windows-1257 (Baltic)",
    "iso8859-15": "ISO-8859-15 (Western European)",
    "iso8859-2": "ISO-8859-2 (Central European)",
    "mac-roman": "Mac Roman",
}
#: The delimiters a CSV file may use, by the names people call them.
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
#: How much of a CSV file its encoding is guessed from: enough lines to meet the accented
#: names of a list, bounded so that a big file is not read twice.
_SAMPLE_BYTES = 256 * 1024
#: Characters a text in the right encoding has outside ASCII that are not letters.
_USUAL_SIGNS = frozenset("€£¥©®°±²³µ·×÷§¶«»‹›‘’‚“”„–—…•™¡¿¢¤¦¨ª¬¯´¸¹º¼½¾\xa0")


@dataclass(frozen=True)
class CsvReading:
    """How a CSV file is read: its encoding and delimiter, and whether either was a guess
    that another could have matched as well."""

    encoding: str
    delimiter: str
    unsure: bool = False

    def describe(self, name: str) -> str:
        text = (
            f"{name} is read as {ENCODINGS.get(self.encoding, self.encoding)} text, "
            f"its columns separated by {DELIMITERS.get(self.delimiter, repr(self.delimiter))}s."
        )
        if self.unsure:
            text += (
                " Another encoding fits the file as well: check that the names look right, "
                "and choose the file's encoding if they do not."
            )
        return text


def encoding_name(encoding: str) -> str:
    """The name Accord knows an encoding by (``utf_16_le`` and ``UTF-16LE`` are one)."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise FileRefused(
            f"Accord knows no encoding '{encoding}'; use one of {', '.join(ENCODINGS)}."
        ) from None
    return "utf-8-sig" if name in ("utf-8", "ascii") else name


def _oddities(text: str) -> int:
    """How many characters of ``text`` a person would not write: control characters, signs
    outside ASCII that are neither letters nor usual punctuation, and capitals inside a
    lowercase word (what a file read in the wrong code page shows: "£ódŸ" for "Łódź")."""
    odd = 0
    previous = ""
    for char in text:
        if char < " ":
            odd += char not in "\t\r\n"
        elif char >= "\x80":
            if not char.isalpha():
                odd += char not in _USUAL_SIGNS
            elif char.isupper() and previous.islower():
                odd += 1
            elif previous.isalpha() and _script(char) != _script(previous):
                odd += 1  # "Ѓуdџ", Cyrillic around a Latin letter: "Łódź" in Windows-1251
        previous = char
    return odd


def _script(letter: str) -> str:
    """A letter's script, as the first word of its Unicode name: LATIN, CYRILLIC, GREEK."""
    return unicodedata.name(letter, "").partition(" ")[0]


def _sample(path: Path) -> bytes:
    """The file's first bytes, ended at a line break when the file goes on."""
    with path.open("rb") as file:
        sample = file.read(_SAMPLE_BYTES)
        if not file.read(1):
            return sample
    end = sample.rfind(b"\n") + 1
    if end and sample[end : end + 1] == b"\x00":  # UTF-16 little-endian's line break
        end += 1
    return sample[:end] if end else sample


def detect_encoding(sample: bytes) -> tuple[str, bool]:
    """The encoding ``sample`` is most likely written in, and whether another fits as well.

    A byte order mark decides; else charset-normalizer names the encodings the bytes decode
    in without noise, and of those the one whose text has the fewest characters nobody
    writes wins (charset-normalizer alone takes "Łódź" in Windows-1250 for Windows-1252).
    """
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", False
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", False
    if b"\x00" not in sample:  # UTF-16 without its mark reads as UTF-8 when it is ASCII
        try:
            codecs.getincrementaldecoder("utf-8")().decode(sample)
        except UnicodeDecodeError:
            pass
        else:
            return "utf-8-sig", False  # other bytes than ASCII that read as UTF-8 are UTF-8
    from charset_normalizer import from_bytes

    matches = from_bytes(  # every encoding the bytes decode in: its noise measure drops
        sample,  # a repetitive Windows-1250 list, which the text nobody writes then decides
        cp_isolation=[e for e in ENCODINGS if e != "utf-8-sig"],
        threshold=1.0,
    )
    order = list(ENCODINGS)
    ranked = sorted(  # a match stands for every encoding that gives its text: the first wins
        (
            _oddities(str(m)),
            min(order.index(encoding_name(e)) for e in m.could_be_from_charset
                if encoding_name(e) in order),
            str(m),
        )
        for m in matches
    )  # fmt: skip
    if not ranked:
        return "cp1252", True
    (odd, index, text), *others = ranked
    unsure = odd > 0 or any(other[0] == odd and other[2] != text for other in others)
    return order[index], unsure


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


def cell_text(value: Any, decimal: str = ".") -> str:
    """A spreadsheet value as the text a person sees: 1200.0 → "1200", dates as ISO, a
    fraction with the ``decimal`` separator of the file's number format (1234.5 →
    "1234,5" in German), so that a real number reads back as itself in that format."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value).replace(".", decimal)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ") if value.time() != time() else value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _typed_text(value: Any) -> str:
    """A spreadsheet value if it is text a person typed; "" for a real number, a date or a
    truth value, which are no text in any locale."""
    return value if isinstance(value, str) else ""


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
    #: How a CSV file is read (None for a workbook).
    reading: CsvReading | None = None
    #: A workbook's first NUMBER_SAMPLE_ROWS rows, header included, as the text typed in
    #: them (its real numbers left out): read with the top rows, not again.
    typed_top: list[tuple[int, list[str]]] = field(default_factory=list)
    #: The decimal separator of the file's number format, which a workbook's real numbers
    #: with a fraction are written out with (a CSV file's cells are text as it has them).
    decimal: str = "."

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

    def written_numbers(self, columns: Sequence[int]) -> Iterator[str]:
        """The filled cells of ``columns`` in the first NUMBER_SAMPLE_ROWS data rows as the
        file writes them, to decide its number format from: a workbook's real numbers,
        numbers whatever the locale, are left out."""
        rows: Iterable[tuple[int, list[str]] | BadRow] = self.typed_top
        if self.is_csv:
            rows = islice(self.rows(), NUMBER_SAMPLE_ROWS)
        for row in rows:
            if not isinstance(row, BadRow) and row[0] > self.header_row:
                cells = row[1]
                yield from (cells[i] for i in columns if i < len(cells) and cells[i].strip())

    def rows(self) -> Iterator[tuple[int, list[str]] | BadRow]:
        """Data rows after the header: (row number, cells), or a BadRow for a row with the
        wrong number of fields; refused at the first field longer than a field may be.
        Blank rows are skipped."""
        width, path, sheet, headers = len(self.headers), self.path, self.sheet, self.headers
        for number, cells in _raw_rows(path, sheet, self.reading, self.decimal):
            if number <= self.header_row:
                continue
            if cells and max(map(len, cells)) > MAX_FIELD_CHARS:
                _within_limit(path, sheet, number, cells, headers)
            # Most rows have the header's width and a filled cell: kept as they are.
            if len(cells) == width and (cells[0].strip() or "".join(cells).strip()):
                yield number, cells
                continue
            if not "".join(cells).strip():
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


def csv_reading(
    path: Path, encoding: str | None = None, delimiter: str | None = None
) -> CsvReading:
    """How to read the CSV file at ``path``: the ``encoding`` and ``delimiter`` given, else
    each guessed from the file's first lines."""
    sample = _sample(path)
    unsure = False
    if encoding:
        encoding = encoding_name(encoding)
    else:
        encoding, unsure = detect_encoding(sample)
    if not delimiter:
        delimiter = sniff_delimiter(sample.decode(encoding, errors="replace"))
    elif delimiter not in DELIMITERS:
        delimiter = next((d for d, name in DELIMITERS.items() if name == delimiter), delimiter)
        if len(delimiter) != 1:
            raise FileRefused(
                f"'{delimiter}' cannot separate columns: name one character, or one of "
                f"{', '.join(DELIMITERS.values())}."
            )
    return CsvReading(encoding, delimiter, unsure)


def _undecodable_line(path: Path, encoding: str) -> int:
    """The line where ``path`` stops being ``encoding`` text (the text reader only tells
    the block of bytes it was decoding)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    line = 1
    with path.open("rb") as file:
        while chunk := file.read(_SAMPLE_BYTES):
            try:
                line += decoder.decode(chunk).count("\n")
            except UnicodeDecodeError as exc:
                good = bytes(exc.object[: exc.start])
                return line + good.decode(encoding, errors="replace").count("\n")
    return line


def _csv_rows(path: Path, reading: CsvReading) -> Iterator[tuple[int, list[str]]]:
    with path.open(encoding=reading.encoding, newline="") as file:
        reader = csv.reader(file, delimiter=reading.delimiter, strict=True)
        start = 1
        try:
            for row in reader:
                yield start, row
                start = reader.line_num + 1
        except csv.Error as exc:
            raise FileRefused(
                f"{path.name}: line {start}: the file cannot be read as CSV ({exc}); "
                "a quote opened here is probably never closed. Nothing was imported."
            ) from None
        except UnicodeDecodeError:
            raise FileRefused(
                f"{path.name}: line {_undecodable_line(path, reading.encoding)} is not "
                f"{ENCODINGS.get(reading.encoding, reading.encoding)} text, the encoding "
                "the lines before it were read in. Choose the file's encoding and import "
                "it again. Nothing was imported."
            ) from None


def _xlsx_rows(path: Path, sheet: str) -> Iterator[tuple[int, list[Any]]]:
    """The values of every row of a workbook's sheet."""
    from python_calamine import CalamineError, CalamineWorkbook

    workbook = _open_workbook(path)
    if sheet not in workbook.sheet_names:
        raise FileRefused(f"{path.name}: there is no sheet '{sheet}'.")
    assert isinstance(workbook, CalamineWorkbook)
    try:
        yield from enumerate(workbook.get_sheet_by_name(sheet).iter_rows(), 1)
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
    path: Path, sheet: str | None, reading: CsvReading | None, decimal: str = "."
) -> Iterator[tuple[int, list[str]]]:
    """Every row of the sheet (its fractions written with ``decimal``), or of the CSV file
    read as ``reading`` says."""
    if sheet is not None:
        return (
            (number, [cell_text(value, decimal) for value in values])
            for number, values in _xlsx_rows(path, sheet)
        )
    assert reading is not None, "a CSV file is read in an encoding"
    return _csv_rows(path, reading)


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


@dataclass(frozen=True)
class _Top:
    """The first rows of a sheet or a CSV file: their numbers and cells, where the header
    is looked for; and a workbook's first NUMBER_SAMPLE_ROWS rows as typed text, which its
    number format is decided from (calamine reads a whole sheet for any of its rows)."""

    numbers: list[int]
    cells: list[list[str]]
    typed: list[tuple[int, list[str]]]


def _top_rows(path: Path, sheet: str | None, reading: CsvReading | None = None) -> _Top:
    if sheet is None:
        rows = list(islice(_raw_rows(path, sheet, reading), HEADER_SEARCH_ROWS))
        return _Top([number for number, _ in rows], [cells for _, cells in rows], [])
    values = list(islice(_xlsx_rows(path, sheet), NUMBER_SAMPLE_ROWS))
    return _Top(
        [number for number, _ in values[:HEADER_SEARCH_ROWS]],
        [list(map(cell_text, cells)) for _, cells in values[:HEADER_SEARCH_ROWS]],
        [(number, list(map(_typed_text, cells))) for number, cells in values],
    )


def _sheet_with_the_list(
    path: Path, sheets: list[str], fields: tuple[Field, ...]
) -> tuple[str, _Top]:
    """The first sheet whose top rows name a known field (a workbook often starts with a
    cover or notes sheet), the first sheet when none does; with its top rows, so that the
    sheet is not read again for them."""
    first = None
    for name in sheets:
        top = _top_rows(path, name)
        if names_a_field(top.cells, fields):
            return name, top
        first = first or (name, top)
    assert first is not None, "a workbook without sheets is refused before"
    return first


def open_table(
    path: Path,
    fields: tuple[Field, ...],
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> SourceTable:
    """Measure ``path``, read its top and find its header row; a CSV file in the
    ``encoding`` and with the ``delimiter`` given, else in those its first lines show."""
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
    reading = None if sheet else csv_reading(path, encoding, delimiter)
    if reading:
        notes.append(reading.describe(path.name))
    first = top_rows or _top_rows(path, sheet, reading)
    numbers, top = first.numbers, first.cells
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
    return SourceTable(
        path, sheet, sheets, numbers[index], headers, top, notes, reading, first.typed
    )
