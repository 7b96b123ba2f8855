"""Starting the desktop app: the workspace, who is working, and the main window."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable, Mapping
from ctypes.util import find_library
from pathlib import Path

from PySide6.QtCore import Qt
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
from ui.workers import collect_on_gui_thread
from ui.workspaces import WORKSPACE_FILES, open_demo_workspace

_keep: list[object] = []  # the window and any start-up task live as long as the app

#: The X11 libraries Qt's xcb platform plugin loads when the window opens, with the package
#: that brings each on Debian/Ubuntu and on Fedora. Windows, macOS and Wayland need none.
X11_LIBRARIES = {
    "xcb-cursor": ("libxcb-cursor0", "xcb-util-cursor"),
    "xcb-icccm": ("libxcb-icccm4", "xcb-util-wm"),
    "xcb-image": ("libxcb-image0", "xcb-util-image"),
    "xcb-keysyms": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "xcb-render-util": ("libxcb-render-util0", "xcb-util-renderutil"),
    "xkbcommon-x11": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
}


def display_problem(
    environ: Mapping[str, str],
    platform: str = sys.platform,
    find_library: Callable[[str], str | None] = find_library,
) -> str | None:
    """Why the window cannot open on this X11 desktop, and the packages that fix it (None:
    nothing is missing, or Qt does not draw through X11 here). Without these libraries Qt
    stops the whole program with a message about its "xcb" plugin, so this looks first."""
    chosen = environ.get("QT_QPA_PLATFORM", "")
    x11 = chosen.startswith("xcb") or (
        not chosen and bool(environ.get("DISPLAY")) and not environ.get("WAYLAND_DISPLAY")
    )
    if not platform.startswith("linux") or not x11:
        return None
    missing = [name for name in X11_LIBRARIES if find_library(name) is None]
    if not missing:
        return None
    debian = " ".join(X11_LIBRARIES[name][0] for name in missing)
    fedora = " ".join(X11_LIBRARIES[name][1] for name in missing)
    return (
        f"Accord's window needs X11 libraries that this computer lacks "
        f"({', '.join(f'lib{name}' for name in missing)}). Install them and start Accord "
        f"again:\n  Debian or Ubuntu: sudo apt install {debian}\n  Fedora: sudo dnf install "
        f"{fedora}\nThe commands (accord --help) work without them."
    )


def _ask_name(parent: QWidget | None) -> str | None:
    name, ok = QInputDialog.getText(
        parent,
        "Who is working?",
        "Your name (the first person in a workspace owns it):",
        text=getpass.getuser(),
    )
    return name.strip() if ok and name.strip() else None


def run_gui(db: str | None, user_name: str | None, demo: bool) -> int:
    if QApplication.instance() is None and (problem := display_problem(os.environ)):
        print(f"accord: {problem}", file=sys.stderr)
        return 1
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("Accord")
    app.setOrganizationName("Accord")
    collect_on_gui_thread(app)

    def who() -> str | None:
        """The name of whoever works in a workspace file (a team database knows its logins)."""
        name = user_name or remembered_user() or _ask_name(None)
        if name is not None:
            remember_user(name)
        return name

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
