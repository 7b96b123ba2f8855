"""The target list in the workspace: building it from an ICP version, curating it, owners,
priorities and the hand-off, plus the target list as a table to export."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, and_, case, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session

from domain.errors import AlreadyOnTargetList, NotFound, NotOnTargetList
from domain.icp import HAS_DECISION_MAKER, IcpVersion, Tier, explain
from domain.tables import ColumnKind, TableColumn, TableData
from domain.targets import HandOffResult, Stage, priority_for
from domain.users import Role, User
from storage.bulk import bulk_insert, new_id
from storage.change_log import log_change
from storage.goal_facts import refresh_goal_facts
from storage.icp_sql import has_decision_maker, tier_sql
from storage.icps import account_facts, active_version
from storage.leads import current_lead_definition, lead_definition_in, sales_ready_sql
from storage.queue_facts import refresh_queue_facts
from storage.reach import refresh_reach
from storage.schema import (
    AccountRow,
    ChangeRow,
    StageChangeRow,
    TargetRow,
    UserRow,
    table_of,
    utcnow,
)
from storage.scores import scores, stored
from storage.segments import refresh_segments
from storage.sla_facts import refresh_sla_facts
from storage.workspace import Workspace

accounts = table_of(AccountRow)
targets = table_of(TargetRow)
users = table_of(UserRow)
change_log = table_of(ChangeRow)
stage_changes = table_of(StageChangeRow)
LISTED = targets.c.deleted_at.is_(None)
#: The target list's order: first priority first, best fit first, then by name.
BEST_FIRST = (targets.c.priority, stored("score").desc().nulls_last(), accounts.c.name)
_CHUNK = 20_000


class SqlTargets:
    """The target list inside a unit of work's transaction (the write lock is taken on
    first use); :class:`storage.repositories.SqlUnitOfWork` commits or rolls it back."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def conn(self) -> Connection:
        return self.session.connection()

    def build(self, version: IcpVersion, tiers: frozenset[Tier], user: User) -> int:
        """Insert every live account in ``tiers`` that has never been on the list (an
        account removed by hand stays removed: add it by hand to bring it back)."""
        tier = tier_sql(version.icp).label("tier")
        candidates = (
            select(accounts.c.id, tier)
            .where(accounts.c.deleted_at.is_(None), tier.in_(sorted(tiers)))
            .where(~exists().where(targets.c.account_id == accounts.c.id))
        )
        columns = ["id", "account_id", "stage", "priority", "icp_version_id"]
        columns += ["created_at", "updated_at", "changed_by", "version"]
        now, added, conn = utcnow(), 0, self.conn
        result = conn.execute(candidates)
        while chunk := result.fetchmany(_CHUNK):
            rows = [
                (new_id(), account_id, Stage.TARGETED.value,
                 priority_for(Tier(value)), version.id, now, now, user.name, 1)
                for account_id, value in chunk
            ]  # fmt: skip
            bulk_insert(conn, targets, columns, rows)
            refresh_segments(conn, [row[1] for row in rows])  # the ICP version that listed it
            _staged(conn, [(row[1], None) for row in rows], Stage.TARGETED, user, now)
            added += len(rows)
        _log(conn, user, None, "build", {"icp": version.label, "tiers": sorted(tiers),
                                        "added": added})  # fmt: skip
        return added

    def outside(self, version: IcpVersion, tiers: frozenset[Tier]) -> list[uuid.UUID]:
        """Listed accounts put there by a build whose tier under ``version`` is none of
        ``tiers``, best first; accounts added by hand are the user's choice and not said."""
        tier = tier_sql(version.icp)
        statement = (
            select(accounts.c.id)
            .select_from(targets.join(accounts, accounts.c.id == targets.c.account_id))
            .where(LISTED, accounts.c.deleted_at.is_(None))
            .where(targets.c.icp_version_id.is_not(None))
            .where(or_(tier.is_(None), tier.not_in(sorted(tiers))))
            .order_by(*BEST_FIRST)
        )
        return [uuid.UUID(str(i)) for i in self.conn.execute(statement).scalars()]

    def add(self, account_id: uuid.UUID, reason: str, user: User) -> None:
        conn = self.conn
        facts = account_facts(conn, account_id)
        if facts["deleted_at"] is not None:
            raise NotFound(f"{facts['name']} was deleted, so nothing was changed: leave it "
                           "out of the selection.")  # fmt: skip
        row = conn.execute(select(targets).where(targets.c.account_id == account_id)).first()
        if row is not None and row.deleted_at is None:
            raise AlreadyOnTargetList(facts["name"])
        now = utcnow()
        if row is None:
            conn.execute(
                insert(targets).values(
                    id=new_id(),
                    account_id=account_id,
                    stage=Stage.TARGETED.value,
                    priority=priority_for(facts["tier"]),
                    icp_version_id=None,
                    created_at=now,
                    updated_at=now,
                    changed_by=user.name,
                    version=1,
                )
            )
            _staged(conn, [(account_id, None)], Stage.TARGETED, user, now)
        else:
            conn.execute(
                update(targets)
                .where(targets.c.id == row.id)
                .values(deleted_at=None, **_touched(user, now))
            )
            refresh_sla_facts(conn, [account_id])  # its hand-off, if any, counts again
            refresh_goal_facts(conn, [account_id])  # and its open deal
            refresh_queue_facts(conn, [account_id])
        _log(conn, user, account_id, "add", {"name": facts["name"], "reason": reason})

    def remove(self, account_id: uuid.UUID, reason: str, user: User) -> None:
        conn, now = self.conn, utcnow()
        done = conn.execute(
            update(targets)
            .where(targets.c.account_id == account_id, LISTED)
            .values(deleted_at=now, **_touched(user, now))
        )
        if done.rowcount == 0:
            raise NotOnTargetList(self._name(account_id))
        refresh_sla_facts(conn, [account_id])
        refresh_goal_facts(conn, [account_id])
        refresh_queue_facts(conn, [account_id])
        _log(conn, user, account_id, "remove", {"name": self._name(account_id), "reason": reason})

    def _name(self, account_id: uuid.UUID) -> str:
        name = self.conn.execute(select(accounts.c.name).where(accounts.c.id == account_id))
        return name.scalar() or "An account"

    def assign(self, owners: Mapping[uuid.UUID, uuid.UUID | None], user: User) -> int:
        if not owners:
            return 0
        now, conn, changed = utcnow(), self.conn, 0
        for account_id, owner_id in owners.items():
            result = conn.execute(
                update(targets)
                .where(targets.c.account_id == account_id, LISTED)
                .where(targets.c.owner_id.is_distinct_from(owner_id))
                .values(owner_id=owner_id, **_touched(user, now))
            )
            changed += result.rowcount
        refresh_sla_facts(conn, owners)
        refresh_goal_facts(conn, owners)
        refresh_queue_facts(conn, owners)
        refresh_segments(conn, owners)
        _log(conn, user, None, "assign", {"accounts": changed})
        return changed

    def set_priority(self, account_id: uuid.UUID, priority: int, user: User) -> None:
        result = self.conn.execute(
            update(targets)
            .where(targets.c.account_id == account_id, LISTED)
            .values(priority=priority, **_touched(user, utcnow()))
        )
        if result.rowcount == 0:
            raise NotOnTargetList(self._name(account_id))
        refresh_queue_facts(self.conn, [account_id])
        _log(self.conn, user, account_id, "priority", {"priority": priority})

    def hand_off(self, account_ids: Sequence[uuid.UUID] | None, user: User) -> HandOffResult:
        conn = self.conn
        eligible, counts = _hand_off(conn, account_ids)
        now = utcnow()
        targeted = conn.execute(
            select(targets.c.account_id).where(
                targets.c.id.in_(eligible.scalar_subquery()),
                targets.c.stage == Stage.TARGETED.value,
            )
        ).scalars()
        _staged(conn, [(a, Stage.TARGETED) for a in targeted], Stage.SALES_READY, user, now)
        passed_on = conn.execute(
            select(targets.c.account_id).where(targets.c.id.in_(eligible.scalar_subquery()))
        ).scalars()
        chosen = list(passed_on)
        handed = conn.execute(
            update(targets)
            .where(targets.c.id.in_(eligible.scalar_subquery()))
            .values(
                handed_off_at=now,
                handed_off_by=user.name,
                stage=case(
                    (targets.c.stage == Stage.TARGETED.value, Stage.SALES_READY.value),
                    else_=targets.c.stage,
                ),
                **_touched(user, now),
            )
        ).rowcount
        refresh_sla_facts(conn, chosen)
        refresh_goal_facts(conn, chosen)
        refresh_queue_facts(conn, chosen)
        _log(conn, user, None, "hand off", {"accounts": handed})
        return replace(counts, handed_off=handed)

    # --- what the bulk assignments read ----------------------------------------------------
    def unowned(self) -> list[tuple[uuid.UUID, str | None, str | None]]:
        """Listed accounts without an owner, best first: (account id, country code, region)."""
        statement = (
            select(accounts.c.id, accounts.c.country_code, accounts.c.region)
            .select_from(targets.join(accounts, accounts.c.id == targets.c.account_id))
            .where(LISTED, targets.c.owner_id.is_(None))
            .order_by(*BEST_FIRST)
        )
        return [(r.id, r.country_code, r.region) for r in self.conn.execute(statement)]

    def users_by_name(self) -> dict[str, User]:
        return users_by_name(self.conn)


