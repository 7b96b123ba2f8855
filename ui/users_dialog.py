"""The people in a workspace and their roles; only the owner changes them."""

from __future__ import annotations

from PySide6.QtWidgets import (
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
from domain.users import Action, Role, User
from storage.users import add_user, list_users
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
        add = QPushButton("Add or change role")
        add.clicked.connect(self.add)
        allowed = user.can(Action.MANAGE_USERS)
        for widget in (self.name, self.role, add):
            widget.setEnabled(allowed)
        row = QHBoxLayout()
        row.addWidget(self.name)
        row.addWidget(self.role)
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
            add_user(self.workspace, self.user, self.name.text(), Role(self.role.currentData()))
        except AccordError as error:
            show_error(self, "User not saved", error)
            return
        self.name.clear()
        self.load()
