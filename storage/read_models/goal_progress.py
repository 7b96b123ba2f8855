"""The shared goal's progress as report sections, and the rates history gives the goal's
arithmetic (``domain.goal.Observed``).

What the goal counts is ``domain.goal``'s docstring, here in SQL: new revenue adds up the
won interactions (a corrected one counts as its correction), the other metrics count the
accounts whose stage changes reached the metric's stage. Every aggregate runs in the
database; Python only lays the few sums out.

Progress is read as of the scope's ``now``, or the end of its period when that is earlier
(a report on March shows the goal as it stood at the end of March). With ``scope.rep``, the
actual, the forecast and the contributions are that rep's accounts'; the target and the
pace stay the team's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import accumulate
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    Row,
    Select,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
)

from domain.agreement import standing
from domain.calendar import WorkCalendar
from domain.goal import Goal, GoalVersion, Metric, Observed, Progress, Rate, elapsed
from domain.periods import Month
from domain.report import Chart, ChartKind, Figure, Scope, Section, Series, Unit
from domain.tables import ColumnKind, TableColumn, TableData
from domain.targets import Stage
from domain.users import Role
from domain.values import counted, in_words, shown_time
from storage.goal_facts import (
    LOST,
    OPEN_DEAL,
    WON_DEAL,
    deal_value,
    goal_facts,
    move_stands,
    reaches,
    unindexed,
)
from storage.goals import current_goal
from storage.schema import StageChangeRow, TargetRow, UserRow, table_of

stage_changes = table_of(StageChangeRow)
targets = table_of(TargetRow)
users = table_of(UserRow)

#: How far back history is read for the observed rates and the win rate.
HISTORY_MONTHS = 6
#: The summary's four figures, in the order the meeting pack prints them.
ACTUAL, PACE, FORECAST, GAP = "Actual to date", "Pace", "Forecast", "Gap to the target"
SUMMARY = (ACTUAL, PACE, FORECAST, GAP)
#: What a goal's progress is broken down by, each with what an account without it shows.
BREAKDOWNS = (("Tier", "No tier"), ("Source", "No source"), ("Industry", "No industry"),
              ("Rep", "No rep"))  # fmt: skip
#: Where a group of :func:`_tally` holds its count (after its breakdowns' keys).
_COUNT = len(BREAKDOWNS)


def _moves_reaching(
    stage: Stage, start: object, end: datetime, moves: FromClause = stage_changes
) -> ColumnElement[bool]:
    """Stage changes (of ``moves``, the table or an alias of it) in ``start``..``end`` that
    reach ``stage`` and stand (:func:`storage.goal_facts.reaches`). ``start`` may be a
    column: from each account's own moment. Read without the ``at`` index on SQLite: a
    goal's months are a good part of the history, which that index reads a row at a time."""
    return and_(reaches(stage, moves), unindexed(moves.c.at) >= start, unindexed(moves.c.at) < end)


def _reached(stage: Stage, start: datetime, end: datetime) -> Select[tuple[object, ...]]:
    """Each account that reached ``stage`` in ``start``..``end``, at the first time it did."""
    return (
        select(stage_changes.c.account_id, func.min(stage_changes.c.at).label("at"))
        .where(_moves_reaching(stage, start, end))
        .group_by(stage_changes.c.account_id)
    )


def _kind(metric: Metric) -> str:
    """The goal's facts that ``metric`` counts: won deals, or moves reaching its stage."""
    return WON_DEAL if metric.stage is None else metric.stage.value


def _counted_in(kind: str, start: datetime, end: datetime, rep: str | None) -> list[Any]:
    """The goal's facts of ``kind`` that count in ``start``..``end`` (``rep``'s accounts
    alone when named): a move counts once an account, at the first in the period, the one
    whose previous move of its kind (``since``) is before the period or is none."""
    f = goal_facts.c
    where = [f.kind == kind, f.at >= start, f.at < end, or_(f.since.is_(None), f.since < start)]
    return where + _of_rep(rep)


def _of_rep(rep: str | None) -> list[Any]:
    """The goal's facts of ``rep``'s accounts (none to add for everyone's)."""
    if rep is None:
        return []
    return [goal_facts.c.owner_id.in_(select(users.c.id).where(users.c.name == rep))]


