"""My day: a rep's call queue, whom to contact next and why, where a rep lands.

Arrows move, Enter opens the account and Ctrl+L logs a call or visit against it: the
main window's Open account and Log interaction… act on the current line. The owner and
marketing pick any rep's queue; the domain checks who may see whose.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QMainWindow,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from domain.errors import AccordError
from domain.queue import (
    QueueEntry,
    call_queue,
    engagement_text,
    fit_text,
    last_touch_text,
    reasons,
    why_now,
)
from domain.users import Action, Role, User, export
from domain.values import counted
from storage.queue import SqlQueue
from storage.workspace import Workspace
from ui.accounts_model import AccountIdRole
from ui.messages import plain_label, plain_tooltip
from ui.workers import Task, run_task, show_error

#: How many accounts of the queue the call pack prints unless the rep says otherwise.
PACK_SIZE = 20
Index = QModelIndex | QPersistentModelIndex


class QueueColumn(enum.IntEnum):
    ACCOUNT = 0
    WHY_NOW = 1
    ENGAGEMENT = 2
    FIT = 3
    PRIORITY = 4
    LAST_TOUCH = 5
    NEXT_STEP = 6


HEADERS = {
    QueueColumn.ACCOUNT: "Account",
    QueueColumn.WHY_NOW: "Why now",
    QueueColumn.ENGAGEMENT: "Engagement",
    QueueColumn.FIT: "Fit",
    QueueColumn.PRIORITY: "Priority",
    QueueColumn.LAST_TOUCH: "Last touch",
    QueueColumn.NEXT_STEP: "Next step",
}


class QueueModel(QAbstractTableModel):
    """The queue's lines, in its order (one rep's open accounts: thousands at most)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entries: list[QueueEntry] = []
        self.now = datetime.now(UTC)
        self.today = self.now.astimezone().date()

    def set_entries(self, entries: list[QueueEntry], now: datetime, today: date) -> None:
        self.beginResetModel()
        self.entries, self.now, self.today = entries, now, today
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.entries)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(QueueColumn)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[QueueColumn(section)]
        if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole:
            return str(section + 1)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        entry = self.entries[index.row()]
        if role == AccountIdRole:
            return entry.account_id
        if role == Qt.ItemDataRole.ToolTipRole:
            return plain_tooltip(reasons(entry, self.now, self.today))
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        column = QueueColumn(index.column())
        if column is QueueColumn.ACCOUNT:
            return entry.account
        if column is QueueColumn.WHY_NOW:
            return why_now(entry, self.now, self.today)
        if column is QueueColumn.ENGAGEMENT:
            return engagement_text(entry)
        if column is QueueColumn.FIT:
            return fit_text(entry)
        if column is QueueColumn.PRIORITY:
            return str(entry.priority)
        if column is QueueColumn.LAST_TOUCH:
            return last_touch_text(entry, self.now)
        return entry.next_step.replace("\n", " ")


