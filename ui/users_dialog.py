"""The people in a workspace and their roles; only the owner changes them."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from domain.errors import AccordError
from domain.users import Action, Role, User, add_user
from storage.users import SqlUserStore, list_users
from storage.workspace import Workspace
from ui.settings import keep_geometry
from ui.workers import show_error


class UsersDialog(QDialog):
    def __init__(self, workspace: Workspace, user: User, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace, self.user = workspace, user
        self.setWindowTitle("Users and roles")
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Name", "Role"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.name = QLineEdit()
        self.name.setPlaceholderText("Name")
        self.role = QComboBox()
        for role in Role:
            self.role.addItem(role.value, role)
        # A team database knows each person by a login of their own; a file has none.
        self.login = QCheckBox("With a database login")
        self.login.setToolTip("The login is named like the person; set its password on the server.")
        self.login.setVisible(not workspace.is_sqlite)
        add = QPushButton("Add or change role")
        add.clicked.connect(self.add)
        allowed = user.can(Action.MANAGE_USERS)
        for widget in (self.name, self.role, self.login, add):
            widget.setEnabled(allowed)
        row = QHBoxLayout()
        row.addWidget(self.name)
        row.addWidget(self.role)
        row.addWidget(self.login)
        row.addWidget(add)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(row)
        layout.addWidget(buttons)
        self.load()
        keep_geometry(self)

    def load(self) -> None:
        users = list_users(self.workspace)
        self.table.setRowCount(len(users))
        for index, user in enumerate(users):
            self.table.setItem(index, 0, QTableWidgetItem(user.name))
            self.table.setItem(index, 1, QTableWidgetItem(user.role.value))

    def add(self) -> None:
        try:
            add_user(
                SqlUserStore(self.workspace),
                self.user,
                self.name.text(),
                Role(self.role.currentData()),
                self.login.isChecked(),
            )
        except AccordError as error:
            show_error(self, "User not saved", error)
            return
        self.name.clear()
        self.load()
