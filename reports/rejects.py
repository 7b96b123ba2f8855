"""The rejected rows of an import as a table to fix and import again."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from domain.importing import ImportSummary
from domain.tables import Column, ColumnKind, Table


def rejects_table(summary: ImportSummary) -> Table:
    """The file's own columns first (so the fixed file re-imports), then where and why:
    every rejected row, read as it is written."""
    width = len(summary.headers)

    def rows() -> Iterator[Sequence[Any]]:
        for error, cells in summary.rejected_rows():
            original = (cells[1:] + [""] * width)[:width]
            yield [*original, error.row, error.column, error.reason]

    columns = [Column(h) for h in summary.headers]
    columns += [
        Column("Accord row", ColumnKind.INTEGER),
        Column("Accord column"),
        Column("Accord error"),
    ]
    return Table("Rejected rows", columns, rows(), summary.rejected)
