"""Offline copies: taking a rep's copy of the team workspace and syncing it back, each
against a plain copy of the same rows measured in the same run.

    python bench/sync.py              # 100,000 accounts, 500,000 interactions, a rep's 5,000
    python bench/sync.py --accounts 20000 --interactions 100000 --owned 1000 --changes 2000

The team workspace is a copy of the field workspace (bench/field_data.py, cached under
``ACCORD_BENCH_OUT``) in which a new rep owns ``--owned`` listed accounts, spread over the
list, each with its history. Targets: the first checkout of a rep's 5,000 accounts ≤ 10 s,
a sync of 10,000 changes each way ≤ 5 s, a sync with nothing to do ≤ 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select, update

from bench.data import bench_out
from bench.field_data import field_workspace
from bench.timing import cpu_timed
from domain.users import Role, User
from storage.bulk import new_id
from storage.schema import AccountRow, ContactRow, TargetRow, UserRow, table_of
from storage.sync.checkout import checkout, copied_tables
from storage.sync.team import sync_with_team
from storage.workspace import Workspace, open_workspace

REP = "Bench Rep"
targets, users = table_of(TargetRow), table_of(UserRow)
accounts, contacts = table_of(AccountRow), table_of(ContactRow)


def said(name: str, took: tuple[float, float], floor: float, target: float) -> str:
    """A step's wall-clock and CPU seconds against its target and its floor, with the load
    (on a shared machine the wall clock is mostly waiting; the CPU time is what it costs)."""
    wall, cpu = took
    verdict = "ok" if wall <= target else "SLOW"
    return (f"  {name:<44} {wall:7.3f} s, CPU {cpu:6.3f} s (target <= {target:g} s, "
            f"{verdict}); {wall / floor:5.1f}x the plain copy ({floor:.3f} s); "
            f"load {os.getloadavg()[0]:.1f}")  # fmt: skip


def team_workspace(folder: Path, accounts: int, interactions: int, owned: int) -> Path:
    """A copy of the field workspace in which REP owns ``owned`` listed accounts."""
    path = folder / "team.sqlite"
    shutil.copyfile(field_workspace(accounts, interactions), path)
    team = open_workspace(path)
    with team.write() as conn:
        rep_id = new_id()
        conn.execute(insert(users).values(id=rep_id, name=REP, role=Role.REP.value,
                                          changed_by="bench"))  # fmt: skip
        listed = select(targets.c.id).where(
            targets.c.owner_id.is_not(None), targets.c.deleted_at.is_(None)
        )
        total = conn.execute(select(func.count()).select_from(listed.subquery())).scalar_one()
        step = max(1, total // owned)
        ids = [row.id for n, row in enumerate(conn.execute(listed.order_by(targets.c.id)))
               if n % step == 0][:owned]  # fmt: skip
        conn.execute(update(targets).where(targets.c.id.in_(ids)).values(owner_id=rep_id))
    team.close()
    return path


def plain_copy(team: Path, rep_copy: Workspace, into: Path) -> float:
    """The floor: the same rows copied by sqlite3 alone, INSERT … SELECT from the attached
    team file into an empty file of the same schema (made before the clock starts)."""
    shutil.copyfile(rep_copy.label, into)  # the schema, then emptied
    with closing(sqlite3.connect(into, isolation_level=None)) as conn:
        conn.execute("BEGIN")
        for table in reversed(copied_tables()):
            conn.execute(f"DELETE FROM {table.name}")
        conn.execute("COMMIT")
        conn.execute("VACUUM")
        conn.execute("ATTACH ? AS team", (str(team),))
        conn.execute("ATTACH ? AS copy", (rep_copy.label,))
        start = time.perf_counter()
        conn.execute("BEGIN")
        for table in copied_tables():
            ids = ", ".join(c.name for c in table.primary_key.columns)
            conn.execute(f"INSERT INTO main.{table.name} SELECT * FROM team.{table.name} "
                         f"WHERE ({ids}) IN (SELECT {ids} FROM copy.{table.name})")  # fmt: skip
        conn.execute("COMMIT")
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--interactions", type=int, default=500_000)
    parser.add_argument("--owned", type=int, default=5_000)
    parser.add_argument("--changes", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=bench_out()) as scratch:
        folder = Path(scratch)
        team_path = team_workspace(folder, args.accounts, args.interactions, args.owned)
        team = open_workspace(team_path)
        with team.read() as conn:
            row = conn.execute(select(users).where(users.c.name == REP)).one()
        rep = User(row.id, row.name, Role(row.role))
        wall, cpu, rep_copy = cpu_timed(lambda: checkout(team, folder / "rep.sqlite", rep))
        floor = plain_copy(team_path, rep_copy, folder / "plain.sqlite")
        print(f"{args.accounts:,} accounts, {args.interactions:,} interactions wanted; "
              f"a rep owning {args.owned:,} listed accounts")  # fmt: skip
        print(said(f"first checkout of the rep's {args.owned:,} accounts", (wall, cpu), floor,
                   10))  # fmt: skip
        contact_ids, account_ids = edit_both(team, rep_copy, args.changes)
        wall, cpu, summary = cpu_timed(lambda: sync_with_team(rep_copy, team, rep))
        floor = plain_sync(team_path, Path(rep_copy.label), contact_ids, account_ids)
        print(said(f"a sync of {args.changes:,} changes each way", (wall, cpu), floor, 5)
              + f"\n    {summary.sentence()}")  # fmt: skip
        wall, cpu, summary = cpu_timed(lambda: sync_with_team(rep_copy, team, rep))
        floor = plain_sync(team_path, Path(rep_copy.label), [], [])
        print(said("a sync with nothing to do", (wall, cpu), floor, 0.5)
              + f"\n    {summary.sentence()}")  # fmt: skip
        rep_copy.close()
        team.close()


def edit_both(team: Workspace, rep_copy: Workspace, changes: int) -> tuple[list[str], list[str]]:
    """``changes`` edits on each side: contacts' titles on the rep's copy (a rep keeps their
    contacts up to date), two fields of the rep's accounts on the team database."""
    with rep_copy.write() as conn:
        ids = [
            r.id for r in conn.execute(select(contacts.c.id).order_by(contacts.c.id).limit(changes))
        ]
        for n, contact_id in enumerate(ids):
            conn.execute(update(contacts).where(contacts.c.id == contact_id)
                         .values(title=f"Buyer {n}", changed_by=REP))  # fmt: skip
        theirs = [r.id for r in conn.execute(select(accounts.c.id).order_by(accounts.c.id)
                                             .limit(changes // 2))]  # fmt: skip
    with team.write() as conn:
        for n, account_id in enumerate(theirs):
            conn.execute(update(accounts).where(accounts.c.id == account_id)
                         .values(city=f"City {n}", industry=f"Industry {n}",
                                 changed_by="Bench"))  # fmt: skip
    return [i.hex for i in ids], [i.hex for i in theirs]


def plain_sync(team: Path, rep_copy: Path, contact_ids: list[str], account_ids: list[str]) -> float:
    """The floor: the same values read from one file and written into the other by
    sqlite3 alone, each side one transaction (after the sync, so they are written again)."""
    start = time.perf_counter()
    with closing(sqlite3.connect(team, isolation_level=None)) as up, \
            closing(sqlite3.connect(rep_copy, isolation_level=None)) as down:  # fmt: skip
        for source, target, table, columns, ids in (
            (down, up, "contacts", ("title",), contact_ids),
            (up, down, "accounts", ("city", "industry"), account_ids),
        ):
            rows = []
            for chunk in range(0, len(ids), 500):
                some = ids[chunk : chunk + 500]
                marks = ", ".join("?" * len(some))
                rows += source.execute(f"SELECT {', '.join(columns)}, id FROM {table} "
                                       f"WHERE id IN ({marks})", some).fetchall()  # fmt: skip
            target.execute("BEGIN IMMEDIATE")
            sets = ", ".join(f"{c} = ?" for c in columns)
            target.executemany(f"UPDATE {table} SET {sets} WHERE id = ?", rows)
            target.execute("COMMIT")
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
