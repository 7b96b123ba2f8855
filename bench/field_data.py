"""The field benchmarks' workspace: a million accounts with the demo's target list, reps,
and field history grown to five million interactions (the demo's own stories, longer), built
once and cached.

    python bench/field_data.py            # build it (minutes), or say where it is

``ACCORD_BENCH_OUT`` names a folder to keep it in (default bench/out/), so that several
checkouts share one copy; a lock file makes a second builder wait for the first.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain.goal import Goal, Metric
from domain.periods import Month


def field_workspace(accounts: int = 1_000_000, interactions: int = 5_000_000) -> Path:
    """A SQLite workspace of ``accounts`` demo accounts whose owned listed accounts carry
    about ``interactions`` interactions in all, with their stage history and engagement."""
    from sqlalchemy import func, select

    from bench.data import building, demo_workspace
    from storage.demo.build import MARKETER
    from storage.demo.field import field_history
    from storage.schema import TargetRow, utcnow
    from storage.workspace import open_workspace

    with building(f"field-{accounts}-{interactions}") as path:
        if path.exists():
            return path
        base = demo_workspace(accounts)  # its own demo history is small; replaced below
        start = time.perf_counter()
        partial = path.with_suffix(".partial")
        shutil.copyfile(base, partial)
        workspace = open_workspace(partial)
        with workspace.write() as conn:
            for table in ("stage_changes", "interactions", "engagements"):
                conn.exec_driver_sql(f"DELETE FROM {table}")
            owned = conn.execute(
                select(func.count()).where(TargetRow.owner_id.is_not(None))
            ).scalar_one()
            # a story has about six interactions at touches=1.0, 85 % of owned accounts are
            # handed off, and a fifth of the stories are cut short by today
            touches = interactions / max(1, owned) / 6 / 0.85 * 1.25
            history = field_history(conn, utcnow(), 1, MARKETER, touches=touches)
        workspace.close()
        partial.rename(path)
        print(f"built {history.interactions:,} interactions on {owned:,} owned accounts "
              f"in {time.perf_counter() - start:.0f} s")  # fmt: skip
        return path


#: The number of the goal's version the bench sets.
BENCH_GOAL_NUMBER = 10_000


def set_bench_goal(conn: Any, metric: str, now: datetime) -> Goal:
    """Set a goal of ``metric`` over the six months to the month of ``now`` on ``conn``, in
    its transaction, for the caller to roll back: the field workspace has no goal, and the
    goal's panel and pages read nothing without one."""
    from sqlalchemy import insert

    from storage.schema import GoalVersionRow, table_of

    goal = bench_goal(metric, now)
    row = {"number": BENCH_GOAL_NUMBER, "document": goal.to_document(), "created_at": now}
    conn.execute(insert(table_of(GoalVersionRow)).values(**row, created_by="Bench"))
    return goal


def bench_goal(metric: str, now: datetime) -> Goal:
    """The goal the bench sets: ``metric`` over the six months to the month of ``now``."""
    first = Month.of(now.date()).plus(-5).first_day
    return Goal(Metric(metric), 400_000, first, 6, ("Alex Morgan", "Maya Chen"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--interactions", type=int, default=5_000_000)
    args = parser.parse_args()
    print(field_workspace(args.accounts, args.interactions))


if __name__ == "__main__":
    main()