def _hand_off(
    conn: Connection, account_ids: Sequence[uuid.UUID] | None
) -> tuple[Select[tuple[Any]], HandOffResult]:
    """The listed accounts a hand-off of ``account_ids`` (None: every one) would pass on, and
    what it would say: how many, and why the others stay."""
    ready = sales_ready_sql(lead_definition_in(conn))
    joined = targets.join(accounts, accounts.c.id == targets.c.account_id)
    chosen = (
        LISTED if account_ids is None else and_(LISTED, targets.c.account_id.in_(list(account_ids)))
    )
    pending = targets.c.handed_off_at.is_(None)

    def count(*conditions: Any) -> int:
        statement = select(func.count()).select_from(joined).where(chosen, *conditions)
        return int(conn.execute(statement).scalar_one())

    owned = targets.c.owner_id.is_not(None)
    counts = HandOffResult(
        handed_off=count(pending, owned, ready),
        not_sales_ready=count(pending, owned, ~ready),
        without_owner=count(pending, targets.c.owner_id.is_(None)),
        already_handed_off=count(~pending),
    )
    eligible = select(targets.c.id).select_from(joined).where(chosen, pending, owned, ready)
    return eligible, counts


def hand_off_preview(
    workspace: Workspace, account_ids: Sequence[uuid.UUID] | None
) -> HandOffResult:
    """What handing off ``account_ids`` (None: every listed account) would do now, read
    without the write lock, so that the window can say the count before asking."""
    with workspace.read() as conn:
        return _hand_off(conn, account_ids)[1]


