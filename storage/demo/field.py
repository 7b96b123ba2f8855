"""The demo's field history: six months of what its reps did on the target list and what
the accounts did towards marketing, so that the call queue, the timeline and the reports
have something true to show on first start.

Each listed account with an owner gets a story: handed off (or not yet), first attempts,
conversations, meetings, opportunities, won and lost deals with values, follow-ups (some
overdue), ratings and learnings; its stage follows from its interactions by the domain's
own rule (:func:`domain.interactions.stage_after`), and every change is in the stage
history. Written with bulk inserts: the benchmarks use the same stories on a million
accounts.
"""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from domain.engagement import EngagementKind
from domain.interactions import Channel, Interaction, LeadVerdict, Outcome, stage_after
from domain.periods import Month
from domain.targets import Stage
from storage.bulk import bulk_insert, new_id
from storage.goal_facts import refresh_goal_facts
from storage.learning_facts import refresh_learning_facts
from storage.queue_facts import refresh_queue_facts
from storage.reach import refresh_reach
from storage.schema import (
    ContactRow,
    EngagementRow,
    InteractionRow,
    StageChangeRow,
    TargetRow,
    UserRow,
    table_of,
)
from storage.segments import refresh_campaigns, refresh_segments
from storage.sla_facts import refresh_sla_facts

targets = table_of(TargetRow)
users = table_of(UserRow)
contacts = table_of(ContactRow)
stage_changes = table_of(StageChangeRow)

INTERACTION_COLUMNS = [
    "id", "account_id", "contact_id", "at", "channel", "outcome", "meaningful", "learned",
    "quality", "lead", "reason", "commitments", "next_step", "follow_up", "value",
    "supersedes_id", "logged_by", "logged_at",
]  # fmt: skip
STAGE_COLUMNS = ["id", "account_id", "from_stage", "to_stage", "at", "changed_by",
                 "interaction_id", "reason"]  # fmt: skip
ENGAGEMENT_COLUMNS = ["id", "account_id", "contact_id", "kind", "at", "campaign", "source",
                      "detail", "created_at", "created_by"]  # fmt: skip

LEARNED = [
    "Runs planning on spreadsheets; the operations lead wants one shared view.",
    "Budget is set in January; they would pilot with one team first.",
    "Happy with their current supplier, but renewal is in spring.",
    "The CFO signs anything over 20k; our champion is the head of sales.",
    "They grew from 80 to 140 people this year and onboarding is painful.",
    "Asked for references in their industry before a second meeting.",
    "Compliance review takes six weeks; start it early.",
    "Uses a competitor in one country, nothing in the others.",
    "Interested in the reporting, less in the forecasting.",
    "New managing director since summer; priorities are being reset.",
]
COMMITMENTS = ["Send the case study", "Share pricing for 50 seats", "Intro to our partner",
               "Send the security questionnaire"]  # fmt: skip
NEXT_STEPS = ["Call back after their board meeting", "Book a demo with the team",
              "Send a proposal", "Visit the plant", "Check in after the trade fair"]  # fmt: skip
LOST_REASONS = ["Chose a competitor on price", "No budget this year", "Project cancelled",
                "Went with an in-house tool"]  # fmt: skip
NOT_A_FIT = ["Too small: a team of eight", "Sells only to consumers", "Closed the branch"]
REJECTED = ["No decision-maker reachable", "Wrong industry code: they resell, not make"]
#: The demo's campaigns: name, source, and what taking part in each looks like.
CAMPAIGNS = [
    ("Spring webinar series", "webinar", (EngagementKind.WEBINAR, EngagementKind.FORM)),
    ("Hannover Messe", "event", (EngagementKind.EVENT,)),
    ("Logistics report 2026", "content", (EngagementKind.CONTENT, EngagementKind.FORM)),
    ("Autumn newsletter", "email", (EngagementKind.EMAIL_REPLY, EngagementKind.CAMPAIGN)),
]

_CHUNK = 20_000


