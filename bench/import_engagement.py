"""Engagement import speed: the real import of a marketing export into a workspace of many
accounts, against its floor measured in the same run as the account import's is (a plain
csv.reader + sqlite3.executemany load of the same rows, plus building the engagement
indexes again on them); and the account import's own ratio to its floor, for the target
("the same ratio to its baseline as the account import").

    python bench/import_engagement.py --accounts 1000000 --rows 1000000
    python bench/import_engagement.py --accounts 100000 --rows 1000000
    python bench/import_engagement.py --accounts 3000 --rows 30000 --workspace demo

The workspace is a copy of a cached one (bench/data.py's demo workspace, or
bench/field_data.py's field workspace with its engagement and interactions history, five
interactions an account unless --interactions says otherwise). A big file is read by a
process of its own beside the import: the CPU seconds printed are both processes', and
each one's, since on an idle machine the import takes about as long as the busier one.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import sqlite3
import sys
import tempfile
from collections import deque
from datetime import UTC, datetime, timedelta
from itertools import cycle
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from bench.data import demo_workspace, write_csv
from bench.field_data import field_workspace
from bench.import_accounts import baseline, index_build, real_import
from bench.timing import Spent, spent
from domain.engagement import (
    ENGAGEMENT_FIELDS,
    EngagementKind,
    EngagementOptions,
    engagement_fields,
)
from storage.bulk import SORT_HELPERS, cycle_collector_paused
from storage.importing.engagement import (
    engagement_reading,
    engagements,
    import_engagement,
    mapped_engagement_fields,
)
from storage.importing.files import open_table
from storage.importing.importer import accounts, contacts
from storage.importing.reading import Reading, chunks
from storage.importing.staging import KEYS
from storage.queries import LIVE_ACCOUNT
from storage.users import sign_in
from storage.workspace import open_workspace

HEADERS = ["Email", "Website", "Company", "Activity", "Date", "Campaign", "Source", "Notes"]
CAMPAIGNS = ["Spring webinar", "Trade fair Hanover", "Pricing guide", "Q3 newsletter",
             "Demo request page"]  # fmt: skip
SOURCES = ["HubSpot", "Eventbrite", "Zoom", "Mailchimp", "Salesforce"]


def write_engagement(db: Path, path: Path, rows: int, seed: int = 3) -> Path:
    """``rows`` rows of engagement naming the workspace's accounts as exports do: a third
    by a contact's e-mail, a third by website, a third by name; one row in fifty names no
    account (to be rejected and listed)."""
    rng = random.Random(seed)
    workspace = open_workspace(db)
    with workspace.read() as conn:
        found = conn.execute(select(accounts.c.website, accounts.c.name).where(LIVE_ACCOUNT))
        companies = [(w, n) for w, n in found]
        emails = [e for (e,) in conn.execute(select(contacts.c.email).where(
            contacts.c.deleted_at.is_(None), contacts.c.email.is_not(None)))]  # fmt: skip
    workspace.close()
    kinds = cycle([k.value for k in EngagementKind])
    start = datetime.now(UTC) - timedelta(days=180)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        for n in range(rows):
            website, name = rng.choice(companies)
            email = rng.choice(emails) if emails else ""
            way = n % 3
            row = [email if way == 0 else "", website if way == 1 else "",
                   name if way == 2 else ""]  # fmt: skip
            if n % 50 == 49:
                row = [f"someone{n}@nowhere.example", "", f"Nobody {n} Ltd"]
            at = start + timedelta(seconds=rng.randrange(180 * 86400))
            writer.writerow([*row, next(kinds), at.strftime("%Y-%m-%d %H:%M:%S UTC"),
                             rng.choice(CAMPAIGNS), rng.choice(SOURCES),
                             "asked about pricing" if n % 7 == 0 else ""])  # fmt: skip
    return path


def engagement_import(db: Path, path: Path) -> tuple[Spent, str]:
    workspace = open_workspace(db)
    user = sign_in(workspace, "Bench")
    took, summary = spent(lambda: import_engagement(workspace, user, path, EngagementOptions()))
    workspace.close()
    return took, summary.describe()


def _reading(workspace_db: Path, path: Path) -> Reading:
    """How the import reads the file's rows (as the staging table takes them), on
    ``workspace_db``."""
    workspace = open_workspace(workspace_db)
    options = EngagementOptions()
    table = open_table(path, ENGAGEMENT_FIELDS, None, None, None)
    fields = engagement_fields(kind_chosen=False)
    mapped = mapped_engagement_fields(table, options, fields)
    reading = engagement_reading(workspace, table, options, fields, mapped)
    workspace.close()
    return reading


#: Per way of matching, its key's place in a staged row and the index that finds it.
_LOOKUPS = (
    (KEYS[0], "contacts", "email_key"),
    (KEYS[1], "accounts", "domain_key"),
    (KEYS[2], "accounts", "name_key"),
)


def lookup_floor(db: Path, path: Path) -> tuple[Spent, int]:
    """Seconds to find whether each row's account is there the plainest way SQLite can:
    every row's first key (its contact e-mail's, else its website's domain, else its name's,
    as the import makes them, worked out beforehand) put in a temporary table and looked up,
    all at once, in the index the import uses for it (contacts' e-mail key, accounts' domain
    and name keys), one probe a row. Work that no import into a workspace of this size can
    save: the account import's floor has none of it, as it starts from an empty workspace.
    (Until 2026-12-01 the cells were looked up as the file has them: a website is not a
    domain nor a name its key, so two ways in three found no account and cost next to
    nothing.)"""
    first = []
    for chunk in chunks(_reading(db, path)):
        for row in chunk.staged:
            way = next((way for way, (place, _, _) in enumerate(_LOOKUPS) if row[place]), None)
            if way is not None:
                first.append((way, row[_LOOKUPS[way][0]]))
    conn = sqlite3.connect(db)

    def look_up() -> int:
        conn.execute("CREATE TEMP TABLE k (way INTEGER, key TEXT)")
        conn.executemany("INSERT INTO k VALUES (?, ?)", first)
        found = 0
        for way, (_, table, key) in enumerate(_LOOKUPS):
            held = f"SELECT 1 FROM {table} t WHERE t.{key} = k.key AND t.deleted_at IS NULL"
            query = f"SELECT count(*) FROM k WHERE way = {way} AND EXISTS ({held})"
            found += conn.execute(query).fetchone()[0]
        return found

    took, found = spent(look_up)
    conn.close()
    return took, found


def reading_alone(db: Path, path: Path) -> Spent:
    """What the process that reads a big file does, done alone in this one: the file read,
    parsed and made the rows the import stages (nothing sent, nothing stored). On an idle
    machine the import takes at least as long as this, however little the importing
    process does beside it."""
    reading = _reading(db, path)
    with cycle_collector_paused():  # as the reader process runs
        took, _ = spent(lambda: deque(chunks(reading), maxlen=0))
    return took


def _ratios(took: Spent, floor: Spent) -> str:
    """Wall and CPU ratios, and the busier process's CPU to the floor's: what an idle
    machine's wall ratio comes near, the reader working beside the import."""
    busier = max(took.own, took.children)
    return (
        f"{took.wall / floor.wall:.1f}x wall, {took.cpu / floor.cpu:.1f}x CPU "
        f"({busier / floor.cpu:.1f}x for the busier process)"
    )


