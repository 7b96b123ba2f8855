"""Tables written as CSV or XLSX: the accounts export and the rejected rows of an import."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from domain.errors import AccordError
from domain.progress import Cancel, Progress
from domain.tables import ColumnKind, Table
from domain.values import protect_cell


class ExportCancelled(AccordError):
    def __init__(self) -> None:
        super().__init__("The export was cancelled; no file was written.")


_REPORT_EVERY = 1000


def write_table(
    table: Table, path: Path, *, progress: Progress | None = None, cancel: Cancel | None = None
) -> int:
    """Write ``table`` to ``path`` (.csv or .xlsx); returns the number of rows written.

    The file appears only when complete: it is written beside the target and renamed.
    """
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise AccordError(f"{path.name}: export to .csv or .xlsx")
    partial = path.with_name(f".{path.name}.partial")
    try:
        writer = _write_csv if suffix == ".csv" else _write_xlsx
        count = writer(table, partial, _Ticker(table.count, progress, cancel))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return count


class _Ticker:
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
        return protect_cell(str(value))
    return str(value)


def _write_csv(table: Table, path: Path, ticker: _Ticker) -> int:
    kinds = [c.kind for c in table.columns]
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([protect_cell(c.label) for c in table.columns])
        for row in ticker.rows(table.rows):
            writer.writerow([_csv_value(v, k) for v, k in zip(row, kinds, strict=True)])
            count += 1
    return count


_NUMBER_FORMATS = {
    ColumnKind.INTEGER: "0",
    ColumnKind.AMOUNT: "#,##0",
    ColumnKind.DATETIME: "yyyy-mm-dd hh:mm",
}


def _write_xlsx(table: Table, path: Path, ticker: _Ticker) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(table.title))
    widths = [max(10, min(40, len(c.label) + 2)) for c in table.columns]
    for index, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)

    def cell(value: Any, kind: ColumnKind) -> WriteOnlyCell:
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.replace(tzinfo=None)  # Excel has no time zones; values are UTC
        result = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            result.data_type = "s"  # text, even when it starts with "="
        elif kind in _NUMBER_FORMATS and value is not None:
            result.number_format = _NUMBER_FORMATS[kind]
        return result

    header = []
    for column in table.columns:
        head = cell(column.label, ColumnKind.TEXT)
        head.font = bold
        header.append(head)
    sheet.append(header)
    kinds = [c.kind for c in table.columns]
    count = 0
    try:
        for row in ticker.rows(table.rows):
            sheet.append([cell(v, k) for v, k in zip(row, kinds, strict=True)])
            count += 1
    except BaseException:
        sheet.close()  # finish openpyxl's temporary file so it can be removed
        sheet._writer.cleanup()
        raise
    last = get_column_letter(max(1, len(table.columns)))
    sheet.auto_filter.ref = f"A1:{last}{count + 1}"
    workbook.save(path)
    return count


def _sheet_title(title: str) -> str:
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in title).strip("'")
    return cleaned[:31] or "Sheet"
