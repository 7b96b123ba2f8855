"""The service agreement's compliance, both sides, computed from the data exactly as
``domain.agreement`` defines each measure, as report sections.

Every day a measure needs a bound of (a hand-off's day, the day of its first meaningful
interaction, a follow-up's date) is one row of a small table made in Python from the
workspace calendar (:class:`_Days`: a few hundred days, whatever the workspace holds) and
joined in SQL: its start and end as UTC, its month and ISO week, the first-touch deadline
of a hand-off on it, the end of the attempts' and the feedback's windows. The facts of each
hand-off and follow-up are the times :mod:`storage.sla_facts` keeps (its first touch, its
N-th attempt, its first meaningful interaction, ...), compared with those days and with
``scope.now`` and summed per month, week, rep and tier in SQL; Python adds up those few
groups.

Where the definitions leave it open, this module counts:

- interactions that a correction superseded count no more (their correction does);
- "within D days" of a moment runs to the end of the D-th calendar day after its day, in
  the workspace's time zone;
- a share counts what can be judged by ``scope.now``: a hand-off whose first touch came or
  whose deadline passed, whose attempts' window closed (or met the rule early), whose first
  meaningful interaction's feedback window closed (or got its rating), a follow-up whose
  date has gone by (or that was kept);
- a hand-off's tier is its account's stored tier (the score table keeps no history);
- follow-ups belong to the rep who logged the interaction that set them; hand-offs to the
  account's rep.
"""

from __future__ import annotations

import enum
import functools
import itertools
import json
import operator
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    Date,
    DateTime,
    Dialect,
    Integer,
    String,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal,
    select,
    type_coerce,
)

from domain.agreement import Agreement, due_by, standing
from domain.calendar import WorkCalendar
from domain.goal import elapsed
from domain.periods import Period
from domain.report import Chart, ChartKind, Figure, Scope, Section, Series, Unit, trend
from domain.tables import ColumnKind, TableColumn, TableData
from domain.targets import Stage
from domain.values import counted
from storage.agreements import current_agreement
from storage.dossiers import complete_dossiers
from storage.queries import scanned
from storage.schema import (
    AccountRow,
    UserRow,
    stored_utc,
    table_of,
)
from storage.sla_facts import (
    ATTEMPTS,
    EARLIEST,
    LATEST,
    MAX_ATTEMPTS,
    STEP,
    current,
    follow_up_days,
    follow_up_facts,
    handoff_facts,
    in_seconds,
    interactions,
    lateness,
    whole_seconds,
)

accounts = table_of(AccountRow)
users = table_of(UserRow)

#: Business days to the first touch, as the distribution's bars group them: (upper bound in
#: business days after the hand-off's day, label).
TOUCH_BUCKETS = (
    (0, "Same day"),
    (1, "1 day"),
    (2, "2 days"),
    (3, "3 days"),
    (5, "4-5 days"),
    (10, "6-10 days"),
)
LATER_TOUCH, NO_TOUCH = "More than 10 days", "Not touched yet"
TOUCH_LABELS = (*(label for _, label in TOUCH_BUCKETS), LATER_TOUCH, NO_TOUCH)
NO_TIER = "No tier"
HANDOFFS_SHEET, BLACK_HOLE_SHEET = "Hand-offs", "Black hole"


@dataclass(frozen=True)
class _Days:
    """The calendar's days from ``first`` to ``last`` as rows to join in SQL, each found by
    its number (days since 1970-01-01, in the workspace's time zone): a time's day number is
    worked out in SQL from its UTC seconds and the zone's offset then (the offsets in force
    over these days, a CASE of a few branches), so that each hand-off finds its day by
    equality, not by comparing it with every day's bounds."""

    agreement: Agreement
    work: WorkCalendar
    first: date
    last: date
    dialect: Dialect

    @cached_property
    def rows(self) -> list[tuple[Any, ...]]:
        """One row per day: its number, the day, its end, month, week, the first-touch
        deadline of a hand-off on it, the attempts' and the feedback's windows' ends, and
        each touch bucket's bound."""
        sales, work = self.agreement.sales, self.work
        rows = []
        day = self.first
        while day <= self.last:
            start = work.day_start(day)
            year, week, _ = day.isocalendar()
            rows.append(
                (
                    (day - EPOCH).days,
                    day,
                    work.day_start(day + timedelta(days=1)),
                    f"{day:%Y-%m}",
                    f"{year}-W{week:02d}",
                    work.deadline(start, sales.first_touch_days),
                    work.day_start(day + timedelta(days=sales.attempts_days + 1)),
                    work.day_start(day + timedelta(days=sales.feedback_days + 1)),
                    *(work.deadline(start, n) for n, _ in TOUCH_BUCKETS),
                )
            )
            day += timedelta(days=1)
        return rows

    @cached_property
    def judged(self) -> dict[int, _Day]:
        """Each day by its number, with what a hand-off on it is judged by as day numbers."""
        work = self.work

        def number(moment: datetime) -> int:
            """The number of the day that starts at ``moment``."""
            return (work.local_day(moment) - EPOCH).days

        return {
            n: _Day(month, week, number(deadline), tuple(number(by) for by in bounds))
            for n, _, _, month, week, deadline, _, _, *bounds in self.rows
        }

    @cached_property
    def touch_days(self) -> int:
        """Days from a hand-off's day after which a first touch is late by every deadline and
        bucket's bound of it (so all such touches are counted alike)."""
        return max(max(day.deadline, *day.bounds) - n for n, day in self.judged.items())

    def due_before(self, moment: datetime) -> datetime:
        """The hand-offs made before this time are those whose first-touch deadline has
        come by ``moment`` (a deadline is a later day's start: the later the day, the later
        its deadline)."""
        due = [end for _, _, end, _, _, deadline, *_ in self.rows if deadline <= moment]
        return max(due, default=self.work.day_start(self.first))

    @cached_property
    def cte(self) -> Any:
        """The days as a table in SQL, read from one JSON parameter that holds them all, as
        they are bound: a statement that joins them is then the same statement whatever the
        days, which SQLAlchemy compiles once (it compiles a VALUES list of a few thousand
        parameters afresh every time, which took longer than most reads)."""
        kinds: list[Any] = [Integer(), Date(), DateTime(timezone=True), String(), String()]
        kinds += [DateTime(timezone=True)] * (len(self.rows[0]) - len(kinds))
        bound = [k.dialect_impl(self.dialect).bind_processor(self.dialect) for k in kinds]
        rows = [
            [_jsonable(b(v) if b else v) for b, v in zip(bound, row, strict=True)]
            for row in self.rows
        ]
        days = bindparam("days", json.dumps(rows), String())
        cols: list[Any]
        if self.dialect.name == "postgresql":
            each = func.json_array_elements(cast(days, JSON)).table_valued("value")
            cols = [cast(each.c.value.op("->>")(n), kind) for n, kind in enumerate(kinds)]
        else:
            each = func.json_each(days).table_valued("value")
            cols = [
                type_coerce(func.json_extract(each.c.value, f"$[{n}]"), kind)
                for n, kind in enumerate(kinds)
            ]
        names = ["n", "day", "day_end", "month", "week", "deadline", "attempts_end",
                 "feedback_end", *(f"by{n}" for n, _ in TOUCH_BUCKETS)]  # fmt: skip
        return (
            select(*(col.label(name) for col, name in zip(cols, names, strict=True)))
            .cte("days")
            .prefix_with("MATERIALIZED")
        )

    @cached_property
    def offsets(self) -> list[tuple[datetime, int]]:
        """(from this UTC moment on, the zone's offset in seconds), over the days."""
        zone = self.work.zone

        def offset(moment: datetime) -> int:
            shift = moment.astimezone(zone).utcoffset()
            return int(shift.total_seconds()) if shift is not None else 0

        moment = self.work.day_start(self.first)
        end = self.work.day_start(self.last + timedelta(days=1))
        found = [(moment, offset(moment))]
        while moment < end:
            later = moment + timedelta(days=1)
            if offset(later) != found[-1][1]:
                low, high = moment, later
                while high - low > timedelta(minutes=1):
                    middle = low + (high - low) / 2
                    low, high = (middle, high) if offset(middle) == found[-1][1] else (low, middle)
                found.append((high.replace(second=0, microsecond=0), offset(later)))
            moment = later
        return found

    def day_of(self, moment: Any) -> Any:
        """The day number of the time ``moment`` (a column), in SQL."""
        return self.day_in_seconds(whole_seconds(moment))

    def day_in_seconds(self, seconds: Any) -> Any:
        """The day number of a time given in whole seconds since 1970 in UTC (a column), in
        SQL: the zone's offset then added (a CASE over the moments it changes at, which
        fall on a whole minute), and divided by a day's."""
        offsets = self.offsets
        shift: Any = literal(offsets[-1][1])
        if len(offsets) > 1:
            shift = case(
                *(
                    (seconds < int(since.timestamp()), before)
                    for (since, _), (_, before) in zip(offsets[1:], offsets, strict=False)
                ),
                else_=offsets[-1][1],
            )
        return (seconds + shift) // DAY_SECONDS


