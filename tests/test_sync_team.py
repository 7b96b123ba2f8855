"""A rep's copy synced with the team database: what goes up, what comes down, what is kept
aside, and a second sync with nothing to do; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update

from domain.errors import Cancelled, PermissionDenied
from domain.sync import SyncSummary
from domain.targets import assign_owners
from domain.users import Role, User
from storage.demo.build import DEMO_OWNER, build_demo
from storage.repositories import SqlUnitOfWork
from storage.schema import (
    AccountRow,
    ContactRow,
    InteractionRow,
    SyncHeadRow,
    TargetRow,
    table_of,
    utcnow,
)
from storage.sync.checkout import checkout, copied_tables
from storage.sync.engine import device_of
from storage.sync.team import NotACopy, TeamNotUpgraded, sync_with_team
from storage.users import list_users
from storage.workspace import Workspace
from tests.conftest import statements_of

REP = "Sam Rivera"
accounts, contacts = table_of(AccountRow), table_of(ContactRow)
interactions, heads = table_of(InteractionRow), table_of(SyncHeadRow)
targets = table_of(TargetRow)


def person(ws: Workspace, name: str) -> User:
    return next(u for u in list_users(ws) if u.name == name)


@pytest.fixture
def team(workspace: Workspace) -> Workspace:
    build_demo(workspace, accounts=200, seed=7, replace=True, owner_name="Olivia Owner")
    return workspace


@pytest.fixture
def copy(team: Workspace, tmp_path: Path) -> Workspace:
    taken = checkout(team, tmp_path / "laptop" / "copy.sqlite", person(team, REP))
    yield taken
    taken.close()


def _one(ws: Workspace, table, column, where) -> object:  # type: ignore[no-untyped-def]
    with ws.read() as conn:
        return conn.execute(select(column).select_from(table).where(where)).scalar()


def _an_account_and_contact(copy: Workspace) -> tuple[uuid.UUID, uuid.UUID]:
    with copy.read() as conn:
        row = conn.execute(
            select(contacts.c.account_id, contacts.c.id).order_by(contacts.c.id).limit(1)
        ).one()
    return row.account_id, row.id


def _log(copy: Workspace, account_id: uuid.UUID, learned: str) -> uuid.UUID:
    made = uuid.uuid4()
    with copy.write() as conn:
        conn.execute(
            interactions.insert().values(
                id=made, account_id=account_id, at=utcnow(), channel="visit",
                outcome="conversation", meaningful=True, learned=learned, logged_by=REP,
            )
        )  # fmt: skip
    return made


def test_a_rep_s_visit_goes_up_and_the_team_s_edit_comes_down(team, copy) -> None:
    rep = person(copy, REP)
    account_id, _ = _an_account_and_contact(copy)
    visit = _log(copy, account_id, "They are moving to <Graz> & want a demo")
    with team.write() as conn:
        conn.execute(update(accounts).where(accounts.c.id == account_id)
                     .values(city="Graz", changed_by=DEMO_OWNER))  # fmt: skip
    summary = sync_with_team(copy, team, rep)
    assert summary.sent >= 1 and summary.received >= 1
    assert summary.sentence().startswith("Sent ")
    learned = _one(team, interactions, interactions.c.learned, interactions.c.id == visit)
    assert learned == "They are moving to <Graz> & want a demo"
    assert _one(copy, accounts, accounts.c.city, accounts.c.id == account_id) == "Graz"
    again = sync_with_team(copy, team, rep)
    assert again == SyncSummary()
    assert again.sentence() == "Nothing to sync: this copy and the other side were already in step."
    visits = select(func.count()).select_from(interactions).where(interactions.c.id == visit)
    with team.read() as conn:
        assert conn.execute(visits).scalar_one() == 1


def test_the_same_contact_field_changed_on_both_sides_waits_as_a_conflict(team, copy) -> None:
    rep = person(copy, REP)
    _, contact_id = _an_account_and_contact(copy)
    for ws, title, author in ((copy, "Head of Buying", REP), (team, "CFO", DEMO_OWNER)):
        with ws.write() as conn:
            conn.execute(update(contacts).where(contacts.c.id == contact_id)
                         .values(title=title, changed_by=author))  # fmt: skip
    summary = sync_with_team(copy, team, rep)
    assert summary.conflicts == 1
    assert "1 field changed on both sides waits in Conflicts" in summary.sentence()
    with copy.read() as conn:
        open_heads = conn.execute(select(heads.c.field, heads.c.stamp)).all()
    assert [field for field, _ in open_heads] == ["title", "title"]
    shown = {_one(ws, contacts, contacts.c.title, contacts.c.id == contact_id)
             for ws in (copy, team)}  # fmt: skip
    assert len(shown) == 1  # the same winner on both sides


def test_a_change_the_rep_may_not_make_is_kept_aside(team, copy) -> None:
    rep = person(copy, REP)
    account_id, _ = _an_account_and_contact(copy)
    before = _one(team, accounts, accounts.c.name, accounts.c.id == account_id)
    with copy.write() as conn:
        conn.execute(update(accounts).where(accounts.c.id == account_id)
                     .values(name="Renamed on a train", changed_by=REP))  # fmt: skip
    summary = sync_with_team(copy, team, rep)
    assert summary.refused == 1
    assert "1 change was kept aside because their author's role" in summary.sentence()
    assert _one(team, accounts, accounts.c.name, accounts.c.id == account_id) == before


def test_a_rep_syncs_only_their_own_copy(team, copy) -> None:
    with pytest.raises(PermissionDenied):
        sync_with_team(copy, team, person(copy, "Jordan Lee"))


def test_a_workspace_that_is_no_copy_is_said_so(team, sqlite_workspace) -> None:
    with pytest.raises(NotACopy, match="is not a copy of a team workspace"):
        sync_with_team(sqlite_workspace, team, person(team, DEMO_OWNER))


# A team database in a file is on this computer and shares its clock: only a server's differs.
@pytest.mark.parametrize(
    "db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_a_copy_whose_clock_is_off_is_corrected_and_told(team, copy, monkeypatch) -> None:
    import storage.sync.team as transport

    real = transport.wall_ms
    account_id, _ = _an_account_and_contact(copy)
    visit = _log(copy, account_id, "Logged on a laptop whose clock is wrong")
    # Three minutes behind: the visit's stamp, corrected to the team's time, is not taken
    # for one from the future when the team checks it by its own clock.
    monkeypatch.setattr(transport, "wall_ms", lambda: real() - 3 * 60_000)
    summary = sync_with_team(copy, team, person(copy, REP))
    assert _one(team, interactions, interactions.c.learned, interactions.c.id == visit)
    assert "This computer's clock is 3 minutes behind the team database's" in (summary.sentence())
    monkeypatch.setattr(transport, "wall_ms", lambda: real() + 10 * 60_000)
    summary = sync_with_team(copy, team, person(copy, REP))
    assert summary.clock_off_ms is not None and abs(summary.clock_off_ms - 600_000) < 5_000
    assert "This computer's clock is 10 minutes ahead of the team database's" in (
        summary.sentence()
    )
    with copy.read() as conn:
        device = device_of(conn)
    assert device is not None and abs(device.clock.offset_ms + 600_000) < 5_000


def test_a_sync_stopped_half_way_is_carried_on_by_the_next(team, copy) -> None:
    rep = person(copy, REP)
    account_id, _ = _an_account_and_contact(copy)
    visit = _log(copy, account_id, "Stopped on the way")
    steps: list[tuple[int, int | None]] = []
    with pytest.raises(Cancelled, match="the next sync carries on from there"):
        sync_with_team(copy, team, rep, progress=lambda done, total: steps.append((done, total)),
                       cancelled=lambda: len(steps) == 2)  # fmt: skip
    assert steps == [(0, 3), (1, 3)]
    assert _one(team, interactions, interactions.c.learned, interactions.c.id == visit) is None
    assert sync_with_team(copy, team, rep).sent >= 1
    assert _one(team, interactions, interactions.c.learned, interactions.c.id == visit)


def test_a_team_database_an_older_accord_upgraded_is_said(team, copy) -> None:
    with team.write() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0013'"))
    with pytest.raises(TeamNotUpgraded, match=r"older schema \(0013\) than this Accord"):
        sync_with_team(copy, team, person(copy, REP))


def _comparable(value: object) -> object:
    """A value as the two databases can be compared on: documents as text, times in UTC
    without their zone (the team's PostgreSQL gives them with it)."""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _account_rows(ws: Workspace, account_id: uuid.UUID) -> dict[str, set[tuple[object, ...]]]:
    """What a copy and the team hold of one account: its row, contacts, target-list entry,
    interactions, stage changes and the summaries kept beside them."""
    held = {}
    with ws.read() as conn:
        for table in copied_tables():
            if table.name == "accounts":
                where = table.c.id == account_id
            elif "account_id" in table.c and table.name != "possible_duplicates":
                where = table.c.account_id == account_id
            else:
                continue
            held[table.name] = {tuple(map(_comparable, row))
                                for row in conn.execute(select(table).where(where))}  # fmt: skip
    return held


def test_an_account_handed_to_the_rep_after_the_copy_comes_whole(team, copy) -> None:
    rep = person(copy, REP)
    owner = next(u for u in list_users(team) if u.role is Role.OWNER)
    with team.read() as conn:
        mine = set(
            conn.execute(
                select(targets.c.account_id).where(
                    targets.c.owner_id == rep.id, targets.c.deleted_at.is_(None)
                )
            ).scalars()
        )
        theirs = conn.execute(
            select(targets.c.account_id)
            .join(interactions, interactions.c.account_id == targets.c.account_id)
            .join(contacts, contacts.c.account_id == targets.c.account_id)
            .where(targets.c.owner_id != rep.id, targets.c.deleted_at.is_(None))
            .limit(1)
        ).scalar_one()  # fmt: skip
    assert theirs not in mine
    assign_owners(SqlUnitOfWork(team), owner, {theirs: rep.id})
    with team.write() as conn:  # an edit made after the hand-over comes down as a change
        conn.execute(update(contacts).where(contacts.c.account_id == theirs)
                     .values(title="Head of Buying", changed_by=DEMO_OWNER))  # fmt: skip
    sync_with_team(copy, team, rep)
    on_team, on_copy = _account_rows(team, theirs), _account_rows(copy, theirs)
    assert on_team["interactions"] and on_team["contacts"] and on_team["account_reach"]
    assert on_copy == on_team  # its history, contacts and summaries, not only what changed
    visit = _log(copy, theirs, "Met the new buyer")
    summary = sync_with_team(copy, team, rep)
    assert summary.sent >= 1 and summary.refused == 0
    assert _one(team, interactions, interactions.c.learned, interactions.c.id == visit) == (
        "Met the new buyer"
    )
    logged = [_account_rows(ws, theirs)["interactions"] for ws in (copy, team)]
    assert logged[0] == logged[1]


def _edits(copy: Workspace, team: Workspace, count: int, word: str) -> None:
    """On ``count`` accounts of the copy, a contact's title changed and a visit logged on
    the copy, and the account's city and phone changed on the team database."""
    with copy.read() as conn:
        first = select(func.min(contacts.c.id)).group_by(contacts.c.account_id)
        some = conn.execute(select(contacts.c.id, contacts.c.account_id)
                            .where(contacts.c.id.in_(first))
                            .order_by(contacts.c.id).limit(count)).all()  # fmt: skip
    assert len(some) == count
    with copy.write() as conn:
        for n, (contact_id, _account_id) in enumerate(some):
            conn.execute(update(contacts).where(contacts.c.id == contact_id)
                         .values(title=f"{word} {n}", changed_by=REP))  # fmt: skip
    for _contact_id, account_id in some:
        _log(copy, account_id, f"{word} on the road")
    with team.write() as conn:
        for n, (_contact_id, account_id) in enumerate(some):
            conn.execute(update(accounts).where(accounts.c.id == account_id)
                         .values(city=f"{word} {n}", phone=f"+43 1 {count:03d} {n:04d}",
                                 changed_by=DEMO_OWNER))  # fmt: skip


def test_a_sync_of_many_changes_talks_to_the_databases_as_often_as_one_of_few(team, copy) -> None:
    # What a user notices: a sync of thousands of edits each way takes seconds, because
    # each step is a statement for all the rows at once, not one round trip per row.
    rep = person(copy, REP)
    counts = []
    for count, word in ((2, "Few"), (12, "Many")):
        _edits(copy, team, count, word)
        sent = statements_of((team, copy), lambda: sync_with_team(copy, team, rep))
        counts.append(len(sent))
        with copy.read() as conn:
            titles = conn.execute(
                select(contacts.c.title).where(contacts.c.title.like(f"{word} %"))
            )
            assert len(titles.all()) == count
        with team.read() as conn:
            titles = conn.execute(
                select(contacts.c.title).where(contacts.c.title.like(f"{word} %"))
            )
            assert len(titles.all()) == count
            found = select(func.count()).where(interactions.c.learned == f"{word} on the road")
            assert conn.execute(found).scalar_one() == count
        with copy.read() as conn:
            phoned = accounts.c.phone_e164.like(f"+431{count:03d}%")
            cities = select(func.count()).where(accounts.c.city.like(f"{word} %"), phoned)
            assert conn.execute(cities).scalar_one() == count
    assert counts[1] == counts[0]
