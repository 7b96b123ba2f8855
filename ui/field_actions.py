"""The Targets menu's field rules: correcting an account's stage by hand, and exceptions to
the target list.

The owner and marketing correct a listed account's stage with a reason, kept in its stage
history. An exception is the leave they give one rep to log against one account that is
not on the list; the list shows who may log where, why, who granted it and when (the
revoked ones on request), and they grant and revoke from it."""

from __future__ import annotations

import uuid
from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from domain.accounts import Account
from domain.errors import AccordError
from domain.interactions import (
    LogException,
    StageChange,
    correct_stage,
    grant_exception,
    revoke_exception,
)
from domain.targets import Stage
from domain.users import Action, User
from domain.values import clean_text, shown_time
from storage.interactions import exceptions
from storage.read_models.dossier_print import find_account
from storage.repositories import SqlUnitOfWork
from storage.targets import target_entry
from storage.workspace import Workspace
from ui.messages import Button, ask, plain_label, plain_tooltip, tell
from ui.settings import keep_geometry
from ui.target_actions import reps_of
from ui.window_api import WindowApi
from ui.workers import show_error


class FieldActions:
    """Targets › Correct stage… and Exceptions to the target list…, on the window's
    selection."""

    def __init__(self, window: WindowApi) -> None:
        self.window, self.widget = window, window.window()

    def menu(self, menu: Any) -> None:
        add = self.window.add_action
        add(menu, "Correct stage…", self.correct_stage, "Ctrl+Shift+G", Action.CORRECT_STAGE)
        add(menu, "Exceptions to the target list…", self.exceptions, "Ctrl+Shift+X")

    def correct_stage(self) -> None:
        w = self.window
        ids = w.selected_ids()
        if len(ids) != 1:
            tell(self.widget, "Correct stage", "Select one account to correct its stage.")
            return
        with SqlUnitOfWork.reading(w.workspace) as uow:
            account = uow.accounts.get(ids[0])
        entry = target_entry(w.workspace, ids[0])
        if account is None:
            return
        if entry is None:
            tell(self.widget, "Correct stage", f"{account.name} is not on the target list: "
                 "only a listed account has a stage.")  # fmt: skip
            return
        dialog = StageDialog(w.workspace, w.user, account, Stage(entry["stage"]), self.widget)
        if dialog.exec() and dialog.change is not None:
            w.refresh()
            w.statusBar().showMessage(f"{account.name} is now {dialog.change.after}", 8000)

    def exceptions(self) -> None:
        w = self.window
        ids = w.selected_ids()
        with SqlUnitOfWork.reading(w.workspace) as uow:
            account = uow.accounts.get(ids[0]) if ids else None
        ExceptionsDialog(w.workspace, w.user, account.name if account else "", self.widget).exec()


class StageDialog(QDialog):
    """Set a listed account's stage by hand, saying why (kept in its stage history)."""

    def __init__(
        self, workspace: Workspace, user: User, account: Account, stage: Stage,
        parent: QWidget | None = None,
    ) -> None:  # fmt: skip
        super().__init__(parent)
        assert account.id is not None
        self.workspace, self.user, self.account_id = workspace, user, account.id
        self.change: StageChange | None = None
        self.setWindowTitle("Correct stage")
        self.stage = QComboBox()
        for other in Stage:
            if other is not stage:
                self.stage.addItem(other.value, other.value)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Why the stage is corrected (kept in its history)")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Correct stage")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Account:", plain_label(clean_text(account.name)))
        form.addRow("Stage now:", plain_label(stage.value))
        form.addRow("New stage:", self.stage)
        form.addRow("Reason:", self.reason)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        keep_geometry(self, QSize(520, 200))
        self.stage.setFocus(Qt.FocusReason.OtherFocusReason)

    def accept(self) -> None:
        """Correct it; a refusal is said and the form stays as typed."""
        try:
            stage = Stage(self.stage.currentData())
            uow = SqlUnitOfWork(self.workspace)
            self.change = correct_stage(uow, self.user, self.account_id, stage, self.reason.text())
        except AccordError as error:
            show_error(self, "Correct stage", error)
            return
        super().accept()


HEADERS = ["Rep", "Account", "Reason", "Granted by", "Granted", "Revoked by", "Revoked"]
REASON = HEADERS.index("Reason")