EPOCH, DAY_SECONDS = date(1970, 1, 1), 86400


@dataclass(frozen=True)
class _Day:
    """A day as a hand-off on it is judged: its month and week, and as day numbers its
    first-touch deadline and each touch bucket's bound (:data:`TOUCH_BUCKETS`), the day
    whose start it is."""

    month: str
    week: str
    deadline: int
    bounds: tuple[int, ...]

    def bucket(self, touched: int | None) -> str:
        """The touch bucket of a first touch on the day numbered ``touched`` (None: none)."""
        if touched is None:
            return NO_TOUCH
        for bound, (_, label) in zip(self.bounds, TOUCH_BUCKETS, strict=True):
            if touched < bound:
                return label
        return LATER_TOUCH


def _days(conn: Connection, scope: Scope, agreement: Agreement, since_first: bool) -> _Days:
    """Days from the period's first (or the first hand-off's, for the black hole) to the
    day after the later of the period's last and today."""
    work = scope.calendar
    first = work.local_day(scope.period.start(work.zone))
    if since_first:  # the oldest hand-off nobody has touched since
        earliest = conn.execute(
            select(func.min(handoff_facts.c.handed_off_at)).where(_untouched(scope))
        ).scalar()
        if earliest is not None:
            first = min(first, work.local_day(stored_utc(earliest)))
    last = max(work.local_day(scope.period.end(work.zone)), work.local_day(scope.now))
    return _known(_Days(agreement, work, first, last + timedelta(days=1), conn.dialect))


@functools.lru_cache(maxsize=32)
def _known(days: _Days) -> _Days:
    """The one :class:`_Days` of these days, so that their rows, how each is judged and
    their table in SQL are worked out once for every read of them (a period read again the
    same day, by the dashboard's next refresh or a report, reads the same days)."""
    return days


def _jsonable(value: Any) -> Any:
    """A bound value as JSON holds it: a time or a day as ISO 8601 (what PostgreSQL reads;
    SQLite's are bound as texts already)."""
    return value.isoformat() if isinstance(value, date) else value


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _untouched(scope: Scope) -> Any:
    """The hand-off (a row of ``handoff_facts``) has no first touch by ``scope.now``."""
    first = handoff_facts.c.attempt_1
    return first.is_(None) | (first > _utc(scope.now))


def _handed_off(
    scope: Scope, start: datetime | None, end: datetime | None, scan: bool = False
) -> list[Any]:
    """The conditions on a hand-off (its facts, with its rep joined) to count: made by
    ``scope.now``, in [start, end), the scope's rep's (the facts are live hand-offs').
    With ``scan``, SQLite reads them in one pass over the facts rather than through the
    index of their times (:func:`storage.queries.scanned`). Their times are bounded above
    once, by the earlier of now and ``end``: SQLite reads an index up to the first bound it
    is given, and a part of a period that ends before now would be read up to now."""
    at: Any = handoff_facts.c.handed_off_at
    if scan:
        at = scanned(at)
    now = _utc(scope.now)
    where: list[Any] = [at <= now if end is None or now < end else at < _utc(end)]
    if start is not None:
        where.append(at >= _utc(start))
    if scope.rep is not None:
        where.append(handoff_facts.c.owner_id == _rep_id(scope.rep))
    return where


def _rep_id(rep: str) -> Any:
    return select(users.c.id).where(users.c.name == rep).scalar_subquery()


def _handoffs(
    scope: Scope,
    span: _Days,
    *,
    start: datetime | None,
    end: datetime | None,
    untouched: bool = False,
    attempts: bool = False,
    named: bool = False,
    scan: bool = False,
) -> Any:
    """One row per hand-off handed off in [start, end) (only those nobody has touched yet,
    with ``untouched``): its rep, tier, day and the facts each measure needs, as of
    ``scope.now`` (with ``attempts``, how many attempts it had in their window; with
    ``named``, its account's name: only a list of hand-offs reads the accounts; with
    ``scan``, the facts are read in one pass, not through their times' index)."""
    f, now, days = handoff_facts, _utc(scope.now), span.cte
    fb = days.alias("fb")

    def by_now(moment: Any, value: Any = None) -> Any:
        """``value`` (``moment`` itself by default) once ``moment`` has come, else NULL."""
        return case((moment <= now, moment if value is None else value))

    first_meaningful = by_now(f.c.first_meaningful)
    wanted = span.agreement.sales.attempts
    if wanted <= MAX_ATTEMPTS:
        agreed = f.c[ATTEMPTS[wanted - 1]]
        enough = (agreed < days.c.attempts_end) & (agreed <= now)
    else:
        enough = _attempts_counted(f, days.c.attempts_end, now) >= wanted
    counted_attempts = [_attempts_counted(f, days.c.attempts_end, now).label("attempts")]
    where = _handed_off(scope, start, end, scan)
    if untouched:
        where.append(_untouched(scope))
    # Every hand-off read has its day among the days (they span its times): an outer join
    # only keeps SQLite from reading the days first and each day's hand-offs again.
    joined = (
        f.outerjoin(days, days.c.n == span.day_of(f.c.handed_off_at))
        .outerjoin(fb, fb.c.n == span.day_of(first_meaningful))
        .outerjoin(users, users.c.id == f.c.owner_id)
    )
    if named:
        joined = joined.join(accounts, accounts.c.id == f.c.account_id)
    return (
        select(
            f.c.account_id,
            *([accounts.c.name.label("account")] if named else []),
            users.c.name.label("rep"),
            func.coalesce(f.c.tier, NO_TIER).label("tier"),
            f.c.handed_off_at,
            days.c.month,
            days.c.week,
            days.c.deadline,
            days.c.attempts_end,
            *(days.c[f"by{n}"] for n, _ in TOUCH_BUCKETS),
            by_now(f.c.attempt_1).label("first_touch"),
            case((enough, 1), else_=0).label("enough_attempts"),
            *(counted_attempts if attempts else []),
            f.c.closed_at,
            first_meaningful.label("first_meaningful"),
            fb.c.feedback_end,
            f.c.rated_at,
            by_now(f.c.rating_at, f.c.rating).label("rating"),
            by_now(f.c.verdict_at, f.c.verdict).label("verdict"),
        )
        .select_from(joined)
        .where(*where)
        .offset(0)  # computed once per hand-off, not again where the sums name a fact
        .subquery("h")
    )


def _attempts_counted(f: Any, window_end: Any, now: datetime) -> Any:
    """How many attempts a hand-off had before ``window_end`` and by ``now``: its kept
    attempts' times that fall there, or, when all of them do, its interactions counted."""

    def within(moment: Any) -> Any:
        return (moment < window_end) & (moment <= now)

    i = interactions.alias("i")
    every = (
        select(func.count())
        .where(
            i.c.account_id == f.c.account_id,
            i.c.at > f.c.handed_off_at,
            within(i.c.at),
            current(i),
        )
        .scalar_subquery()
    )
    kept = sum((case((within(f.c[name]), 1), else_=0) for name in ATTEMPTS), literal(0))
    return case((within(f.c[ATTEMPTS[-1]]), every), else_=kept)