class CallQueueView(QWidget):
    """My day: the queue of the user (a rep) or of the rep picked (owner, marketing)."""

    #: The account (its id) the user asked to open: Enter or a double click.
    open_requested = Signal(object)

    def __init__(self, workspace: Workspace, user: User, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace, self.user = workspace, user
        self.task: Task | None = None
        self.model = QueueModel(self)
        title = plain_label("My day")
        title.setStyleSheet("font-size: 18px; font-weight: 600")
        self.rep = QComboBox()
        self.rep.setObjectName("rep")
        self.rep.setToolTip("Whose call queue: the owner and marketing see any rep's")
        self.rep.currentIndexChanged.connect(self.refresh)
        self.count = plain_label("")
        self.count.setObjectName("queue count")
        self.print_button = QPushButton("Print the next…")
        self.print_button.setObjectName("print pack")
        self.print_button.setToolTip(
            "The call pack of the next accounts of this queue: dossiers, and a call sheet "
            "for each account without one"
        )
        self.print_button.clicked.connect(self.print_next)
        self.empty = plain_label("", wrap=True, muted=True)
        self.empty.setObjectName("empty queue")

        self.table = QTableView()
        self.table.setObjectName("queue")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        widths = {
            QueueColumn.ACCOUNT: 230,
            QueueColumn.WHY_NOW: 320,
            QueueColumn.ENGAGEMENT: 210,
            QueueColumn.FIT: 120,
            QueueColumn.PRIORITY: 60,
            QueueColumn.LAST_TOUCH: 100,
        }
        for column, width in widths.items():  # the next step takes the rest
            header.resizeSection(column, width)
        self.table.doubleClicked.connect(lambda _index: self._open())

        top = QHBoxLayout()
        top.addWidget(title)
        top.addSpacing(12)
        top.addWidget(self.rep)
        top.addWidget(self.count, 1)
        top.addWidget(self.print_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 1)
        self.set_workspace(workspace, user)

    def set_workspace(self, workspace: Workspace, user: User) -> None:
        """Show the queue of ``user`` (a rep) or of the first rep in ``workspace``."""
        self.workspace, self.user = workspace, user
        sees_any = user.can(Action.SEE_ANY_QUEUE)
        reps = [user.name] if user.role is Role.REP else []
        if sees_any:
            people = SqlQueue(workspace).users_by_name().values()
            reps = sorted(p.name for p in people if p.role is Role.REP)
        self.rep.blockSignals(True)
        self.rep.clear()
        self.rep.addItems(reps)
        self.rep.blockSignals(False)
        self.rep.setVisible(sees_any)
        self.print_button.setEnabled(user.can(Action.EXPORT))
        self.refresh()

    def current_rep(self) -> str | None:
        return self.rep.currentText() or None

    def refresh(self) -> None:
        """Read the queue again, keeping the current account current (or its row)."""
        current, row = self.current_account_id(), self.table.currentIndex().row()
        rep = self.current_rep()
        now = datetime.now(UTC)
        today = now.astimezone().date()
        entries: list[QueueEntry] = []
        if rep is None:
            self.empty.setText("There is no rep in this workspace yet, so there is no call "
                               "queue to show: add one in Settings › Users and roles.")  # fmt: skip
        else:
            whose = "Your" if rep == self.user.name else f"{rep}'s"
            self.empty.setText(f"{whose} call queue is empty: no open account on the target "
                               "list is theirs yet.")  # fmt: skip
            try:
                entries = call_queue(SqlQueue(self.workspace), self.user, rep, now=now,
                                     today=today)  # fmt: skip
            except AccordError as error:
                self.empty.setText(str(error))
        self.model.set_entries(entries, now, today)
        self.empty.setVisible(not entries)
        self.count.setText(counted(len(entries), "account") if entries else "")
        self.print_button.setEnabled(bool(entries) and self.user.can(Action.EXPORT))
        ids = [e.account_id for e in entries]
        if entries:
            row = ids.index(current) if current in ids else min(max(row, 0), len(ids) - 1)
            self.table.setCurrentIndex(self.model.index(row, 0))

    def current_account_id(self) -> Any:
        index = self.table.currentIndex()
        return index.data(AccountIdRole) if index.isValid() else None

    def _open(self) -> None:
        if (account_id := self.current_account_id()) is not None:
            self.open_requested.emit(account_id)

    # --- the call pack ---------------------------------------------------------------------
    def print_next(self) -> None:
        shown = len(self.model.entries)
        count, ok = QInputDialog.getInt(
            self, "Print the next accounts", f"How many of the {counted(shown, 'account')}:",
            min(PACK_SIZE, shown), 1, shown,
        )  # fmt: skip
        if not ok:
            return
        name, _ = QFileDialog.getSaveFileName(self, "Call pack", "call-pack.pdf", "PDF (*.pdf)")
        if name:
            self.print_to(Path(name), count)

    def print_to(self, path: Path, count: int) -> Task | None:
        """Write the call pack of the next ``count`` accounts of the queue shown, off the GUI
        thread."""
        from reports.output import check_output
        from storage.read_models.dossier_print import printed_pack, queue_pack_job

        rep = self.current_rep()
        entries = self.model.entries[:count]
        try:
            check_output(path)
            job = queue_pack_job(self.workspace, rep or self.user.name, entries)
        except AccordError as error:
            show_error(self, "Call pack", error)
            return None
        workspace, user, now, today = self.workspace, self.user, self.model.now, self.model.today

        def work(progress, cancel):  # type: ignore[no-untyped-def]
            from reports.call_sheet import write_call_pack  # ReportLab loads only to print

            pages = export(user, lambda: printed_pack(workspace, entries, now, today))
            return write_call_pack(pages, path, title=job.title, workspace=workspace.name,
                                   cover_lines=job.cover, count=len(entries),
                                   progress=progress, cancel=cancel)  # fmt: skip

        def done(written: int) -> None:
            window = self.window()
            if isinstance(window, QMainWindow):
                message = f"Wrote the call pack of {counted(written, 'account')} to {path}"
                window.statusBar().showMessage(message, 10_000)

        self.task = run_task(self, "Writing the call pack", work, done)
        return self.task
