"""Starting the desktop app: the workspace, who is working, and the main window."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QWidget

from domain.errors import AccordError, WorkspaceDamaged
from domain.users import User
from storage.backups import restore
from storage.remembered import remember_user
from storage.users import sign_in
from storage.workspace import Workspace, data_dir, open_workspace, to_url
from ui.backups import Damage, ask_about_damage
from ui.main_window import MainWindow
from ui.messages import Icon, message_box
from ui.settings import remember_workspace, remembered_user, remembered_workspace
from ui.workspaces import WORKSPACE_FILES, open_demo_workspace

_keep: list[object] = []  # the window and any start-up task live as long as the app


def _ask_name(parent: QWidget | None) -> str | None:
    name, ok = QInputDialog.getText(
        parent,
        "Who is working?",
        "Your name (the first person in a workspace owns it):",
        text=getpass.getuser(),
    )
    return name.strip() if ok and name.strip() else None


def run_gui(db: str | None, user_name: str | None, demo: bool) -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("Accord")
    app.setOrganizationName("Accord")

    def who() -> str | None:
        """The name of whoever works in a workspace file (a team database knows its logins)."""
        name = user_name or remembered_user() or _ask_name(None)
        if name is not None:
            remember_user(name)
        return name

    def show(workspace: Workspace, user: User) -> None:
        remember_workspace(workspace.url)
        window = MainWindow(workspace, user)
        _keep.append(window)
        window.show()

    if demo:
        if (name := who()) is None:
            return 0
        task = open_demo_workspace(None, name, show)
        if task is None and not _keep:
            return 1
        _keep.append(task)
    else:
        opened = _open_at_start(db or remembered_workspace() or to_url(None), who)
        if opened is None:
            return 1
        show(*opened)
    return app.exec()


def _open_at_start(db: str, who: Callable[[], str | None]) -> tuple[Workspace, User] | None:
    """Open the workspace to start with and sign in (``who`` names whoever works in a
    workspace file; a team database knows its logins); a damaged one is offered its newest
    good backup or another workspace. None when there is nothing to open."""
    while True:
        try:
            workspace = open_workspace(db)
            name = who() if workspace.is_sqlite else ""
            if name is None:
                workspace.close()
                return None
            return workspace, sign_in(workspace, name)
        except WorkspaceDamaged as damaged:
            choice = ask_about_damage(None, damaged, "Quit")
            if choice is Damage.OPEN_ANOTHER:
                db, _ = QFileDialog.getOpenFileName(
                    None, "Open workspace", str(data_dir()), WORKSPACE_FILES
                )
            elif choice is Damage.RESTORE and damaged.backup is not None:
                try:
                    restore(Path(damaged.workspace), Path(damaged.backup))
                except AccordError as error:
                    _say(error)
            else:
                return None
            if not db:
                return None
        except AccordError as error:
            _say(error)
            return None


def _say(error: AccordError) -> None:
    message_box(None, Icon.Critical, "Accord", str(error)).exec()