@dataclass
class FieldHistory:
    """What the stories wrote, said in the demo's summary."""

    interactions: int = 0
    stage_changes: int = 0
    engagements: int = 0
    handed_off: int = 0


def _history_began(now: datetime, months: int) -> datetime:
    """When the demo's history begins: noon in UTC on the first day of the month ``months``
    - 1 before the month of ``now``, that first day in every zone, so that the history
    lies within the last ``months`` months the views offer (the closed loop's six months,
    the goal's period) whatever the day (begun ``months`` times 30 days back, on the 1st of
    a month the list was built before the six months' first day, and a rep's funnel
    showed none targeted)."""
    first = Month.of(now.date()).plus(1 - months).first_day
    return datetime.combine(first, time(12), tzinfo=now.tzinfo)


def field_history(
    conn: Connection,
    now: datetime,
    seed: int,
    marketer: str,
    *,
    months: int = 6,
    touches: float = 1.0,
    progress: Callable[[int, int], None] | None = None,
) -> FieldHistory:
    """Write the stories of every owned account on the target list, ``months`` back from
    ``now``; ``marketer`` is who handed them off. ``touches`` scales how many interactions
    a story has (1.0: about six)."""
    rng = random.Random(seed)
    start = _history_began(now, months)
    days = (now - start) / timedelta(days=1)
    names = dict(conn.execute(select(users.c.id, users.c.name)).all())
    listed = conn.execute(
        select(targets.c.account_id, targets.c.owner_id, targets.c.stage).where(
            targets.c.deleted_at.is_(None), targets.c.owner_id.is_not(None)
        )
    ).all()
    # the list was built when the half year began
    conn.execute(update(targets).values(created_at=start))
    conn.execute(update(stage_changes).where(stage_changes.c.from_stage.is_(None)).values(at=start))
    people = _contacts_of(conn, [row.account_id for row in listed])
    history = FieldHistory()
    entries: list[tuple[Any, ...]] = []
    stages: list[tuple[Any, ...]] = []
    moved: list[dict[str, Any]] = []
    for done, row in enumerate(listed, 1):
        rep = names[row.owner_id]
        stage = Stage(row.stage)
        handed = _office_hours(rng, start + timedelta(days=rng.uniform(1, days - 3)))
        if rng.random() < 0.15:  # not handed off yet: no story
            continue
        stages.append(_change(row.account_id, stage, Stage.SALES_READY, handed, marketer))
        history.handed_off += 1
        story = _story(rng, row.account_id, rep, handed, now, people.get(row.account_id, []),
                       touches)  # fmt: skip
        stage = Stage.SALES_READY
        for entry in story:
            after = stage_after(stage, entry)
            if after is not stage:
                stages.append(_change(row.account_id, stage, after, entry.at, rep, entry.id))
                stage = after
        entries += [_interaction_row(e) for e in story]
        moved.append({"account": row.account_id, "stage": stage.value, "handed": handed})
        if len(entries) >= _CHUNK or len(stages) >= _CHUNK or len(moved) >= _CHUNK:
            _flush(conn, history, entries, stages, moved, marketer)
        if progress is not None and done % 1000 == 0:
            progress(done, len(listed))
    _flush(conn, history, entries, stages, moved, marketer)
    refresh_reach(conn)  # every listed account's history is new
    refresh_sla_facts(conn, None)
    refresh_goal_facts(conn, None)
    refresh_queue_facts(conn, None)
    refresh_segments(conn, None)  # a demo made anew leaves no account of the one before
    refresh_learning_facts(conn, None)
    history.engagements = _engagement(conn, rng, [r.account_id for r in listed], people,
                                      start, now, marketer)  # fmt: skip
    return history