@dataclass(frozen=True)
class _Reading:
    """One goal's progress as of a moment, with what the figures say it is made of."""

    version: GoalVersion
    start: datetime
    end: datetime
    as_of: datetime
    progress: Progress
    #: How many won deals (new revenue) or accounts the actual is made of.
    events: int
    #: The open opportunities' count and value, and the win rate that weighs them.
    open_count: int
    open_value: int
    win_rate: Rate
    #: The week ends of the goal's period and the cumulative actual at each (None after
    #: the as-of moment).
    weeks: tuple[date, ...]
    cumulative: tuple[float | None, ...]
    #: The contribution by each breakdown (:func:`contributions`).
    by: dict[str, list[tuple[str, float, int]]]

    @property
    def goal(self) -> Goal:
        return self.version.goal


def _as_of(scope: Scope) -> datetime:
    return min(scope.now, scope.period.end(scope.calendar.zone))


def _history_start(calendar: WorkCalendar, moment: datetime) -> datetime:
    """The same day ``HISTORY_MONTHS`` months before ``moment`` (its month's last day when
    shorter), in the workspace's time zone, as UTC."""
    day = calendar.local_day(moment)
    month = Month.of(day).plus(-HISTORY_MONTHS)
    last = (month.plus(1).first_day - timedelta(days=1)).day
    return calendar.day_start(date(month.year, month.month, min(day.day, last)))


def win_rate(conn: Connection, calendar: WorkCalendar, moment: datetime) -> Rate:
    """Won against won and lost: the accounts that moved to won, and to lost, in the
    ``HISTORY_MONTHS`` months before ``moment``."""
    start = _history_start(calendar, moment)
    won, lost = (
        conn.execute(
            select(func.count()).where(*_counted_in(kind, start, moment, None))
        ).scalar_one()
        for kind in (Stage.WON.value, LOST)
    )
    return Rate(int(won), int(won) + int(lost))


def _open_pipeline(
    conn: Connection, rep: str | None, moment: datetime | None = None
) -> tuple[int, int]:
    """The accounts at the opportunity stage now (or at a past ``moment``: their last stage
    change by then that stands moved them there), and their deals' value: each the value of
    its latest opportunity entry that stands (by then)."""
    if moment is None:  # kept among the goal's facts
        f = goal_facts.c
        query = select(func.count(), func.coalesce(func.sum(f.amount), 0))
        query = query.where(f.kind == OPEN_DEAL, *_of_rep(rep))
    else:
        deal = deal_value(targets.c.account_id, moment).correlate(targets)
        query = select(func.count(), func.coalesce(func.sum(deal), 0)).where(
            targets.c.deleted_at.is_(None), targets.c.account_id.in_(_at_opportunity(moment))
        )
        if rep is not None:
            query = query.where(
                targets.c.owner_id.in_(select(users.c.id).where(users.c.name == rep))
            )
    count, value = conn.execute(query).one()
    return int(count), int(value)


def _at_opportunity(moment: datetime) -> Select[tuple[object, ...]]:
    """The accounts whose last stage change by ``moment`` that stands moved them to the
    opportunity stage."""
    moved, later = stage_changes, stage_changes.alias("later")

    def stands(moves: FromClause) -> ColumnElement[bool]:
        return and_(moves.c.at <= moment, move_stands(moves))

    return select(moved.c.account_id).where(
        moved.c.to_stage == Stage.OPPORTUNITY.value,
        stands(moved),
        ~exists().where(
            later.c.account_id == moved.c.account_id, later.c.at > moved.c.at, stands(later)
        ),
    )


def _week_ends(calendar: WorkCalendar, first: date, last: date) -> tuple[date, ...]:
    """The days after each week of ``first``..``last`` (the last week may be shorter)."""
    ends = []
    day = first
    while day <= last:
        day = min(day + timedelta(days=7), last + timedelta(days=1))
        ends.append(day)
    return tuple(ends)


def _tally(
    conn: Connection, metric: Metric, start: datetime, end: datetime, rep: str | None
) -> list[Row[Any]]:
    """The goal's events in ``start``..``end`` added up in one pass over their index, by
    tier, source, industry and rep together (a few thousand groups at most): each group's
    count and total."""
    f = goal_facts.c
    segments = (f.tier, f.source, f.industry, f.owner_id)
    groups = (
        select(*segments, func.count().label("count"), func.sum(f.amount).label("amount"))
        .where(*_counted_in(_kind(metric), start, end, rep))
        .group_by(*segments)
        .subquery("groups")
    )
    g = groups.c
    named = [g.tier, g.source, g.industry, users.c.name]  # the rep's name, not their id
    keys = [func.coalesce(key, without) for key, (_, without) in zip(named, BREAKDOWNS,
                                                                     strict=True)]  # fmt: skip
    query = select(*keys, g.count, g.amount).select_from(
        groups.outerjoin(users, users.c.id == g.owner_id)
    )
    return list(conn.execute(query))


