"""The call queue ("My day"): each rep's ranked list of whom to contact next, and why.

The rule is one order, written once here as :func:`rank_key` and compiled to SQL in
``storage/queue.py`` (a property test proves both give the same order):

1. follow-ups overdue;
2. hand-offs not touched yet, the nearest first-touch deadline first (the earliest
   hand-off first: a later one never has an earlier deadline);
3. follow-ups due today;
4. accounts that engaged with marketing lately;
5. the rest of the rep's open accounts;
6. follow-ups planned for a later day.

Within each: first priority first, best fit first, longest untouched first (never touched
before all), then by account id so that the order is total. Won and lost accounts leave
the queue. What counts as "lately" and the first-touch deadline are :class:`QueueRules`:
the deadline is the service agreement's ``first_touch_days`` on the workspace calendar
(``storage.agreements.queue_rules`` reads them); :data:`RULES` are the agreement's and the
calendar's defaults.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol
from uuid import UUID

from domain.agreement import SalesSide
from domain.calendar import WorkCalendar
from domain.dossiers import PrintedContact
from domain.errors import NotFound, ValidationError
from domain.interactions import Interaction
from domain.tables import ColumnKind, TableColumn, TableData
from domain.targets import Stage
from domain.users import Action, Role, User
from domain.values import counted, shown_time


@dataclass(frozen=True)
class QueueRules:
    """How the queue weighs time."""

    #: A handed-off account is touched within this many business days of the calendar.
    first_touch_business_days: int = SalesSide.first_touch_days
    #: Engagement this recent puts an account forward.
    engagement_days: int = 30
    calendar: WorkCalendar = field(default_factory=WorkCalendar)


RULES = QueueRules()
#: The stages that leave the queue: the deal is closed.
CLOSED = (Stage.WON, Stage.LOST)


class Urgency(enum.IntEnum):
    """Why an account is where it is in the queue, most urgent first."""

    OVERDUE = 0
    FIRST_TOUCH = 1
    DUE_TODAY = 2
    ENGAGED = 3
    OPEN = 4
    LATER = 5


@dataclass(frozen=True)
class QueueEntry:
    """One open account of a rep's, with what ranks it. ``follow_up`` and ``next_step``
    are the newest current interaction's (a corrected entry counts no more); ``last_touch``
    is when the newest interaction happened; ``engagements`` counts the account's
    engagement within :attr:`QueueRules.engagement_days`; ``first_touch_by`` is the
    hand-off's first-touch deadline (:func:`first_touch_deadline`)."""

    account_id: UUID
    account: str
    priority: int
    stage: Stage
    score: int | None = None
    tier: str | None = None
    handed_off_at: datetime | None = None
    last_touch: datetime | None = None
    follow_up: date | None = None
    next_step: str = ""
    engagements: int = 0
    last_engaged: datetime | None = None
    phone: str | None = None
    first_touch_by: datetime | None = None

    def urgency(self, today: date) -> Urgency:
        if self.follow_up is not None and self.follow_up < today:
            return Urgency.OVERDUE
        if self.untouched:
            return Urgency.FIRST_TOUCH
        if self.follow_up == today:
            return Urgency.DUE_TODAY
        if self.engagements:
            return Urgency.ENGAGED
        if self.follow_up is not None:
            return Urgency.LATER
        return Urgency.OPEN

    @property
    def untouched(self) -> bool:
        """Handed off, and nobody has logged anything since."""
        return self.handed_off_at is not None and (
            self.last_touch is None or self.last_touch < self.handed_off_at
        )


def rank_key(entry: QueueEntry, today: date) -> tuple[object, ...]:
    """Where ``entry`` stands in the queue on ``today`` (the rep's date): smaller first."""
    urgency = entry.urgency(today)
    handed_off = entry.handed_off_at if urgency is Urgency.FIRST_TOUCH else None
    return (
        urgency,
        handed_off.timestamp() if handed_off is not None else 0.0,
        entry.priority,
        entry.score is None,
        -(entry.score or 0),
        entry.last_touch is not None,
        entry.last_touch.timestamp() if entry.last_touch is not None else 0.0,
        entry.account_id,
    )


def ranked(entries: list[QueueEntry], today: date) -> list[QueueEntry]:
    """The entries in queue order."""
    return sorted(entries, key=lambda entry: rank_key(entry, today))


def first_touch_deadline(handed_off_at: datetime, rules: QueueRules = RULES) -> datetime:
    """When a handed-off account must have been touched: the end of the agreed business
    day after the hand-off's day, on the workspace calendar (``WorkCalendar.deadline``)."""
    return rules.calendar.deadline(handed_off_at, rules.first_touch_business_days)


