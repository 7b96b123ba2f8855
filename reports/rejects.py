"""The rejected rows of an import as a table to fix and import again."""

from __future__ import annotations

from domain.importing import ImportSummary
from domain.tables import ColumnKind, TableColumn, TableData


def rejects_table(summary: ImportSummary) -> TableData:
    """The file's own columns first, each cell as the file had it (so the fixed file
    re-imports as the first would have), then where and why."""
    width = len(summary.headers)
    reasons = {e.row: e for e in summary.errors}
    rows = []
    for cells in summary.rejected_cells:
        number = int(cells[0])
        error = reasons[number]
        original = (cells[1:] + [""] * width)[:width]
        rows.append([*original, number, error.column, error.reason])
    kind = ColumnKind.CSV_CELL if summary.from_csv else ColumnKind.TEXT
    columns = [TableColumn(h, kind) for h in summary.headers]
    columns += [
        TableColumn("Accord row", ColumnKind.INTEGER),
        TableColumn("Accord column"),
        TableColumn("Accord error"),
    ]
    return TableData("Rejected rows", columns, rows, len(rows))
