"""The field feedback view on the field workspace (1M accounts, 5M interactions): its first
page, unfiltered and under each filter, a page far down the list, what the filters offer,
and the view opened offscreen; against a baseline measured in the same run, a plain
``sqlite3`` read of the 100 newest interactions by their time index.

    python bench/field_feedback.py                       # 1M accounts, 5M interactions
    python bench/field_feedback.py --accounts 3000 --interactions 30000

Target: the first page in at most 0.5 s. The workspace is bench/field_data.py's, built once
and cached (ACCORD_BENCH_OUT names where).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET = 0.5


def best_of(action: Callable[[], Any], runs: int = 3) -> float:
    """The median of ``runs`` timings, after one run that warms the page cache."""
    action()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--interactions", type=int, default=5_000_000)
    args = parser.parse_args()

    from bench.field_data import field_workspace
    from storage.read_models.field_feedback import (
        PAGE_SIZE,
        FeedbackFilter,
        feedback_choices,
        feedback_page,
    )
    from storage.workspace import open_workspace

    path = field_workspace(args.accounts, args.interactions)
    raw = sqlite3.connect(path)
    total = raw.execute("SELECT count(*) FROM interactions").fetchone()[0]
    rep, industry, source = raw.execute(
        "SELECT i.logged_by, a.industry, a.source FROM interactions i "
        "JOIN accounts a ON a.id = i.account_id ORDER BY i.at DESC LIMIT 1"
    ).fetchone()
    baseline = best_of(
        lambda: raw.execute(
            f"SELECT * FROM interactions ORDER BY at DESC LIMIT {PAGE_SIZE}"
        ).fetchall()
    )
    workspace = open_workspace(path)
    print(f"{args.accounts:,} accounts, {total:,} interactions; baseline (plain read of the "
          f"{PAGE_SIZE} newest interactions) {baseline * 1000:.1f} ms")  # fmt: skip

    def row(label: str, seconds: float, target: float | None = TARGET) -> None:
        verdict = "" if target is None else ("ok" if seconds <= target else "SLOW")
        print(f"  {label:<34} {seconds * 1000:8.1f} ms  {seconds / baseline:7.1f}x baseline"
              f"  {verdict}")  # fmt: skip

    filters = {
        "first page": FeedbackFilter(),
        f"rep {rep}": FeedbackFilter(rep=rep),
        "tier A": FeedbackFilter(tier="A"),
        f"industry {industry}": FeedbackFilter(industry=industry),
        f"source {source}": FeedbackFilter(source=source),
        "lead quality 1": FeedbackFilter(rating=1),
        "rejected leads": FeedbackFilter(rejected=True),
        "rejected, tier C, one rep": FeedbackFilter(rep=rep, tier="C", rejected=True),
    }
    for label, chosen in filters.items():
        row(label, best_of(lambda c=chosen: feedback_page(workspace, c)))

    def far_down() -> None:
        after = None
        for _ in range(50):
            after = feedback_page(workspace, FeedbackFilter(), after)[-1].after

    row("50 pages, one after another", best_of(far_down, 1) / 50)
    row("what the filters offer", best_of(lambda: feedback_choices(workspace), 1), None)

    from PySide6.QtWidgets import QApplication

    from storage.demo.build import MARKETER
    from storage.users import sign_in
    from ui.field_feedback import FieldFeedback

    app = QApplication([])
    marketing = sign_in(workspace, MARKETER)

    def opened() -> None:
        view = FieldFeedback(workspace, marketing)
        view.resize(1280, 680)
        view.show()
        view.table.viewport().grab()
        view.close()
        view.deleteLater()
        app.processEvents()

    row("view opened, first lines painted", best_of(opened, 1), None)
    workspace.close()


if __name__ == "__main__":
    main()
