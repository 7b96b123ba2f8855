"""Import history: every import batch, who ran it, its counts, and Undo."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from domain.errors import AccordError
from domain.importing import undo_import
from domain.users import Action, User
from domain.values import shown_time
from storage.importing.importer import BatchInfo, SqlImporter, list_batches
from storage.workspace import Workspace
from ui.messages import Button, ask, tell
from ui.settings import keep_geometry
from ui.workers import show_error

HEADERS = ["When", "By", "File", "Kind", "Created", "Updated", "Skipped", "Rejected", "Undone"]


class ImportHistoryDialog(QDialog):
    def __init__(self, workspace: Workspace, user: User, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace, self.user = workspace, user
        self.changed = False
        self.setWindowTitle("Import history")
        keep_geometry(self, QSize(900, 420))
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setObjectName("batches")
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)  # the file's name
        self.undo = QPushButton("Undo import…")
        self.undo.setObjectName("undo")
        self.undo.setEnabled(False)
        self.undo.clicked.connect(self.undo_selected)
        self.table.itemSelectionChanged.connect(self._selection)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.undo, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.batches: list[BatchInfo] = []
        self.load()

    def load(self) -> None:
        self.batches = list_batches(self.workspace)
        self.table.setRowCount(len(self.batches))
        for row, batch in enumerate(self.batches):
            cells = [
                shown_time(batch.created_at),
                batch.created_by,
                batch.file_name,
                batch.kind,
                batch.created,
                batch.updated,
                batch.skipped,
                batch.rejected,
                f"{shown_time(batch.undone_at)} by {batch.undone_by}" if batch.undone_at else "",
            ]
            for column, value in enumerate(cells):
                item = QTableWidgetItem(str(value))
                if isinstance(value, int):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(row, column, item)
        self._selection()

    def _selected(self) -> BatchInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.batches[rows[0].row()] if rows else None

    def _selection(self) -> None:
        batch = self._selected()
        self.undo.setEnabled(
            batch is not None and batch.undone_at is None and self.user.can(Action.UNDO_IMPORT)
        )

    def undo_selected(self) -> None:
        batch = self._selected()
        if batch is None:
            return
        answer = ask(
            self,
            "Undo import",
            f"Undo the import of {batch.file_name}? The {batch.created:,} records it created "
            f"are removed and the {batch.updated:,} it changed get their old values back.",
        )
        if answer != Button.Yes:
            return
        try:
            message = undo_import(SqlImporter(self.workspace), self.user, batch.id)
        except AccordError as error:
            show_error(self, "Import not undone", error)
            return
        self.changed = True
        tell(self, "Import undone", message)
        self.load()