def _judged_facts(scope: Scope, h: Any) -> list[Any]:
    """Each hand-off's measures as 0/1 columns: (name, expression)."""
    now = _utc(scope.now)
    rated = (h.c.rated_at < h.c.feedback_end) & (h.c.rated_at <= now)
    on_time = h.c.first_touch < h.c.deadline
    met = (h.c.enough_attempts == 1) | (h.c.closed_at < h.c.attempts_end)

    def one(condition: Any) -> Any:
        return case((condition, 1), else_=0)

    return [
        one(on_time).label("on_time"),
        one(h.c.first_touch.is_not(None) | (h.c.deadline <= now)).label("touch_judged"),
        one(met).label("attempts_met"),
        one(met | (h.c.attempts_end <= now)).label("attempts_judged"),
        one(rated).label("feedback"),
        one(h.c.first_meaningful.is_not(None) & (rated | (h.c.feedback_end <= now))).label(
            "feedback_judged"
        ),
        one(h.c.first_touch.is_(None) & (h.c.deadline <= now)).label("black_hole"),
    ]


@dataclass
class _Tally:
    """Sums over a group of hand-offs (and of follow-ups)."""

    handoffs: int = 0
    on_time: int = 0
    touch_judged: int = 0
    attempts_met: int = 0
    attempts_judged: int = 0
    feedback: int = 0
    feedback_judged: int = 0
    black_hole: int = 0
    rated: int = 0
    rating_sum: int = 0
    verdicts: int = 0
    accepted: int = 0
    tier_a: int = 0
    follow_ups_due: int = 0
    follow_ups_kept: int = 0
    tiers: Counter[str] = field(default_factory=Counter)
    touch: Counter[str] = field(default_factory=Counter)

    def add(self, counts: dict[str, int], tier: str, bucket: str) -> None:
        """Add a group of hand-offs of one tier and touch bucket: ``counts`` by measure."""
        for name, count in counts.items():
            setattr(self, name, getattr(self, name) + count)
        handoffs = counts["handoffs"]
        self.tiers[tier] += handoffs
        self.tier_a += handoffs if tier == "A" else 0
        self.touch[bucket] += handoffs

    @property
    def average_rating(self) -> float | None:
        return self.rating_sum / self.rated if self.rated else None


@dataclass
class Compliance:
    """A period's compliance: in total, and per month, week, rep and tier."""

    agreement: Agreement
    months: int
    total: _Tally = field(default_factory=_Tally)
    by_month: dict[str, _Tally] = field(default_factory=dict)
    by_week: dict[str, _Tally] = field(default_factory=dict)
    by_rep: dict[str, _Tally] = field(default_factory=dict)
    by_tier: dict[str, _Tally] = field(default_factory=dict)
    queue_accounts: int = 0
    queue_dossiers: int = 0


def compliance(conn: Connection, scope: Scope, helpers: Sequence[Connection] = ()) -> Compliance:
    """The period's measures: the hand-offs' summed in SQL per day of hand-off, rep, tier
    and day of first touch (:func:`_day_tallies`), judged per group in Python against the
    day's deadlines, summed per month, week, rep, tier and touch bucket, and those few
    sums added to each month's, week's, rep's and tier's tally. ``helpers``, connections
    that read the snapshot ``conn`` reads, count a part of the hand-offs each beside it."""
    (found,) = _compliances(conn, scope, [scope.period], helpers)
    return found


def _compliances(
    conn: Connection, scope: Scope, periods: list[Period], helpers: Sequence[Connection] = ()
) -> list[Compliance]:
    """The compliance of each of ``periods`` (next to each other, in any order), as of the
    scope's now: the hand-offs of all of them counted in one pass over their facts, in
    parts side by side on ``conn`` and its ``helpers`` when it is read in their index (the
    groups of every part are added up alike, whichever part a hand-off was counted in).

    An interaction logged after now (a clock ahead) leaves every hand-off but its
    account's with all its facts come by now: the index's count of every hand-off stands,
    less its count of those accounts' hand-offs, plus theirs with each fact compared with
    now (a few rows each, found by their account), rather than every hand-off's facts
    compared with now in a pass over them all."""
    first = min(p.first for p in periods)
    whole = replace(scope, period=Period(first, max(p.last for p in periods)))
    agreement = current_agreement(conn)
    span = _days(conn, whole, agreement, False)
    today = (scope.calendar.local_day(scope.now) - EPOCH).days
    window = agreement.sales.attempts_days + 1
    later = _logged_later(conn, scope)
    indexed = _indexed(agreement, False)
    readers = [conn, *helpers] if indexed else [conn]
    statements = [
        _day_tallies(whole, span, today, later and not indexed, since, until)
        for since, until in _parts(conn, whole, len(readers))
    ]
    counted = [(1, rows) for rows in _read_beside(readers, statements)]
    if later and indexed:
        start, end = whole.period.start(whole.calendar.zone), whole.period.end(whole.calendar.zone)
        late = _logged_later_on(scope)
        counted += [
            (sign, conn.execute(_day_tallies(whole, span, today, compared, start, end, late)).all())
            for sign, compared in ((-1, False), (1, True))
        ]
    groups: dict[tuple[str, str, str, str, str], list[int]] = {}
    for sign, row in ((sign, row) for sign, rows in counted for row in rows):
        day, handoffs, met = span.judged[row.handed], row.handoffs, row.attempts_met
        touched = None if row.touched is None else row.handed + row.touched
        due = day.deadline <= today
        counts = [
            handoffs,
            handoffs if touched is not None and touched < day.deadline else 0,
            handoffs if touched is not None or due else 0,
            handoffs if touched is None and due else 0,
            met,
            handoffs if row.handed + window <= today else met,
            *(int(count or 0) for count in _summed(row)),
        ]
        key = (day.month, day.week, row.rep or "(no rep)", row.tier, day.bucket(touched))
        summed = groups.get(key, [0] * len(counts))
        groups[key] = [a + sign * b for a, b in zip(summed, counts, strict=True)]
    found = [Compliance(agreement, len(p.months)) for p in periods]
    of_month = {str(m): c for p, c in zip(periods, found, strict=True) for m in p.months}
    for (month, week, rep, tier, bucket), counts in groups.items():
        if not counts[0]:
            continue  # a group whose hand-offs were all counted again in another
        result, named = of_month[month], dict(zip(_MEASURES, counts, strict=True))
        for tally in (
            result.total,
            _at(result.by_month, month),
            _at(result.by_week, week),
            _at(result.by_rep, rep),
            _at(result.by_tier, tier),
        ):
            tally.add(named, tier, bucket)
    for period, result in zip(periods, found, strict=True):
        _follow_ups(conn, replace(scope, period=period), span, result, later)
    return found


#: The measures :func:`_day_tallies` adds up in SQL as they are.
_SUMMED = ("feedback", "feedback_judged", "rated", "rating_sum", "verdicts", "accepted")
_summed = operator.attrgetter(*_SUMMED)
#: The measures :func:`compliance` sums per group, in its order.
_MEASURES = ("handoffs", "on_time", "touch_judged", "black_hole", "attempts_met",
             "attempts_judged", *_SUMMED)  # fmt: skip


def _logged_later(conn: Connection, scope: Scope) -> bool:
    """Whether an interaction was logged after the scope's now: until one is, every fact
    of a hand-off and a follow-up (each an interaction's time) has come by then."""
    return bool(conn.execute(select(exists().where(interactions.c.at > _utc(scope.now)))).scalar())


def _logged_later_on(scope: Scope) -> Any:
    """The accounts an interaction was logged on after the scope's now."""
    return select(interactions.c.account_id).where(interactions.c.at > _utc(scope.now))


def _indexed(agreement: Agreement, later: bool) -> bool:
    """Whether :func:`_day_tallies` reads the hand-offs in the index of their times and days
    (else in one pass over their facts)."""
    return not later and agreement.sales.attempts <= MAX_ATTEMPTS


def _parts(conn: Connection, scope: Scope, count: int) -> list[tuple[datetime, datetime]]:
    """The period as ``count`` spans [since, until) of hand-off times, oldest first, each
    holding about as many of its hand-offs as the others: they are counted, then each span
    ends that many hand-offs after its start, found in their times' index (one pass over
    them in all, however many spans)."""
    zone = scope.calendar.zone
    start, end = scope.period.start(zone), scope.period.end(zone)
    bounds = [start]
    if count > 1:
        at = handoff_facts.c.handed_off_at
        handed_off = select(func.count()).where(*_handed_off(scope, start, end))
        each = conn.execute(handed_off).scalar_one() // count
        for _ in range(count - 1):
            later = select(at).where(*_handed_off(scope, bounds[-1], end)).order_by(at)
            until = conn.execute(later.offset(each).limit(1)).scalar()
            if until is None:
                break
            bounds.append(stored_utc(until))
    return list(itertools.pairwise([*bounds, end]))


