"""The goal, SLA, closed-loop, meeting and plan reports put together from the read models
(:mod:`goal_progress`, :mod:`sla_compliance`, :mod:`closed_loop`, :mod:`plan_document`):
what each report holds, in the order it prints, and the raw rows behind it.

The meeting pack, page by page (../shared/REPORTS.md): the cover (the PDF's title page),
a one-page summary (the goal's figures with a bar of them, then four figures for
marketing's side and four for sales'), the goal, marketing's side, sales' side, the funnel,
what the field learned, the ICP calibration, and decisions with ruled lines to write on.

The raw tables are streamed from ``conn``: write the report before the connection closes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from domain.periods import Period
from domain.report import (
    Chart,
    ChartKind,
    Figure,
    Report,
    ReportKind,
    Scope,
    Section,
    Series,
    default_period,
    report_rep,
)
from domain.tables import TableData
from storage.agreements import current_calendar
from storage.goals import current_goal
from storage.read_models.closed_loop import (
    closed_loop_sections,
    interaction_rows,
    stage_change_rows,
)
from storage.read_models.goal_progress import goal_sections, summary_figures
from storage.read_models.plan_document import plan_sections
from storage.read_models.sla_compliance import handoff_rows, side_figures, sla_sections
from storage.schema import PlanSignOffRow
from storage.targets import users_by_name

#: The ruled lines the meeting's decisions get: a page of them.
DECISION_LINES = 16


def report_scope(
    conn: Connection, now: datetime, period: Period | None = None, rep: str | None = None
) -> Scope:
    """What a report covers: ``period`` (default: the goal's, else the last six whole
    months), on the workspace calendar, as of ``now``; one rep's figures when ``rep`` names
    a rep (NotFound or ValidationError when it does not)."""
    calendar = current_calendar(conn)
    if period is None:
        version = current_goal(conn)
        period = default_period(version.goal.period if version else None, calendar.local_day(now))
    if rep is not None:
        rep = report_rep(rep, users_by_name(conn)).name
    return Scope(period, calendar, now, rep)


def make_report(
    conn: Connection, kind: ReportKind, scope: Scope, workspace_name: str, raw_rows: bool = True
) -> Report:
    """The report of ``kind`` over ``scope``, its raw tables streaming from ``conn``; without
    ``raw_rows`` none (a PDF prints no raw row: they are not even counted)."""
    sections = _CONTENT[kind](conn, scope)
    raw = _RAW[kind](conn, scope) if raw_rows else []
    if kind is ReportKind.PLAN:
        people = _signed_by(conn)
    else:
        version = current_goal(conn)
        people = version.goal.owners if version else ()
    return Report(kind, workspace_name, scope.period, scope.now, people, sections, raw, scope.rep)


def _meeting(conn: Connection, scope: Scope) -> list[Section]:
    sla = sla_sections(conn, scope)
    goal = goal_sections(conn, scope)
    return [
        *_summary(scope, summary_figures(goal), side_figures(sla)),
        *goal,
        *sla,
        *closed_loop_sections(conn, scope),
        Section(
            "Decisions and next steps",
            notes=["What the meeting decided, who does it and by when."],
            lines=DECISION_LINES,
        ),
    ]


_Read = Callable[[Connection, Scope], list[Section]]
_CONTENT: dict[ReportKind, _Read] = {
    ReportKind.GOAL: lambda conn, scope: goal_sections(conn, scope),
    ReportKind.SLA: lambda conn, scope: sla_sections(conn, scope),
    ReportKind.CLOSED_LOOP: lambda conn, scope: closed_loop_sections(conn, scope),
    ReportKind.MEETING: _meeting,
    ReportKind.PLAN: lambda conn, scope: plan_sections(conn, scope),
}
#: Each report's raw tables, in the order its workbook lists them.
_RAW: dict[ReportKind, Callable[[Connection, Scope], list[TableData]]] = {
    ReportKind.GOAL: lambda conn, scope: [stage_change_rows(conn, scope),
                                          handoff_rows(conn, scope)],
    ReportKind.SLA: lambda conn, scope: [handoff_rows(conn, scope), interaction_rows(conn, scope)],
    ReportKind.CLOSED_LOOP: lambda conn, scope: [stage_change_rows(conn, scope),
                                                 interaction_rows(conn, scope)],
    ReportKind.MEETING: lambda conn, scope: [handoff_rows(conn, scope),
                                             interaction_rows(conn, scope),
                                             stage_change_rows(conn, scope)],
    ReportKind.PLAN: lambda conn, scope: [],
}  # fmt: skip


def _summary(
    scope: Scope, goal: list[Figure], sides: tuple[list[Figure], list[Figure]]
) -> list[Section]:
    """The meeting's one-page summary: the goal's figures, then each side's four figures
    against the agreement and the previous period (``sides``, from the SLA's sections), on
    the same page."""
    marketing, sales = sides
    summary = Section("Summary", figures=goal, charts=_goal_chart(goal))
    if all(f.value is None for f in (*goal, *marketing, *sales)):
        summary.notes.append(f"There is no data in {scope.period.label} for any of these figures.")
    return [
        summary,
        Section("Marketing's side", figures=marketing, new_page=False),
        Section("Sales' side", figures=sales, new_page=False),
    ]


def _goal_chart(goal: list[Figure]) -> list[Chart]:
    """The goal's figures in its unit (actual, pace, forecast, gap) as bars, against the
    target; none when no figure has data."""
    shown = [f for f in goal if f.unit is goal[0].unit] if goal else []
    if all(f.value is None for f in shown):
        return []
    series = [Series("The goal", tuple(f.value for f in shown))]
    target = next((f.target for f in shown if f.target is not None), None)
    if target is not None:
        series.append(Series("Target", tuple(target for _ in shown)))
    references = ("Target",) if target is not None else ()
    categories = tuple(f.label for f in shown)
    return [Chart("The goal", ChartKind.BAR, categories, tuple(series), shown[0].unit, references)]


def _signed_by(conn: Connection) -> tuple[str, ...]:
    """Who signed the plan last on each side, marketing's first."""
    rows: Any = conn.execute(
        select(PlanSignOffRow.side, PlanSignOffRow.signed_by).order_by(
            PlanSignOffRow.signed_at.desc()
        )
    )
    latest: dict[str, str] = {}
    for side, name in rows:
        latest.setdefault(side, name)
    return tuple(latest[side] for side in sorted(latest))
