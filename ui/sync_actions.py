"""Sync in the window (issue 17): File › Work offline…, Sync (F9, also on the toolbar) with
its progress, Cancel and the summary of what moved, the quiet automatic sync of a copy
whenever its team database answers (and of a workspace that syncs through a shared folder,
whenever the folder is there), what the window says of the workspace it works on, and
Conflicts… (Shift+F9).

A copy syncs with the team database it was taken from; any other workspace but the team's
syncs through a shared folder (asked for once, then remembered). Only one sync runs at a
time, manual or automatic, always off the GUI thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QToolBar

from domain.errors import AccordError
from domain.sync import SyncSummary
from domain.users import User
from domain.values import shown_time
from storage.sync.conflicts import list_conflicts, list_refused
from storage.sync.engine import Device, device_of
from storage.sync.folder import sync_through_folder
from storage.sync.team import sync_with_team
from storage.workspace import Workspace, open_workspace
from ui.messages import Icon, message_box
from ui.settings import remember_sync_folder, remembered_sync_folder
from ui.window_api import WindowApi
from ui.workers import Task, show_error

SYNC_SHORTCUT = "F9"
CONFLICTS_SHORTCUT = "Shift+F9"
#: How often a copy looks whether its team database answers, and syncs when it does.
AUTO_SYNC_EVERY_MS = 3 * 60 * 1000
#: The first automatic sync after a copy is opened waits for the window to settle.
AUTO_SYNC_FIRST_MS = 20_000
#: The kinds of device a workspace that syncs is (storage.sync.capture.KINDS).
TEAM, COPY, PEER = "team", "copy", "peer"


def device_of_workspace(workspace: Workspace) -> Device | None:
    """How ``workspace`` syncs; None when it never took part in a sync."""
    with workspace.read() as conn:
        return device_of(conn)


def with_team(
    local: Workspace, address: str, user: User, progress: Any, cancelled: Any
) -> SyncSummary:
    """Sync ``local`` with the team database at ``address`` (a server, or a file that must
    be there already)."""
    team = open_workspace(address, create=False)
    try:
        return sync_with_team(local, team, user, progress, cancelled)
    finally:
        team.close()


def through_folder(
    local: Workspace, folder: str, user: User, progress: Any, cancelled: Any
) -> SyncSummary:
    return sync_through_folder(local, Path(folder), user, progress, cancelled)


def described(status: Device | None) -> str:
    """Which workspace this is, for the title: the team's, a copy of it and for whom, or
    one that syncs through a folder; nothing for a workspace that never synced."""
    if status is None:
        return ""
    if status.kind == TEAM:
        return "Team workspace"
    if status.kind == COPY:
        return (
            f"Copy of the team workspace for {status.rep}"
            if status.rep
            else "Copy of the whole team workspace"
        )
    return "Syncs through a shared folder"


def last_synced(status: Device | None) -> str:
    """When the workspace last synced, for the status bar (nothing for the team's own)."""
    if status is None or status.kind == TEAM:
        return ""
    if status.last_synced_at is None:
        return "not synced yet"
    return f"last synced {shown_time(status.last_synced_at)}"


class SyncActions(QObject):
    """The sync actions of the main window, and the one sync that may run at a time."""

    #: How the workspace syncs changed (after a sync, a copy taken, another workspace).
    changed = Signal()

    def __init__(self, window: WindowApi) -> None:
        super().__init__(window.window())
        self.window = window
        self.status: Device | None = None
        self.running: Task | None = None
        #: The failure of the automatic sync said last: said once, not every few minutes.
        self.failure_said: str | None = None
        #: The team database's address as typed at Work offline… (with its password, which
        #: the copy does not keep), by the copy's URL, while Accord runs.
        self.addresses: dict[str, str] = {}
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.sync_quietly)
        self.toolbar = QToolBar("Sync")
        self.toolbar.setObjectName("sync toolbar")
        self.toolbar.setMovable(False)

    def menu(self, menu: Any) -> None:
        add = self.window.add_action
        self.offline_action = add(menu, "Work offline…", self.work_offline)
        self.sync_action = add(menu, "Sync", self.sync, SYNC_SHORTCUT)
        self.sync_action.setToolTip(f"Send this workspace's changes and bring the other "
                                    f"side's ({SYNC_SHORTCUT})")  # fmt: skip
        self.folder_action = add(menu, "Sync through a folder…", self.choose_folder)
        self.conflicts_action = add(menu, "Conflicts…", self.show_conflicts, CONFLICTS_SHORTCUT)
        self.toolbar.addAction(self.sync_action)
        self.toolbar.addAction(self.conflicts_action)

    # --- what the workspace is --------------------------------------------------------------
    def read_status(self) -> None:
        """Read how the workspace syncs, and offer what fits it: a team workspace has
        nothing to sync with, a copy syncs with its team database and a peer through its
        shared folder, by themselves too."""
        self.status = device_of_workspace(self.window.workspace)
        kind = self.status.kind if self.status else None
        self.offline_action.setEnabled(kind != COPY)
        self.sync_action.setEnabled(kind != TEAM and self.running is None)
        self.folder_action.setEnabled(kind in (None, PEER))
        self.conflicts_action.setEnabled(self.status is not None)
        self.conflicts_action.setIconText(self._conflicts_named())
        self.toolbar.setVisible(kind in (COPY, PEER))
        if kind in (COPY, PEER):
            if not self.timer.isActive():
                self.timer.start(AUTO_SYNC_FIRST_MS)
        else:
            self.timer.stop()
        self.changed.emit()

    def _conflicts_named(self) -> str:
        """The toolbar's Conflicts, with how many wait to be settled."""
        if self.status is None:
            return "Conflicts"
        with self.window.workspace.read() as conn:
            waiting = len(list_conflicts(conn)) + len(list_refused(conn))
        return f"Conflicts ({waiting:,})" if waiting else "Conflicts"

    def stop(self) -> None:
        """End a sync under way: the workspace it works on is about to close."""
        self.timer.stop()
        if self.running is not None:
            self.running.end()
            self.running = None

    # --- taking a copy -------------------------------------------------------------------
    def work_offline(self) -> None:
        from ui.offline import WorkOfflineDialog, take_copy

        window = self.window
        dialog = WorkOfflineDialog(window.workspace, window.user, window.window())
        if not dialog.exec():
            return
        request = dialog.request()
        team = request.source or window.workspace.url  # with its password, if typed

        def ready(copy: Workspace, user: User) -> None:
            self.addresses[copy.url] = team
            window.switch_to(copy, user)
            window.statusBar().showMessage(
                f"Working on the copy in {copy.label}. Sync ({SYNC_SHORTCUT}) sends your "
                "changes to the team database and brings theirs.",
                15_000,
            )

        self.stop()  # a sync of the workspace the window leaves
        window.task = take_copy(window.window(), window.workspace, window.user, request, ready)

    # --- syncing -------------------------------------------------------------------------
    def _work(self, ask: bool) -> tuple[str, Any] | None:
        """The title and the work of a sync of this workspace; None when it has nothing to
        sync with (a folder not chosen yet, and ``ask`` off or the person chose none)."""
        local, user, status = self.window.workspace, self.window.user, self.status
        if status is not None and status.kind == TEAM:
            return None
        if status is not None and status.kind == COPY:
            address = self.addresses.get(local.url) or status.source or ""
            return "Syncing with the team database", (
                lambda progress, cancelled: with_team(local, address, user, progress, cancelled)
            )
        folder = remembered_sync_folder(local.url)
        if folder is None and ask:
            folder = self._ask_folder()
        if folder is None:
            return None
        return f"Syncing through {folder}", (
            lambda progress, cancelled: through_folder(local, folder, user, progress, cancelled)
        )

    def _ask_folder(self) -> str | None:
        folder = QFileDialog.getExistingDirectory(
            self.window.window(), "The shared folder to sync through", str(Path.home())
        )
        if not folder:
            return None
        remember_sync_folder(self.window.workspace.url, folder)
        return folder

    def choose_folder(self) -> None:
        """Choose (again) the shared folder this workspace syncs through, then sync."""
        if self._ask_folder() is not None:
            self.sync()

    def sync(self) -> Task | None:
        """Sync now, with progress and Cancel, then say what moved."""
        if self.running is not None:
            self.window.statusBar().showMessage("A sync is under way already.", 6000)
            return None
        work = self._work(ask=True)
        if work is None:
            return None
        title, run = work
        task = self._start(Task(self.window.window(), title, run, noun="change"))
        task.done.connect(self._summarise)
        task.error.connect(lambda error: show_error(self.window.window(), "Sync", error))
        return task

    def sync_quietly(self) -> Task | None:
        """The automatic sync: no dialog, nothing asked; a failure is said once in the
        status bar, and the next try is the timer's."""
        self.timer.setInterval(AUTO_SYNC_EVERY_MS)
        if self.running is not None:
            return None
        work = self._work(ask=False)
        if work is None:
            return None
        title, run = work
        task = self._start(Task(self.window.window(), title, run, noun="change", quiet=True))
        task.done.connect(self._synced_quietly)
        task.error.connect(self._failed_quietly)
        return task

    def _start(self, task: Task) -> Task:
        self.running = task
        self.sync_action.setEnabled(False)
        task.done.connect(self._ended)
        task.error.connect(self._ended)
        return task.start()

    def _ended(self, _result: object) -> None:
        self.running = None
        self.read_status()
        self.window.refresh()

    def _summarise(self, summary: SyncSummary) -> None:
        self.failure_said = None
        box = message_box(self.window.window(), Icon.Information, "Sync", summary.sentence())
        conflicts = None
        if summary.conflicts or summary.refused:
            conflicts = box.addButton("Conflicts…", QMessageBox.ButtonRole.ActionRole)
        box.exec()
        if conflicts is not None and box.clickedButton() is conflicts:
            self.show_conflicts()

    def _synced_quietly(self, summary: SyncSummary) -> None:
        self.failure_said = None
        if summary.sent or summary.received or summary.conflicts or summary.refused:
            self.window.statusBar().showMessage(f"Synced by itself. {summary.sentence()}", 15_000)

    def _failed_quietly(self, error: BaseException) -> None:
        reason = str(error) if isinstance(error, AccordError) else f"unexpected error {error!r}"
        if reason == self.failure_said:
            return
        self.failure_said = reason
        self.window.statusBar().showMessage(
            f"Not synced ({reason}). Accord tries again by itself every few minutes; "
            f"Sync ({SYNC_SHORTCUT}) tries now."
        )

    # --- conflicts -----------------------------------------------------------------------
    def show_conflicts(self) -> None:
        from ui.conflicts import ConflictsDialog

        if self.status is None:
            return
        window = self.window
        ConflictsDialog(window.workspace, window.user, self.status.device, window.window()).exec()
        window.refresh()
