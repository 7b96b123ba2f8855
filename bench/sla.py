"""The service agreement's compliance on the field workspace (1M accounts, 5M interactions):
the dashboard's two agreement panels (the owner's, over the goal's period, and marketing's
hand-offs this month: the sections with the black hole's count and first rows),
``sla_figures`` (the eight figures alone), ``sla_sections`` (the two sides with their
figures and the whole black hole: what the SLA report and the meeting pack read)
and ``handoff_rows`` (the raw hand-offs, streamed to nowhere: the first ``RAW_ROWS``, what a
workbook lists, then all of them), against a baseline measured
in the same run: a plain ``sqlite3`` count of the period's hand-offs and scan of its
interactions by their time index.

    python bench/sla.py                                  # 1M accounts, 5M interactions
    python bench/sla.py --accounts 100000 --interactions 500000
    python bench/sla.py --workspace COPY.sqlite --now 2026-11-30

Targets: each dashboard panel in at most 0.3 s, each report in at most 10 s. The workspace is
bench/field_data.py's, built once and cached (ACCORD_BENCH_OUT names where); it is only read
(once migrated: the service agreement's facts, migration 0015, take minutes to fill on it).
Each figure says its CPU seconds beside the wall clock, and the machine's load.
"""

from __future__ import annotations

import argparse
import functools
import os
import sqlite3
import sys
from datetime import UTC
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.timing import cpu_timed, timed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--interactions", type=int, default=5_000_000)
    parser.add_argument("--workspace", help="a workspace file (a copy) instead of the cached one")
    parser.add_argument("--now", help="when the figures are read (default: after the last "
                        "interaction logged, as bench/dashboard.py reads them)")  # fmt: skip
    args = parser.parse_args()

    from bench.dashboard import read_at
    from bench.field_data import field_workspace
    from domain.users import Role
    from reports.report_xlsx import RAW_ROWS
    from storage.read_models.dashboard import agreement_panels
    from storage.read_models.reports import report_scope
    from storage.read_models.sla_compliance import handoff_rows, sla_figures, sla_sections
    from storage.targets import users_by_name
    from storage.workspace import open_workspace

    path = Path(args.workspace) if args.workspace else field_workspace(
        args.accounts, args.interactions)  # fmt: skip
    now = read_at(path, args.now)
    workspace = open_workspace(path)
    with workspace.read() as conn:
        scope = report_scope(conn, now)
        people = users_by_name(conn).values()
        owner = next(u for u in people if u.role is Role.OWNER)
        marketer = next(u for u in people if u.role is Role.MARKETING)
    zone = scope.calendar.zone
    start, end = (scope.period.start(zone), scope.period.end(zone))
    bounds = tuple(t.astimezone(UTC).replace(tzinfo=None).isoformat(" ") for t in (start, end))
    raw = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def scan() -> tuple[int, int]:
        handoffs = raw.execute(
            "SELECT count(*) FROM targets WHERE handed_off_at >= ? AND handed_off_at < ?",
            bounds,
        ).fetchone()[0]
        seen = raw.execute(
            "SELECT count(*), sum(length(outcome)) FROM interactions WHERE at >= ? AND at < ?",
            bounds,
        ).fetchone()[0]
        return handoffs, seen

    scan()  # warms the page cache for every measure alike
    baseline, (handoffs, seen) = timed(scan)
    print(f"{path.name}; {scope.period.label}: {handoffs:,} hand-offs, "
          f"{seen:,} interactions; load {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"  baseline (plain scan of the period's hand-offs and interactions) {baseline:6.2f} s")

    def row(label: str, seconds: float, cpu: float, target: float) -> None:
        verdict = "ok" if seconds <= target else "SLOW"
        print(f"  {label:<34} {seconds:7.2f} s ({cpu:6.2f} s CPU)  "
              f"{seconds / baseline:6.1f}x baseline  target {target:g} s  {verdict}"
              f"  load {os.getloadavg()[0]:.1f}")  # fmt: skip

    def streamed(first: int | None = None) -> int:
        with workspace.read() as conn:
            return sum(1 for _ in islice(handoff_rows(conn, scope).rows, first))

    panels = {"owner's agreement panel": (agreement_panels(False), owner),
              "marketing's hand-offs this month": (agreement_panels(True), marketer)}  # fmt: skip
    for label, (read, user) in panels.items():
        row(label, *cpu_timed(functools.partial(read, workspace, now, user))[:2], 0.3)
    with workspace.read() as conn:
        row("sla_figures (the figures alone)", *cpu_timed(lambda: sla_figures(conn, scope))[:2], 1)
        row("sla_sections (the SLA report)", *cpu_timed(lambda: sla_sections(conn, scope))[:2],
            10)  # fmt: skip
    seconds, cpu, count = cpu_timed(lambda: streamed(RAW_ROWS))
    row(f"handoff_rows, a workbook's {count:,}", seconds, cpu, 10)
    seconds, cpu, count = cpu_timed(streamed)
    row(f"handoff_rows ({count:,} rows)", seconds, cpu, 10)
    workspace.close()


if __name__ == "__main__":
    main()
