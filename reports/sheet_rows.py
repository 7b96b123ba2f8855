"""A write-only sheet's rows written as the XML openpyxl writes for them, byte for byte (a
test holds it to openpyxl's own), without a cell object per value.

openpyxl writes a cell by making a cell object, binding its value (a type lookup, a string
check, a date's number format), looking its style up among the workbook's, and opening an
element for it, its value and its text in lxml's incremental writer: about 8 µs a cell,
more than everything else a raw sheet of 20,000 rows costs. Here a row is one string, each
style looked up once per sheet, and the sheet's writer copies it into its file as it comes.

A sheet's file is compressed as it is written (:class:`DeflatedFile`), on a thread of its
own beside the writing of the next rows, and copied into the workbook as it is
(:func:`save_workbook`): compressing the sheets when the workbook was saved took a quarter
of a report workbook's writing.
"""

from __future__ import annotations

import shutil
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zipfile import ZIP64_LIMIT, ZIP_DEFLATED, ZipFile, ZipInfo

from openpyxl.cell import WriteOnlyCell
from openpyxl.compat import safe_string
from openpyxl.styles.numbers import is_date_format
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.writer.excel import ExcelWriter
from openpyxl.xml.constants import SHEET_MAIN_NS
from openpyxl.xml.functions import xmlfile

_NUMBERS = (int, float, Decimal, bool)
#: Integers below this in size show as ``str`` shows them, as openpyxl's ``%.16g`` does.
_EXACT = 10**16
#: How much of a sheet's XML is compressed at a time, and how many such chunks may wait to
#: be (the writing waits beyond that, so that memory stays flat).
DEFLATED_CHUNK, WAITING_CHUNKS = 1 << 20, 8
#: The one thread every sheet's file is compressed on, each chunk after the one before.
_DEFLATING = ThreadPoolExecutor(1, thread_name_prefix="deflate")


class XmlRow(tuple[bytes]):
    """A row written as XML already (:meth:`RowXml.row`): a tuple, as a write-only sheet
    takes a row, of its XML."""


class SheetWriter(WorksheetWriter):
    """openpyxl's writer of write-only sheet ``ws``, into the file ``out`` it opens itself
    (its own opens the file in lxml, out of reach), which also takes a row already written
    (:class:`XmlRow`) and copies it in between the elements lxml writes; ``cells`` makes the
    cells of any other row (``WriteOnlyWorksheet._values_to_row``'s work)."""

    def __init__(
        self, ws: Any, out: str, cells: Callable[[Any, Iterable[Any], int], Iterator[Any]]
    ) -> None:
        super().__init__(ws, out)
        self.cells = cells
        ws._values_to_row = self._values_to_row

    def _values_to_row(self, values: Iterable[Any], row: int) -> Iterable[Any]:
        return values if isinstance(values, XmlRow) else self.cells(self.ws, values, row)

    def get_stream(self) -> Iterator[Any]:
        # openpyxl's WorksheetWriter.get_stream, on a file of its own
        with (
            DeflatedFile(self.out) as self.file,
            xmlfile(self.file) as xf,
            xf.element("worksheet", xmlns=SHEET_MAIN_NS),
        ):
            try:
                while True:
                    element = yield
                    if element is True:
                        yield xf
                    elif element is not None:
                        xf.write(element)
            except GeneratorExit:
                pass

    def write_row(self, xf: Any, row: Any, row_idx: int) -> None:
        if isinstance(row, XmlRow):
            xf.flush()  # what lxml holds goes first
            self.file.write(row[0])
        else:
            super().write_row(xf, row, row_idx)


