"""Breaches of the service agreement (Plan › Breaches…): each line what went wrong and what
to do; an account's line opens the account."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from domain.errors import AccordError
from domain.periods import Month, Period
from domain.report import Scope
from domain.users import Role, User
from domain.values import counted
from storage.agreements import current_calendar
from storage.read_models.sla_compliance import Breach, breaches
from storage.repositories import SqlUnitOfWork
from storage.workspace import Workspace
from ui.account_dialog import AccountDialog
from ui.messages import plain_label, plain_tooltip
from ui.settings import keep_geometry
from ui.workers import show_error

COLUMNS = ("Breach", "Account or month", "Rep", "Day", "What happened", "What to do")
#: The periods to choose from: so many months up to this one.
SPANS = ((1, "This month"), (3, "The last 3 months"), (6, "The last 6 months"),
         (12, "The last 12 months"))  # fmt: skip


class BreachesDialog(QDialog):
    """The period's breaches, the black hole first. A rep sees their own."""

    def __init__(self, workspace: Workspace, user: User, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace, self.user = workspace, user
        self.setWindowTitle("Breaches of the service agreement")
        self.span = QComboBox()
        for months, label in SPANS:
            self.span.addItem(label, months)
        self.span.setCurrentIndex(1)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        for column, width in enumerate((140, 220, 110, 90, 360)):
            self.table.setColumnWidth(column, width)
        self.table.activated.connect(self.open_line)
        self.shown = plain_label(muted=True)
        top = QHBoxLayout()
        top.addWidget(plain_label("Period"))
        top.addWidget(self.span)
        top.addStretch()
        top.addWidget(self.shown)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table)
        layout.addWidget(plain_label("Enter or a double click opens the account.", muted=True))
        layout.addWidget(buttons)
        self.span.currentIndexChanged.connect(self.refresh)
        keep_geometry(self, QSize(1180, 600))
        self.refresh()

    def scope(self) -> Scope:
        now = datetime.now(UTC)
        with self.workspace.read() as conn:
            calendar = current_calendar(conn)
        this = Month.of(calendar.local_day(now))
        period = Period(this.plus(1 - self.span.currentData()), this)
        return Scope(period, calendar, now, self.user.name if self.user.role is Role.REP else None)

    def refresh(self) -> None:
        try:
            with self.workspace.read() as conn:
                found = breaches(conn, self.scope())
        except AccordError as error:
            show_error(self, "Breaches not read", error)
            found = []
        self.table.setRowCount(0)
        for breach in found:
            self._add(breach)
        self.table.resizeRowsToContents()
        self.shown.setText(counted(len(found), "breach", "breaches") if found else
                           "No breach of the agreement in this period.")  # fmt: skip

    def _add(self, breach: Breach) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        cells = (breach.kind.value, breach.what, breach.rep, breach.when.isoformat(),
                 breach.detail, breach.to_do)  # fmt: skip
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(plain_tooltip(text) if column >= 4 else "")
            item.setData(Qt.ItemDataRole.UserRole, breach.account_id)
            self.table.setItem(row, column, item)

    def open_line(self) -> None:
        """Open the account of the current line (a month's line has none)."""
        item = self.table.item(self.table.currentRow(), 0)
        account_id = item.data(Qt.ItemDataRole.UserRole) if item else None
        if account_id is None:
            return
        with SqlUnitOfWork.reading(self.workspace) as uow:
            account = uow.accounts.get(account_id)
        if account is None:
            show_error(self, "Not found", AccordError("This account was deleted meanwhile."))
            return
        AccountDialog(self.workspace, self.user, account, self).exec()
