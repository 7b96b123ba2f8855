"""Opening a workspace, at start-up and from the window: the file dialogs' filter and the
demo workspace."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QWidget

from domain.errors import AccordError
from domain.users import User
from storage.users import sign_in
from storage.workspace import Workspace, demo_path, open_workspace
from ui.workers import Task, run_task, show_error

WORKSPACE_FILES = "Accord workspaces (*.sqlite);;All files (*)"
DEMO_ACCOUNTS = 2000


def open_demo_workspace(
    parent: QWidget | None, user_name: str, on_ready: Callable[[Workspace, User], None]
) -> Task | None:
    """Open the demo workspace, building it first (with progress) if it is empty."""
    from storage.demo.build import build_demo
    from storage.read_models.account_list import ListQuery, count

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