class DeflatedFile:
    """A sheet's file holding its XML compressed as a workbook's archive holds it (raw
    deflate, as ``zipfile`` compresses it), with the XML's size and CRC: what is written is
    compressed a chunk at a time on the deflating thread, which zlib lets run beside the
    thread that writes (it lets go of Python's lock). Deflate gives the same bytes however
    its input is cut."""

    def __init__(self, path: str) -> None:
        self.file = open(path, "wb")  # noqa: SIM115 (closed by close())
        self.compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
        self.chunk = bytearray()
        self.size = self.crc = 0
        self.sent: deque[Future[None]] = deque()

    def __enter__(self) -> DeflatedFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self, data: bytes) -> None:
        self.chunk += data
        if len(self.chunk) >= DEFLATED_CHUNK:
            self._send(last=False)

    def _send(self, last: bool) -> None:
        chunk = bytes(self.chunk)
        self.chunk.clear()
        self.size += len(chunk)
        self.sent.append(_DEFLATING.submit(self._deflate, chunk, last))
        while len(self.sent) > WAITING_CHUNKS:
            self.sent.popleft().result()

    def _deflate(self, chunk: bytes, last: bool) -> None:
        self.crc = zlib.crc32(chunk, self.crc)
        self.file.write(self.compressor.compress(chunk))
        if last:
            self.file.write(self.compressor.flush())

    def close(self) -> None:
        """Compress what is left and close the file, once every chunk is in it (a chunk's
        error, such as a full disk, is raised here)."""
        if self.file.closed:
            return
        try:
            self._send(last=True)
            while self.sent:
                self.sent.popleft().result()
        finally:
            self.file.close()


class _Archive(ZipFile):
    """The workbook's archive, as openpyxl makes it, which copies a sheet's file
    compressed already (:class:`DeflatedFile`) as it is, where ``zipfile`` would compress
    it: the same member, byte for byte."""

    def __init__(self, path: Path, deflated: dict[str, DeflatedFile]) -> None:
        super().__init__(path, "w", ZIP_DEFLATED, allowZip64=True)
        self.deflated = deflated

    def write(self, filename: Any, arcname: Any = None, compress_type: Any = None,
              compresslevel: Any = None) -> None:  # fmt: skip
        deflated = self.deflated.get(str(filename))
        if deflated is None:
            super().write(filename, arcname, compress_type, compresslevel)
            return
        # ZipFile.write's member (its _open_to_write, then its _ZipWriteFile.close), its
        # header written once with the sizes and CRC it rewrites them with
        member = ZipInfo.from_file(filename, arcname)
        member.compress_type, member.flag_bits = ZIP_DEFLATED, 0
        member.file_size, member.CRC = deflated.size, deflated.crc
        member.compress_size = Path(filename).stat().st_size
        zip64 = member.file_size * 1.05 > ZIP64_LIMIT
        archive: Any = self.fp
        with self._lock:  # type: ignore[attr-defined]
            archive.seek(self.start_dir)
            member.header_offset = archive.tell()
            self._writecheck(member)  # type: ignore[attr-defined]
            self._didModify = True
            archive.write(member.FileHeader(zip64))
            with open(filename, "rb") as src:
                shutil.copyfileobj(src, archive, DEFLATED_CHUNK)
            self.start_dir = archive.tell()
            self.filelist.append(member)
            self.NameToInfo[member.filename] = member


def save_workbook(workbook: Any, path: Path) -> None:
    """Save a write-only workbook to ``path`` as openpyxl's ``Workbook.save`` does, each
    sheet of a :class:`SheetWriter` copied compressed."""
    if not workbook.worksheets:
        workbook.create_sheet()
    deflated = {ws._writer.out: ws._writer.file for ws in workbook.worksheets
                if isinstance(ws._writer, SheetWriter)}  # fmt: skip
    workbook.properties.modified = datetime.now(UTC).replace(tzinfo=None)
    with _Archive(path, deflated) as archive:
        ExcelWriter(workbook, archive).write_data()


