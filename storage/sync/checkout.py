"""Taking a local copy of a team workspace (File › Work offline…, ``accord checkout``).

The copy is a new SQLite file migrated to the newest schema and filled with the team
workspace's rows in the user's scope (:func:`domain.sync.copy_scope`): for a rep, the
accounts they own on the target list and those they hold an exception for, with their
contacts, dossiers, ratings, scores and history, and every row of the tables the whole
team shares (users, ICP versions, lead definition, dossier template, goal, agreement,
calendar, sign-offs); for marketing and the owner, everything. Rows are read a chunk at a
time from one snapshot of the team database and written through the driver, a table at a
time with its indexes built once at the end. The copy is written under a temporary name
and renamed when complete: a cancelled or failed checkout leaves no file behind.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Collection, Generator, Sequence
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    Select,
    Table,
    false,
    func,
    select,
    type_coerce,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import NullType

from domain.errors import AccordError, Cancelled, NotFound
from domain.progress import Cancel, Progress
from domain.sync import copy_scope
from domain.users import User
from domain.values import counted
from storage.bulk import bulk_insert, indexes_rebuilt
from storage.schema import (
    AccountRow,
    Base,
    ContactRow,
    DossierRow,
    InteractionRow,
    SyncChangeRow,
    SyncHeadRow,
    SyncSeenRow,
    UserRow,
    table_of,
)
from storage.sla_facts import tally_follow_ups
from storage.sync.capture import applying, enable_sync, sync_enabled
from storage.sync.engine import rep_accounts, rep_scope, seal, wall_ms
from storage.team import refused
from storage.workspace import Workspace, open_workspace

changes_table, heads_table, seen_table = map(table_of, (SyncChangeRow, SyncHeadRow, SyncSeenRow))
accounts = table_of(AccountRow)
#: Rows read and written per statement.
CHUNK = 5_000


class CheckoutError(AccordError):
    """The copy cannot be taken where it was asked for."""


@dataclass(frozen=True)
class Scope:
    """Which rows of the team workspace a copy holds: ``accounts`` selects its accounts and
    ``ids`` names them as changes do (both None: the whole workspace)."""

    accounts: Select[Any] | CompoundSelect[Any] | None = None
    ids: frozenset[str] | None = None


def checkout(
    team: Workspace,
    path: Path,
    user: User,
    rep: str | None = None,
    progress: Progress | None = None,
    cancelled: Cancel | None = None,
) -> Workspace:
    """Copy ``team`` into a new SQLite file at ``path`` for ``user`` (a rep's own accounts,
    or with ``rep`` given by the owner or marketing, that rep's; else the whole workspace)
    and give the copy back, open. The team database takes part in sync from its first
    copy on; the copy syncs with it (storage.sync.team)."""
    rep = copy_scope(user, rep)
    path = path.expanduser().resolve()
    if path.exists():
        raise CheckoutError(
            f"{path} exists already: choose another file for the copy, or open that one."
        )
    _take_part(team)
    partial = path.with_name(f".{path.name}.partial")
    _remove(partial)
    local = open_workspace(partial)
    try:
        with team.read() as source, local.write() as target:
            scope = _scope(source, rep)
            _copy(source, target, scope, progress, cancelled)
            # Installed once the rows are in: copying them is nobody's edit.
            enable_sync(target, "copy", source=team.label, rep=rep)
        local.close()
        os.replace(partial, path)
    except BaseException:
        local.close()
        _remove(partial)
        raise
    return open_workspace(path)


def _take_part(team: Workspace) -> None:
    """Have the team database note its changes from now on, and stamp those it noted, so
    that the copy starts from stamped changes only."""
    with team.write() as conn:
        if not sync_enabled(conn):
            try:
                enable_sync(conn, "team")
            except DBAPIError as error:
                if not refused(error):
                    raise
                raise CheckoutError(
                    f"The team workspace {team.label} does not sync yet, and your login may "
                    "not set it up: its owner takes the first copy once."
                ) from None
        seal(conn, wall_ms())


def _remove(partial: Path) -> None:
    for leftover in (partial, *(Path(f"{partial}{end}") for end in ("-wal", "-shm"))):
        with suppress(FileNotFoundError):
            leftover.unlink()


def _scope(source: Connection, rep: str | None) -> Scope:
    """The rows to copy, read from one snapshot of the team database in UTC."""
    if source.dialect.name == "postgresql":
        source.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        source.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
    if rep is None:
        return Scope()
    users = table_of(UserRow)
    if source.execute(select(users.c.id).where(users.c.name == rep)).first() is None:
        raise NotFound(f"There is no user named '{rep}' in the team workspace.")
    return Scope(rep_accounts(rep), rep_scope(source, rep))


#: Tables a rep's copy holds whole: what the whole team shares, and what rows of the
#: copied tables refer to.
_SHARED = {
    "users",
    "import_batches",
    "icp_versions",
    "lead_definitions",
    "dossier_templates",
    "goal_versions",
    "agreement_versions",
    "work_calendars",
    "plan_sign_offs",
}


#: Tables with an account's rows that stay with the team: the review of possible
#: duplicates among the whole workspace's accounts.
_TEAM_ONLY = {"possible_duplicates"}
#: Tables whose rows belong to one dossier.
_BY_DOSSIER = {"dossier_ratings", "dossier_conflicts"}


def _rows_of(table: Table, scope: Scope) -> ColumnElement[bool] | None:
    """Which rows of ``table`` the copy holds: None for all of them."""
    if scope.accounts is None or table.name in _SHARED:
        return None
    chosen = scope.accounts.scalar_subquery()
    if table.name == "accounts":
        return table.c.id.in_(chosen)
    if "account_id" in table.c and table.name not in _TEAM_ONLY:
        # with the summaries kept beside an account's rows (its reach, its hand-off's facts)
        return table.c.account_id.in_(chosen)
    if table.name in _BY_DOSSIER:
        dossiers = table_of(DossierRow)
        return table.c.dossier_id.in_(
            select(dossiers.c.id).where(dossiers.c.account_id.in_(chosen)).scalar_subquery()
        )
    # Import undo records and the change log stay with the team.
    return false()


def copied_tables() -> list[Table]:
    """The tables of the user's data a copy takes rows of, each after those it refers to."""
    return [t for t in Base.metadata.sorted_tables if not t.name.startswith("sync_")]


def _copy(
    source: Connection,
    target: Connection,
    scope: Scope,
    progress: Progress | None,
    cancelled: Cancel | None,
) -> None:
    # Rows that refer to one another (a correction to the interaction it corrects) arrive
    # in id order; their references are checked when the copy commits.
    target.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
    plan = [(table, _rows_of(table, scope)) for table in copied_tables()]
    totals = [_count(source, table, where) for table, where in plan]
    total, done = sum(totals), 0
    for (table, where), rows in zip(plan, totals, strict=True):
        if not rows:
            continue
        # closed on the way out, a cancel's too: its server-side cursor with it
        chunks = closing(_chunks(source, table, where, _stored(source, target)))
        with indexes_rebuilt(target, table, big=True), chunks as read:
            for chunk in read:
                if cancelled is not None and cancelled():
                    raise Cancelled("The copy was cancelled: no file was made.")
                bulk_insert(target, table, [c.name for c in table.columns], chunk,
                            _stored(source, target))  # fmt: skip
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
    if scope.accounts is not None:  # the team's tallies count every rep's follow-ups
        tally_follow_ups(target)
    _copy_sync_state(source, target, scope)
    if progress is not None:
        progress(total, total)


def _stored(source: Connection, target: Connection) -> bool:
    """Whether values are read and written in the form both databases store them in (from
    a SQLite file): turning every id into a UUID and back would take most of the time."""
    return source.dialect.name == target.dialect.name


def _copy_sync_state(source: Connection, target: Connection, scope: Scope) -> None:
    """The team's stamped changes in the copy's scope, the heads of their fields and what
    the team has seen of each device: the copy's first edits replace what it shows, as an
    edit on the team would, and its first sync asks only for what is newer."""
    kept: set[str] = set()

    def in_scope(row: Sequence[Any]) -> bool:
        stamp, account = row[0], row[-1]
        if scope.ids is None or account is None or account in scope.ids:
            kept.add(stamp)
            return True
        return False

    filters: list[tuple[Table, Callable[[Sequence[Any]], bool]]] = [
        (changes_table, in_scope),
        (heads_table, lambda row: row[-1] in kept),
        (seen_table, lambda _row: True),
    ]
    for table, keep in filters:
        for chunk in _chunks(source, table, None, stored=True):
            rows = [row for row in chunk if keep(row)]
            bulk_insert(target, table, [c.name for c in table.columns], rows, stored=True)


def bring_accounts(source: Connection, target: Connection, scope: Collection[str]) -> None:
    """Copy into a rep's copy the accounts of ``scope`` (named as changes name them) that it
    does not hold: those that came into the rep's scope since it was taken (an account
    handed to them, an exception granted). What a checkout copies of each comes, with the
    team's stamped changes to it and their fields' heads, so that the changes the sync
    brings next build on them. Shared rows are there already; writing these is nobody's
    edit, so nothing of it goes back up."""
    held = {str(a) for a in target.execute(select(accounts.c.id)).scalars()}
    fresh = sorted(set(scope) - held)
    if not fresh:
        return
    target.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
    with applying(target):
        for start in range(0, len(fresh), CHUNK):
            names = fresh[start : start + CHUNK]
            chosen = [uuid.UUID(name) for name in names]
            part = Scope(select(accounts.c.id).where(accounts.c.id.in_(chosen)))
            for table in copied_tables():
                where = _rows_of(table, part)
                if where is None:  # a shared table: its rows are on the copy
                    continue
                for chunk in _chunks(source, table, where, _stored(source, target)):
                    bulk_insert(target, table, [c.name for c in table.columns], chunk,
                                _stored(source, target))  # fmt: skip
            stamps = select(changes_table.c.stamp).where(changes_table.c.account_id.in_(names))
            for table, where in (
                (changes_table, changes_table.c.account_id.in_(names)),
                (heads_table, heads_table.c.stamp.in_(stamps.scalar_subquery())),
            ):
                for chunk in _chunks(source, table, where, stored=True):
                    bulk_insert(target, table, [c.name for c in table.columns], chunk,
                                stored=True)  # fmt: skip
        tally_follow_ups(target)


def held(copy: Workspace) -> str:
    """What a copy holds, in words: its accounts, contacts, dossiers and interactions."""
    with copy.read() as conn:
        return ", ".join(
            counted(_count(conn, table_of(model), None), noun)
            for model, noun in ((AccountRow, "account"), (ContactRow, "contact"),
                                (DossierRow, "dossier"), (InteractionRow, "interaction"))
        )  # fmt: skip


def _count(source: Connection, table: Table, where: ColumnElement[bool] | None) -> int:
    query = select(func.count()).select_from(table)
    if where is not None:
        query = query.where(where)
    return int(source.execute(query).scalar_one())


def _chunks(
    source: Connection, table: Table, where: ColumnElement[bool] | None, stored: bool
) -> Generator[list[tuple[object, ...]]]:
    columns = [type_coerce(c, NullType()) if stored else c for c in table.columns]
    query = select(*columns).order_by(*table.primary_key.columns)
    if where is not None:
        query = query.where(where)
    with source.execution_options(yield_per=CHUNK).execute(query) as streamed:
        for partition in streamed.partitions():
            yield [tuple(row) for row in partition]
