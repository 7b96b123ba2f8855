"""The dashboard's reads on the field workspace (1M accounts, 5M interactions): the owner's
home (the goal, both sides of the agreement, the funnel) and marketing's (this month's
hand-offs, lead quality, the dossiers to write), each panel's read timed alone and the whole
home, against a baseline measured in the same run: a plain ``sqlite3`` count of the period's
stage changes and interactions (one pass over each, no join, no grouping).

    python bench/dashboard.py                          # 1M accounts, 5M interactions
    python bench/dashboard.py --accounts 3000 --interactions 30000
    python bench/dashboard.py --metric meetings --now 2026-11-30

Each home is timed twice: each panel's read alone, one after the other, and their sum; then
as the app reads it (``ui/dashboard.py``): the home's reads started together on a pool of
as many threads as the app's (``QThreadPool``'s, one per core), each on its own read
connections (the agreement's on one a core, its hand-offs counted in parts side by side),
from their start to the last one's answer. What a person waits for is the second; the
target is judged on it.

The homes are read as the app reads them when a person opens it after the day's work: as of
the minute after the last interaction logged in the workspace (``--now`` names another
moment). A moment before it would see interactions logged after it, and every measure then
compares each fact's time with it, a slower read the app makes only when a clock runs
behind the one that logged them.

Target: each home in at most 1 s. The field workspace has no goal, so the bench sets one
(``--metric``, six months to the month of ``--now``) in a temporary table of each
connection's that stands for the goals' (SQLite finds a temporary table before the
workspace's of the same name), which writes nothing into the workspace. The cached workspace
is left as it was. The machine's load is printed before and after: the figures move with it.
"""

from __future__ import annotations

import argparse
import functools
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.timing import cpu_timed, timed

TARGET = 1.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--interactions", type=int, default=5_000_000)
    parser.add_argument(
        "--now", help="when the dashboard is read (default: after the last interaction logged)"
    )
    parser.add_argument("--metric", default="new-revenue", help="the goal's metric")
    parser.add_argument("--workspace", help="a workspace file instead of the cached one")
    args = parser.parse_args()

    from bench.field_data import field_workspace
    from domain.periods import Month
    from domain.users import Role
    from storage.targets import users_by_name
    from storage.workspace import open_workspace

    path = Path(args.workspace) if args.workspace else field_workspace(
        args.accounts, args.interactions)  # fmt: skip
    print(f"load before: {os.getloadavg()[0]:.1f}")
    now = read_at(path, args.now)
    first = Month.of(now.date()).plus(-5).first_day

    raw = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    bounds = (f"{first:%Y-%m-%d}", f"{Month.of(now.date()).plus(1).first_day:%Y-%m-%d}")
    for table in ("stage_changes", "interactions"):
        sql = f"SELECT count(*) FROM {table} WHERE +at >= ? AND +at < ?"
        took, (rows,) = timed(lambda sql=sql: raw.execute(sql, bounds).fetchone())
        print(f"  baseline: plain count of the goal period's {table} ({rows:,}): {took:.2f} s")
    raw.close()

    from ui.dashboard import MARKETING, OWNER

    homes = {"owner": (OWNER, Role.OWNER), "marketing": (MARKETING, Role.MARKETING)}
    workspace = open_workspace(path)
    with workspace.read() as conn:
        people = users_by_name(conn)
    with goal_in_every_connection(workspace, args.metric, now) as goal:
        for home, (layout, role) in homes.items():
            user = next(u for u in people.values() if u.role is role)
            total = cpu_total = 0.0
            for keys, read in layout.reads:
                took, cpu, _ = cpu_timed(functools.partial(read, workspace, now, user))
                total, cpu_total = total + took, cpu_total + cpu
                print(f"  {home}'s home: {', '.join(keys)}: {took:.2f} s ({cpu:.2f} s of CPU)")
            verdict = "within" if total <= TARGET else "OVER"
            print(f"  {home}'s home, every panel: {total:.2f} s ({cpu_total:.2f} s of CPU; "
                  f"{verdict} the {TARGET:.0f} s target)")  # fmt: skip
        for home, (layout, role) in homes.items():
            user = next(u for u in people.values() if u.role is role)
            for run in ("first", "second"):
                took, cpu, threads = as_the_app_reads(workspace, layout.reads, user, now)
                verdict = "within" if took <= TARGET else "OVER"
                print(f"  {home}'s home as the app reads it ({run} time: its reads together on "
                      f"{threads} threads): {took:.2f} s ({cpu:.2f} s of CPU; {verdict} the "
                      f"{TARGET:.0f} s target; load {os.getloadavg()[0]:.1f})")  # fmt: skip
    workspace.close()
    print(f"goal: {goal.metric.label}, {goal.period.label}; read as of {now:%Y-%m-%d %H:%M} UTC")
    print(f"load after: {os.getloadavg()[0]:.1f}")