class RowXml:
    """The rows of a write-only sheet whose columns show numbers and times in
    ``number_formats`` (None: as they come), as the XML openpyxl writes for those cells."""

    def __init__(self, sheet: Any, number_formats: Sequence[str | None]) -> None:
        self.sheet = sheet
        self.letters = [get_column_letter(n) for n in range(1, len(number_formats) + 1)]
        self.formats = list(number_formats)
        #: A time takes its column's format only when it is a time's: else openpyxl
        #: gives it one of its own, which is left to it.
        self.dated = [f is not None and is_date_format(f) for f in number_formats]
        self.epoch = sheet.parent.epoch
        self.plain_dates = not sheet.parent.iso_dates
        self.styles: dict[tuple[str | None, int], str] = {}
        #: Each column's numbers' style attributes, by their alignment's identity.
        self.columns: list[dict[int, str]] = [{} for _ in number_formats]

    def _style(self, number_format: str | None, alignment: Any) -> str:
        """A cell's style attribute, as openpyxl gives it: the style's number among the
        workbook's (added to them the first time, as openpyxl adds it when it writes the
        first cell in that style), or nothing for no style."""
        key = (number_format, id(alignment))
        attribute = self.styles.get(key)
        if attribute is None:
            cell = WriteOnlyCell(self.sheet)
            if number_format is not None:
                cell.number_format = number_format
            if alignment is not None:
                cell.alignment = alignment
            attribute = f' s="{cell.style_id}"' if cell.has_style else ""
            self.styles[key] = attribute
        return attribute

    def _number_style(self, column: int, alignment: Any) -> str:
        """The style attribute of a number in ``column``, looked up once per alignment."""
        styles = self.columns[column]
        attribute = styles.get(id(alignment))
        if attribute is None:
            attribute = styles[id(alignment)] = self._style(self.formats[column], alignment)
        return attribute

    def row(
        self, number: int, values: Sequence[Any], alignments: Sequence[Any] | None = None
    ) -> XmlRow | None:
        """Row ``number`` of ``values`` as a cell holds each (``reports.tabular._written``:
        text without control characters and cut to what a cell holds, times without a
        zone), each aligned by its ``alignments`` (one of a few the sheet uses, told apart
        by their identity), as openpyxl writes them; None for a row holding a value of
        another kind (openpyxl writes that one)."""
        parts = [f'<row r="{number}">']
        for index, value in enumerate(values):
            if value is None:
                continue
            alignment = None if alignments is None else alignments[index]
            kind = type(value)
            if kind is str or isinstance(value, str):
                text = value if kind is str else str(value)
                style = "" if alignment is None else self._style(None, alignment)
                if not text:
                    parts.append(f'<c r="{self.letters[index]}{number}"{style} t="inlineStr"></c>')
                    continue
                # lxml keeps the spaces around a text that has them
                space = ' xml:space="preserve"' if text[0].isspace() or text[-1].isspace() else ""
                parts.append(
                    f'<c r="{self.letters[index]}{number}"{style} t="inlineStr"><is><t{space}>'
                    f"{_escaped(text)}</t></is></c>"
                )
                continue
            if kind is datetime or kind is date:
                if not (self.dated[index] and self.plain_dates):
                    return None
                shown = f"{to_excel(value, self.epoch):.16g}"  # as safe_string shows a float
                data_type = "n"
            elif kind is int and -_EXACT < value < _EXACT:
                shown, data_type = str(value), "n"  # as safe_string shows it
            elif kind in _NUMBERS:
                shown, data_type = safe_string(value), "b" if kind is bool else "n"
            else:
                return None
            style = self._number_style(index, alignment)
            parts.append(
                f'<c r="{self.letters[index]}{number}"{style} t="{data_type}"><v>{shown}</v></c>'
            )
        parts.append("</row>")
        # lxml writes the file in ASCII, any other character as a reference
        return XmlRow(("".join(parts).encode("ascii", "xmlcharrefreplace"),))


def _escaped(text: str) -> str:
    """Text as lxml writes an element's text."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text
