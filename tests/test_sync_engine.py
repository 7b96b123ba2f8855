"""The sync engine (storage/sync/) on real databases: capture, seal, change sets, apply,
conflicts and settling, roles at sync; and a state machine of three copies and a team
database that must all end in the same state, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from domain.accounts import create_account, update_account
from domain.sync import ChangeSet
from domain.users import Role, User
from storage.repositories import SqlUnitOfWork
from storage.schema import AccountRow, SyncOutboxRow, table_of
from storage.sync.capture import enable_sync
from storage.sync.engine import apply_changes, changes_since, seal, seen_by
from storage.workspace import Workspace, open_workspace
from tests.conftest import _people

accounts = table_of(AccountRow)
outbox = table_of(SyncOutboxRow)


def _now() -> int:
    return int(time.time() * 1000)


def _sync(one: Workspace, other: Workspace) -> tuple[int, int]:
    """Both ways, each side sealed first, each side one transaction; what each received."""
    with one.write() as a, other.write() as b:
        seal(a, _now())
        seal(b, _now())
        to_b = changes_since(a, seen_by(b), None)
        to_a = changes_since(b, seen_by(a), None)
        got_b = apply_changes(b, ChangeSet.from_document(to_b.to_document()), _now())
        got_a = apply_changes(a, ChangeSet.from_document(to_a.to_document()), _now())
    return got_a.applied, got_b.applied


def _copy_of(team: Workspace, path: Path) -> Workspace:
    """A copy taken in-process: a fresh workspace that takes in everything the team has."""
    copy = open_workspace(path)
    with copy.write() as conn:
        enable_sync(conn, "copy")
    _sync(team, copy)
    return copy


def _account(ws: Workspace, user: User, name: str, **values: str):
    return create_account(SqlUnitOfWork(ws), user, {"name": name, **values})


def _edit(ws: Workspace, user: User, account_id: uuid.UUID, **values: str):
    with SqlUnitOfWork(ws) as uow:
        loaded = uow.accounts.get(account_id)
    assert loaded is not None
    return update_account(SqlUnitOfWork(ws), user, loaded, values)


def _shown(ws: Workspace, account_id: uuid.UUID) -> dict[str, object]:
    with ws.read() as conn:
        row = conn.execute(select(accounts).where(accounts.c.id == account_id)).mappings().one()
    return {k: row[k] for k in ("name", "city", "industry", "phone", "deleted_at", "search_text")}


@pytest.fixture
def team(workspace: Workspace) -> Workspace:
    with workspace.write() as conn:
        enable_sync(conn, "team", snapshot=True)
    return workspace


def test_edits_of_different_fields_on_two_copies_both_arrive_everywhere(team, tmp_path):
    people = _people(team)
    owner, marketing = people[Role.OWNER], people[Role.MARKETING]
    acme = _account(team, owner, "Acme", city="Graz")
    laptop = _copy_of(team, tmp_path / "laptop.sqlite")
    assert _shown(laptop, acme.id)["city"] == "Graz"
    _edit(laptop, marketing, acme.id, city="Linz")
    _edit(team, owner, acme.id, industry="Steel")
    _sync(laptop, team)
    assert _shown(laptop, acme.id) == _shown(team, acme.id)
    assert _shown(team, acme.id)["city"] == "Linz"
    assert _shown(team, acme.id)["industry"] == "Steel"
    assert " linz " in str(_shown(team, acme.id)["search_text"])  # derived again
    laptop.close()
