"""Logging an interaction and reading an account's timeline on the field workspace (a million
accounts, five million interactions), each beside a plain baseline measured in the same
run: a bare INSERT of an interaction row, committed; a bare indexed SELECT of one account's
interactions.

    python bench/log_and_timeline.py                       # 1,000,000 / 5,000,000
    python bench/log_and_timeline.py --accounts 3000 --interactions 30000

The workspace is shared (bench/field_data.py): what the run logs is taken out again at the
end, and the accounts' stages put back as they were.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete, func, insert, select, update

from bench.field_data import field_workspace
from domain.interactions import Channel, Interaction, Outcome, log_interaction
from storage.bulk import new_id
from storage.goal_facts import refresh_goal_facts
from storage.interactions import interactions, stage_changes, targets
from storage.learning_facts import refresh_learning_facts
from storage.queue_facts import refresh_queue_facts
from storage.reach import refresh_reach
from storage.read_models.timeline import account_timeline
from storage.repositories import SqlUnitOfWork
from storage.sla_facts import refresh_sla_facts
from storage.users import sign_in
from storage.workspace import open_workspace

ROUNDS = 30


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--interactions", type=int, default=5_000_000)
    args = parser.parse_args()
    workspace = open_workspace(field_workspace(args.accounts, args.interactions))
    owner = sign_in(workspace, "Bench")  # the demo makes Bench its owner: it logs anywhere
    with workspace.read() as conn:
        total = conn.execute(select(func.count()).select_from(interactions)).scalar_one()
        # the accounts with the longest histories, and listed ones to log against
        busiest = conn.execute(
            select(interactions.c.account_id)
            .group_by(interactions.c.account_id)
            .order_by(func.count().desc())
            .limit(ROUNDS)
        ).scalars().all()  # fmt: skip
        listed = conn.execute(
            select(targets.c.account_id, targets.c.stage, targets.c.updated_at,
                   targets.c.changed_by, targets.c.version)
            .where(targets.c.deleted_at.is_(None))
            .limit(ROUNDS)
        ).all()  # fmt: skip
    print(f"{args.accounts:,} accounts, {total:,} interactions")

    def bare_select(account_id: uuid.UUID) -> None:
        with workspace.read() as conn:
            conn.execute(select(interactions).where(interactions.c.account_id == account_id)).all()

    def timeline(account_id: uuid.UUID) -> None:
        account_timeline(workspace, account_id)

    for account_id in busiest[:3]:  # warm the cache
        timeline(account_id)
    baseline = _median(bare_select, busiest)
    read = _median(timeline, busiest)
    longest = len(account_timeline(workspace, busiest[0]))
    verdict = "ok" if read <= 0.1 else "SLOW"
    print(
        f"  baseline: bare indexed SELECT of an account's interactions  {1000 * baseline:7.2f} ms"
    )
    print(f"  an account's timeline (the busiest, up to {longest} entries)    "
          f"{1000 * read:7.2f} ms (target <= 100 ms, {verdict}); {read / baseline:.1f}x the "
          "bare SELECT")  # fmt: skip

    logged: list[uuid.UUID] = []
    at = datetime.now(UTC) - timedelta(minutes=10)

    def bare_insert(account_id: uuid.UUID) -> None:
        row_id = new_id()
        with workspace.write() as conn:
            conn.execute(insert(interactions).values(
                id=row_id, account_id=account_id, at=at, channel="call", outcome="conversation",
                meaningful=True, learned="bench", logged_by=owner.name,
                logged_at=datetime.now(UTC)))  # fmt: skip
        logged.append(row_id)

    def log(account_id: uuid.UUID) -> None:
        entry = Interaction(account_id, Channel.CALL, Outcome.MEETING_BOOKED, at, learned="bench")
        done = log_interaction(SqlUnitOfWork(workspace), owner, entry)
        assert done.interaction.id is not None
        logged.append(done.interaction.id)

    accounts = [row.account_id for row in listed]
    try:
        insert_floor = _median(bare_insert, accounts)
        saved = _median(log, accounts)
    finally:
        _take_back(workspace, logged, listed)
    verdict = "ok" if saved <= 0.05 else "SLOW"
    print(f"  baseline: bare INSERT of an interaction, committed          "
          f"{1000 * insert_floor:7.2f} ms")  # fmt: skip
    print(f"  log an interaction (checks, stage change, commit)          {1000 * saved:7.2f} ms "
          f"(target <= 50 ms, {verdict}); {saved / insert_floor:.1f}x the bare INSERT")  # fmt: skip


def _median(action, arguments) -> float:  # type: ignore[no-untyped-def]
    times = []
    for argument in arguments:
        start = time.perf_counter()
        action(argument)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _take_back(workspace, logged, listed) -> None:  # type: ignore[no-untyped-def]
    """The shared workspace as it was: the run's interactions and stage changes out (and
    the funnel's summary and the agreement's facts of them recomputed), the stages back."""
    with workspace.write() as conn:
        conn.execute(delete(stage_changes).where(stage_changes.c.interaction_id.in_(logged)))
        conn.execute(delete(interactions).where(interactions.c.id.in_(logged)))
        for row in listed:
            conn.execute(
                update(targets)
                .where(targets.c.account_id == row.account_id)
                .values(stage=row.stage, updated_at=row.updated_at, changed_by=row.changed_by,
                        version=row.version)
            )  # fmt: skip
        touched = [row.account_id for row in listed]
        refresh_reach(conn, touched)
        refresh_sla_facts(conn, touched)
        refresh_goal_facts(conn, touched)
        refresh_queue_facts(conn, touched)
        refresh_learning_facts(conn, touched)


if __name__ == "__main__":
    main()