def _running(
    conn: Connection,
    metric: Metric,
    start: datetime,
    end: datetime,
    rep: str | None,
    bounds: Sequence[datetime],
) -> list[float]:
    """The goal's running total in ``start``..``end`` before each of ``bounds`` (in order),
    from one pass over the events' index that adds them up by the first bound each comes
    before."""
    f = goal_facts.c

    def week(lo: int, hi: int) -> Any:  # a binary search: a few comparisons an event
        if lo == hi:
            return literal(lo)
        mid = (lo + hi) // 2
        return case((f.at < bounds[mid], week(lo, mid)), else_=week(mid + 1, hi))

    before = week(0, len(bounds)).label("week")
    query = select(before, func.sum(f.amount)).where(*_counted_in(_kind(metric), start, end, rep))
    weekly: dict[int, Any] = dict(conn.execute(query.group_by(before)).all())
    return list(accumulate(float(weekly.get(n, 0)) for n in range(len(bounds))))


def _by(groups: Sequence[Row[Any]]) -> dict[str, list[tuple[str, float, int]]]:
    """The groups of :func:`_tally` added up by each breakdown alone, biggest first."""
    result = {}
    for at, (name, _) in enumerate(BREAKDOWNS):
        sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
        for group in groups:
            sums[str(group[at])][0] += float(group[_COUNT + 1])
            sums[str(group[at])][1] += int(group[_COUNT])
        result[name] = sorted(((k, v, int(n)) for k, (v, n) in sums.items()),
                              key=lambda item: (-item[1], item[0]))  # fmt: skip
    return result


def contributions(
    conn: Connection, metric: Metric, start: datetime, end: datetime, rep: str | None = None
) -> dict[str, list[tuple[str, float, int]]]:
    """The goal's actual in ``start``..``end`` by tier, source, industry and rep: for each,
    (the tier, source … or what an account without one shows, the amount, how many won
    deals or accounts), biggest first."""
    return _by(_tally(conn, metric, start, end, rep))


def _read(conn: Connection, scope: Scope, version: GoalVersion) -> _Reading:
    goal, calendar = version.goal, scope.calendar
    zone = calendar.zone
    start, end = goal.period.start(zone), goal.period.end(zone)
    as_of = _as_of(scope)
    counted_to = max(start, min(as_of, end))
    weeks = _week_ends(calendar, goal.period.first.first_day, goal.period.last.plus(1).first_day
                       - timedelta(days=1))  # fmt: skip
    bounds = [calendar.day_start(day) for day in weeks]
    shown = [b for b in bounds if b <= counted_to]
    groups = _tally(conn, goal.metric, start, counted_to, scope.rep)
    count = sum(int(g[_COUNT]) for g in groups)
    actual = sum(float(g[_COUNT + 1]) for g in groups)
    cumulative: list[float | None] = [
        *_running(conn, goal.metric, start, counted_to, scope.rep, shown)
    ]
    if len(shown) < len(bounds) and as_of > start:
        cumulative.append(actual)  # the week in progress, to the as-of moment
    cumulative += [None] * (len(bounds) - len(cumulative))
    rate = win_rate(conn, calendar, as_of)
    open_count = open_value = 0
    pipeline = None
    if goal.metric in (Metric.NEW_REVENUE, Metric.WON_ACCOUNTS) and rate.value is not None:
        # a period that is over is read as it stood at its end: its open pipeline then
        past = as_of if as_of < scope.now else None
        open_count, open_value = _open_pipeline(conn, scope.rep, past)
        weighed = open_value if goal.metric is Metric.NEW_REVENUE else open_count
        pipeline = weighed * rate.value
    progress = Progress(goal.target, actual, elapsed(start, end, as_of), pipeline)
    return _Reading(version, start, end, as_of, progress, count, open_count, open_value, rate,
                    weeks, tuple(cumulative), _by(groups))  # fmt: skip


def _amount(metric: Metric, value: float) -> str:
    return f"{value:,.0f}" if metric.is_amount else _counted(metric, round(value))


#: What one unit of a metric is called, and many.
_NOUNS = {
    Metric.NEW_REVENUE: ("won deal", "won deals"),
    Metric.WON_ACCOUNTS: ("won account", "won accounts"),
    Metric.MEETINGS: ("meeting", "meetings"),
    Metric.OPPORTUNITIES: ("opportunity", "opportunities"),
}


