"""The rejected rows of an import as a table to fix and import again."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from domain.importing import REJECT_COLUMNS, ImportSummary
from domain.tables import ColumnKind, TableColumn, TableData


def rejects_table(summary: ImportSummary) -> TableData:
    """The file's own columns first, each cell as the file had it (so the fixed file
    re-imports as the first would have), then where and why: every rejected row, read as
    it is written."""
    width = len(summary.headers)

    def rows() -> Iterator[Sequence[Any]]:
        for error, cells in summary.rejected_rows():
            original = (cells[1:] + [""] * width)[:width]
            yield [*original, error.row, error.column, error.reason]

    kind = ColumnKind.CSV_CELL if summary.from_csv else ColumnKind.TEXT
    columns = [TableColumn(h, kind) for h in summary.headers]
    row, column, reason = REJECT_COLUMNS
    columns += [TableColumn(row, ColumnKind.INTEGER), TableColumn(column), TableColumn(reason)]
    return TableData("Rejected rows", columns, rows(), summary.rejected)
