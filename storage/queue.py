"""The call queue in SQL: a rep's open accounts with what ranks them, in the order
:func:`domain.queue.rank_key` gives (a property test holds the two to the same order).
Each fact is a correlated subquery over an index on ``(account_id, at)``, so that a rep's
queue costs what the rep owns, not what the workspace holds."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    DateTime,
    Select,
    Uuid,
    and_,
    bindparam,
    case,
    exists,
    func,
    or_,
    select,
)

from domain.queue import CLOSED, QueueEntry, QueueRules, Urgency, first_touch_deadline
from domain.targets import Stage
from domain.users import User
from storage.agreements import queue_rules
from storage.queue_facts import current_interaction, last_touch, queue_facts
from storage.schema import (
    AccountRow,
    AccountScoreRow,
    EngagementRow,
    InteractionRow,
    TargetRow,
    stored_utc,
    table_of,
)
from storage.targets import users_by_name
from storage.workspace import Workspace

accounts = table_of(AccountRow)
targets = table_of(TargetRow)
scores = table_of(AccountScoreRow)
interactions = table_of(InteractionRow)
engagements = table_of(EngagementRow)


@cache
def queue_statement(head: bool = False) -> Any:
    """The rep's open accounts with their facts, in queue order: built once, run with the
    parameters ``rep_id``, ``since`` (engagement counts from then) and ``today`` (for the
    ``head``, ``ids``, its accounts, instead of ``rep_id``)."""
    engaged = engagements.alias("engaged")
    mine = targets.c.account_id
    since = bindparam("since", type_=DateTime(timezone=True))
    facts = (
        select(
            targets.c.account_id,
            targets.c.priority,
            targets.c.stage,
            targets.c.handed_off_at,
            accounts.c.name,
            accounts.c.phone,
            scores.c.score,
            scores.c.tier,
            last_touch(mine).label("last_touch"),
            current_interaction(mine).label("current_id"),
            select(func.count())
            .where(engaged.c.account_id == mine, engaged.c.at >= since)
            .scalar_subquery()
            .label("engagements"),
            select(func.max(engaged.c.at))
            .where(engaged.c.account_id == mine, engaged.c.at >= since)
            .scalar_subquery()
            .label("last_engaged"),
        )
        .select_from(
            targets.join(accounts, accounts.c.id == targets.c.account_id).outerjoin(
                scores, scores.c.account_id == targets.c.account_id
            )
        )
        .where(
            targets.c.deleted_at.is_(None),
            # the head's accounts are the rep's, found in the queue's facts by their owner
            mine.in_(bindparam("ids", expanding=True))
            if head
            else targets.c.owner_id == bindparam("rep_id", type_=Uuid),
            accounts.c.deleted_at.is_(None),
            targets.c.stage.not_in([stage.value for stage in CLOSED]),
        )
        # OFFSET 0 keeps both databases from merging it into the query around it, which
        # would run each fact's subquery again for every place the ranking names it
        .offset(0)
        .subquery("facts")
    )
    current = interactions.alias("current")
    follow_up, day = current.c.follow_up, bindparam("today", type_=Date)
    untouched = facts.c.handed_off_at.is_not(None) & (
        facts.c.last_touch.is_(None) | (facts.c.last_touch < facts.c.handed_off_at)
    )
    # the ranking rule, read from each account's facts (the head reads it reason by reason)
    urgency = case(
        (follow_up < day, int(Urgency.OVERDUE)),
        (untouched, int(Urgency.FIRST_TOUCH)),
        (follow_up == day, int(Urgency.DUE_TODAY)),
        (facts.c.engagements > 0, int(Urgency.ENGAGED)),
        (follow_up.is_not(None), int(Urgency.LATER)),
        else_=int(Urgency.OPEN),
    )
    shown = [column for column in facts.c if column.name != "current_id"]
    return (
        select(*shown, follow_up, current.c.next_step)
        .select_from(facts.outerjoin(current, current.c.id == facts.c.current_id))
        .order_by(
            urgency,
            case((urgency == int(Urgency.FIRST_TOUCH), facts.c.handed_off_at)),
            facts.c.priority,
            facts.c.score.desc().nulls_last(),
            facts.c.last_touch.asc().nulls_first(),
            facts.c.account_id,
        )
    )


def entry_from_row(row: Any, rules: QueueRules) -> QueueEntry:
    handed_off_at = stored_utc(row.handed_off_at)
    return QueueEntry(
        account_id=row.account_id,
        account=row.name,
        priority=row.priority,
        stage=Stage(row.stage),
        score=row.score,
        tier=row.tier,
        handed_off_at=handed_off_at,
        last_touch=stored_utc(row.last_touch),
        follow_up=row.follow_up,
        next_step=row.next_step or "",
        engagements=row.engagements,
        last_engaged=stored_utc(row.last_engaged),
        phone=row.phone,
        first_touch_by=None
        if handed_off_at is None
        else first_touch_deadline(handed_off_at, rules),
    )


class SqlQueue:
    """The domain's :class:`~domain.queue.QueueReader`: reads only, never the write lock."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def users_by_name(self) -> dict[str, User]:
        with self.workspace.read() as conn:
            return users_by_name(conn)

    def rules(self) -> QueueRules:
        with self.workspace.read() as conn:
            return queue_rules(conn)

    def queue(
        self, rep: User, now: datetime, today: date, limit: int | None, rules: QueueRules
    ) -> list[QueueEntry]:
        with self.workspace.read() as conn:
            return queue_entries(conn, rep.id, now, today, limit, rules)