class SqlTargetStore:
    """The people who may own listed accounts, read without the write lock."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def users_by_name(self) -> dict[str, User]:
        with self.workspace.read() as conn:
            return users_by_name(conn)


def users_by_name(conn: Connection) -> dict[str, User]:
    """The workspace's users (not removed) by name."""
    rows = conn.execute(select(users).where(users.c.deleted_at.is_(None)))
    return {r.name: User(r.id, r.name, Role(r.role)) for r in rows}


def _staged(
    conn: Connection,
    moves: Sequence[tuple[uuid.UUID, Stage | None]],
    after: Stage,
    user: User,
    now: datetime,
) -> None:
    """Append the stage history of accounts the list moved: (account id, stage before)."""
    columns = ["id", "account_id", "from_stage", "to_stage", "at", "changed_by", "reason"]
    rows = [(new_id(), a, before and before.value, after.value, now, user.name, "")
            for a, before in moves]  # fmt: skip
    if rows:
        bulk_insert(conn, stage_changes, columns, rows)
        refresh_reach(conn, [a for a, _ in moves])
        refresh_goal_facts(conn, [a for a, _ in moves])
        refresh_queue_facts(conn, [a for a, _ in moves])


def _touched(user: User, now: datetime) -> dict[str, Any]:
    return {"updated_at": now, "changed_by": user.name, "version": targets.c.version + 1}


