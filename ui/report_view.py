"""Report data on screen: a ``TableData`` as a table model, and report sections (headings,
sentences and tables) one under the other, as the Plan window and the dashboard's rows
windows show them. User text is plain text throughout."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QVBoxLayout, QWidget

from domain.report import Section
from domain.tables import ColumnKind, TableData, shown_cell
from ui.messages import plain_label

Index = QModelIndex | QPersistentModelIndex
_NUMBERS = (ColumnKind.INTEGER, ColumnKind.AMOUNT, ColumnKind.SHARE, ColumnKind.DECIMAL)


class TableDataModel(QAbstractTableModel):
    """The rows of a ``TableData`` already read (a table's rows may be a lazy query: the
    caller reads them inside its transaction and passes them here)."""

    def __init__(
        self, table: TableData, rows: Sequence[Sequence[Any]], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.table, self.rows = table, rows

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.table.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.table.columns[section].label
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        kind = self.table.columns[index.column()].kind
        if role == Qt.ItemDataRole.DisplayRole:
            row = self.rows[index.row()]
            return shown_cell(row[index.column()] if index.column() < len(row) else None, kind)
        if role == Qt.ItemDataRole.TextAlignmentRole and kind in _NUMBERS:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        return None


def table_view(model: TableDataModel, whole: bool = False) -> QTableView:
    """A read-only view of ``model``; ``whole``: as tall as its rows, for a short table set
    among text (the page scrolls, not the table)."""
    view = QTableView()
    view.setModel(model)
    view.setObjectName(model.table.title)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(24)
    header = view.horizontalHeader()
    header.setStretchLastSection(True)
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    if whole:
        view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        height = header.sizeHint().height() + 2 * view.frameWidth()
        height += sum(view.rowHeight(row) for row in range(model.rowCount()))
        view.setFixedHeight(height)
    return view


class SectionsView(QWidget):
    """Report sections one under the other: each title, its sentences, its tables."""

    def __init__(self, sections: Sequence[Section], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        for section in sections:
            title = plain_label(section.title)
            title.setStyleSheet("font-size: 15px; font-weight: 600; margin-top: 10px")
            layout.addWidget(title)
            for note in section.notes:
                layout.addWidget(plain_label(note, wrap=True))
            for table in section.tables:
                rows = [tuple(row) for row in table.rows]
                if rows:
                    layout.addWidget(table_view(TableDataModel(table, rows, self), whole=True))
        layout.addStretch()
