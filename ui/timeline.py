"""An account's timeline in its window: what happened, newest first (storage's read model),
with the whole text of the chosen line below the list. Ctrl+L logs an interaction; an
interaction's line is corrected with "Correct…", which opens the quick log filled in."""

from __future__ import annotations

from uuid import UUID

from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from domain.users import Action, User
from domain.values import shown_time
from storage.read_models.timeline import EntryKind, TimelineEntry, account_timeline
from storage.workspace import Workspace
from ui.messages import plain_label, plain_tooltip
from ui.quick_log import LOG_SHORTCUT, open_quick_log

#: How an entry that a later one corrects is told apart in the list.
CORRECTED = "corrected"
_MUTED = QBrush(QColor("#6b7280"))
#: The most of an entry's text its line shows; the box below the list shows it whole.
_SHOWN = 500


class TimelinePanel(QWidget):
    def __init__(self, workspace: Workspace, user: User, account_id: UUID) -> None:
        super().__init__()
        self.workspace, self.user, self.account_id = workspace, user, account_id
        self.entries: list[TimelineEntry] = []
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("timeline")
        self.table.setHorizontalHeaderLabels(["When", "What", "Who", "Happened"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._chosen)
        self.table.doubleClicked.connect(self.correct)
        self.detail = QPlainTextEdit()
        self.detail.setObjectName("timeline_detail")
        self.detail.setReadOnly(True)
        self.detail.setMaximumHeight(120)
        self.empty = plain_label("Nothing has happened with this account yet.", muted=True)
        may_log = user.can(Action.LOG_INTERACTION)
        self.log_button = QPushButton(f"Log interaction…  ({LOG_SHORTCUT})")
        self.log_button.setEnabled(may_log)
        if not may_log:
            self.log_button.setToolTip(plain_tooltip("The owner and reps log interactions."))
        self.log_button.clicked.connect(self.log)
        self.correct_button = QPushButton("Correct…")
        self.correct_button.setEnabled(False)
        self.correct_button.clicked.connect(self.correct)
        buttons = QHBoxLayout()
        buttons.addWidget(self.log_button)
        buttons.addWidget(self.correct_button)
        buttons.addStretch()
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.detail)

    def load(self) -> None:
        self.entries = account_timeline(self.workspace, self.account_id)
        self.table.setRowCount(len(self.entries))
        for row, entry in enumerate(self.entries):
            what = entry.kind.value.capitalize()
            if entry.corrected:
                what += f" ({CORRECTED})"
            said = " ".join(entry.text[:_SHOWN].split("\n"))  # whole in the box below
            cells = [shown_time(entry.at), what, entry.who, said]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if entry.corrected:
                    item.setForeground(_MUTED)
                    font = QFont(item.font())
                    font.setStrikeOut(column == 3)
                    item.setFont(font)
                if column == 3:
                    item.setToolTip(plain_tooltip(entry.text[:2000]))
                self.table.setItem(row, column, item)
        self.empty.setVisible(not self.entries)
        self._chosen()

    def _current(self) -> TimelineEntry | None:
        rows = self.table.selectionModel().selectedRows()
        return self.entries[rows[0].row()] if rows else None

    def _chosen(self) -> None:
        entry = self._current()
        self.detail.setPlainText(entry.text if entry is not None else "")
        self.correct_button.setEnabled(self._correctable(entry) is not None)

    def _correctable(self, entry: TimelineEntry | None) -> TimelineEntry | None:
        """The entry if it is an interaction that no later entry corrects and this user may
        log (whose entries they may correct is the domain's rule, said when they save)."""
        if (
            entry is None
            or entry.kind is not EntryKind.INTERACTION
            or entry.corrected
            or not self.user.can(Action.LOG_INTERACTION)
        ):
            return None
        return entry

    def log(self) -> None:
        if open_quick_log(self.window(), self.workspace, self.user, self.account_id):
            self.load()

    def correct(self) -> None:
        entry = self._correctable(self._current())
        if entry is None or entry.interaction is None:
            return
        if open_quick_log(self.window(), self.workspace, self.user, self.account_id,
                          entry.interaction):  # fmt: skip
            self.load()
