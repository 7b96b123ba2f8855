"""A sync killed at any moment (SIGKILL, as a laptop that loses power) leaves the copy and
the team database each as it was or as the whole sync leaves it, never half; and the next
sync brings both to where an uninterrupted one would have."""

from __future__ import annotations

import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import select, update

from main import main
from storage.demo.build import DEMO_OWNER, build_demo
from storage.schema import AccountRow, ContactRow, InteractionRow, table_of, utcnow
from storage.sync.checkout import checkout
from storage.users import list_users
from storage.workspace import open_workspace

ROOT = Path(__file__).resolve().parent.parent
REP = "Sam Rivera"
accounts, contacts = table_of(AccountRow), table_of(ContactRow)
interactions = table_of(InteractionRow)
#: How many times a sync is killed, at moments spread over how long a whole one takes.
KILLS = 8

State = tuple[frozenset[object], ...]


def state(db: Path) -> State:
    """What a person sees of the rows the sync moves: every account's city, every
    contact's title, every logged interaction; and the file is sound."""
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return (
            frozenset(conn.execute("SELECT id, city FROM accounts")),
            frozenset(conn.execute("SELECT id, title FROM contacts")),
            frozenset(conn.execute("SELECT id, learned FROM interactions")),
        )


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A team workspace file and a rep's copy of it, each with changes the other has not
    seen: visits logged and contacts' titles corrected on the copy, cities on the team."""
    folder = tmp_path_factory.mktemp("pair")
    team = open_workspace(folder / "team.sqlite")
    build_demo(team, accounts=200, seed=3, replace=True, owner_name=DEMO_OWNER)
    rep = next(u for u in list_users(team) if u.name == REP)
    copy = checkout(team, folder / "copy.sqlite", rep)
    with copy.write() as conn:
        theirs = list(conn.execute(select(contacts.c.account_id, contacts.c.id)))
        for n, (account_id, contact_id) in enumerate(theirs):
            conn.execute(update(contacts).where(contacts.c.id == contact_id)
                         .values(title=f"Title {n}", changed_by=REP))  # fmt: skip
            conn.execute(interactions.insert().values(
                id=uuid.uuid4(), account_id=account_id, at=utcnow(), channel="visit",
                outcome="conversation", meaningful=True, learned=f"visit {n}",
                logged_by=REP))  # fmt: skip
    with team.write() as conn:
        conn.execute(update(accounts).values(city="Graz", changed_by=DEMO_OWNER))
    copy.close()
    team.close()
    return folder / "team.sqlite", folder / "copy.sqlite"


def duplicate(pair: tuple[Path, Path], into: Path) -> tuple[Path, Path]:
    """The pair copied into ``into``, the copy pointing at its own team file."""
    into.mkdir()
    team, copy = (Path(shutil.copyfile(p, into / p.name)) for p in pair)
    with closing(sqlite3.connect(copy)) as conn, conn:
        conn.execute("UPDATE sync_device SET source = ?", (str(team),))
    return team, copy


def sync_command(copy: Path) -> list[str]:
    return [sys.executable, str(ROOT / "main.py"), "--db", str(copy), "--user", REP, "sync"]


def test_a_sync_killed_at_any_moment_leaves_each_side_whole(pair, tmp_path) -> None:
    before = state(pair[0]), state(pair[1])
    team, copy = duplicate(pair, tmp_path / "whole")
    start = time.perf_counter()
    subprocess.run(sync_command(copy), check=True, capture_output=True, cwd=ROOT)
    whole = time.perf_counter() - start
    after = state(team), state(copy)
    assert after != before  # the sync moved something each way
    assert after[1][2] <= after[0][2] and after[1][1] <= after[0][1]  # the copy is a part
    seen: set[tuple[bool, bool]] = set()
    for kill in range(KILLS):
        team, copy = duplicate(pair, tmp_path / f"kill{kill}")
        process = subprocess.Popen(sync_command(copy), cwd=ROOT, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(whole * (kill + 0.5) / KILLS)
        process.send_signal(signal.SIGKILL)
        process.wait()
        left = state(team), state(copy)
        for side, name in enumerate(("team database", "copy")):
            assert left[side] in (before[side], after[side]), (
                f"killed after {whole * (kill + 0.5) / KILLS:.2f} s, the {name} holds half a sync"
            )
        seen.add((left[0] == after[0], left[1] == after[1]))
        assert main(["--db", str(copy), "--user", REP, "sync"]) == 0
        assert (state(team), state(copy)) == after
    assert len(seen) > 1, "every kill came before the sync began or after it ended"