def _per_row(seconds: float, rows: int) -> str:
    return f"{seconds / rows * 1e6:.1f} us a row"


def account_ratio(rows: int, folder: Path) -> str:
    """The account import's ratio to its floor on ``rows`` rows, as bench/import_accounts.py
    measures it: wall and CPU."""
    path = write_csv(folder / "accounts.csv", rows)
    plain = baseline(path, folder / "accounts-baseline.sqlite")
    took, _, _ = real_import(path, folder / "accounts.sqlite")
    return _ratios(took, plain + index_build(folder / "accounts.sqlite"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--interactions", type=int, default=None, help="default: five an account")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workspace", choices=("field", "demo"), default="field")
    parser.add_argument(
        "--account-rows", type=int, default=None,
        help="rows of the account import whose ratio to its floor is the target "
        "(default: --rows; 0 skips it)",
    )  # fmt: skip
    args = parser.parse_args()
    cached = (
        field_workspace(args.accounts, args.interactions or 5 * args.accounts)
        if args.workspace == "field"
        else demo_workspace(args.accounts)
    )
    with tempfile.TemporaryDirectory(dir=cached.parent) as tmp:
        folder = Path(tmp)
        db = folder / "workspace.sqlite"
        shutil.copyfile(cached, db)
        path = write_engagement(db, folder / "engagement.csv", args.rows)
        with open_workspace(db).read() as conn:
            stored = conn.execute(select(engagements.c.id).limit(1)).first() is not None
        load = os.getloadavg()[0]
        plain = baseline(path, folder / "baseline.sqlite")
        took, summary = engagement_import(db, path)
        indexes = index_build(db, engagements)
        floor = plain + indexes
        rows = args.rows
        before = ", with engagement before" if stored else ""
        print(f"Engagement CSV {rows:,} rows into {args.accounts:,} accounts "
              f"({args.workspace} workspace{before})")  # fmt: skip
        print(f"  baseline csv.reader + executemany: {plain.wall:.2f} s")
        print(f"  floor: the baseline + building the {len(engagements.indexes)} engagement "
              f"indexes again {indexes.wall:.2f} s = {floor.wall:.2f} s; "
              f"CPU {floor.cpu:.2f} s, {_per_row(floor.cpu, rows)}")  # fmt: skip
        print(f"  Accord import: {took.wall:.2f} s ({rows / took.wall:,.0f} rows/s, "
              f"{took.wall * 1_000_000 / rows:.0f} s a million rows); "
              f"CPU {took.cpu:.2f} s, {_per_row(took.cpu, rows)}: the importing process "
              f"{_per_row(took.own, rows)}, the process reading the file "
              f"{_per_row(took.children, rows)}")  # fmt: skip
        print(f"  ratio to the floor: {_ratios(took, floor)}")
        # the import builds an index it dropped with the sorter's helper threads: so may the floor
        helped = plain + index_build(db, engagements, helpers=SORT_HELPERS)
        print(f"  the same floor given the import's help (SQLite's sorter with {SORT_HELPERS} "
              f"helper threads): {helped.wall:.2f} s, CPU {_per_row(helped.cpu, rows)}; "
              f"ratio to it: {_ratios(took, helped)}")  # fmt: skip
        lookups, found = lookup_floor(db, path)
        matched = floor + lookups
        print(f"  finding the rows' accounts, plainly (each row's first key, as the import "
              f"makes it, probed in its index; {found:,} rows found one): "
              f"{lookups.wall:.2f} s, CPU {lookups.cpu:.2f} s; "
              f"the floor with it {matched.wall:.2f} s, CPU {_per_row(matched.cpu, rows)}; "
              f"ratio to that: {_ratios(took, matched)}")  # fmt: skip
        alone = reading_alone(db, path)
        print(f"  the reading alone (the file read, parsed and made the rows the import stages, "
              f"in one process, as the reader process does beside the import): "
              f"{alone.wall:.2f} s, CPU {_per_row(alone.cpu, rows)}, "
              f"{alone.cpu / floor.cpu:.1f}x the floor's CPU: the nearest to the floor "
              f"the import's wall can come on an idle machine")  # fmt: skip
        print(f"  {summary}")
        account_rows = args.rows if args.account_rows is None else args.account_rows
        if account_rows:
            ratio = account_ratio(account_rows, folder)
            print(f"  the account import of {account_rows:,} rows, in the same run: "
                  f"{ratio} its floor (the target for engagement)")  # fmt: skip
        load = max(load, os.getloadavg()[0])
        print(
            f"  load average up to {load:.1f} on {os.cpu_count()} cores (on an idle machine "
            "the wall ratios come near the CPU ones)"
        )


if __name__ == "__main__":
    main()
