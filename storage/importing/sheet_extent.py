"""How far the sheets of a workbook reach, and how many texts it declares, read from the
raw markup of its parts before a spreadsheet reader sees them.

Calamine, the XLSX reader, builds a sheet as a dense range from its first row to its last
cell, empty cells included, and reserves its shared-strings table at the count the file
declares; a failed allocation aborts the process, which no Python code can catch, so a
4 KB workbook with cells at A1 and XFD1048576 kills Accord. Both are measured here first.

A sheet part is streamed a chunk at a time. The usual markup (``<c r="B7"`` and
``<row r="7"``, as Excel, LibreOffice and openpyxl write it) is measured by counting
bytes and collecting cell references with one regular expression; a part written any other
way (a cell without a reference, prefixed names, other quoting, two references in a cell)
is read again tag by tag, placing each cell where calamine places it.
"""

from __future__ import annotations

import functools
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO
from xml.etree import ElementTree

CHUNK = 1 << 20

#: The references of cells and rows written the usual way (`` r="B7"``, `` r="7"``).
_REFERENCES = re.compile(rb' r="([^"<]*)"')
#: Every cell tag written without a namespace prefix.
_CELL_TAG = re.compile(rb"<c[\s/>]")
#: A cell or row tag with a namespace prefix (``<x:c``).
_PREFIXED = re.compile(rb":(?:c|row)[\s/>]")
#: An ``r`` attribute written other than `` r="``: after a tab, a line break or a quote,
#: or with other quotes; and an attribute's name and ``=`` with spaces between.
_OTHER_R = re.compile(rb"r=(?:(?<=[\t\n\r\f\"']r=)|(?<= r=)(?!\"))")
_SPACED_EQUALS = re.compile(rb"r[ \t\n\r\f]+=")
#: A row or cell tag as an XML reader reads it: quoted values may hold ``>``.
_TAG = re.compile(rb"<(/?)(?:[^\s<>/:=\"']+:)?(row|c)(?=[\s/>])((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
#: The start of a row or cell tag, to carry over a chunk's end.
_TAG_START = re.compile(rb"<(?:[^\s<>/:=\"']+:)?(?:row|c)[\s/>]")
#: An ``r`` attribute's value, however it is quoted and spaced.
_R_VALUE = re.compile(rb"(?:^|[\s\"'])r\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_REFERENCE = re.compile(rb"([A-Za-z]*)([0-9]*)")
#: The longest column letters and row number that fit calamine's 32 bits; a longer one is
#: taken to be as far as a cell can be.
_LONGEST_LETTERS, _LONGEST_NUMBER, _FAR = 6, 9, 2**32
#: The shared-strings table's start tag, and the count of texts it declares.
_SST = re.compile(rb"<(?:[^\s<>/:=\"']+:)?sst[\s/>]((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_UNIQUE_COUNT = re.compile(rb"(?:^|\s)uniqueCount\s*=\s*[\"']\s*\+?([0-9]+)")
#: The fewest bytes one text of the table takes: ``<si><t/></si>``.
SHARED_TEXT_BYTES = len(b"<si><t/></si>")


@dataclass(frozen=True)
class Extent:
    """A sheet from A1 to its last row and column: what calamine holds and Accord walks."""

    rows: int
    columns: int

    @property
    def cells(self) -> int:
        return self.rows * self.columns

    @property
    def corner(self) -> str:
        return f"{column_letters(self.columns)}{self.rows}"


def column_letters(number: int) -> str:
    """The letters of column ``number`` (1 → A, 28 → AB)."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _position(reference: bytes) -> tuple[int, int] | None:
    """(column, row) of a reference such as ``AB12`` (a row's ``12`` has column 0); None
    for what calamine refuses to read."""
    match = _REFERENCE.fullmatch(reference)
    if match is None or not match[2].strip(b"0"):
        return None
    if len(match[1]) > _LONGEST_LETTERS or len(match[2]) > _LONGEST_NUMBER:
        return _FAR, _FAR  # calamine's 32 bits overflow: it could be anywhere
    column = 0
    for letter in match[1].upper():
        column = column * 26 + letter - ord("A") + 1
    return column, int(match[2])


class _Unusual(Exception):
    """The part is not written the usual way: read it tag by tag."""


class TagTooLong(Exception):
    """A row or cell tag runs over CHUNK bytes: no spreadsheet program writes one."""


def _chunks(stream: IO[bytes], cut: Callable[[bytes], int | None]) -> Iterator[bytes]:
    """The part in pieces of about CHUNK bytes, each cut where ``cut`` says (the rest goes
    to the next piece, so that no tag is cut in two)."""
    carry = b""
    while chunk := stream.read(CHUNK):
        data = carry + chunk
        at = cut(data)
        carry = b"" if at is None else data[at:]
        yield data if at is None else data[:at]
    if carry:
        yield carry


def _before_last_tag(data: bytes) -> int | None:
    """Where the last tag starts, unless what follows it is longer than a chunk (a long
    text: the counts below notice a tag cut in two)."""
    at = data.rfind(b"<")
    return at if at >= 0 and len(data) - at <= CHUNK else None


def _before_open_tag(data: bytes) -> int | None:
    """Where the last row or cell tag starts, if it is not closed yet."""
    at = data.rfind(b"<")
    while at >= 0 and not _TAG_START.match(data, at):
        at = data.rfind(b"<", 0, at)
    if at < 0 or _TAG.match(data, at):
        return None
    if len(data) - at > CHUNK:
        raise TagTooLong
    return at


def _usual_extent(stream: IO[bytes], limit: int) -> Extent:
    """The extent of every reference, empty cells included (an upper bound), for a part
    whose every cell is written ``<c r="…"``; raises _Unusual for any other."""
    rows = columns = reach = 0
    within: re.Pattern[bytes] | None = None
    for data in _chunks(stream, _before_last_tag):
        cells = data.count(b'<c r="')
        if (
            (data.count(b"<c") != cells and len(_CELL_TAG.findall(data)) != cells)
            or (data.count(b"r=") != data.count(b' r="') and _OTHER_R.search(data))
            or _SPACED_EQUALS.search(data)
            or _PREFIXED.search(data)
        ):
            raise _Unusual
        if within is not None and not within.search(data):
            reach = max(reach, 10 ** len(str(rows)) - 1)
            continue
        references = _REFERENCES.findall(data)
        if not references:
            continue
        joined = b" ".join(references)
        for letters in set(joined.translate(None, b"0123456789").split()):
            position = _position(letters + b"1")
            if position is None:
                raise _Unusual
            columns = max(columns, position[0])
        numbers = set(joined.translate(None, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ").split())
        if (
            not all(map(bytes.isdigit, numbers))
            or max(map(len, numbers), default=0) > _LONGEST_NUMBER
        ):
            raise _Unusual
        rows = max(rows, max(map(int, numbers), default=0))
        if rows * columns > limit:
            raise _Unusual  # empty cells may make it look bigger: count them out
        within = _beyond(columns, rows, limit)
    return Extent(max(rows, reach), columns)


def _beyond(columns: int, rows: int, limit: int) -> re.Pattern[bytes] | None:
    """A search for a reference past column ``columns`` or with more digits than ``rows``:
    a chunk it finds nothing in needs no closer look, while the span those bounds allow
    (``rows`` rounded up to 9s) is within ``limit``. For sheets of up to 26 columns."""
    digits = len(str(rows))
    if not 0 < columns <= 26 or columns * (10**digits - 1) > limit:
        return None
    return _bounded(columns, digits)


@functools.cache
def _bounded(columns: int, digits: int) -> re.Pattern[bytes]:
    last = column_letters(columns).encode()
    return re.compile(rb' r="(?![A-%b]?[1-9][0-9]{0,%d}")' % (last, digits - 1))


def _exact_extent(stream: IO[bytes], limit: int) -> Extent:
    """The extent of the cells that hold something, each placed as calamine places it: by
    its reference, else after the cell before it (a row without a number follows the one
    before it). Stops as soon as the extent passes ``limit``."""
    rows = columns = 0
    row, column = 1, 1  # where a cell without a reference goes
    for data in _chunks(stream, _before_open_tag):
        for closing, name, attributes in _TAG.findall(data):
            if closing:
                if name == b"row":
                    row, column = row + 1, 1
                continue
            places = [p for v in _R_VALUE.findall(attributes) if (p := _position(b"".join(v)))]
            empty = attributes.rstrip().endswith(b"/")
            if name == b"row":
                row = max((number for _, number in places), default=row)
                if empty:
                    row, column = row + 1, 1
                continue
            places = [p for p in places if p[0]] or [(column, row)]
            column = max(c for c, _ in places) + 1
            if not empty:
                columns = max(columns, *(c for c, _ in places))
                rows = max(rows, *(r for _, r in places))
                if rows * columns > limit:
                    return Extent(rows, columns)
    return Extent(rows, columns)


def sheet_extent(archive: zipfile.ZipFile, part: zipfile.ZipInfo, limit: int) -> Extent:
    """How far the cells of ``part`` reach; exact (empty cells aside) whenever the quick
    count passes ``limit``."""
    try:
        with archive.open(part) as stream:
            return _usual_extent(stream, limit)
    except _Unusual:
        with archive.open(part) as stream:
            return _exact_extent(stream, limit)


def declared_texts(archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> int | None:
    """The count of texts a shared-strings part declares (``uniqueCount``), if it does."""
    with archive.open(part) as stream:
        for data in _chunks(stream, _before_last_tag):
            if found := _SST.search(data):
                count = _UNIQUE_COUNT.search(found[1])
                return int(count[1]) if count else None
    return None


def sheet_names(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name by the name of its part (lower case), as the workbook's relationships
    give them; best effort, for messages (a part it cannot name is named as a part)."""
    try:
        names = {n.lower().replace("\\", "/"): n for n in archive.namelist()}

        def read(path: str) -> ElementTree.Element:
            return ElementTree.fromstring(archive.read(names[path.lower()]))

        def relationships(rels: str) -> Iterator[tuple[str, str, str]]:
            for rel in read(rels):
                yield rel.get("Id", ""), rel.get("Type", ""), rel.get("Target", "")

        document = next(
            t for _, kind, t in relationships("_rels/.rels") if kind.endswith("/officeDocument")
        )
        folder = document[: document.rfind("/") + 1].lstrip("/")
        parts = {i: t for i, _, t in relationships(f"{folder}_rels/workbook.xml.rels")}
        found = {}
        for sheet in read(f"{folder}workbook.xml").iter():
            if sheet.tag.endswith("}sheet"):
                rid = next((v for k, v in sheet.attrib.items() if k.endswith("}id")), "")
                part = parts.get(rid, "")
                path = part[1:] if part.startswith("/") else folder + part
                found[path.lower()] = sheet.get("name", "")
        return found
    except (KeyError, StopIteration, ElementTree.ParseError):
        return {}
