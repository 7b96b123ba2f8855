"""Starting the desktop app: the workspace, who is working, and the main window."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox, QWidget

from domain.errors import AccordError
from domain.users import User
from storage.users import sign_in
from storage.workspace import Workspace, demo_path, open_workspace, to_url
from ui.settings import remember_user, remember_workspace, remembered_user, remembered_workspace
from ui.workers import Task, end_work, run_task, show_error

DEMO_ACCOUNTS = 2000
_keep: list[object] = []  # the window and any start-up task live as long as the app


def _ask_name(parent: QWidget | None) -> str | None:
    name, ok = QInputDialog.getText(
        parent,
        "Who is working?",
        "Your name (the first person in a workspace owns it):",
        text=getpass.getuser(),
    )
    return name.strip() if ok and name.strip() else None


def open_demo_workspace(
    parent: QWidget | None, user_name: str, on_ready: Callable[[Workspace, User], None]
) -> Task | None:
    """Open the demo workspace, building it first (with progress) if it is empty."""
    from storage.account_list import ListQuery, count
    from storage.demo import build_demo

    try:
        workspace = open_workspace(demo_path())
        empty = count(workspace, ListQuery()) == 0
    except AccordError as error:
        show_error(parent, "Demo workspace", error)
        return None
    if not empty:
        on_ready(workspace, sign_in(workspace, user_name))
        return None
    return run_task(
        parent,
        "Building the demo workspace",
        lambda progress, cancel: build_demo(
            workspace,
            accounts=DEMO_ACCOUNTS,
            replace=True,
            owner_name=user_name,
            progress=progress,
            cancel=cancel,
        ),
        lambda _summary: on_ready(workspace, sign_in(workspace, user_name)),
    )


def run_gui(db: str | None, user_name: str | None, demo: bool) -> int:
    from ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("Accord")
    app.setOrganizationName("Accord")
    name = user_name or remembered_user() or _ask_name(None)
    if name is None:
        return 0
    remember_user(name)

    def show(workspace: Workspace, user: User) -> None:
        remember_workspace(workspace.url)
        window = MainWindow(workspace, user)
        # Closed, it is deleted with the dialogs it keeps, in Qt's order; left to the end,
        # PySide deletes what Python owns in any order, and some orders deleted a widget
        # twice ("QObject: shared QObject was deleted directly", or a crash).
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        _keep.append(window)
        window.show()

    if demo:
        task = open_demo_workspace(None, name, show)
        if task is None and not _keep:
            return 1
        _keep.append(task)
    else:
        try:
            workspace = open_workspace(db or remembered_workspace() or to_url(None))
            user = sign_in(workspace, name)
        except AccordError as error:
            box = QMessageBox(QMessageBox.Icon.Critical, "Accord", str(error))
            box.setTextFormat(Qt.TextFormat.PlainText)
            box.exec()
            return 1
        show(workspace, user)
    code = app.exec()
    end_work()
    return code