def _read_beside(readers: list[Connection], statements: list[Any]) -> list[Sequence[Any]]:
    """The rows of each statement, each read on its own reader, in a thread of its own but
    the first's (SQLite lets go of Python's lock while a statement runs)."""
    if len(statements) == 1:
        return [readers[0].execute(statements[0]).all()]
    with ThreadPoolExecutor(len(statements) - 1) as pool:
        helped = pool.map(lambda conn, statement: conn.execute(statement).all(),
                          readers[1:], statements[1:])  # fmt: skip
        return [readers[0].execute(statements[0]).all(), *helped]


def _day_tallies(
    scope: Scope,
    span: _Days,
    today: int,
    later: bool,
    since: datetime,
    until: datetime,
    accounts: Any | None = None,
) -> Any:
    """The period's hand-offs handed off in [since, until) counted per day of hand-off (its
    number, ``handed``), rep, tier and days from it to the first touch by now (``touched``:
    NULL when none, at most :attr:`_Days.touch_days`, after which every bucket's bound and
    deadline has passed), with the measures that do not depend on the day's deadlines summed.

    Every bound a measure compares a fact with is a day's start in the workspace's zone (a
    deadline, the end of a window), so a fact is before it exactly when its day number is
    below the bound's: each fact's day is worked out once, from the whole seconds the facts
    keep of it, by integer arithmetic, and the few groups are judged in Python.

    When nothing was logged after now (``later`` false: every fact has come by then), the
    facts are read in the index that holds all this reads of them, in order of their times
    (``ix_handoff_facts_days``: a narrow row each, nearly in the order they are grouped in,
    which SQLite sorts in half the time); else their times are compared with now, in one
    pass over the facts themselves (the times' index would fetch each of a period's
    hundreds of thousands in random order). With ``accounts`` (a few), only their
    hand-offs, found by their account."""
    f, now, day_in = handoff_facts, _utc(scope.now), span.day_in_seconds
    sales = span.agreement.sales

    def by_now(name: str, value: Any) -> Any:
        """``value`` once the fact ``name`` has come by now, else NULL."""
        return case((f.c[name] <= now, value)) if later else value

    def day(name: str, came: bool = True) -> Any:
        """The day of the fact ``name`` (once it has come by now, else NULL, when ``came``)."""
        seconds = f.c[in_seconds(name)]
        return day_in(by_now(name, seconds) if came else seconds)

    if sales.attempts <= MAX_ATTEMPTS:  # the agreed attempt's day
        agreed: Any = day(ATTEMPTS[sales.attempts - 1])
    else:  # whether enough came before the window's end (1 or 0)
        days = span.cte
        handed = day("handed_off_at", came=False)
        ends = select(days.c.attempts_end).where(days.c.n == handed).scalar_subquery()
        agreed = case((_attempts_counted(f, ends, now) >= sales.attempts, 1), else_=0)
    indexed = _indexed(span.agreement, later)
    columns: dict[str, Any] = {
        "handed": day("handed_off_at", came=False),
        "owner_id": f.c.owner_id,
        "tier": func.coalesce(f.c.tier, NO_TIER),
        "touch": day("attempt_1"),
        "agreed": agreed,
        "closed": day("closed_at", came=False),
        "talked": day("first_meaningful"),
        "rated_on": day("rated_at"),
        "rating": by_now("rating_at", f.c.rating),
        "verdict": by_now("verdict_at", f.c.verdict),
    }
    where = _handed_off(scope, since, until, scan=not indexed and accounts is None)
    if accounts is not None:
        where.append(f.c.account_id.in_(accounts))
    per: dict[str, Any] = columns
    if not indexed:  # each day, a CASE on a time, worked out once per hand-off
        worked_out = (
            select(*(value.label(name) for name, value in columns.items()))
            .where(*where)
            .offset(0)
            .subquery("per")
        )
        per, where = {name: worked_out.c[name] for name in columns}, []
    window = per["handed"] + (sales.attempts_days + 1)  # its start ends the attempts' window
    enough = per["agreed"] < window if sales.attempts <= MAX_ATTEMPTS else per["agreed"] == 1
    feedback_end = per["talked"] + (sales.feedback_days + 1)
    rated = per["rated_on"] < feedback_end

    def one(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    touched: Any = per["touch"] - per["handed"]
    touched = case((touched > span.touch_days, span.touch_days), else_=touched).label("touched")
    keys = [per["handed"].label("handed"), per["owner_id"].label("owner_id"),
            per["tier"].label("tier"), touched]  # fmt: skip
    grouped = (
        select(
            *keys,
            func.count().label("handoffs"),
            one(enough | (per["closed"] < window)).label("attempts_met"),
            one(rated).label("feedback"),
            one(per["talked"].is_not(None) & (rated | (feedback_end <= today))).label(
                "feedback_judged"
            ),
            func.count(per["rating"]).label("rated"),
            func.sum(per["rating"]).label("rating_sum"),
            func.count(per["verdict"]).label("verdicts"),
            one(per["verdict"] == "accepted").label("accepted"),
        )
        .where(*where)
        .group_by(*keys)
        .subquery("grouped")
    )
    named = [c for c in grouped.c if c.name != "owner_id"]
    return select(*named, users.c.name.label("rep")).select_from(
        grouped.outerjoin(users, users.c.id == grouped.c.owner_id)
    )


def _compliance_now(
    conn: Connection, scope: Scope, helpers: Sequence[Connection] = ()
) -> tuple[Compliance, Compliance]:
    """The period's compliance, with the queues' accounts and their dossiers as they are
    now (what the figures show beside it), and the previous period's (what their trends
    compare with), worked out together."""
    periods = [scope.period, scope.period.previous()]
    result, before = _compliances(conn, scope, periods, helpers)
    result.queue_accounts, result.queue_dossiers = _queue_dossiers(conn, scope.rep)
    return result, before


def _at(groups: dict[str, _Tally], key: str) -> _Tally:
    return groups.setdefault(key, _Tally())


def _due_follow_ups(
    scope: Scope, days: Any, s: Any = follow_up_facts
) -> tuple[Any, Any, list[Any]]:
    """Follow-ups due in the period: set by a current interaction, their date come (or
    kept already); kept when a current interaction on the account came after the one that
    set it, by the end of its date. Their facts (``s``: all, or some accounts'), whether
    kept, and the conditions."""
    now, today = _utc(scope.now), scope.calendar.local_day(scope.now)
    kept = s.c.next_at.is_not(None) & (s.c.next_at < days.c.day_end) & (s.c.next_at <= now)
    period = scope.period
    where: list[Any] = [
        s.c.follow_up >= period.first.first_day,
        s.c.follow_up < period.last.plus(1).first_day,
        s.c.at <= now,
        (s.c.follow_up < today) | kept,
    ]
    if scope.rep is not None:
        where.append(s.c.logged_by == scope.rep)
    return s, kept, where


def _follow_ups(
    conn: Connection, scope: Scope, span: _Days, result: Compliance, later: bool
) -> None:
    """The follow-ups due and kept, per day and rep: a date gone by is due, and kept when
    the next interaction came before its end (by now, then); a date still to come is due
    once kept. They are added up from their tallies when they can be
    (:func:`_tallied_follow_ups`), else read from each follow-up's facts
    (:func:`_compared_follow_ups`). When an interaction was logged after now, only its
    accounts' follow-ups are read from their facts: the tallies stand for the rest, less
    those accounts' follow-ups as the tallies count them (as the hand-offs are counted)."""
    counted: list[tuple[int, Any]]
    if not _tallied(span):
        counted = [(1, statement) for statement in _compared_follow_ups(scope, span)]
    elif not later:
        counted = [(1, _tallied_follow_ups(scope, span, follow_up_days))]
    else:
        late = _logged_later_on(scope)
        f = follow_up_facts
        keys = [f.c.follow_up, f.c.logged_by, lateness(f.c.next_at, f.c.follow_up).label("late")]
        theirs = (
            select(*keys, func.count().label("due"))
            .where(f.c.account_id.in_(late))
            .group_by(*keys)
            .subquery()
        )
        counted = [
            (1, _tallied_follow_ups(scope, span, follow_up_days)),
            (-1, _tallied_follow_ups(scope, span, theirs)),
            *((1, s) for s in _compared_follow_ups(scope, span, late)),
        ]
    sums: dict[tuple[Any, Any], list[int]] = {}
    for sign, statement in counted:
        for follow_up, logged_by, due, kept_count in conn.execute(statement):
            summed = sums.setdefault((follow_up, logged_by), [0, 0])
            summed[0] += sign * int(due or 0)
            summed[1] += sign * int(kept_count or 0)
    weeks = {row[1]: (row[3], row[4]) for row in span.rows}
    for (follow_up, logged_by), (due, kept_count) in sums.items():
        if not due:
            continue  # a date to come none of whose follow-ups was kept yet
        month, week = weeks[follow_up]
        for tally in (
            result.total,
            _at(result.by_month, month),
            _at(result.by_week, week),
            _at(result.by_rep, logged_by),
        ):
            tally.follow_ups_due += due
            tally.follow_ups_kept += kept_count


def _tallied(span: _Days) -> bool:
    """Whether every date's end is a whole number of quarters of an hour from UTC's, which
    the follow-ups' tallies count their lateness in."""
    return all(
        seconds % STEP == 0 and EARLIEST < seconds // STEP <= LATEST
        for _, seconds in _date_ends(span)
    )


def _tallied_follow_ups(scope: Scope, span: _Days, d: Any) -> Any:
    """The period's follow-ups due and kept, per date and rep, added up from their tallies
    ``d`` (``follow_up_days``: a few rows a date, or some accounts' counted alike): kept
    when their lateness is below the date's end in the workspace's zone, due when kept or
    when their date has gone by. Exact for the follow-ups whose next interaction came by
    now, when every date's end is a whole number of quarters of an hour from UTC's
    (:func:`_tallied`)."""
    ends = _date_ends(span)
    today, period = scope.calendar.local_day(scope.now), scope.period
    where: list[Any] = [
        d.c.follow_up >= period.first.first_day,
        d.c.follow_up < period.last.plus(1).first_day,
    ]
    if scope.rep is not None:
        where.append(d.c.logged_by == scope.rep)
    quarters = [(since, seconds // STEP) for since, seconds in ends]
    kept = case((d.c.late < _by_date(d.c.follow_up, quarters), d.c.due), else_=0)
    due = case((d.c.follow_up < today, d.c.due), else_=kept)
    return (
        select(d.c.follow_up, d.c.logged_by, func.sum(due), func.sum(kept))
        .where(*where)
        .group_by(d.c.follow_up, d.c.logged_by)
    )


def _compared_follow_ups(scope: Scope, span: _Days, accounts: Any | None = None) -> list[Any]:
    """The period's follow-ups due and kept, per date and rep, from each follow-up's facts
    compared with its date's end and with now: the dates gone by in the index of dates and
    reps, each date's end worked out in SQL; today's and later dates, few, with the days'
    table. With ``accounts`` (a few), only their follow-ups, found by their account (a
    subquery SQLite does not fold into the statement, which would find them by their date)."""
    today, period = scope.calendar.local_day(scope.now), scope.period
    first, until = period.first.first_day, min(today, period.last.plus(1).first_day)
    facts: Any = follow_up_facts
    if accounts is not None:
        theirs = select(facts).where(facts.c.account_id.in_(accounts))
        facts = theirs.offset(0).subquery("theirs")
    s, kept, where = _due_follow_ups(scope, span.cte, facts)
    past: list[Any] = [s.c.follow_up >= first, s.c.follow_up < until, s.c.at <= _utc(scope.now)]
    if scope.rep is not None:
        past.append(s.c.logged_by == scope.rep)
    day, rep = s.c.follow_up, s.c.logged_by
    return [
        select(day, rep, func.count(), func.sum(case((s.c.next_at < _day_end(span, day), 1),
                                                     else_=0)))
        .where(*past)
        .group_by(day, rep),
        select(day, rep, func.count(), func.sum(case((kept, 1), else_=0)))
        .select_from(s.join(span.cte, span.cte.c.day == day))
        .where(*where, span.cte.c.day >= today)  # the days from today on, then their rows
        .group_by(day, rep),
    ]  # fmt: skip


def _date_ends(span: _Days) -> list[tuple[date, int]]:
    """When each of the days ends in the workspace's zone, in seconds from its end in UTC
    (minus the zone's offset then): (the first day it holds for, the seconds), at each
    change of the zone's offset."""
    ends: list[tuple[date, int]] = []
    for _, first, end, *_ in span.rows:
        midnight = datetime.combine(first + timedelta(days=1), datetime.min.time(), UTC)
        seconds = int((end - midnight).total_seconds())
        if not ends or ends[-1][1] != seconds:
            ends.append((first, seconds))
    return ends


def _by_date(day: Any, values: list[tuple[date, Any]]) -> Any:
    """The value of the date ``day`` (a column), from (the first date it holds for, the
    value) in order: a CASE over the dates between its changes."""
    later = [
        (day < since, value) for (since, _), (_, value) in zip(values[1:], values, strict=False)
    ]
    return case(*later, else_=values[-1][1]) if later else literal(values[-1][1])


def _day_end(span: _Days, day: Any) -> Any:
    """The end of the date ``day`` (a column) in the workspace's time zone, as a UTC time
    in SQL: PostgreSQL knows the zone; SQLite adds a day and the zone's offset then (a CASE
    over the dates between its changes, from the days' table)."""
    if span.dialect.name == "postgresql":
        return func.timezone(span.work.time_zone, cast(day + 1, DateTime()))
    shifts = [(since, f"{seconds:+d} seconds") for since, seconds in _date_ends(span)]
    return func.datetime(day, "+1 day", _by_date(day, shifts))


def _queue_dossiers(conn: Connection, rep: str | None) -> tuple[int, int]:
    """Open hand-offs (the queues' accounts, now; ``rep``'s alone when named) and how many
    have a complete dossier: counted in the hand-offs' facts, the second from the few
    complete dossiers."""
    f = handoff_facts
    where: list[Any] = [f.c.stage.not_in([Stage.WON.value, Stage.LOST.value])]
    if rep is not None:
        where.append(f.c.owner_id == _rep_id(rep))
    complete = complete_dossiers().subquery("complete")
    row = conn.execute(
        select(
            select(func.count()).where(*where).scalar_subquery(),
            select(func.count(complete.c.account_id.distinct()))
            .select_from(complete.join(f, f.c.account_id == complete.c.account_id))
            .where(*where)
            .scalar_subquery(),
        )
    ).one()
    return int(row[0]), int(row[1])


# --- figures ---------------------------------------------------------------------------------


def _share(
    label: str,
    part: int,
    whole: int,
    target: float | None,
    before: float | None,
    rows: str = HANDOFFS_SHEET,
) -> Figure:
    value = part / whole if whole else None
    return Figure(
        label,
        value,
        Unit.SHARE,
        target,
        standing(value, target),
        trend(value, before),
        f"{part:,} of {whole:,}" if whole else "",
        rows,
    )


def _agreed(c: Compliance, rep: str | None) -> int:
    m = c.agreement.marketing
    per_month = (
        m.handoffs_per_rep
        if rep is not None and m.handoffs_per_rep is not None
        else (m.handoffs_per_month)
    )
    return per_month * c.months


def _figures(
    c: Compliance, before: Compliance | None, scope: Scope
) -> tuple[list[Figure], list[Figure]]:
    t, b, m, s = c.total, before.total if before else None, c.agreement.marketing, c.agreement.sales
    agreed = _agreed(c, scope.rep)
    per_month = agreed // c.months
    zone = scope.calendar.zone
    due = due_by(agreed, elapsed(scope.period.start(zone), scope.period.end(zone), scope.now))
    basis = f"{t.handoffs:,} against {agreed:,} agreed ({per_month:,} a month)"
    if due < agreed:  # the period is in progress: judged against those due by now
        basis += f", {due:,} of them due by now" if due else ", none due yet"
    handoffs = Figure(
        "Hand-offs",
        t.handoffs,
        Unit.COUNT,
        agreed,
        None if 0 == due < agreed else standing(t.handoffs, due),  # none due: no judgement
        trend(t.handoffs, b.handoffs if b else None),
        basis,
        HANDOFFS_SHEET,
    )
    if m.min_average_quality is None and m.min_accepted_share is not None:
        quality = _share(
            "Accepted by the reps",
            t.accepted,
            t.verdicts,
            m.min_accepted_share,
            _ratio(b.accepted, b.verdicts) if b else None,
        )
    else:
        value = t.average_rating
        quality = Figure(
            "Average lead rating",
            value,
            Unit.RATING,
            m.min_average_quality,
            standing(value, m.min_average_quality),
            trend(value, b.average_rating if b else None),
            f"{counted(t.rated, 'hand-off')} rated of {t.handoffs:,}" if t.rated else "",
            HANDOFFS_SHEET,
        )
    tier_a = _share(
        "Tier A share",
        t.tier_a,
        t.handoffs,
        m.min_tier_a_share,
        _ratio(b.tier_a, b.handoffs) if b else None,
    )
    dossiers = _share(
        "Dossiers complete for the queue", c.queue_dossiers, c.queue_accounts, None, None
    )
    target = s.on_time_share
    sales = [
        _share(
            "First touch on time",
            t.on_time,
            t.touch_judged,
            target,
            _ratio(b.on_time, b.touch_judged) if b else None,
        ),
        _share(
            "Attempts met",
            t.attempts_met,
            t.attempts_judged,
            target,
            _ratio(b.attempts_met, b.attempts_judged) if b else None,
        ),
        _share(
            "Follow-ups kept",
            t.follow_ups_kept,
            t.follow_ups_due,
            target,
            _ratio(b.follow_ups_kept, b.follow_ups_due) if b else None,
            "Interactions",
        ),
        _share(
            "Feedback given",
            t.feedback,
            t.feedback_judged,
            target,
            _ratio(b.feedback, b.feedback_judged) if b else None,
        ),
    ]
    return [handoffs, quality, tier_a, dossiers], sales


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def sla_figures(conn: Connection, scope: Scope) -> tuple[list[Figure], list[Figure]]:
    """The meeting pack's summary: four figures for marketing (hand-offs against agreed,
    quality, tier A share, dossiers complete for the queue) and four for sales (first touch
    on time, attempts met, follow-ups kept, feedback given)."""
    now, before = _compliance_now(conn, scope)
    return _figures(now, before, scope)


def side_figures(sections: list[Section]) -> tuple[list[Figure], list[Figure]]:
    """Marketing's and sales' figures as :func:`sla_sections` gave them, for a reader that
    shows both: the period's compliance is worked out once, not again for the figures."""
    marketing, sales = sections[:2]
    return marketing.figures, sales.figures


# --- sections --------------------------------------------------------------------------------


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


PCT = ColumnKind.INTEGER


def sla_sections(
    conn: Connection, scope: Scope, first: int | None = None, helpers: Sequence[Connection] = ()
) -> list[Section]:
    """Marketing's side and sales' side, with the black hole: all of it, or its ``first``
    few rows and how many there are (for a panel; a report lists them all). ``helpers``,
    connections that read the snapshot ``conn`` reads, count a part of the hand-offs each
    beside it (:func:`compliance`)."""
    c, before = _compliance_now(conn, scope, helpers)
    marketing, sales = _figures(c, before, scope)
    months = [str(m) for m in scope.period.months]
    labels = tuple(m.label for m in scope.period.months)
    agreed = _agreed(c, scope.rep) // c.months
    month = [c.by_month.get(m, _Tally()) for m in months]
    tiers = sorted({tier for t in month for tier in t.tiers}, key=lambda t: (t == NO_TIER, t))
    empty = [] if c.total.handoffs else [f"No hand-offs in {scope.period.label}."]
    marketing_side = Section(
        "Marketing's side",
        figures=marketing,
        charts=[
            Chart(
                "Hand-offs per month against the agreed number",
                ChartKind.BAR,
                labels,
                (
                    Series("Hand-offs", tuple(float(t.handoffs) for t in month)),
                    Series("Agreed", tuple(float(agreed) for _ in month)),
                ),
                references=("Agreed",),
            ),
            Chart(
                "Average lead rating by month",
                ChartKind.LINE,
                labels,
                (Series("Average rating", tuple(t.average_rating for t in month)),),
                Unit.RATING,
            ),
            Chart(
                "Tier mix by month",
                ChartKind.STACKED_BAR,
                labels,
                tuple(
                    Series(
                        f"Tier {tier}" if tier != NO_TIER else tier,
                        tuple(float(t.tiers[tier]) for t in month),
                    )
                    for tier in tiers
                ),
            ),
        ],
        tables=[_marketing_by_month(c, months, labels, agreed), _marketing_by_rep(c)],
        notes=empty,
    )
    black_hole = black_hole_table(conn, scope, first)
    sales_side = Section(
        "Sales' side",
        figures=sales,
        charts=[
            Chart(
                "Time to first touch (business days)",
                ChartKind.BAR,
                TOUCH_LABELS,
                (
                    Series(
                        "Hand-offs",
                        tuple(float(c.total.touch[label]) for label in TOUCH_LABELS),
                    ),
                ),
            ),
        ],
        tables=[
            _sales_table("Sales by rep", "Rep", c.by_rep),
            _sales_table("Sales by week", "Week", c.by_week),
            _sales_table("Sales by tier", "Tier", c.by_tier, follow_ups=False),
            black_hole,
        ],
        notes=empty + (["No hand-off is in the black hole."] if not black_hole.count else []),
    )
    return [marketing_side, sales_side]


def _marketing_by_month(
    c: Compliance, months: list[str], labels: tuple[str, ...], agreed: int
) -> TableData:
    columns = (
        TableColumn("Month"),
        TableColumn("Hand-offs", ColumnKind.INTEGER),
        TableColumn("Agreed", ColumnKind.INTEGER),
        TableColumn("Rated", ColumnKind.INTEGER),
        TableColumn("Average rating"),
        TableColumn("Accepted %", PCT),
        TableColumn("Tier A %", PCT),
    )
    rows = []
    for month, label in zip(months, labels, strict=True):
        t = c.by_month.get(month, _Tally())
        average = None if t.average_rating is None else round(t.average_rating, 2)
        rows.append(
            [
                label,
                t.handoffs,
                agreed,
                t.rated,
                average,
                _pct(t.accepted, t.verdicts),
                _pct(t.tier_a, t.handoffs),
            ]
        )
    return TableData("Marketing by month", columns, rows, len(rows))


def _marketing_by_rep(c: Compliance) -> TableData:
    per_rep = c.agreement.marketing.handoffs_per_rep
    columns = (
        TableColumn("Rep"),
        TableColumn("Hand-offs", ColumnKind.INTEGER),
        TableColumn("Agreed", ColumnKind.INTEGER),
        TableColumn("Average rating"),
        TableColumn("Accepted %", PCT),
        TableColumn("Tier A %", PCT),
    )
    rows = [
        [
            rep,
            t.handoffs,
            None if per_rep is None else per_rep * c.months,
            None if t.average_rating is None else round(t.average_rating, 2),
            _pct(t.accepted, t.verdicts),
            _pct(t.tier_a, t.handoffs),
        ]
        for rep, t in sorted(c.by_rep.items())
        if t.handoffs
    ]
    return TableData("Marketing by rep", columns, rows, len(rows))


def _sales_table(
    title: str, key: str, groups: dict[str, _Tally], follow_ups: bool = True
) -> TableData:
    """Sales' measures per group; follow-ups only where they are counted (not per tier:
    a follow-up belongs to an interaction, not to a hand-off)."""
    columns = [
        TableColumn(key),
        TableColumn("Hand-offs", ColumnKind.INTEGER),
        TableColumn("First touch on time %", PCT),
        TableColumn("Attempts met %", PCT),
        TableColumn("Feedback given %", PCT),
        TableColumn("Follow-ups due", ColumnKind.INTEGER),
        TableColumn("Follow-ups kept %", PCT),
        TableColumn("In the black hole", ColumnKind.INTEGER),
    ]
    rows = [
        [
            name,
            t.handoffs,
            _pct(t.on_time, t.touch_judged),
            _pct(t.attempts_met, t.attempts_judged),
            _pct(t.feedback, t.feedback_judged),
            t.follow_ups_due,
            _pct(t.follow_ups_kept, t.follow_ups_due),
            t.black_hole,
        ]
        for name, t in sorted(groups.items())
    ]
    if not follow_ups:
        columns, rows = columns[:5] + columns[7:], [r[:5] + r[7:] for r in rows]
    return TableData(title, columns, rows, len(rows))


# --- the black hole and the raw hand-offs ---------------------------------------------------


@dataclass(frozen=True)
class BlackHoleEntry:
    account_id: uuid.UUID
    account: str
    rep: str | None
    handed_off_at: datetime
    deadline: datetime
    business_days_overdue: int


def black_hole(conn: Connection, scope: Scope, first: int | None = None) -> list[BlackHoleEntry]:
    """Hand-offs not touched past their deadline, as of ``scope.now`` or, for a period
    that is over, as it stood at the period's end (whenever they were handed off: one stays
    until touched), the longest overdue first: all of them, or the ``first`` few.

    They are the untouched hand-offs made before a day's start (the later the day, the later
    its deadline), found in the index of the first touches; the first few are read no
    further than the day whose deadline the ``first``-th handed off of them has."""
    return _black_hole(conn, _overdue(conn, scope), first)


#: The black hole as :func:`_overdue` finds it: its scope, its days, the conditions on a
#: hand-off's facts to be in it and the time its hand-offs were made before.
Overdue = tuple[Scope, "_Days", list[Any], datetime]


def _black_hole(conn: Connection, found: Overdue, first: int | None) -> list[BlackHoleEntry]:
    return [
        BlackHoleEntry(account_id, account, rep, stored_utc(handed_off_at), deadline, days)
        for account_id, account, rep, handed_off_at, deadline, days in _black_hole_rows(
            conn, found, first, "account_id", "account", "rep", "handed_off_at"
        )
    ]


def _black_hole_rows(
    conn: Connection, found: Overdue, first: int | None, *columns: str
) -> Iterator[tuple[Any, ...]]:
    """The black hole's hand-offs, each as its ``columns`` (of :func:`_handoffs`' as read)
    then its deadline with its zone and the business days it is overdue: only the columns
    a caller shows are read (a table of tens of thousands of rows makes no account id)."""
    scope, span, overdue, before = found
    work, f = span.work, handoff_facts
    if first is not None:
        nth = conn.execute(
            select(f.c.handed_off_at).where(*overdue).order_by(f.c.handed_off_at)
            .offset(first - 1).limit(1)
        ).scalar()  # fmt: skip
        if nth is not None:
            due = work.deadline(stored_utc(nth), span.agreement.sales.first_touch_days)
            before = span.due_before(due)
    h = _handoffs(scope, span, start=None, end=before, untouched=True, named=True, scan=True)
    rows = conn.execute(
        select(*(h.c[name] for name in columns), h.c.deadline)
        .order_by(h.c.deadline, h.c.account)
        .limit(first)
    ).all()
    counts = _business_days_to(work, span.first, work.local_day(scope.now))
    today = work.local_day(scope.now)

    @functools.cache
    def days_overdue(deadline: datetime) -> tuple[datetime, int]:
        """A deadline with its zone, and the business days overdue since it: worked out
        once for each of the few deadlines (a day's), not for each of the many hand-offs."""
        day = work.local_day(stored_utc(deadline))
        return stored_utc(deadline), counts[today] - counts[day] + work.is_business_day(day)

    return ((*row[:-1], *days_overdue(row[-1])) for row in rows)


def _black_hole_count(conn: Connection, found: Overdue) -> int:
    _, _, overdue, _ = found
    return int(conn.execute(select(func.count()).where(*overdue)).scalar_one())


def _overdue(conn: Connection, scope: Scope) -> Overdue:
    """The black hole's scope (its "now" no later than the period's end), its days, the
    conditions on a hand-off's facts to be in it, and the time it was made before."""
    last_moment = scope.period.end(scope.calendar.zone) - timedelta(microseconds=1)
    scope = replace(scope, now=min(scope.now, last_moment))
    span = _days(conn, scope, current_agreement(conn), True)
    before = span.due_before(scope.now)
    return scope, span, [*_handed_off(scope, None, before), _untouched(scope)], before


def _business_days_to(work: WorkCalendar, first: date, last: date) -> dict[date, int]:
    """Business days from ``first`` to each day up to ``last``, both counted."""
    counts, count, day = {}, 0, first
    while day <= last + timedelta(days=1):
        count += work.is_business_day(day)
        counts[day] = count
        day += timedelta(days=1)
    return counts


BLACK_HOLE_COLUMNS = (
    TableColumn("Account"),
    TableColumn("Rep"),
    TableColumn("Handed off (UTC)", ColumnKind.DATETIME),
    TableColumn("Business days overdue", ColumnKind.INTEGER),
)


def black_hole_table(conn: Connection, scope: Scope, first: int | None = None) -> TableData:
    """The black hole as a table: every row, or the ``first`` few (its count says how many
    there are); its days worked out once for both."""
    found = _overdue(conn, scope)
    rows = [
        [account, rep or "", handed_off_at.replace(tzinfo=None), days]
        for account, rep, handed_off_at, _, days in _black_hole_rows(
            conn, found, first, "account", "rep", "handed_off_at"
        )
    ]
    count = len(rows) if first is None else _black_hole_count(conn, found)
    return TableData(BLACK_HOLE_SHEET, BLACK_HOLE_COLUMNS, rows, count)


HANDOFF_COLUMNS = (
    TableColumn("Account"),
    TableColumn("Rep"),
    TableColumn("Tier"),
    TableColumn("Handed off (UTC)", ColumnKind.DATETIME),
    TableColumn("Month"),
    TableColumn("First-touch deadline (UTC)", ColumnKind.DATETIME),
    TableColumn("First touch (UTC)", ColumnKind.DATETIME),
    TableColumn("On time"),
    TableColumn("Attempts", ColumnKind.INTEGER),
    TableColumn("Attempts met"),
    TableColumn("First meaningful (UTC)", ColumnKind.DATETIME),
    TableColumn("Feedback given"),
    TableColumn("Rating", ColumnKind.INTEGER),
    TableColumn("Accepted or rejected"),
)


def _listed_handoffs(
    scope: Scope, span: Any, start: datetime | None = None, end: datetime | None = None
) -> tuple[Any, dict[str, Any]]:
    """The period's hand-offs (those handed off in [start, end) of it, when given) with
    their accounts' names and attempts, for a list of them, and each judged fact by name."""
    zone = scope.calendar.zone
    h = _handoffs(
        scope,
        span,
        start=start or scope.period.start(zone),
        end=end or scope.period.end(zone),
        attempts=True,
        named=True,
    )
    return h, {f.name: f for f in _judged_facts(scope, h)}


def handoff_rows(conn: Connection, scope: Scope) -> TableData:
    """The raw hand-offs of the period, one row each, oldest first (those of one moment by
    their accounts' names), streamed: every figure of the two sides traces to them.

    They are read a slice of time at a time (:func:`_slices`), each slice's few thousand
    sorted by themselves: the first rows come without the whole period's being worked out
    and sorted first (a workbook lists only its first rows)."""
    agreement = current_agreement(conn)
    span = _days(conn, scope, agreement, False)
    zone = scope.calendar.zone
    start, end = scope.period.start(zone), scope.period.end(zone)
    count = conn.execute(select(func.count()).where(*_handed_off(scope, start, end))).scalar_one()

    def statement(since: datetime, until: datetime) -> Any:
        h, facts = _listed_handoffs(scope, span, since, until)
        return select(
            h.c.account,
            h.c.rep,
            h.c.tier,
            h.c.handed_off_at,
            h.c.month,
            h.c.deadline,
            h.c.first_touch,
            facts["on_time"],
            facts["touch_judged"],
            h.c.attempts,
            facts["attempts_met"],
            facts["attempts_judged"],
            h.c.first_meaningful,
            facts["feedback"],
            facts["feedback_judged"],
            h.c.rating,
            h.c.verdict,
        ).order_by(h.c.handed_off_at, h.c.account)

    def rows() -> Iterator[list[Any]]:
        for since, until in _slices(conn, scope, start, end):
            for (account, rep, tier, handed_off_at, month, deadline, first_touch, on_time,
                 touch_judged, attempts, attempts_met, attempts_judged, first_meaningful,
                 feedback, feedback_judged, rating,
                 verdict) in conn.execute(statement(since, until)):  # fmt: skip
                yield [
                    account,
                    rep or "",
                    tier,
                    _naive(handed_off_at),
                    month,
                    _naive(deadline),
                    _naive(first_touch),
                    _said(on_time, touch_judged),
                    attempts,
                    _said(attempts_met, attempts_judged),
                    _naive(first_meaningful),
                    _said(feedback, feedback_judged),
                    rating,
                    verdict or "",
                ]

    return TableData(HANDOFFS_SHEET, HANDOFF_COLUMNS, rows(), count)


#: About how many hand-offs :func:`handoff_rows` reads and sorts at once.
SLICE = 2000


def _slices(
    conn: Connection, scope: Scope, start: datetime, end: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """[since, until) spans of hand-off times from ``start`` to ``end``, oldest first, each
    holding about :data:`SLICE` of the scope's hand-offs, found in their times' index: a
    span ends at a moment, so the hand-offs of one moment (a hand-off of a selection) are
    never split, and are all of one span when there are more of them than a span holds."""
    at = handoff_facts.c.handed_off_at
    since = start
    while True:
        later = select(at).where(*_handed_off(scope, since, end)).order_by(at)
        until = conn.execute(later.offset(SLICE).limit(1)).scalar()
        if until is not None and stored_utc(until) == since:  # one moment holds more
            until = conn.execute(later.where(at > _utc(since)).limit(1)).scalar()
        if until is None:
            yield since, end
            return
        yield since, stored_utc(until)
        since = stored_utc(until)


def _naive(moment: datetime | None) -> datetime | None:
    """A UTC time as the workbook writes it (exports keep UTC, without a zone): SQLite gives
    it so already, a time with a zone (PostgreSQL's) is turned to UTC first."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _said(met: int, judged: int) -> str:
    return "yes" if met else "no" if judged else "not yet"


# --- breaches --------------------------------------------------------------------------------


class BreachKind(enum.StrEnum):
    BLACK_HOLE = "In the black hole"
    FEW_ATTEMPTS = "Too few attempts"
    FOLLOW_UP = "Follow-up not kept"
    NO_RATING = "No rating given"
    FEW_HANDOFFS = "Too few hand-offs"
    WEAK_LEADS = "Leads too weak"


#: What to do about each kind of breach, as the Breaches window says it.
TO_DO = {
    BreachKind.BLACK_HOLE: "Contact the account today and log it.",
    BreachKind.FEW_ATTEMPTS: "Try again on another channel, or log why the lead is not worth it.",
    BreachKind.FOLLOW_UP: "Call as promised, log it and set the next follow-up.",
    BreachKind.NO_RATING: "Log the lead's quality rating (1-5) with its reason.",
    BreachKind.FEW_HANDOFFS: "Hand off more sales-ready accounts, or agree a new number.",
    BreachKind.WEAK_LEADS: "Read the reps' reasons in Field feedback and sharpen the ICP.",
}


@dataclass(frozen=True)
class Breach:
    """One way the agreement was not kept: an account's (``account_id`` set) or a month's."""

    kind: BreachKind
    account_id: uuid.UUID | None
    what: str
    rep: str
    when: date
    detail: str

    @property
    def to_do(self) -> str:
        return TO_DO[self.kind]


def breaches(conn: Connection, scope: Scope) -> list[Breach]:
    """Every breach of the agreement in the period (the black hole whenever handed off), as
    of ``scope.now``: the accounts' first, each kind by date."""
    agreement, work = current_agreement(conn), scope.calendar
    span = _days(conn, scope, agreement, False)
    sales = agreement.sales
    found = [
        Breach(BreachKind.BLACK_HOLE, e.account_id, e.account, e.rep or "",
               work.local_day(e.handed_off_at),
               f"Handed off {work.local_day(e.handed_off_at)}, not touched; "
               f"{counted(e.business_days_overdue, 'business day')} overdue")
        for e in black_hole(conn, scope)
    ]  # fmt: skip
    h, facts = _listed_handoffs(scope, span)
    rows = conn.execute(
        select(h.c.account_id, h.c.account, h.c.rep, h.c.handed_off_at, h.c.attempts,
               h.c.first_meaningful, *facts.values())
        .where(((facts["attempts_met"] == 0) & (facts["attempts_judged"] == 1))
               | ((facts["feedback"] == 0) & (facts["feedback_judged"] == 1)))
        .order_by(h.c.handed_off_at, h.c.account)
    ).all()  # fmt: skip
    for row in rows:
        day = work.local_day(stored_utc(row.handed_off_at))
        if row.attempts_judged and not row.attempts_met:
            found.append(Breach(BreachKind.FEW_ATTEMPTS, row.account_id, row.account,
                                row.rep or "", day,
                                f"{counted(row.attempts, 'attempt')} within "
                                f"{sales.attempts_days} days of the hand-off on {day}; "
                                f"{sales.attempts} agreed"))  # fmt: skip
        if row.feedback_judged and not row.feedback:
            talked = work.local_day(stored_utc(row.first_meaningful))
            found.append(Breach(BreachKind.NO_RATING, row.account_id, row.account,
                                row.rep or "", talked,
                                f"No rating within {sales.feedback_days} days of the first "
                                f"meaningful conversation on {talked}"))  # fmt: skip
    s, kept, where = _due_follow_ups(scope, span.cte)
    missed = conn.execute(
        select(s.c.account_id, accounts.c.name, s.c.logged_by, s.c.follow_up, s.c.at)
        .select_from(s.join(span.cte, span.cte.c.day == s.c.follow_up)
                     .join(accounts, accounts.c.id == s.c.account_id))
        .where(*where, ~kept)
        .order_by(s.c.follow_up, accounts.c.name)
    ).all()  # fmt: skip
    found += [
        Breach(BreachKind.FOLLOW_UP, row.account_id, row.name, row.logged_by, row.follow_up,
               f"Follow-up for {row.follow_up}, set on {work.local_day(stored_utc(row.at))}, "
               "not kept")
        for row in missed
    ]  # fmt: skip
    found.sort(
        key=lambda b: (b.kind is not BreachKind.BLACK_HOLE, list(BreachKind).index(b.kind), b.when)
    )
    return found + _month_breaches(conn, scope)


def _month_breaches(conn: Connection, scope: Scope) -> list[Breach]:
    """Months that have ended in which marketing delivered too few or too weak leads."""
    c = compliance(conn, scope)
    m, found = c.agreement.marketing, []
    agreed = _agreed(c, scope.rep) // c.months
    for month in scope.period.months:
        if month.plus(1).start(scope.calendar.zone) > scope.now:
            continue  # still under way
        t = c.by_month.get(str(month), _Tally())
        who = scope.rep or "Marketing"
        if t.handoffs < agreed:
            said = f"{counted(t.handoffs, 'hand-off')} against {agreed:,} agreed"
            found.append(Breach(BreachKind.FEW_HANDOFFS, None, month.label, who,
                                month.first_day, said))  # fmt: skip
        weak = []
        average = t.average_rating
        if (
            m.min_average_quality is not None
            and average is not None
            and (average < m.min_average_quality)
        ):
            weak.append(f"average rating {average:.1f}, agreed at least {m.min_average_quality:g}")
        for part, whole, least, said in (
            (t.accepted, t.verdicts, m.min_accepted_share, "accepted"),
            (t.tier_a, t.handoffs, m.min_tier_a_share, "tier A"),
        ):
            if least is not None and whole and part / whole < least:
                weak.append(f"{part} of {whole} {said}, agreed at least {least:.0%}")
        if weak:
            found.append(Breach(BreachKind.WEAK_LEADS, None, month.label, who, month.first_day,
                                _sentence("; ".join(weak))))  # fmt: skip
    return found


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]