def queue_entries(
    conn: Connection,
    rep_id: uuid.UUID,
    now: datetime,
    today: date,
    limit: int | None,
    rules: QueueRules,
) -> list[QueueEntry]:
    """The rep's queue read on ``conn``: at most ``limit`` entries, in queue order."""
    statement = queue_statement()
    since = now - timedelta(days=rules.engagement_days)
    rows = conn.execute(statement if limit is None else statement.limit(limit),
                        {"rep_id": rep_id, "since": since, "today": today})  # fmt: skip
    return [entry_from_row(row, rules) for row in rows]


def queue_head(
    conn: Connection,
    rep_id: uuid.UUID,
    now: datetime,
    today: date,
    limit: int,
    rules: QueueRules,
) -> list[QueueEntry]:
    """The first ``limit`` entries of the rep's queue, as :func:`queue_entries` gives them:
    each reason's accounts are read from the queue's facts in their index, in queue order,
    reason after reason, until ``limit`` are found (the engagement of those the engaged
    reason reaches looked up then); only the entries found have their facts read."""
    since = now - timedelta(days=rules.engagement_days)
    found: list[uuid.UUID] = []
    for reason in _reasons(since, today):
        if len(found) >= limit:
            break
        mine = reason.where(queue_facts.c.owner_id == rep_id).limit(limit - len(found))
        found += conn.execute(mine).scalars()
    if not found:
        return []
    facts = {"since": since, "today": today, "ids": found}
    rows = conn.execute(queue_statement(head=True), facts)
    return [entry_from_row(row, rules) for row in rows]


def _reasons(since: datetime, today: date) -> list[Select[Any]]:
    """The accounts of each reason of the queue (``domain.queue.Urgency``, in its order), in
    their order within it, from the queue's facts: what the urgency of
    :func:`queue_statement` says of each account, one reason at a time."""
    f = queue_facts.c
    untouched = and_(
        f.handed_off_at.is_not(None), or_(f.last_touch.is_(None), f.last_touch < f.handed_off_at)
    )
    engaged = exists().where(engagements.c.account_id == f.account_id, engagements.c.at >= since)
    overdue, due = f.follow_up < today, f.follow_up == today
    not_overdue = or_(f.follow_up.is_(None), f.follow_up >= today)
    not_due = or_(f.follow_up.is_(None), f.follow_up > today)
    within = (f.priority, f.score.desc().nulls_last(), f.last_touch.asc().nulls_first(),
              f.account_id)  # fmt: skip
    reasons = [
        (overdue, within),
        (and_(not_overdue, untouched), (f.handed_off_at, *within)),
        (and_(due, ~untouched), within),
        (and_(not_due, ~untouched, engaged), within),
        (and_(f.follow_up > today, ~untouched, ~engaged), within),
        (and_(f.follow_up.is_(None), ~untouched, ~engaged), within),
    ]
    return [select(f.account_id).where(which).order_by(*order) for which, order in reasons]
