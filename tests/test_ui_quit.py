"""Quitting the desktop app ends cleanly after dialogs were opened and while work still runs
off the GUI thread (an import, an export, a call pack, an ICP preview): the work is cancelled
or finished first, the window and its dialogs are deleted once, and Qt says nothing on the
way out. A real interpreter is started, since what goes wrong happens as it ends."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

from domain.errors import Cancelled
from storage.demo.build import build_demo
from storage.users import sign_in
from ui.main_window import MainWindow
from ui.workers import run_task

# Opens the workspace in the window, starts work of every kind, then quits at once.
WORK_THEN_QUIT = """
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from storage.read_models.dossier_print import call_pack_job
from ui.app import run_gui
from ui.import_wizard import ImportWizard
from ui.main_window import MainWindow

db, folder = sys.argv[1], Path(sys.argv[2])


def close_soon():
    QTimer.singleShot(300, lambda: QApplication.activeModalWidget().reject())


def work_then_quit():
    window = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow))
    for _ in range(3):
        close_soon()
        window.edit_icp()  # counts its preview on a worker thread
    close_soon()
    window.dossiers.dossier_list()
    wizard = ImportWizard(window.workspace, window.user, "accounts", window)
    wizard.show()
    wizard.file_page.path.setText(str(folder / "accounts.csv"))
    wizard.next()
    wizard.next()
    wizard.next()  # starts the import on a worker thread
    call_pack = call_pack_job(window.workspace, "Sam Rivera", 50)
    window.dossiers.print_to(call_pack, folder / "pack.pdf")
    window.export_to(folder / "accounts.xlsx")
    window.close()  # the last window: the app quits with all of that still running


QTimer.singleShot(0, work_then_quit)
sys.exit(run_gui(db=db, user_name="Olivia Owner", demo=False))
"""


def test_quitting_while_work_runs_ends_cleanly(sqlite_workspace, tmp_path, request):
    build_demo(sqlite_workspace, accounts=600, seed=5, replace=True, owner_name="Olivia Owner")
    rows = "".join(f"Newco {n},Germany\n" for n in range(2000))
    (tmp_path / "accounts.csv").write_text("Account Name,Country\n" + rows, encoding="utf-8")
    # What Qt's offscreen platform says about itself (pyproject's qt_log_ignore) is no news.
    platform = [re.compile(pattern) for pattern in request.config.getini("qt_log_ignore")]
    for _ in range(2):  # what is deleted first at the end varies from one run to the next
        run = subprocess.run(
            [sys.executable, "-c", WORK_THEN_QUIT, sqlite_workspace.url, str(tmp_path)],
            cwd=Path(__file__).parents[1],
            capture_output=True,
            text=True,
            timeout=120,
        )
        said = [line for line in run.stderr.splitlines()
                if not any(p.search(line) for p in platform)]  # fmt: skip
        assert said == []
        assert run.returncode == 0


def test_closing_the_window_ends_its_work_and_says_nothing_after(qtbot, sqlite_workspace):
    """The window is deleted once closed, with the tasks and progress dialogs it keeps: it
    cancels their work and waits for it first, and drops what the work would still say
    (here one task still at work, and one whose result waits in the queue)."""
    window = MainWindow(sqlite_workspace, sign_in(sqlite_workspace, "Olivia Owner"))
    qtbot.addWidget(window)
    said: list[object] = []
    done = threading.Event()

    def until_cancelled(_progress, cancel):  # type: ignore[no-untyped-def]
        while not cancel():
            time.sleep(0.01)
        raise Cancelled()

    def at_once(_progress, _cancel):  # type: ignore[no-untyped-def]
        done.set()
        return "a result"

    tasks = [run_task(window, "Working", work, said.append) for work in (until_cancelled, at_once)]
    for task in tasks:
        task.error.connect(said.append)
    done.wait()
    time.sleep(0.1)  # the result is on its way to the GUI thread, which has not looked yet
    window.close()
    assert not any(task.running for task in tasks)
    qtbot.wait(200)  # what the work would have said comes through the event loop
    assert said == []
    assert not any(task.dialog.isVisible() for task in tasks)
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)]
