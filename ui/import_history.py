"""Import history: every import batch, who ran it, its counts, and Undo; the possible
duplicates an import kept apart, to merge or keep both."""

from __future__ import annotations

import uuid
from collections.abc import Callable

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
from domain.importing import PossibleDuplicate, review_possible_duplicate, undo_import
from domain.users import Action, User
from domain.values import counted, shown_time
from storage.importing.duplicates import (
    keep_both,
    merge_possible_duplicate,
    possible_duplicates,
    to_review,
)
from storage.importing.importer import BatchInfo, SqlImporter, list_batches
from storage.workspace import Workspace
from ui.messages import Button, ask, plain_label, tell
from ui.settings import keep_geometry
from ui.workers import show_error

HEADERS = [
    "When", "By", "File", "Kind", "Created", "Updated", "Skipped", "Rejected", "To review",
    "Undone",
]  # fmt: skip


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
        self.review = QPushButton("Possible duplicates…")
        self.review.setObjectName("review")
        self.review.setEnabled(False)
        self.review.clicked.connect(self.review_selected)
        self.table.itemSelectionChanged.connect(self._selection)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.review, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.undo, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.batches: list[BatchInfo] = []
        self.reviewable: dict[uuid.UUID, int] = {}
        self.load()

    def load(self) -> None:
        self.batches = list_batches(self.workspace)
        self.reviewable = to_review(self.workspace)
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
                self.reviewable.get(batch.id, 0),
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
        self.review.setEnabled(batch is not None and bool(self.reviewable.get(batch.id)))

    def review_selected(self) -> None:
        batch = self._selected()
        if batch is None:
            return
        dialog = PossibleDuplicatesDialog(
            self.workspace, self.user, batch.id, batch.file_name, self
        )
        dialog.exec()
        if dialog.changed:
            self.changed = True
            self.load()

    def undo_selected(self) -> None:
        batch = self._selected()
        if batch is None:
            return
        if batch.kind == "engagement":
            undone = f"{counted(batch.created, 'engagement')} recorded from it will be removed."
        else:
            undone = (
                f"The {counted(batch.created, 'record')} it created are removed and the "
                f"{batch.updated:,} it changed get their old values back."
            )
        answer = ask(self, "Undo import", f"Undo the import of {batch.file_name}? {undone}")
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


REVIEW_HEADERS = ["Row", "Imported account", "May duplicate"]


class PossibleDuplicatesDialog(QDialog):
    """The accounts an import kept apart because their website matched another account
    whose name and country both differ: merge each pair, or keep both."""

    def __init__(
        self,
        workspace: Workspace,
        user: User,
        batch_id: uuid.UUID,
        file_name: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.workspace, self.user, self.batch_id = workspace, user, batch_id
        self.changed = False
        self.setWindowTitle(f"Possible duplicates from {file_name}")
        keep_geometry(self, QSize(900, 420))
        self.count = plain_label(wrap=True)
        self.count.setObjectName("count")
        self.table = QTableWidget(0, len(REVIEW_HEADERS))
        self.table.setObjectName("pairs")
        self.table.setHorizontalHeaderLabels(REVIEW_HEADERS)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()  # the file's row number is the first column
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.merge = QPushButton("Merge…")
        self.merge.setObjectName("merge")
        self.merge.setToolTip("Merge the imported account into the account it may duplicate")
        self.merge.clicked.connect(self.merge_selected)
        self.keep = QPushButton("Keep both")
        self.keep.setObjectName("keep")
        self.keep.setToolTip("They are two companies: stop listing them here")
        self.keep.clicked.connect(self.keep_selected)
        for button in (self.merge, self.keep):
            button.setEnabled(False)
        self.table.itemSelectionChanged.connect(self._selection)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.merge, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.keep, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.count)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.pairs: list[PossibleDuplicate] = []
        self.load()

    def load(self) -> None:
        self.pairs = possible_duplicates(self.workspace, self.batch_id)
        self.count.setText(
            f"{counted(len(self.pairs), 'imported account')} to review: each has the website "
            "of another account, but neither its name nor its country. Until you decide, "
            "both are kept."
            if self.pairs
            else "Nothing left to review: every possible duplicate of this import is settled."
        )
        self.table.setRowCount(len(self.pairs))
        for row, pair in enumerate(self.pairs):
            cells = [str(pair.row), pair.imported.describe(), pair.stored.describe()]
            for column, value in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(value))
        self._selection()

    def _selected(self) -> PossibleDuplicate | None:
        rows = self.table.selectionModel().selectedRows()
        return self.pairs[rows[0].row()] if rows else None

    def _selection(self) -> None:
        chosen = self._selected() is not None and self.user.can(Action.IMPORT)
        for button in (self.merge, self.keep):
            button.setEnabled(chosen)

    def merge_selected(self) -> None:
        pair = self._selected()
        if pair is None:
            return
        answer = ask(
            self,
            "Merge accounts",
            f"Merge {pair.imported.name} into {pair.stored.name}? Its contacts move to "
            f"{pair.stored.name}, which takes its values for the fields it has empty; "
            f"{pair.imported.name} is then removed.",
        )
        if answer == Button.Yes:
            self._settle(lambda: merge_possible_duplicate(self.workspace, self.user, pair.id))

    def keep_selected(self) -> None:
        pair = self._selected()
        if pair is not None:
            self._settle(lambda: keep_both(self.workspace, self.user, pair.id))

    def _settle(self, settle: Callable[[], str]) -> None:
        try:
            message = review_possible_duplicate(self.user, settle)
        except AccordError as error:
            show_error(self, "Not done", error)
            self.load()
            return
        self.changed = True
        tell(self, "Possible duplicates", message)
        self.load()