class ExceptionsDialog(QDialog):
    """The exceptions in force (and, on request, the revoked ones), newest first."""

    def __init__(
        self, workspace: Workspace, user: User, account: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.workspace, self.user, self.account = workspace, user, account
        self.setWindowTitle("Exceptions to the target list")
        self.lines: list[tuple[LogException, str]] = []
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setObjectName("exceptions")
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.revoked = QCheckBox("Show revoked exceptions")
        self.revoked.toggled.connect(self.refresh)
        self.grant_button = QPushButton("Grant…")
        self.grant_button.clicked.connect(self.grant)
        self.revoke_button = QPushButton("Revoke")
        self.revoke_button.clicked.connect(self.revoke)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        may_grant = user.can(Action.GRANT_EXCEPTION)
        self.grant_button.setVisible(may_grant)
        self.revoke_button.setVisible(may_grant)
        self.empty = plain_label(muted=True)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        below = QHBoxLayout()
        below.addWidget(self.revoked)
        below.addStretch(1)
        below.addWidget(self.grant_button)
        below.addWidget(self.revoke_button)
        below.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(plain_label(
            "A rep logs calls and visits only against accounts on the target list, and "
            "against the accounts below by an exception the owner or marketing granted.",
            wrap=True))  # fmt: skip
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addLayout(below)
        keep_geometry(self, QSize(980, 480))
        self.refresh()

    def refresh(self) -> None:
        with self.workspace.read() as conn:
            listed = exceptions(conn, include_revoked=self.revoked.isChecked())
        self.lines = listed
        self.table.setRowCount(len(listed))
        for row, (exception, account) in enumerate(listed):
            cells = [
                exception.rep, clean_text(account), exception.reason, exception.granted_by,
                shown_time(exception.granted_at), exception.revoked_by or "",
                shown_time(exception.revoked_at) if exception.revoked_at else "",
            ]  # fmt: skip
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(plain_tooltip(text))
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(REASON, QHeaderView.ResizeMode.Stretch)
        for column in (len(HEADERS) - 2, len(HEADERS) - 1):  # who revoked it, and when
            self.table.setColumnHidden(column, not self.revoked.isChecked())
        self.empty.setText("" if listed else "No exception to the target list is in force."
                           if not self.revoked.isChecked()
                           else "No exception to the target list was ever granted.")  # fmt: skip
        self.empty.setVisible(not listed)
        self._selection_changed()

    def selected(self) -> tuple[LogException, str] | None:
        """The selected exception and its account's name."""
        rows = self.table.selectionModel().selectedRows()
        return self.lines[rows[0].row()] if rows else None

    def _selection_changed(self) -> None:
        chosen = self.selected()
        self.revoke_button.setEnabled(chosen is not None and chosen[0].revoked_at is None)

    def grant(self) -> None:
        if GrantDialog(self.workspace, self.user, self.account, self).exec():
            self.refresh()

    def revoke(self) -> None:
        chosen = self.selected()
        if chosen is None or chosen[0].revoked_at is not None:
            return
        exception, account = chosen
        question = (f"Revoke {exception.rep}'s exception for {account}? {exception.rep} will no "
                    "longer log calls and visits against it; what was logged stays.")  # fmt: skip
        if ask(self, "Revoke exception", question) != Button.Yes:
            return
        try:
            revoke_exception(SqlUnitOfWork(self.workspace), self.user, exception.id)
        except AccordError as error:
            show_error(self, "Revoke exception", error)
        self.refresh()


class GrantDialog(QDialog):
    """Grant a rep an exception: the rep, the account (its name, website or id) and why."""

    def __init__(
        self, workspace: Workspace, user: User, account: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.workspace, self.user = workspace, user
        self.granted: LogException | None = None
        self.setWindowTitle("Grant an exception to the target list")
        self.rep = QComboBox()
        for rep in reps_of(workspace):
            self.rep.addItem(rep.name)
        self.account = QLineEdit(account)
        self.account.setPlaceholderText("Its name, website or id")
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Why this rep may log against it (kept with it)")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Grant")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Rep:", self.rep)
        form.addRow("Account:", self.account)
        form.addRow("Reason:", self.reason)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        keep_geometry(self, QSize(520, 180))
        (self.reason if account else self.account).setFocus(Qt.FocusReason.OtherFocusReason)

    def accept(self) -> None:
        """Grant it; a refusal is said and the form stays as typed."""
        try:
            account_id: uuid.UUID = find_account(self.workspace, self.account.text())
            self.granted = grant_exception(SqlUnitOfWork(self.workspace), self.user,
                                           self.rep.currentText(), account_id,
                                           self.reason.text())  # fmt: skip
        except AccordError as error:
            show_error(self, "Grant an exception", error)
            return
        super().accept()
