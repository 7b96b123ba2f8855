"""The closed loop's parts on the field workspace (1M accounts, 5M interactions): the funnel,
lead quality, the learnings digest and the ICP's calibration, for the whole team and for
each rep, each timed alone; against baselines measured in the same run, a plain scan of the
period's stage changes and of its interactions (``sqlite3``, no join, no grouping).

    python bench/closed_loop.py                        # 1M accounts, 5M interactions
    python bench/closed_loop.py --accounts 3000 --interactions 30000
    python bench/closed_loop.py --period 2026-11..2026-11 --rep ""   # one month, no rep
    python bench/closed_loop.py --workspace COPY.sqlite   # a copy of it, migrated

Target: the closed-loop report in at most 10 s, so each part well under it. The workspace is
bench/field_data.py's, built once and cached (ACCORD_BENCH_OUT names where); it is only
read. The machine's load is printed before and after, and each part's CPU seconds beside
its wall seconds: on a shared machine the wall clock is mostly waiting.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.timing import timed

TARGET = 10.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--interactions", type=int, default=5_000_000)
    parser.add_argument("--period", default="2026-06..2026-11")
    parser.add_argument("--now", default="2026-11-30", help="the day the report is made")
    parser.add_argument("--rep", action="append", help="a rep's scope too (default: each rep)")
    parser.add_argument("--workspace", help="a workspace file (a copy: opening migrates it)")
    args = parser.parse_args()

    from bench.field_data import field_workspace
    from domain.periods import Period
    from domain.report import Scope
    from domain.users import Role
    from storage.agreements import current_calendar
    from storage.read_models import closed_loop
    from storage.targets import users_by_name
    from storage.workspace import open_workspace

    path = args.workspace or field_workspace(args.accounts, args.interactions)
    print(f"load before: {os.getloadavg()[0]:.1f}")
    workspace = open_workspace(path)
    with workspace.read() as conn:
        calendar = current_calendar(conn)
        reps = args.rep if args.rep is not None else sorted(
            u.name for u in users_by_name(conn).values() if u.role is Role.REP
        )  # fmt: skip
    period = Period.parse(args.period)
    start, end = period.start(calendar.zone), period.end(calendar.zone)
    now = datetime.fromisoformat(args.now).replace(tzinfo=UTC)

    raw = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    bounds = (start.strftime("%Y-%m-%d %H:%M:%S"), end.strftime("%Y-%m-%d %H:%M:%S"))
    scans = {
        "stage changes": "SELECT count(*), max(to_stage) FROM stage_changes "
        "WHERE +at >= ? AND +at < ?",
        "interactions": "SELECT count(*), max(outcome) FROM interactions "
        "WHERE +at >= ? AND +at < ?",
    }
    size = f"{args.accounts:,} accounts, {args.interactions:,} interactions"
    print(f"period {period.label}, {args.workspace or size}")
    for name, sql in scans.items():
        took, (rows, _) = timed(lambda sql=sql: raw.execute(sql, bounds).fetchone())
        print(f"  baseline: plain scan of the period's {name} ({rows:,} rows): {took:.2f} s")
    raw.close()

    parts = {
        "funnel": closed_loop.funnels,
        "lead quality": closed_loop.lead_quality,
        "learnings digest": closed_loop.learnings,
        "calibration": closed_loop.calibration,
    }
    for rep in [None, *(r for r in reps if r)]:
        scope, who = Scope(period, calendar, now, rep), rep or "whole team"
        total = cpu = 0.0
        with workspace.read() as conn:
            for name, read in parts.items():
                before = time.process_time()
                took, _ = timed(lambda read=read, scope=scope: read(conn, scope))
                spent = time.process_time() - before
                total, cpu = total + took, cpu + spent
                print(f"  {who}: {name}: {took:.2f} s ({spent:.2f} s of CPU)")
        verdict = "within" if total <= TARGET else "OVER"
        print(f"  {who}: all four: {total:.2f} s, {cpu:.2f} s of CPU ({verdict} the "
              f"{TARGET:.0f} s target)")  # fmt: skip
    workspace.close()
    print(f"load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