def _contacts_of(conn: Connection, account_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
    found: dict[uuid.UUID, list[Any]] = {}
    wanted = set(account_ids)
    rows = conn.execute(
        select(contacts.c.account_id, contacts.c.id).where(contacts.c.deleted_at.is_(None))
    )
    for account_id, contact_id in rows:
        if account_id in wanted:
            found.setdefault(account_id, []).append(contact_id)
    return found


def _story(
    rng: random.Random,
    account_id: uuid.UUID,
    rep: str,
    handed: datetime,
    now: datetime,
    people: list[Any],
    touches: float,
) -> list[Interaction]:
    """One account's interactions after its hand-off, oldest first: attempts until someone
    answers, then conversations that go as far as the dice say."""
    entries: list[Interaction] = []
    recent = handed > now - timedelta(days=10)
    if rng.random() < (0.5 if recent else 0.03):  # not touched yet; some in the black hole
        return entries
    at = _office_hours(rng, handed + timedelta(hours=rng.uniform(2, 90)))
    reach = rng.choice([Outcome.CONVERSATION, Outcome.MEETING_BOOKED, Outcome.OPPORTUNITY,
                        Outcome.WON, Outcome.LOST, Outcome.NOT_A_FIT])  # fmt: skip
    path = [Outcome.NO_ANSWER] * rng.randint(0, 2) + [Outcome.VOICEMAIL] * rng.randint(0, 1)
    ladder = [Outcome.CONVERSATION, Outcome.MEETING_BOOKED, Outcome.OPPORTUNITY, Outcome.WON]
    if reach in (Outcome.LOST, Outcome.NOT_A_FIT):
        path += [*ladder[: rng.randint(1, 3)], reach]
    else:
        path += ladder[: ladder.index(reach) + 1]
    extra = max(0, round(rng.gauss(touches * 6, 2)) - len(path))
    path[-1:-1] = [Outcome.CONVERSATION] * extra
    value = rng.choice([8_000, 12_000, 15_000, 24_000, 40_000, 65_000])
    first_meaningful = True
    for outcome in path:
        if at > now - timedelta(hours=1):
            break
        meaningful = outcome.meaningful
        channel = (
            Channel.VISIT
            if outcome is Outcome.OPPORTUNITY
            else rng.choice([Channel.CALL, Channel.CALL, Channel.EMAIL, Channel.VIDEO])
        )
        follow = (at + timedelta(days=rng.randint(2, 21))).date() if meaningful else None
        verdict = None
        if meaningful and first_meaningful:
            verdict = LeadVerdict.REJECTED if rng.random() < 0.12 else LeadVerdict.ACCEPTED
        reason = ""
        if outcome is Outcome.LOST:
            reason = rng.choice(LOST_REASONS)
        elif outcome is Outcome.NOT_A_FIT:
            reason = rng.choice(NOT_A_FIT)
        elif verdict is LeadVerdict.REJECTED:
            reason = rng.choice(REJECTED)
        entries.append(
            Interaction(
                account_id=account_id,
                channel=channel,
                outcome=outcome,
                at=at,
                contact_id=rng.choice(people) if people and meaningful else None,
                meaningful=meaningful,
                learned=rng.choice(LEARNED) if meaningful else "",
                quality=rng.randint(2, 5) if verdict is not None else None,
                lead=verdict,
                reason=reason,
                commitments=rng.choice(COMMITMENTS) if meaningful and rng.random() < 0.3 else "",
                next_step=rng.choice(NEXT_STEPS) if follow else "",
                follow_up=follow,
                value=value if outcome.needs_value else None,
                id=new_id(),
                logged_by=rep,
                logged_at=at + timedelta(minutes=rng.randint(1, 240)),
            )
        )
        first_meaningful = first_meaningful and not meaningful
        at += timedelta(days=rng.uniform(1, 20) / max(1.0, touches), hours=rng.uniform(0, 3))
        at = _office_hours(rng, at)
    return _kept_up(rng, entries, now)


def _office_hours(rng: random.Random, moment: datetime) -> datetime:
    """``moment`` if it falls on a weekday between 8:00 and 18:00 on this computer's clock,
    else a time in the office hours of the next weekday: reps do not call at 3 a.m., and
    marketing hands off on working days. Only ever moves forward, so a story keeps its
    order."""
    minutes = rng.randint(0, 9 * 60)  # drawn every time: the dice after do not hang on the hour
    local = moment.astimezone()
    if local.weekday() < 5 and 8 <= local.hour < 18:
        return moment
    day = local.date() if local.hour < 8 else local.date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    opening = datetime(day.year, day.month, day.day, 8, tzinfo=local.tzinfo)
    return (opening + timedelta(minutes=minutes)).astimezone(moment.tzinfo)


def _kept_up(rng: random.Random, entries: list[Interaction], now: datetime) -> list[Interaction]:
    """Follow-ups as a rep keeps them: each one set for the day of the next interaction, and
    the last of an open account mostly in the coming weeks (a fifth of them left overdue)."""
    kept = [
        replace(e, follow_up=later.at.date()) if e.follow_up else e
        for e, later in itertools.pairwise(entries)
    ]
    if entries:
        last = entries[-1]
        coming = (now + timedelta(days=rng.randint(0, 21))).date()
        if last.follow_up and last.outcome not in (Outcome.WON, Outcome.LOST, Outcome.NOT_A_FIT):
            last = replace(last, follow_up=coming if rng.random() < 0.8 else last.follow_up)
        kept.append(last)
    return kept


def _interaction_row(e: Interaction) -> tuple[Any, ...]:
    return (e.id, e.account_id, e.contact_id, e.at, e.channel.value, e.outcome.value,
            e.is_meaningful, e.learned, e.quality, e.lead.value if e.lead else None, e.reason,
            e.commitments, e.next_step, e.follow_up, e.value, None, e.logged_by,
            e.logged_at)  # fmt: skip


def _change(
    account_id: uuid.UUID,
    before: Stage,
    after: Stage,
    at: datetime,
    who: str,
    interaction_id: uuid.UUID | None = None,
) -> tuple[Any, ...]:
    return (new_id(), account_id, before.value, after.value, at, who, interaction_id, "")


def _flush(
    conn: Connection,
    history: FieldHistory,
    entries: list[tuple[Any, ...]],
    stages: list[tuple[Any, ...]],
    moved: list[dict[str, Any]],
    marketer: str,
) -> None:
    """Write what the stories made so far, and empty the lists."""
    bulk_insert(conn, table_of(InteractionRow), INTERACTION_COLUMNS, entries)
    bulk_insert(conn, stage_changes, STAGE_COLUMNS, stages)
    if moved:
        conn.execute(
            update(targets)
            .where(targets.c.account_id == bindparam("account"))
            .values(
                stage=bindparam("stage"), handed_off_at=bindparam("handed"), handed_off_by=marketer
            ),
            moved,
        )
    history.interactions += len(entries)
    history.stage_changes += len(stages)
    for done in (entries, stages, moved):
        done.clear()


def _engagement(
    conn: Connection,
    rng: random.Random,
    account_ids: list[uuid.UUID],
    people: dict[uuid.UUID, list[Any]],
    start: datetime,
    now: datetime,
    marketer: str,
) -> int:
    """A few campaigns' responses from a third of the listed accounts."""
    rows = []
    span = (now - start).total_seconds()
    for account_id in account_ids:
        if rng.random() > 0.33:
            continue
        for _ in range(rng.randint(1, 3)):
            campaign, source, kinds = rng.choice(CAMPAIGNS)
            kind = rng.choice(kinds).value
            at = start + timedelta(seconds=rng.uniform(0, span))
            who = people.get(account_id)
            rows.append((new_id(), account_id, rng.choice(who) if who else None, kind, at,
                         campaign, source, None, at, marketer))  # fmt: skip
    for n in range(0, len(rows), _CHUNK):
        bulk_insert(conn, table_of(EngagementRow), ENGAGEMENT_COLUMNS, rows[n : n + _CHUNK])
    refresh_campaigns(conn, {row[1] for row in rows})
    return len(rows)
