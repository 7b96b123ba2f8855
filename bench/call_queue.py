"""A rep's call queue ("My day") on the field workspace: the queue of a rep who owns 5,000
listed accounts, against reading the same 5,000 accounts' names from the target list (the
floor: what any list of the rep's accounts costs) in the same run.

    python bench/call_queue.py                       # 1,000,000 accounts, 5,000,000 interactions
    python bench/call_queue.py --accounts 3000 --interactions 30000 --owned 1000

The demo's reps own far more than 5,000 accounts each on a million, so the bench gives a
new rep 5,000 of them inside a transaction that it rolls back: the cached workspace is left
as it was.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select, update

from bench.field_data import field_workspace
from domain.queue import RULES
from storage.queue import queue_entries
from storage.schema import AccountRow, TargetRow, UserRow, table_of
from storage.workspace import open_workspace

accounts = table_of(AccountRow)
targets = table_of(TargetRow)
users = table_of(UserRow)


def _best_of(runs: int, work: Callable[[], object]) -> tuple[float, float, object]:
    """The fastest and the median of ``runs`` timed calls, and what the last one gave."""
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--interactions", type=int, default=5_000_000)
    parser.add_argument("--owned", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    workspace = open_workspace(field_workspace(args.accounts, args.interactions))
    now = datetime.now(UTC)
    today = now.astimezone().date()
    rep_id = uuid.uuid4()
    with workspace.engine.connect() as conn, conn.begin() as transaction:
        conn.execute(insert(users).values(id=rep_id, name="Bench Rep", role="rep",
                                          changed_by="bench"))  # fmt: skip
        # every owned account has its field history; a spread of them, not the first ones
        owned = select(targets.c.id).where(
            targets.c.owner_id.is_not(None), targets.c.deleted_at.is_(None)
        )
        total = conn.execute(select(func.count()).select_from(owned.subquery())).scalar_one()
        step = max(1, total // args.owned)
        chosen = [
            row.id
            for n, row in enumerate(conn.execute(owned.order_by(targets.c.id)))
            if n % step == 0
        ][: args.owned]
        conn.execute(update(targets).where(targets.c.id.in_(chosen)).values(owner_id=rep_id))

        def floor() -> object:
            return conn.execute(
                select(accounts.c.id, accounts.c.name)
                .join(targets, targets.c.account_id == accounts.c.id)
                .where(targets.c.owner_id == rep_id, targets.c.deleted_at.is_(None))
                .order_by(targets.c.priority, accounts.c.name)
            ).all()

        def queue() -> object:
            return queue_entries(conn, rep_id, now, today, None, RULES)

        base, base_median, _ = _best_of(args.runs, floor)
        took, median, entries = _best_of(args.runs, queue)
        transaction.rollback()
    workspace.close()
    shown = len(entries)  # type: ignore[arg-type]
    verdict = "ok" if median <= 0.3 else "SLOW"
    print(f"{args.accounts:,} accounts, {args.interactions:,} interactions wanted; a rep owning "
          f"{len(chosen):,} listed accounts ({shown:,} open in the queue)")  # fmt: skip
    print(f"  floor: the rep's accounts by priority and name   {base:6.3f} s "
          f"(median {base_median:.3f})")  # fmt: skip
    print(f"  call queue, ranked with every reason             {took:6.3f} s (median {median:.3f}; "
          f"target <= 0.3 s, {verdict}); {median / base_median:.1f}x the floor")  # fmt: skip


if __name__ == "__main__":
    main()
