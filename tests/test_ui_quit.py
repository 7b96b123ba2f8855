"""Quitting the desktop app ends cleanly: work still running off the GUI thread (an import,
an export, a call pack, an ICP preview) is cancelled or finished first, and Qt says nothing
on the way out. A real interpreter is started, since what goes wrong happens as it ends."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from storage.demo import build_demo

# Opens the workspace in the window, starts work of every kind, then quits at once.
WORK_THEN_QUIT = """
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from storage.dossier_print import call_pack_job
from ui.app import run_gui
from ui.dossier_list import DossierList
from ui.icp_editor import IcpEditor
from ui.import_wizard import ImportWizard
from ui.main_window import MainWindow

db, folder = sys.argv[1], Path(sys.argv[2])


def work_then_quit():
    window = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow))
    workspace, user = window.workspace, window.user
    editor = IcpEditor(workspace, user, window)  # counts its preview on a worker thread
    editor.tier_a.setValue(editor.tier_a.value() + 1)
    editor.refresh_preview()
    DossierList(workspace, user, window).refresh()
    wizard = ImportWizard(workspace, user, "accounts", window)
    wizard.file_page.path.setText(str(folder / "accounts.csv"))
    wizard.next()
    wizard.next()
    wizard.next()  # starts the import on a worker thread
    window.dossiers.print_to(call_pack_job(workspace, "Sam Rivera", 50), folder / "pack.pdf")
    window.export_to(folder / "accounts.xlsx")
    window.close()  # the last window: the app quits with all of that still running


QTimer.singleShot(0, work_then_quit)
sys.exit(run_gui(db=db, user_name="Olivia Owner", demo=False))
"""


def test_quitting_while_work_runs_ends_cleanly(sqlite_workspace, tmp_path, request):
    build_demo(sqlite_workspace, accounts=600, seed=5, replace=True, owner_name="Olivia Owner")
    rows = "".join(f"Newco {n},Germany\n" for n in range(2000))
    (tmp_path / "accounts.csv").write_text("Account Name,Country\n" + rows, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-c", WORK_THEN_QUIT, sqlite_workspace.url, str(tmp_path)],
        cwd=Path(__file__).parents[1],
        capture_output=True,
        text=True,
        timeout=120,
    )
    # What Qt's offscreen platform says about itself (pyproject's qt_log_ignore) is no news.
    platform = [re.compile(pattern) for pattern in request.config.getini("qt_log_ignore")]
    said = [line for line in run.stderr.splitlines() if not any(p.search(line) for p in platform)]
    assert said == []
    assert run.returncode == 0
