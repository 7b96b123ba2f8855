"""File › Work offline…: a local copy of the team workspace to take on a laptop (issue 17).

The dialog asks where to copy from (the team database open now, another one or a file), for
the owner and marketing which part (the whole workspace or one rep's accounts; a rep takes
their own), and where to keep the copy. The copy is taken off the GUI thread
(``storage.sync.checkout``) with progress and Cancel, and the window then works on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from domain.errors import AccordError
from domain.users import Role, User
from storage.sync.checkout import checkout
from storage.users import list_users, sign_in
from storage.workspace import Workspace, data_dir, open_workspace
from ui.messages import plain_label
from ui.settings import keep_geometry
from ui.target_actions import reps_of
from ui.workers import Task, show_error
from ui.workspaces import WORKSPACE_FILES


@dataclass(frozen=True)
class CopyRequest:
    """What the dialog asks for: the team database (``None``: the one open now), whose
    accounts (``None``: the whole workspace) and the file to keep the copy in."""

    source: str | None
    rep: str | None
    path: Path


class WorkOfflineDialog(QDialog):
    def __init__(self, workspace: Workspace, user: User, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Work offline")
        self.workspace, self.user = workspace, user
        intro = plain_label(
            "Accord copies the team workspace into a file on this computer and works on that "
            "copy, with or without a network. Sync (F9) sends what you change to the team "
            "database and brings the team's changes back; Accord also syncs by itself "
            "whenever the team database answers.",
            wrap=True,
        )
        self.source = QLineEdit(workspace.label)
        self.source.setObjectName("source")
        self.source.setPlaceholderText("postgresql+psycopg://USER:PASSWORD@HOST/DATABASE or a file")
        browse_source = QPushButton("File…")
        browse_source.clicked.connect(self._choose_source)
        source_row = QHBoxLayout()
        source_row.addWidget(self.source, 1)
        source_row.addWidget(browse_source)

        self.part = QComboBox()
        self.part.setObjectName("part")
        if user.role is Role.REP:
            self.part.addItem(f"Your accounts on the target list ({user.name})", user.name)
            self.part.setEnabled(False)
        else:
            self.part.addItem("The whole workspace", None)
            for rep in reps_of(workspace):
                self.part.addItem(f"{rep.name}'s accounts", rep.name)
        self.part.currentIndexChanged.connect(self._suggest_path)

        self.path = QLineEdit()
        self.path.setObjectName("path")
        browse_path = QPushButton("Choose…")
        browse_path.clicked.connect(self._choose_path)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse_path)
        self._suggest_path()

        form = QFormLayout()
        form.addRow("Copy from", source_row)
        form.addRow("Accounts", self.part)
        form.addRow("Keep the copy in", path_row)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.take = self.buttons.addButton("Take the copy", QDialogButtonBox.ButtonRole.AcceptRole)
        self.take.setObjectName("take")
        self.take.setDefault(True)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        self.problem = plain_label("", wrap=True)
        self.problem.setObjectName("problem")
        self.problem.setStyleSheet("color: #b3261e")
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addStretch()
        layout.addWidget(self.buttons)
        keep_geometry(self, QSize(720, 300))

    def _suggest_path(self) -> None:
        rep = self.part.currentData()
        part = rep.lower().replace(" ", "-") if rep else "whole"
        stem = self.workspace.name or "team"
        self.path.setText(str(data_dir() / f"{stem}-{part}-copy.sqlite"))

    def _choose_source(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Copy from", str(data_dir()), WORKSPACE_FILES)
        if name:
            self.source.setText(name)

    def _choose_path(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Keep the copy in", self.path.text(),
                                              WORKSPACE_FILES)  # fmt: skip
        if name:
            self.path.setText(name)

    def request(self) -> CopyRequest:
        source = self.source.text().strip()
        return CopyRequest(
            None if source == self.workspace.label else source,
            self.part.currentData(),
            Path(self.path.text().strip()).expanduser(),
        )

    def _accept(self) -> None:
        request = self.request()
        if request.source == "":
            self.problem.setText("Say which team database or file to copy from.")
        elif not self.path.text().strip():
            self.problem.setText("Say where to keep the copy.")
        elif request.path.exists():
            self.problem.setText(
                f"{request.path} exists already: choose another file for the copy, or open "
                "that one with File › Open workspace…."
            )
        else:
            self.accept()


def _team_user(team: Workspace, name: str) -> User:
    """Who takes the copy, as the team database knows them: by their login on a server,
    by name in a file (which is not given a new user by being copied from)."""
    if not team.is_sqlite:
        return sign_in(team, name)
    known = next((u for u in list_users(team) if u.name == name), None)
    if known is None:
        raise AccordError(f"{name} is not a user of {team.label}: ask its owner to add you.")
    return known


def take_copy(
    parent: QWidget,
    workspace: Workspace,
    user: User,
    request: CopyRequest,
    on_ready: Callable[[Workspace, User], None],
) -> Task:
    """Take the copy ``request`` asks for off the GUI thread, with progress and Cancel, and
    hand it to ``on_ready`` open, with its user."""

    def work(progress: Any, cancelled: Any) -> tuple[Workspace, User]:
        team = workspace if request.source is None else open_workspace(request.source)
        try:
            taker = _team_user(team, user.name)
            copy = checkout(team, request.path, taker, request.rep, progress, cancelled)
        finally:
            if team is not workspace:
                team.close()
        try:
            return copy, sign_in(copy, taker.name)
        except BaseException:
            copy.close()
            raise

    title = "Taking a copy of the team workspace"
    task = Task(parent, title, work)
    task.done.connect(lambda result: on_ready(*result))
    task.error.connect(lambda error: show_error(parent, title, error))
    return task.start()
