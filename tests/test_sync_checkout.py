"""Taking a local copy of a team workspace: what a rep's copy and a whole copy hold."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Table, func, select

from domain.errors import Cancelled, PermissionDenied
from domain.users import Role, User
from storage.demo.build import DEMO_OWNER, build_demo
from storage.schema import (
    AccountRow,
    Base,
    DossierRow,
    InteractionRow,
    TargetRow,
    UserRow,
    stored_utc,
    table_of,
)
from storage.sync.checkout import CheckoutError, checkout, copied_tables
from storage.users import list_users
from storage.workspace import Workspace

REP = "Sam Rivera"


@pytest.fixture
def team(workspace: Workspace) -> Workspace:
    build_demo(workspace, accounts=300, seed=7, replace=True, owner_name="Olivia Owner")
    return workspace


@pytest.fixture
def laptop(tmp_path: Path) -> Path:
    """The folder the copy goes to, apart from the team's workspace file."""
    folder = tmp_path / "laptop"
    folder.mkdir()
    return folder


def person(ws: Workspace, name: str) -> User:
    """A user of the workspace by name (on PostgreSQL the test's login is someone else)."""
    return next(u for u in list_users(ws) if u.name == name)


def _counts(ws: Workspace) -> dict[str, int]:
    with ws.read() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in copied_tables()
        }


def _rows(ws: Workspace, table: Table) -> list[tuple[object, ...]]:
    """Every row of ``table`` as the workspace reads it (times in UTC)."""
    with ws.read() as conn:
        rows = conn.execute(select(table).order_by(*table.primary_key.columns))
        return [tuple(stored_utc(v) if isinstance(v, datetime) else v for v in row)
                for row in rows]  # fmt: skip


def _rep_accounts(ws: Workspace) -> set[object]:
    targets, users = table_of(TargetRow), table_of(UserRow)
    with ws.read() as conn:
        return set(
            conn.execute(
                select(targets.c.account_id)
                .join(users, users.c.id == targets.c.owner_id)
                .where(users.c.name == REP, targets.c.deleted_at.is_(None))
            ).scalars()
        )


def test_the_owner_s_copy_holds_the_whole_workspace(team: Workspace, laptop: Path) -> None:
    owner = person(team, DEMO_OWNER)
    copy = checkout(team, laptop / "copy.sqlite", owner)
    try:
        assert _counts(copy) == _counts(team)
        for table in (table_of(AccountRow), table_of(InteractionRow), table_of(DossierRow)):
            assert _rows(copy, table) == _rows(team, table)
        assert copy.label == str(laptop / "copy.sqlite")
    finally:
        copy.close()


def test_a_rep_s_copy_holds_their_accounts_with_their_history(
    team: Workspace, laptop: Path
) -> None:
    rep = person(team, REP)
    assert rep.role is Role.REP
    copy = checkout(team, laptop / "copy.sqlite", rep)
    try:
        theirs = _rep_accounts(team)
        assert theirs and _rep_accounts(copy) == theirs
        interactions = table_of(InteractionRow)
        logged = select(func.count()).where(interactions.c.account_id.in_(theirs))
        with team.read() as conn:
            in_team = conn.execute(logged).scalar_one()
        counts = _counts(copy)
        assert in_team > 0 and counts["interactions"] == in_team
        assert counts["accounts"] == len(theirs) < _counts(team)["accounts"]
        assert counts["users"] == _counts(team)["users"]  # every name the history mentions
        assert counts["change_log"] == 0
        for summary in ("account_reach", "handoff_facts", "follow_up_facts"):
            table = Base.metadata.tables[summary]  # kept beside their accounts' rows
            kept = select(func.count()).where(table.c.account_id.in_(theirs))
            with team.read() as conn:
                assert counts[summary] == conn.execute(kept).scalar_one() > 0, summary
        tallies = Base.metadata.tables["follow_up_days"]  # the copy's follow-ups, counted
        with copy.read() as conn:
            tallied = conn.execute(select(func.sum(tallies.c.due))).scalar_one()
        assert tallied == counts["follow_up_facts"]
    finally:
        copy.close()


def test_a_rep_takes_no_copy_of_another_rep_s_accounts(team: Workspace, laptop: Path) -> None:
    rep = person(team, REP)
    with pytest.raises(PermissionDenied, match="their own accounts only"):
        checkout(team, laptop / "copy.sqlite", rep, rep="Jordan Lee")
    assert list(laptop.iterdir()) == []


def test_a_copy_never_overwrites_a_file(team: Workspace, laptop: Path) -> None:
    there = laptop / "copy.sqlite"
    there.write_text("mine")
    with pytest.raises(CheckoutError, match="exists already"):
        checkout(team, there, person(team, DEMO_OWNER))
    assert there.read_text() == "mine"


def test_a_cancelled_copy_leaves_no_file(team: Workspace, laptop: Path) -> None:
    seen: list[int] = []
    with pytest.raises(Cancelled):
        checkout(team, laptop / "copy.sqlite", person(team, DEMO_OWNER),
                 progress=lambda done, _total: seen.append(done),
                 cancelled=lambda: len(seen) > 2)  # fmt: skip
    assert list(laptop.iterdir()) == []