def _span(length: timedelta) -> str:
    """``2 days 4 hours``, ``5 hours``, ``40 minutes``: how long, as a person says it."""
    minutes = int(length.total_seconds() // 60)
    days, hours = minutes // (24 * 60), minutes // 60 % 24
    if days:  # the hours matter within a day or two only
        return counted(days, "day") + (f" {counted(hours, 'hour')}" if hours and days < 2 else "")
    if hours:
        return counted(hours, "hour")
    return counted(max(minutes, 1), "minute")


def _day(value: date) -> str:
    return value.strftime("%Y-%m-%d")


def why_now(entry: QueueEntry, now: datetime, today: date, rules: QueueRules = RULES) -> str:
    """The reason the account is where it is, as its line in the queue says it."""
    urgency = entry.urgency(today)
    if urgency is Urgency.OVERDUE:
        assert entry.follow_up is not None
        late = counted((today - entry.follow_up).days, "day")
        return f"Follow-up overdue by {late} (due {_day(entry.follow_up)})"
    if urgency is Urgency.FIRST_TOUCH:
        deadline = entry.first_touch_by
        assert deadline is not None
        if deadline > now:
            return f"Handed off: first touch within {_span(deadline - now)}"
        return f"Handed off: first touch {_span(now - deadline)} late"
    if urgency is Urgency.DUE_TODAY:
        return "Follow-up due today"
    if urgency is Urgency.ENGAGED:
        return "Recent engagement"
    if urgency is Urgency.LATER:
        assert entry.follow_up is not None
        return f"Follow-up planned for {_day(entry.follow_up)}"
    return "Not contacted yet" if entry.last_touch is None else "No follow-up planned"


def engagement_text(entry: QueueEntry, rules: QueueRules = RULES) -> str:
    """``2 engagements in 30 days (last 2026-11-20)``; empty without any."""
    if not entry.engagements:
        return ""
    last = f" (last {shown_time(entry.last_engaged, '%Y-%m-%d')})" if entry.last_engaged else ""
    return f"{counted(entry.engagements, 'engagement')} in {rules.engagement_days} days{last}"


def fit_text(entry: QueueEntry) -> str:
    """``Tier A, score 87``; ``Not in any tier`` before an ICP places it."""
    if entry.tier is None:
        return "Not in any tier"
    return (
        f"Tier {entry.tier}, score {entry.score}"
        if entry.score is not None
        else f"Tier {entry.tier}"
    )


def last_touch_text(entry: QueueEntry, now: datetime) -> str:
    """When the account was last called, visited or written to: ``12 days ago``, ``Today``,
    ``Never``."""
    if entry.last_touch is None:
        return "Never"
    days = (now.date() - entry.last_touch.astimezone(now.tzinfo).date()).days
    return "Today" if days <= 0 else f"{counted(days, 'day')} ago"


def reasons(entry: QueueEntry, now: datetime, today: date, rules: QueueRules = RULES) -> str:
    """Everything that ranks the account, in one line: why now, engagement, fit, priority
    and the last touch."""
    parts = [why_now(entry, now, today, rules)]
    if entry.engagements:
        parts.append(engagement_text(entry, rules))
    touched = (
        "never touched"
        if entry.last_touch is None
        else (f"last touch {last_touch_text(entry, now).lower()}")
    )
    parts += [fit_text(entry), f"priority {entry.priority}", touched]
    return " · ".join(parts)


QUEUE_COLUMNS = (
    TableColumn("Rank", ColumnKind.INTEGER),
    TableColumn("Account Name"),
    TableColumn("Why now"),
    TableColumn("Engagement"),
    TableColumn("Tier"),
    TableColumn("Score", ColumnKind.INTEGER),
    TableColumn("Priority", ColumnKind.INTEGER),
    TableColumn("Stage"),
    TableColumn("Last touch (UTC)", ColumnKind.DATETIME),  # as stored: the same everywhere
    TableColumn("Follow-up"),
    TableColumn("Next step"),
    TableColumn("Phone"),
)


def queue_table(
    entries: list[QueueEntry], now: datetime, today: date, rules: QueueRules = RULES
) -> TableData:
    """The queue as a table to write out, one row per account in queue order."""
    rows = [
        [n, e.account, why_now(e, now, today, rules), engagement_text(e, rules), e.tier,
         e.score, e.priority, e.stage.value, e.last_touch,
         _day(e.follow_up) if e.follow_up else "", e.next_step, e.phone or ""]
        for n, e in enumerate(entries, 1)
    ]  # fmt: skip
    return TableData("Call queue", QUEUE_COLUMNS, rows, len(rows))


@dataclass(frozen=True)
class CallSheet:
    """One page of the call pack for an account without a dossier: its facts and phone
    numbers, contacts, the why of its fit, why it is in the queue now, the last
    interactions (newest first, each with its contact's name) and the next step."""

    account: str
    facts: tuple[tuple[str, str], ...]  # (label, value) of the account's filled fields
    score: int | None
    tier: str | None
    why: tuple[tuple[str, str], ...]  # (criterion, what it gave)
    owner: str | None
    priority: int
    stage: str
    why_now: str
    next_step: str
    follow_up: date | None
    phone: str | None
    contacts: tuple[PrintedContact, ...]
    interactions: tuple[tuple[Interaction, str], ...]


class QueueReader(Protocol):
    """Reads the queue; storage evaluates :func:`rank_key` in SQL."""

    def users_by_name(self) -> dict[str, User]: ...
    def rules(self) -> QueueRules:
        """The workspace's: the agreement's first-touch days on its calendar."""
        ...

    def queue(
        self, rep: User, now: datetime, today: date, limit: int | None, rules: QueueRules
    ) -> list[QueueEntry]:
        """The rep's open accounts in queue order, at most ``limit``."""
        ...


def call_queue(
    reader: QueueReader,
    user: User,
    rep: str | None = None,
    *,
    now: datetime,
    today: date,
    limit: int | None = None,
    rules: QueueRules | None = None,
) -> list[QueueEntry]:
    """``rep``'s call queue (default: the user's own). A rep sees only their own; the owner
    and marketing see any rep's. ``now`` is UTC, ``today`` the rep's date; ``rules`` are
    the workspace's unless given."""
    name = user.name if rep is None else rep
    if name != user.name:
        user.require(Action.SEE_ANY_QUEUE)
    if limit is not None and limit < 1:
        raise ValidationError({"limit": "show at least one account"})
    person = reader.users_by_name().get(name)
    if person is None:
        raise NotFound(f"There is no user called '{name}'.")
    if person.role is not Role.REP:
        raise ValidationError({"rep": f"{name} is {person.role}, not a rep: only reps have "
                                      "a call queue"})  # fmt: skip
    return reader.queue(person, now, today, limit, rules or reader.rules())
