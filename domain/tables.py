"""Tables as plain data: what storage reads for an export and reports write to a file."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from domain.values import shown_time


class ColumnKind(enum.Enum):
    TEXT = "text"
    INTEGER = "integer"
    AMOUNT = "amount"
    #: A share 0-1, written as a percentage.
    SHARE = "share"
    #: A number with a decimal: days, a lead-quality rating.
    DECIMAL = "decimal"
    DATETIME = "datetime"
    DATE = "date"
    #: A cell of an imported CSV file as the file had it: a CSV writes it unchanged (an
    #: apostrophe it had stays, none is added), a workbook the text it means.
    CSV_CELL = "csv cell"


@dataclass(frozen=True)
class TableColumn:
    label: str
    kind: ColumnKind = ColumnKind.TEXT


@dataclass
class TableData:
    """A read model to write: a title (the XLSX sheet name), columns and rows of plain values.

    ``rows`` may be a lazy iterable (a streaming query); ``count`` is how many it will yield,
    when known, for progress.
    """

    title: str
    columns: Sequence[TableColumn]
    rows: Iterable[Sequence[Any]]
    count: int | None = None


def shown_cell(value: Any, kind: ColumnKind) -> str:
    """A cell as a report prints it and a window shows it (before escaping): numbers with
    thousands, shares as percentages, times on this computer's clock, "–" for none."""
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return shown_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if kind is ColumnKind.SHARE:
            return f"{value:.0%}"
        if kind is ColumnKind.DECIMAL:
            return f"{value:,.1f}"
        return f"{value:,.0f}" if kind is ColumnKind.AMOUNT else f"{value:,}"
    return str(value)