def _log(
    conn: Connection, user: User, account_id: uuid.UUID | None, action: str, details: Any
) -> None:
    log_change(conn, user, "targets", account_id, action, details)


def target_history(workspace: Workspace, limit: int = 500) -> list[tuple[Any, ...]]:
    """The list's history, newest first: (when, who, action, details)."""
    statement = (
        select(change_log.c.at, change_log.c.user_name, change_log.c.action, change_log.c.details)
        .where(change_log.c.table_name == "targets")
        .order_by(change_log.c.id.desc())
        .limit(limit)
    )
    with workspace.read() as conn:
        return [tuple(r) for r in conn.execute(statement)]


def target_summary(workspace: Workspace) -> dict[str, int]:
    """Listed accounts, with an owner, handed off."""
    statement = select(
        func.count(),
        func.count(targets.c.owner_id),
        func.count(targets.c.handed_off_at),
    ).where(LISTED)
    with workspace.read() as conn:
        listed, owned, handed = conn.execute(statement).one()
    return {"listed": listed, "owned": owned, "handed off": handed}


_EXPORT_COLUMNS = [
    TableColumn("Account Name"),
    TableColumn("Website"),
    TableColumn("Country"),
    TableColumn("Industry"),
    TableColumn("Employees", ColumnKind.INTEGER),
    TableColumn("Score", ColumnKind.INTEGER),
    TableColumn("Tier"),
    TableColumn("Why"),
    TableColumn("Owner"),
    TableColumn("Stage"),
    TableColumn("Priority", ColumnKind.INTEGER),
    TableColumn("Sales-ready"),
    TableColumn("Handed off (UTC)", ColumnKind.DATETIME),  # as stored: the same on every computer
]


def target_table(workspace: Workspace, owner: User | None = None) -> TableData:
    """The target list (or one rep's part of it) by priority and score, with the why."""
    condition = LISTED if owner is None else and_(LISTED, targets.c.owner_id == owner.id)
    with workspace.read() as conn:
        count = conn.execute(select(func.count()).select_from(targets).where(condition))
        total = int(count.scalar_one())
    return TableData("Target list", _EXPORT_COLUMNS, _target_rows(workspace, condition), total)


def _target_rows(workspace: Workspace, condition: Any) -> Iterator[list[Any]]:
    version = active_version(workspace)
    ready = sales_ready_sql(current_lead_definition(workspace))
    statement = (
        select(
            accounts,
            scores.c.score,
            scores.c.tier,
            users.c.name.label("owner"),
            targets.c.stage,
            targets.c.priority,
            targets.c.handed_off_at,
            case((ready, "yes"), else_="no").label("sales_ready"),
            has_decision_maker().label(HAS_DECISION_MAKER),
        )
        .select_from(
            targets.join(accounts, accounts.c.id == targets.c.account_id)
            .outerjoin(scores, scores.c.account_id == accounts.c.id)
            .outerjoin(users, users.c.id == targets.c.owner_id)
        )
        .where(condition)
        .order_by(*BEST_FIRST)
    )
    with workspace.read() as conn:
        for row in conn.execution_options(yield_per=2000).execute(statement).mappings():
            facts = {**row, "custom": dict(row["custom"] or {})}
            why = explain(version.icp.evaluate(facts)) if version is not None else ""
            yield [
                row["name"], row["website"], row["country"], row["industry"], row["employees"],
                row["score"], row["tier"], why, row["owner"], row["stage"], row["priority"],
                row["sales_ready"], row["handed_off_at"],
            ]  # fmt: skip


def target_entry(workspace: Workspace, account_id: uuid.UUID) -> dict[str, Any] | None:
    """The account's line on the target list (owner name, stage, priority, hand-off), or
    None when it is not listed."""
    statement = (
        select(targets, users.c.name.label("owner"))
        .select_from(targets.outerjoin(users, users.c.id == targets.c.owner_id))
        .where(targets.c.account_id == account_id, LISTED)
    )
    with workspace.read() as conn:
        row = conn.execute(statement).mappings().first()
    return None if row is None else dict(row)
