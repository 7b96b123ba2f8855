"""The accounts list with many accounts, offscreen: time to window shown, first rows
painted, scroll to the last row, re-sort, search, and the memory the view adds.

    python bench/accounts_view.py --accounts 1000000

The workspace is built once per size under bench/out/ (the demo generator) and reused.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed(label: str, target: float, action) -> None:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    action()
    seconds = time.perf_counter() - start
    verdict = "ok" if seconds <= target else "SLOW"
    print(f"  {label:<28} {seconds:7.3f} s   (target <= {target} s, {verdict})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1_000_000)
    args = parser.parse_args()

    from bench.data import demo_workspace
    from storage.workspace import open_workspace

    path = demo_workspace(args.accounts)

    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    from PySide6.QtCore import Qt

    from storage.users import sign_in

    workspace = open_workspace(path)
    user = sign_in(workspace, "Bench")
    before = rss_mb()
    print(f"{args.accounts:,} accounts")
    holder: dict = {}

    def show() -> None:
        from ui.main_window import MainWindow

        window = MainWindow(workspace, user)
        window.resize(1280, 800)
        window.show()
        app.processEvents()
        holder["window"] = window

    timed("window shown", 0.5, show)
    window = holder["window"]
    timed("first rows painted", 1.0, lambda: window.table.viewport().grab())
    assert window.model.data(window.model.index(0, 0))

    def scroll() -> None:
        window.table.scrollToBottom()
        window.table.viewport().grab()

    timed("scroll to last row", 0.2, scroll)
    last = window.model.index(window.model.rowCount() - 1, 0)
    assert window.model.data(last)

    def resort() -> None:
        window.table.sortByColumn(3, Qt.SortOrder.DescendingOrder)
        window.table.viewport().grab()

    timed("re-sort by employees", 1.0, resort)

    def search() -> None:
        window.model.set_search("analytics toronto")
        window.table.viewport().grab()

    timed("search result", 1.0, search)
    print(f"  search found {window.model.rowCount():,} accounts")
    added = rss_mb() - before
    print(
        f"  memory the view adds         {added:7.1f} MB  (target <= 100 MB, "
        f"{'ok' if added <= 100 else 'HIGH'})"
    )


if __name__ == "__main__":
    main()
