"""Long work off the GUI thread, with a progress dialog that can cancel.

The work function runs in a QThread and receives ``progress(done, total)`` and ``cancel()``;
whatever it opens (a database connection) belongs to that thread. Its result or error comes
back to the GUI thread through a signal.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QObject,
    Qt,
    QThread,
    QThreadPool,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtWidgets import QProgressDialog, QWidget

from domain.errors import AccordError
from domain.values import counted
from storage.backups import is_damage
from ui.messages import Icon, message_box, plain_label

Work = Callable[[Callable[[int, int | None], None], Callable[[], bool]], Any]


class _Worker(QObject):
    progressed = Signal(int, int)  # done, total (-1: unknown)
    finished = Signal(object)
    failed = Signal(object)

    def __init__(self, work: Work) -> None:
        super().__init__()
        self.work = work
        self.cancelled = threading.Event()

    @Slot()
    def run(self) -> None:
        try:
            result = self.work(
                lambda done, total: self.progressed.emit(done, -1 if total is None else total),
                self.cancelled.is_set,
            )
        except Exception as exc:  # reported to the user on the GUI thread
            self.failed.emit(exc)
        else:
            self.finished.emit(result)


class Task(QObject):
    """One piece of long work with its progress dialog, which counts ``noun``s. A ``quiet``
    task has none: work the window does by itself, which must not get in a person's way (the
    automatic sync). Keep a reference until it ends."""

    done = Signal(object)
    error = Signal(object)

    def __init__(
        self,
        parent: QWidget | None,
        title: str,
        work: Work,
        *,
        noun: str = "row",
        quiet: bool = False,
    ) -> None:
        super().__init__(parent)
        self.noun = noun
        self.dialog: QProgressDialog | None = None
        if not quiet:
            self.dialog = QProgressDialog(title, "Cancel", 0, 0, parent)
            self.dialog.setLabel(plain_label(title))  # a title may name a file
            self.dialog.setWindowTitle(title)
            self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
            self.dialog.setMinimumDuration(300)
            self.dialog.setAutoReset(False)
            self.dialog.setAutoClose(False)
            self.dialog.canceled.connect(self.cancel)
        self._thread = QThread()
        self.worker = _Worker(work)
        self.worker.moveToThread(self._thread)
        self._thread.started.connect(self.worker.run)
        self.worker.progressed.connect(self._progress)
        self.worker.finished.connect(self._finish)
        self.worker.failed.connect(self._fail)

    def start(self) -> Task:
        _running.add(self)
        self._thread.start()
        return self

    @Slot()
    def cancel(self) -> None:
        self.worker.cancelled.set()
        if self.dialog is not None:
            self.dialog.setLabelText("Cancelling…")

    @property
    def running(self) -> bool:
        return self._thread.isRunning()

    @Slot(int, int)
    def _progress(self, done: int, total: int) -> None:
        if self.dialog is None:
            return
        if total > 0:
            self.dialog.setMaximum(total)
            self.dialog.setValue(min(done, total))
        self.dialog.setLabelText(
            f"{done:,} of {total:,}" if total > 0 else counted(done, self.noun)
        )

    def _stop(self) -> None:
        self._thread.quit()
        self._thread.wait()
        _running.discard(self)
        if self.dialog is not None:
            self.dialog.close()

    def end(self) -> None:
        """Cancel the work and wait for it to stop, saying nothing more: its progress,
        result or error would reach a window that is going away."""
        self.worker.cancelled.set()
        for signal in (self.worker.progressed, self.worker.finished, self.worker.failed):
            signal.disconnect()
        self._stop()
        # What the worker said before it was cut off waits in the queue: drop it.
        QCoreApplication.removePostedEvents(self, QEvent.Type.MetaCall)

    @Slot(object)
    def _finish(self, result: object) -> None:
        self._stop()
        self.done.emit(result)

    @Slot(object)
    def _fail(self, error: Exception) -> None:
        self._stop()
        self.error.emit(error)


#: Broken pages that the check at opening had no time to reach (a big file).
DAMAGED = (
    "SQLite found broken pages in the workspace file: File › Restore a backup… puts a good "
    "copy in its place."
)


_running: set[Task] = set()


def end_work() -> None:
    """Cancel the tasks still running and wait for them, and for the thread pool's work
    (ICP previews). The window calls it as it closes, before it is deleted with the tasks,
    progress dialogs and dialogs it keeps: a task's thread deleted while it runs aborts the
    program, and work that goes on reaches deleted objects."""
    for task in list(_running):
        task.end()
    QThreadPool.globalInstance().waitForDone()


def show_error(parent: QWidget | None, title: str, error: BaseException) -> None:
    """An AccordError's message is for the user; anything else is a bug, said plainly."""
    if isinstance(error, AccordError):
        text = str(error)
    else:
        text = DAMAGED if is_damage(error) else f"Unexpected error: {error!r}"
    show_warning(parent, title, text)


def show_warning(parent: QWidget | None, title: str, text: str) -> None:
    message_box(parent, Icon.Warning, title, text).exec()


def run_task(
    parent: QWidget | None, title: str, work: Work, on_done: Callable[[Any], None]
) -> Task:
    """Start ``work`` with a progress dialog; ``on_done(result)`` on success, an error box
    otherwise (a cancel shows its own message)."""
    task = Task(parent, title, work)
    task.done.connect(on_done)
    task.error.connect(lambda error: show_error(parent, title, error))
    return task.start()


def collect_garbage() -> None:
    """Run Python's collector, on the thread that calls this (the GUI thread), for the
    oldest generation that is due."""
    counts, limits = gc.get_count(), gc.get_threshold()
    for generation in (2, 1, 0):
        if counts[generation] > limits[generation]:
            gc.collect(generation)
            return


def collect_on_gui_thread(app: QCoreApplication) -> QTimer:
    """Let Python's collector run only on the GUI thread. Left to itself it runs in whichever
    thread happens to allocate, a worker's among them, and may delete a widget there that a
    cycle kept: Qt then crashes (a dashboard read segfaulted in SQLAlchemy this way)."""
    gc.disable()
    timer = QTimer(app)
    timer.timeout.connect(collect_garbage)
    timer.start(500)
    return timer
