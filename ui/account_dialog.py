"""Opening an account: its fields, custom fields and contacts, edited with validation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from PySide6.QtCore import QSize
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from domain.accounts import (
    Account,
    Contact,
    add_contact,
    create_account,
    delete_contact,
    update_account,
    update_contact,
)
from domain.errors import AccordError, ConcurrentEditError, ValidationError
from domain.fields import ACCOUNT_FIELDS, CONTACT_FIELDS, Field, Kind
from domain.users import Action, User
from storage.repositories import SqlUnitOfWork
from storage.workspace import Workspace
from ui.fit_panel import FitPanel
from ui.messages import Button, Icon, ask, message_box, plain_label
from ui.quick_log import LOG_SHORTCUT
from ui.settings import keep_geometry
from ui.timeline import TimelinePanel
from ui.workers import show_error


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _may_close(dialog: QDialog, typed: bool, what: str, save: Callable[[], None]) -> bool:
    """Whether a dialog with unsaved typing may close: ask to save it, throw it away, or
    stay. Saving closes the dialog by itself when it succeeds."""
    if not typed:
        return True
    answer = ask(dialog, "Unsaved changes", f"Save your changes to {what}?",
                 Button.Save | Button.Discard | Button.Cancel)  # fmt: skip
    if answer == Button.Save:
        save()
        return False
    return answer == Button.Discard


class FieldForm(QWidget):
    """A form over some fields: a line edit (or a check box) per field, and a red message
    under a field whose value is wrong."""

    def __init__(self, fields: tuple[Field, ...], read_only: bool, parent: QWidget | None = None):
        super().__init__(parent)
        self.fields = fields
        self.inputs: dict[str, QLineEdit | QCheckBox] = {}
        self.problems: dict[str, QLabel] = {}
        layout = QFormLayout(self)
        for field in fields:
            editor: QLineEdit | QCheckBox
            if field.kind is Kind.FLAG:
                editor = QCheckBox()
                editor.setEnabled(not read_only)
            else:
                editor = QLineEdit()
                editor.setReadOnly(read_only)
                editor.setMaxLength(field.max_length)
            editor.setObjectName(field.name)
            problem = plain_label()
            problem.setStyleSheet("color: #b00020")
            problem.hide()
            column = QVBoxLayout()
            column.setSpacing(2)
            column.addWidget(editor)
            column.addWidget(problem)
            layout.addRow(field.label + (" *" if field.required else ""), column)
            self.inputs[field.name] = editor
            self.problems[field.name] = problem

    def load(self, record: Any) -> None:
        for name, editor in self.inputs.items():
            value = getattr(record, name)
            if isinstance(editor, QCheckBox):
                editor.setChecked(bool(value))
            else:
                editor.setText(_text(value))

    def values(self) -> dict[str, Any]:
        return {
            name: editor.isChecked() if isinstance(editor, QCheckBox) else editor.text()
            for name, editor in self.inputs.items()
        }

    def show_problems(self, problems: dict[str, str]) -> None:
        for name, label in self.problems.items():
            label.setText(problems.get(name, ""))
            label.setVisible(name in problems)
        first = next((n for n in self.inputs if n in problems), None)
        if first is not None:
            self.inputs[first].setFocus()


class ContactDialog(QDialog):
    def __init__(
        self,
        workspace: Workspace,
        user: User,
        account_id: UUID,
        contact: Contact | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.workspace, self.user = workspace, user
        self.account_id, self.contact = account_id, contact
        self.setWindowTitle("Edit contact" if contact else "New contact")
        fields = tuple(f for f in CONTACT_FIELDS if f.name != "account")
        self.form = FieldForm(fields, read_only=not user.can(Action.EDIT_ACCOUNTS))
        if contact is not None:
            self.form.load(contact)
        self.shown = self.form.values()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(
            user.can(Action.EDIT_ACCOUNTS)
        )
        layout = QVBoxLayout(self)
        layout.addWidget(self.form)
        layout.addWidget(buttons)
        keep_geometry(self)

    def reject(self) -> None:
        what = self.contact.name if self.contact else "the new contact"
        editable = self.user.can(Action.EDIT_ACCOUNTS)
        if _may_close(self, editable and self.form.values() != self.shown, what, self.save):
            super().reject()

    def save(self) -> None:
        try:
            if self.contact is None:
                add_contact(
                    SqlUnitOfWork(self.workspace), self.user, self.account_id, self.form.values()
                )
            else:
                update_contact(
                    SqlUnitOfWork(self.workspace), self.user, self.contact, self.form.values()
                )
        except ValidationError as error:
            self.form.show_problems(error.problems)
            return
        except AccordError as error:
            show_error(self, "Contact not saved", error)
            return
        self.accept()


class AccountDialog(QDialog):
    """Edit one account (or create one when ``account`` is None) and its contacts."""

    def __init__(
        self,
        workspace: Workspace,
        user: User,
        account: Account | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.workspace, self.user, self.account = workspace, user, account
        #: the account as it was before the save that closed the dialog (for Undo)
        self.saved_from: Account | None = None
        self.can_edit = user.can(Action.EDIT_ACCOUNTS)
        self.setWindowTitle(account.name if account else "New account")
        self.form = FieldForm(ACCOUNT_FIELDS, read_only=not self.can_edit)
        self.custom = QTableWidget(0, 2)
        self.custom.setHorizontalHeaderLabels(["Custom field", "Value"])
        self.custom.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.contacts = QTableWidget(0, 5)
        self.contacts.setHorizontalHeaderLabels(
            ["Name", "Title", "Email", "Phone", "Decision maker"]
        )
        self.contacts.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.contacts.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.contacts.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.contacts.doubleClicked.connect(self.edit_contact)
        self.contacts.setWordWrap(False)
        self.contacts.setMinimumHeight(170)
        self.custom.setMaximumHeight(120)
        if not self.can_edit:
            self.custom.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)

        outer = QVBoxLayout(self)
        if not self.can_edit:
            outer.addWidget(plain_label(f"{user.name} ({user.role}) can read this account but "
                                        "not change it."))  # fmt: skip
        self.tabs = QTabWidget()
        details = QWidget()
        layout = QVBoxLayout(details)
        # Scrolled, so that Save and Cancel stay on a laptop's screen below all the fields.
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(details)
        self.tabs.addTab(scroll, "&Details")
        self.fit = FitPanel(workspace)
        self.timeline: TimelinePanel | None = None
        if account is not None:
            self.tabs.addTab(self.fit, "&Fit and hand-off")
            self.timeline = TimelinePanel(workspace, user, account.id)
            self.tabs.addTab(self.timeline, "T&imeline")
            self.tabs.currentChanged.connect(self._tab_changed)
            if user.can(Action.LOG_INTERACTION):
                QShortcut(QKeySequence(LOG_SHORTCUT), self, self.log_interaction)
        outer.addWidget(self.tabs)
        layout.addWidget(self.form)
        custom_box = QGroupBox("Custom fields")
        custom_layout = QVBoxLayout(custom_box)
        custom_layout.addWidget(self.custom)
        add_custom = QPushButton("Add custom field")
        add_custom.setEnabled(self.can_edit)
        add_custom.clicked.connect(lambda: self.custom.insertRow(self.custom.rowCount()))
        custom_layout.addWidget(add_custom)
        layout.addWidget(custom_box)

        contacts_box = QGroupBox("Contacts (saved as you change them)")
        contacts_layout = QVBoxLayout(contacts_box)
        contacts_layout.addWidget(self.contacts)
        row = QHBoxLayout()
        for label, slot in (
            ("Add contact…", self.add_contact),
            ("Edit…", self.edit_contact),
            ("Remove", self.remove_contact),
        ):
            button = QPushButton(label)
            button.setEnabled(self.can_edit and account is not None)
            button.clicked.connect(slot)
            row.addWidget(button)
        contacts_layout.addLayout(row)
        layout.addWidget(contacts_box)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(self.can_edit)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setShortcut(
            QKeySequence.StandardKey.Save
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        outer.addWidget(self.buttons)
        if account is not None:
            self.form.load(account)
            self._load_custom(account.custom)
            self._load_contacts()
        self.shown = self._typed()
        keep_geometry(self, QSize(760, 680))

    def _typed(self) -> tuple[dict[str, Any], dict[str, str]]:
        return self.form.values(), self._custom_values()

    def reject(self) -> None:
        what = self.account.name if self.account else "the new account"
        if _may_close(self, self.can_edit and self._typed() != self.shown, what, self.save):
            super().reject()

    def _tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.fit and self.account is not None:
            self.fit.load(self.account.id)
        elif self.timeline is not None and self.tabs.widget(index) is self.timeline:
            self.timeline.load()

    def log_interaction(self) -> None:
        """The quick log (Ctrl+L); the timeline shows what was logged."""
        if self.timeline is not None:
            self.tabs.setCurrentWidget(self.timeline)
            self.timeline.log()

    # --- custom fields and contacts ---------------------------------------------------------
    def _load_custom(self, custom: dict[str, str]) -> None:
        self.custom.setRowCount(0)
        for key, value in sorted(custom.items()):
            row = self.custom.rowCount()
            self.custom.insertRow(row)
            self.custom.setItem(row, 0, QTableWidgetItem(key))
            self.custom.setItem(row, 1, QTableWidgetItem(str(value)))

    def _custom_values(self) -> dict[str, str]:
        values = {}
        for row in range(self.custom.rowCount()):
            key, value = self.custom.item(row, 0), self.custom.item(row, 1)
            if key is not None and key.text().strip():
                values[key.text().strip()] = value.text() if value is not None else ""
        return values

    def _load_contacts(self) -> None:
        assert self.account is not None
        with SqlUnitOfWork.reading(self.workspace) as uow:
            self.contact_list = uow.contacts.for_account(self.account.id)
        self.contacts.setRowCount(len(self.contact_list))
        for row, contact in enumerate(self.contact_list):
            cells = [
                contact.name,
                contact.title,
                contact.email,
                contact.phone,
                "yes" if contact.decision_maker else "",
            ]
            for column, value in enumerate(cells):
                self.contacts.setItem(row, column, QTableWidgetItem(_text(value)))

    def _selected_contact(self) -> Contact | None:
        rows = self.contacts.selectionModel().selectedRows()
        return self.contact_list[rows[0].row()] if rows else None

    def add_contact(self) -> None:
        assert self.account is not None
        if ContactDialog(self.workspace, self.user, self.account.id, None, self).exec():
            self._load_contacts()

    def edit_contact(self) -> None:
        contact = self._selected_contact()
        if (
            contact is not None
            and self.account is not None
            and ContactDialog(self.workspace, self.user, self.account.id, contact, self).exec()
        ):
            self._load_contacts()

    def remove_contact(self) -> None:
        contact = self._selected_contact()
        if contact is None:
            return
        if ask(self, "Remove contact", f"Remove {contact.name}?") != Button.Yes:
            return
        try:
            delete_contact(SqlUnitOfWork(self.workspace), self.user, contact)
        except AccordError as error:
            show_error(self, "Contact not removed", error)
        self._load_contacts()

    # --- saving -------------------------------------------------------------------------
    def save(self) -> None:
        values = {**self.form.values(), "custom": self._custom_values()}
        try:
            if self.account is None:
                self.account = create_account(SqlUnitOfWork(self.workspace), self.user, values)
            else:
                self.saved_from = self.account
                self.account = update_account(
                    SqlUnitOfWork(self.workspace), self.user, self.account, values
                )
        except ValidationError as error:
            self.form.show_problems(error.problems)
            return
        except ConcurrentEditError as error:
            self._conflict(error)
            return
        except AccordError as error:
            show_error(self, "Account not saved", error)
            return
        self.accept()

    def _conflict(self, error: ConcurrentEditError) -> None:
        """Someone saved first: keep what was typed on screen, offer to reload theirs."""
        box = message_box(self, Icon.Warning, "Changed by someone else", str(error), Button.Cancel)
        box.setInformativeText(
            "Reload shows their version; your typing is lost only "
            "if you reload. Cancel keeps your text so you can copy it."
        )
        reload = box.addButton("Reload", QMessageBox.ButtonRole.AcceptRole)
        box.exec()
        if box.clickedButton() is reload and self.account is not None:
            with SqlUnitOfWork.reading(self.workspace) as uow:
                fresh = uow.accounts.get(self.account.id)
            if fresh is None:
                show_error(self, "Account deleted", AccordError("Someone deleted this account."))
                super().reject()
                return
            self.account = fresh
            self.form.load(fresh)
            self._load_custom(fresh.custom)
            self._load_contacts()
            self.shown = self._typed()