def _counted(metric: Metric, count: int) -> str:
    return counted(count, *_NOUNS[metric])


def _rows(metric: Metric) -> str:
    return "Interactions" if metric.is_amount else "Stage changes"


def _figures(reading: _Reading | None) -> list[Figure]:
    if reading is None:
        return [Figure(label, None, basis="no goal is set") for label in SUMMARY]
    goal, progress = reading.goal, reading.progress
    unit = Unit.AMOUNT if goal.metric.is_amount else Unit.COUNT
    rows = _rows(goal.metric)
    started = reading.as_of > reading.start
    actual_basis = _counted(goal.metric, reading.events)
    forecast = progress.forecast
    gap = progress.gap
    return [
        Figure(ACTUAL, progress.actual if started else None, unit, goal.target,
               standing(progress.actual, progress.pace) if started else None,
               basis=actual_basis if started else "the goal has not started", rows=rows),
        Figure(PACE, progress.pace, unit, goal.target,
               basis=f"{_gone_by(progress.elapsed)} of the goal's period gone by"),
        Figure(FORECAST, forecast, unit, goal.target, standing(forecast, goal.target),
               basis=_forecast_basis(reading), rows=rows),
        Figure(GAP, gap, unit, basis=_gap_basis(goal.metric, gap), shortfall=True),
    ]  # fmt: skip


def _gone_by(share: float) -> str:
    """The share of the goal's period gone by, in whole percent: 100% only once it is over
    (when the forecast is the actual), 99% on its last hours."""
    return "100%" if share >= 1 else f"{min(round(share * 100), 99)}%"


def _gap_basis(metric: Metric, gap: float | None) -> str:
    if gap is None:
        return "no forecast yet"
    if gap > 0:
        return f"the forecast falls {_amount(metric, gap)} short of the target"
    if gap < 0:
        return f"the forecast is {_amount(metric, -gap)} beyond the target"
    return "the forecast meets the target exactly"


def _forecast_basis(reading: _Reading) -> str:
    progress, metric = reading.progress, reading.goal.metric
    run = progress.run_rate
    if run is None:
        return "nothing to extend before the goal starts"
    said = f"run rate {_amount(metric, run)}"
    if progress.elapsed >= 1:
        return "the goal's period is over: the actual"
    if progress.pipeline is None:
        if metric in (Metric.NEW_REVENUE, Metric.WON_ACCOUNTS):
            return f"{said}; no won or lost deal yet to weigh the open pipeline by"
        return said
    open_part = (
        f"{reading.open_value:,} in open deals" if metric.is_amount
        else counted(reading.open_count, "open opportunity", "open opportunities")
    )  # fmt: skip
    return (f"{said} + {open_part} × win rate {reading.win_rate.value:.0%} "
            f"({reading.win_rate.basis})")  # fmt: skip


def _target(goal: Goal) -> str:
    """``New revenue of 400,000``, ``20 won accounts``."""
    if goal.metric.is_amount:
        return f"{goal.metric.label} of {goal.target:,}"
    return _counted(goal.metric, goal.target)


def described(version: GoalVersion) -> str:
    """The goal in a sentence: metric, target, period, owners, and which version it is."""
    goal = version.goal
    return (
        f"{_target(goal)} over {goal.period.label}, "
        f"owned by {in_words(list(goal.owners))} (version {version.number}, set by "
        f"{version.set_by} on {shown_time(version.set_at, '%Y-%m-%d')})."
    )


def goal_figures(conn: Connection, scope: Scope) -> list[Figure]:
    """The meeting pack's summary of the goal: actual, pace, forecast, gap."""
    version = current_goal(conn)
    return _figures(None if version is None else _read(conn, scope, version))


def summary_figures(sections: Sequence[Section]) -> list[Figure]:
    """The goal's summary figures (:func:`goal_figures`) as its pages (:func:`goal_sections`)
    begin with them: what shows both reads the goal once."""
    return sections[0].figures


