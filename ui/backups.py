"""Backups in the window: the daily backup off the GUI thread, the list to restore one
from, and what to do about a damaged workspace."""

from __future__ import annotations

import threading
from enum import Enum, auto
from pathlib import Path

from PySide6.QtCore import QObject, QSize, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from domain.backups import shown_size
from domain.errors import WorkspaceDamaged
from domain.values import shown_time
from storage import backups
from ui.messages import Button, Icon, message_box, plain_label
from ui.settings import keep_geometry

#: The first look whether a backup is due waits for the window to settle; then hourly.
FIRST_AFTER_MS = 10_000
CHECK_EVERY_MS = 60 * 60 * 1000


class BackupKeeper(QObject):
    """Backs the workspace file up when a backup is due (storage.backups.backup_if_due),
    in a thread of its own: soon after the window opens the workspace and every hour after.
    The file's check comes with it, so a damaged workspace is reported here too."""

    made = Signal(object)  # the Backup
    damaged = Signal(object)  # WorkspaceDamaged
    failed = Signal(object)  # any other error (a full disk)

    def __init__(self, path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self._thread: threading.Thread | None = None
        self._timer = QTimer(self, interval=FIRST_AFTER_MS)
        self._timer.timeout.connect(self.start)
        self._timer.start()

    def start(self) -> None:
        self._timer.setInterval(CHECK_EVERY_MS)
        if self._thread is not None and self._thread.is_alive():
            return
        self._thread = threading.Thread(target=self._run, name="backup", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            backup = backups.backup_if_due(self.path)
        except WorkspaceDamaged as error:
            self.damaged.emit(error)
        except Exception as error:  # said in the status bar; the next hour tries again
            self.failed.emit(error)
        else:
            if backup is not None:
                self.made.emit(backup)

    def stop(self) -> None:
        """No more backups; wait for one under way (a half-written copy is no backup)."""
        self._timer.stop()
        if self._thread is not None:
            self._thread.join()


class BackupsDialog(QDialog):
    """The backups of a workspace file, newest first; Restore… accepts with ``chosen``."""

    HEADERS = ("Made", "Size", "What", "File")

    def __init__(self, workspace: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Restore a backup")
        self.found = backups.listed(workspace)
        self.chosen: Path | None = None
        self.table = QTableWidget(len(self.found), len(self.HEADERS))
        self.table.setObjectName("backups")
        self.table.setHorizontalHeaderLabels(self.HEADERS)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        for row, (backup, what) in enumerate(self.found):
            cells = (shown_time(backup.made), shown_size(backup.size), what, backup.path.name)
            for column, value in enumerate(cells):
                item = QTableWidgetItem(value)
                item.setToolTip(str(backup.path))
                self.table.setItem(row, column, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(self.HEADERS) - 1, QHeaderView.ResizeMode.Stretch)
        self.restore = QPushButton("Restore…")
        self.restore.setObjectName("restore")
        self.restore.setEnabled(False)
        self.restore.clicked.connect(self._restore)
        self.table.itemSelectionChanged.connect(
            lambda: self.restore.setEnabled(bool(self.table.selectedItems()))
        )
        self.table.doubleClicked.connect(self._restore)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.addButton(self.restore, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.rejected.connect(self.reject)
        where = plain_label(
            f"Backups of {workspace}, kept in {backups.folder(workspace)}"
            if self.found
            else f"There are no backups of {workspace} yet: Accord makes one a day while the "
            "window is open.",
            wrap=True,
        )
        layout = QVBoxLayout(self)
        layout.addWidget(where)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        keep_geometry(self, QSize(820, 380))

    def _restore(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        backup, _what = self.found[rows[0].row()]
        ask = message_box(
            self,
            Icon.Question,
            "Restore a backup",
            f"Put the backup made {shown_time(backup.made)} in the workspace's place? "
            "The workspace as it is now is kept among the backups.",
            Button.Cancel,
        )
        restore = ask.addButton("Restore", QMessageBox.ButtonRole.AcceptRole)
        ask.exec()
        if ask.clickedButton() is not restore:
            return
        self.chosen = backup.path
        self.accept()


class Damage(Enum):
    """What a person chose to do about a damaged workspace."""

    RESTORE = auto()
    OPEN_ANOTHER = auto()
    DISMISS = auto()


def ask_about_damage(parent: QWidget | None, error: WorkspaceDamaged, dismiss: str) -> Damage:
    """Say that the workspace is damaged and offer its newest good backup, or another
    workspace; ``dismiss`` names the third way out ("Quit" at start, "Close" later)."""
    box = message_box(parent, Icon.Critical, "Damaged workspace", str(error), Button.NoButton)
    restore = None
    if error.backup is not None:
        made = next(
            (b.made for b in backups.backups(Path(error.workspace)) if str(b.path) == error.backup),
            None,
        )
        when = f" (made {shown_time(made)})" if made else ""
        box.setInformativeText(
            f"Its newest good backup{when} can take its place; the damaged file is kept "
            "among the backups."
        )
        restore = box.addButton("Restore the newest good backup", QMessageBox.ButtonRole.AcceptRole)
    else:
        box.setInformativeText("No good backup of it was found.")
    another = box.addButton("Open another workspace…", QMessageBox.ButtonRole.ActionRole)
    box.addButton(dismiss, QMessageBox.ButtonRole.RejectRole)
    box.exec()
    clicked = box.clickedButton()
    if restore is not None and clicked is restore:
        return Damage.RESTORE
    return Damage.OPEN_ANOTHER if clicked is another else Damage.DISMISS
