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
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    FromClause,
    Row,
    Select,
    Subquery,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from domain.agreement import standing
from domain.calendar import WorkCalendar
from domain.goal import Goal, GoalVersion, Metric, Observed, Progress, Rate, elapsed, reaching
from domain.periods import Month
from domain.report import Chart, ChartKind, Figure, Scope, Section, Series, Unit
from domain.tables import ColumnKind, TableColumn, TableData
from domain.targets import Stage
from domain.users import Role
from domain.values import counted, in_words, shown_time
from storage.goals import current_goal
from storage.schema import (
    AccountRow,
    AccountScoreRow,
    InteractionRow,
    StageChangeRow,
    TargetRow,
    UserRow,
    table_of,
)

accounts = table_of(AccountRow)
scores = table_of(AccountScoreRow)
interactions = table_of(InteractionRow)
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
_DIMENSIONS = {
    "Tier": scores.c.tier,
    "Source": accounts.c.source,
    "Industry": accounts.c.industry,
    "Rep": users.c.name,
}
#: Where a group of :func:`_tally` holds its count (after its breakdowns' keys).
_COUNT = len(BREAKDOWNS)

_correcting = interactions.alias("correcting")


class _unindexed(FunctionElement[datetime]):
    """A time column that SQLite compares without its index (a unary ``+``): read through
    the ``at`` index, a goal's months of interactions or stage changes take a row at a time,
    15 times slower than reading the table through once whenever the months hold more than
    a twentieth of its rows (they do: a goal is months of a few years' history). PostgreSQL
    weighs the two itself, and gets the column as it is."""

    type = DateTime(timezone=True)
    inherit_cache = True