def goal_sections(conn: Connection, scope: Scope) -> list[Section]:
    """The goal's pages: cumulative actual against the pace line by week; contribution
    by tier, source or campaign, industry and rep. The first holds the summary figures."""
    version = current_goal(conn)
    if version is None:
        return [Section("Shared goal", _figures(None), notes=[
            "No shared goal is set yet: the owner sets it in Plan › Goal… or with "
            "accord goal set."])]  # fmt: skip
    reading = _read(conn, scope, version)
    goal = reading.goal
    unit = Unit.AMOUNT if goal.metric.is_amount else Unit.COUNT
    notes = [described(version)]
    if scope.rep is not None:
        notes.append(f"{scope.rep}'s accounts only; the target and the pace are the team's.")
    if reading.as_of <= reading.start:
        notes.append(f"The goal starts in {goal.period.first.label}: there is nothing to "
                     "count yet.")  # fmt: skip
    elif reading.events == 0:
        notes.append(f"No {_NOUNS[goal.metric][0]} counts towards the goal yet.")
    pace = [goal.target * elapsed(reading.start, reading.end, scope.calendar.day_start(day))
            for day in reading.weeks]  # fmt: skip
    chart = Chart(
        f"{goal.metric.label}, cumulative, against the pace",
        ChartKind.LINE,
        tuple(f"{day:%d %b}" for day in (goal.period.first.first_day, *reading.weeks[:-1])),
        (Series("Actual", reading.cumulative), Series("Pace", tuple(pace))),
        unit,
        references=("Pace",),
    )
    summary = Section("Shared goal", _figures(reading), charts=[chart], notes=notes)
    return [summary, _contribution(reading)]


def _contribution(reading: _Reading) -> Section:
    goal = reading.goal
    by = reading.by
    amount = TableColumn(goal.metric.label, ColumnKind.AMOUNT if goal.metric.is_amount
                         else ColumnKind.INTEGER)  # fmt: skip
    tables, charts = [], []
    for name, _ in BREAKDOWNS:
        rows = by[name]
        if goal.metric.is_amount:
            columns = [TableColumn(name), amount, TableColumn("Won deals", ColumnKind.INTEGER)]
            body: list[tuple[str, int, int] | tuple[str, int]] = [
                (k, round(v), n) for k, v, n in rows
            ]
        else:
            columns = [TableColumn(name), amount]
            body = [(k, round(v)) for k, v, _ in rows]
        tables.append(TableData(f"Goal by {name.lower()}", columns, body, len(body)))
        if name in ("Tier", "Rep") and rows:
            charts.append(Chart(
                f"{goal.metric.label} by {name.lower()}", ChartKind.BAR,
                tuple(k for k, _, _ in rows), (Series(goal.metric.label,
                                                      tuple(v for _, v, _ in rows)),),
                Unit.AMOUNT if goal.metric.is_amount else Unit.COUNT,
            ))  # fmt: skip
    notes = [] if reading.events else [
        "Nothing counts towards the goal yet, so there is nothing to break down."]  # fmt: skip
    return Section("Contribution to the goal", charts=charts, tables=tables, notes=notes)


def observed_rates(conn: Connection, calendar: WorkCalendar, moment: datetime) -> Observed:
    """What the last ``HISTORY_MONTHS`` months before ``moment`` say for the goal's
    arithmetic: the won deals' value and count, opportunity → won (the win rate), meeting →
    opportunity and hand-off → meeting (of the accounts that reached the first in those
    months, how many went on to the second), and the workspace's reps."""
    start = _history_start(calendar, moment)
    won_value, won = conn.execute(
        select(func.coalesce(func.sum(goal_facts.c.amount), 0), func.count()).where(
            *_counted_in(WON_DEAL, start, moment, None)
        )
    ).one()
    meetings = _reached(Stage.MEETING, start, moment).subquery()
    later = stage_changes.alias("later")
    went_on = exists().where(
        later.c.account_id == meetings.c.account_id,
        _moves_reaching(Stage.OPPORTUNITY, meetings.c.at, moment, later),
    )
    m_all, m_on = conn.execute(
        select(func.count(), func.coalesce(func.sum(case((went_on, 1), else_=0)), 0))
        .select_from(meetings)
    ).one()  # fmt: skip
    met = exists().where(
        later.c.account_id == targets.c.account_id,
        _moves_reaching(Stage.MEETING, targets.c.handed_off_at, moment, later),
    )
    h_all, h_met = conn.execute(
        select(func.count(), func.coalesce(func.sum(case((met, 1), else_=0)), 0)).where(
            targets.c.handed_off_at >= start, targets.c.handed_off_at < moment
        )
    ).one()
    reps = conn.execute(
        select(func.count()).where(users.c.role == Role.REP.value, users.c.deleted_at.is_(None))
    ).scalar_one()
    return Observed(
        int(won_value),
        int(won),
        win_rate(conn, calendar, moment),
        Rate(int(m_on), int(m_all)),
        Rate(int(h_met), int(h_all)),
        int(reps),
    )
