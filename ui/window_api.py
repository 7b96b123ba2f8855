"""What the main window lends the modules that act from its menus (`TargetActions`,
`DossierActions`) and its undo commands: they take a `WindowApi` rather than the
`MainWindow`, so that they need not import the module that imports them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QStatusBar, QWidget

from domain.tables import TableData
from domain.users import Action, User
from storage.workspace import Workspace
from ui.workers import Task


class WindowApi(Protocol):
    workspace: Workspace
    user: User
    #: The long work running now (kept so that it lives until it ends).
    task: Task | None

    def window(self) -> QWidget:
        """The window as a widget, the parent of the dialogs an action opens (Qt's
        ``QWidget.window()``: a main window is its own)."""
        ...

    def statusBar(self) -> QStatusBar: ...

    def add_action(
        self, menu: Any, text: str, slot: Any, shortcut: Any = None, needs: Action | None = None
    ) -> QAction:
        """An item of ``menu``, enabled only for a role that may do ``needs``."""
        ...

    def selected_ids(self) -> list[Any]:
        """The accounts of the selected rows (the current one when nothing is selected)."""
        ...

    def refresh(self) -> None:
        """Read the list again, after a change."""
        ...

    def act(self, change: Callable[[], object]) -> bool:
        """Run one user action; show its error, refresh the list either way."""
        ...

    def switch_to(self, workspace: Workspace, user: User) -> None:
        """Work on ``workspace`` from now on, as ``user``."""
        ...

    def export_table(self, path: Path, table: Callable[[], TableData], noun: str) -> Task | None:
        """Write ``table()`` to ``path`` off the GUI thread."""
        ...