@contextmanager
def goal_in_every_connection(workspace: Any, metric: str, now: datetime) -> Iterator[Any]:
    """The bench's goal (``metric`` over the six months to ``now``'s) seen by every
    connection the workspace opens meanwhile, in a temporary table of each connection's
    that SQLite finds before the workspace's goals: nothing is written into the workspace."""
    from sqlalchemy import event

    from bench.field_data import BENCH_GOAL_NUMBER, bench_goal, set_bench_goal
    from storage.workspace import READ_ONLY

    def seen(conn: Any) -> None:
        conn.execution_options(**{READ_ONLY: True})  # no write lock on the workspace
        conn.exec_driver_sql(
            "CREATE TEMP TABLE IF NOT EXISTS goal_versions AS SELECT * FROM main.goal_versions"
        )
        found = "SELECT 1 FROM temp.goal_versions WHERE number = ?"
        if conn.exec_driver_sql(found, (BENCH_GOAL_NUMBER,)).first() is None:
            set_bench_goal(conn, metric, now)
        conn.commit()

    event.listen(workspace.engine, "engine_connect", seen)
    try:
        yield bench_goal(metric, now)
    finally:
        event.remove(workspace.engine, "engine_connect", seen)
        workspace.engine.dispose()  # the pooled connections closed, their tables with them


def read_at(path: Path, now: str | None) -> datetime:
    """When the bench reads the workspace at ``path``: ``now`` (a day is read at its noon,
    UTC), or the minute after its last interaction was logged."""
    if now is not None:
        moment = datetime.fromisoformat(now)
        return (moment if len(now) > 10 else moment.replace(hour=12)).replace(tzinfo=UTC)
    raw = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    (last,) = raw.execute("SELECT max(at) FROM interactions").fetchone()
    raw.close()
    logged = datetime.fromisoformat(last).replace(tzinfo=UTC)
    return logged.replace(second=0, microsecond=0) + timedelta(minutes=1)


def as_the_app_reads(
    workspace: Any, reads: Any, user: Any, now: datetime
) -> tuple[float, float, int]:
    """A home's reads started together on the app's thread pool as ``ui.dashboard`` starts
    them, each opening its own read connections: the wall seconds from their start to the
    last answer, the process's CPU seconds, and the pool's threads."""
    from PySide6.QtCore import QThreadPool

    pool = QThreadPool.globalInstance()
    failed: list[BaseException] = []
    panels: dict[str, Any] = {}
    lock = threading.Lock()

    def work(read: Any) -> None:
        try:
            answer = read(workspace, now, user)
            with lock:
                panels.update(answer)
        except Exception as exc:  # said after the pool is done
            with lock:
                failed.append(exc)

    start, cpu = time.perf_counter(), time.process_time()
    for _keys, read in reads:
        pool.start(functools.partial(work, read))
    pool.waitForDone()
    took, cpu = time.perf_counter() - start, time.process_time() - cpu
    if failed:
        raise failed[0]
    if "goal" in panels and not panels["goal"].figures:
        raise RuntimeError("The goal's panel did not see the bench's goal.")
    return took, cpu, pool.maxThreadCount()


if __name__ == "__main__":
    main()