@compiles(_unindexed)
def _as_it_is(element: _unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(_unindexed, "sqlite")
def _without_index(element: _unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + str(compiler.process(element.clauses, **kw))


def _kept(interaction_id: ColumnElement[object]) -> ColumnElement[bool]:
    """No later entry corrects the interaction."""
    return ~exists().where(_correcting.c.supersedes_id == interaction_id)


def _moves_reaching(
    stage: Stage, start: object, end: datetime, moves: FromClause = stage_changes
) -> ColumnElement[bool]:
    """Stage changes (of ``moves``, the table or an alias of it) in ``start``..``end`` that
    reach ``stage`` (``domain.goal.reaching``), leaving out those a corrected interaction
    made. ``start`` may be a column: from each account's own moment."""
    into, starts = reaching(stage)
    return and_(
        moves.c.to_stage.in_(sorted(s.value for s in into)),
        or_(
            moves.c.from_stage.is_(None),
            moves.c.from_stage.in_(sorted(s.value for s in starts if s is not None)),
        ),
        _unindexed(moves.c.at) >= start,
        _unindexed(moves.c.at) < end,
        or_(moves.c.interaction_id.is_(None), _kept(moves.c.interaction_id)),
    )


def _reached(stage: Stage, start: datetime, end: datetime) -> Select[tuple[object, ...]]:
    """Each account that reached ``stage`` in ``start``..``end``, at the first time it did."""
    return (
        select(stage_changes.c.account_id, func.min(stage_changes.c.at).label("at"))
        .where(_moves_reaching(stage, start, end))
        .group_by(stage_changes.c.account_id)
    )


def _wins(start: datetime, end: datetime) -> Select[tuple[object, ...]]:
    """The won interactions in ``start``..``end`` that stand (not corrected since)."""
    return select(
        interactions.c.account_id,
        interactions.c.at,
        func.coalesce(interactions.c.value, 0).label("amount"),
    ).where(
        interactions.c.outcome == "won",
        _unindexed(interactions.c.at) >= start,
        _unindexed(interactions.c.at) < end,
        _kept(interactions.c.id),
    )


def _of_rep(rep: str | None) -> Select[tuple[object, ...]] | None:
    """The accounts ``rep`` owns, or None for everyone's."""
    if rep is None:
        return None
    return (
        select(targets.c.account_id)
        .join(users, users.c.id == targets.c.owner_id)
        .where(users.c.name == rep)
    )


def _events(metric: Metric, start: datetime, end: datetime, rep: str | None) -> Subquery:
    """What the goal counts in ``start``..``end``: rows of (account_id, at, amount), the
    amount a won deal's value for new revenue and 1 for an account otherwise."""
    stage = metric.stage
    if stage is None:
        events = _wins(start, end)
    else:
        reached = _reached(stage, start, end).subquery()
        events = select(reached.c.account_id, reached.c.at, literal(1).label("amount"))
    mine = _of_rep(rep)
    if mine is not None:
        events = events.where(events.selected_columns.account_id.in_(mine))
    return events.subquery("events")


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
    moved = stage_changes.c.account_id
    lost = stage_changes.c.to_stage == Stage.LOST.value
    query = select(  # one pass over the stage changes of those months
        func.count(func.distinct(case((_moves_reaching(Stage.WON, start, moment), moved)))),
        func.count(func.distinct(case((lost, moved)))),
    ).where(
        or_(lost, stage_changes.c.to_stage == Stage.WON.value),
        _unindexed(stage_changes.c.at) >= start,
        _unindexed(stage_changes.c.at) < moment,
        or_(stage_changes.c.interaction_id.is_(None), _kept(stage_changes.c.interaction_id)),
    )
    won, lost_count = conn.execute(query).one()
    return Rate(int(won), int(won) + int(lost_count))


def _open_pipeline(
    conn: Connection, rep: str | None, moment: datetime | None = None
) -> tuple[int, int]:
    """The accounts at the opportunity stage now (or at a past ``moment``: their last stage
    change by then that stands moved them there), and their deals' value: each the value of
    its latest opportunity entry that stands (by then)."""
    by_then = [] if moment is None else [interactions.c.at <= moment]
    deal = (
        select(interactions.c.value)
        .where(
            interactions.c.account_id == targets.c.account_id,
            interactions.c.outcome == "opportunity",
            _kept(interactions.c.id),
            *by_then,
        )
        .order_by(interactions.c.at.desc(), interactions.c.id.desc())
        .limit(1)
        .correlate(targets)
        .scalar_subquery()
    )
    query = select(func.count(), func.coalesce(func.sum(deal), 0)).where(
        targets.c.deleted_at.is_(None)
    )
    if moment is None:
        query = query.where(targets.c.stage == Stage.OPPORTUNITY.value)
    else:
        query = query.where(targets.c.account_id.in_(_at_opportunity(moment)))
    mine = _of_rep(rep)
    if mine is not None:
        query = query.where(targets.c.account_id.in_(mine))
    count, value = conn.execute(query).one()
    return int(count), int(value)


def _at_opportunity(moment: datetime) -> Select[tuple[object, ...]]:
    """The accounts whose last stage change by ``moment`` that stands moved them to the
    opportunity stage."""
    moved, later = stage_changes, stage_changes.alias("later")

    def stands(moves: FromClause) -> ColumnElement[bool]:
        return and_(
            moves.c.at <= moment,
            or_(moves.c.interaction_id.is_(None), _kept(moves.c.interaction_id)),
        )

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
    conn: Connection,
    metric: Metric,
    start: datetime,
    end: datetime,
    rep: str | None,
    bounds: Sequence[datetime] = (),
) -> list[Row[Any]]:
    """The goal's events in ``start``..``end`` added up in one pass, by tier, source,
    industry and rep together (a few hundred groups): each group's count, total, and its
    running total before each of ``bounds``."""
    events = _events(metric, start, end, rep)
    joined = (
        events.join(accounts, accounts.c.id == events.c.account_id)
        .outerjoin(scores, scores.c.account_id == events.c.account_id)
        .outerjoin(targets, targets.c.account_id == events.c.account_id)
        .outerjoin(users, users.c.id == targets.c.owner_id)
    )
    keys = [func.coalesce(_DIMENSIONS[name], without) for name, without in BREAKDOWNS]
    before = [func.sum(case((events.c.at < b, events.c.amount), else_=0)) for b in bounds]
    query = select(*keys, func.count(), func.sum(events.c.amount), *before)
    return list(conn.execute(query.select_from(joined).group_by(*keys)))


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
    groups = _tally(conn, goal.metric, start, counted_to, scope.rep, shown)
    count = sum(int(g[_COUNT]) for g in groups)
    actual = sum(float(g[_COUNT + 1]) for g in groups)
    cumulative: list[float | None] = [
        sum(float(g[_COUNT + 2 + week]) for g in groups) for week in range(len(shown))
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
    wins = _wins(start, moment).subquery()
    won_value, won = conn.execute(
        select(func.coalesce(func.sum(wins.c.amount), 0), func.count()).select_from(wins)
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
