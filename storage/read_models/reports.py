"""The goal, SLA, closed-loop, meeting and plan reports put together from the read models
(:mod:`goal_progress`, :mod:`sla_compliance`, :mod:`closed_loop`, :mod:`plan_document`):
what each report holds, in the order it prints, and the raw rows behind it.

The meeting pack, page by page (../shared/REPORTS.md): the cover (the PDF's title page),
a one-page summary (the goal's figures with a bar of them, then four figures for
marketing's side and four for sales'), the goal, marketing's side, sales' side, the funnel,
what the field learned, the ICP calibration, and decisions with ruled lines to write on.

A report's parts are read side by side (:func:`side_by_side`): each section's read that
needs no other (the closed loop's four apart), who the cover names, and a workbook's raw
tables (their first ``RAW_ROWS`` rows and one more, read ahead), each on one of the
connections of :func:`report_readers`, which all read one snapshot, in a thread a core:
SQLite and PostgreSQL's driver let go of Python's lock while a statement runs.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import Connection, event, select

from domain.errors import Cancelled
from domain.periods import Period
from domain.progress import Cancel
from domain.report import (
    RAW_ROWS,
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
    ClosedLoop,
    calibration,
    funnels,
    interaction_rows,
    lead_quality,
    learnings,
    stage_change_rows,
)
from storage.read_models.goal_progress import goal_sections, summary_figures
from storage.read_models.plan_document import plan_sections
from storage.read_models.sla_compliance import handoff_rows, side_figures, sla_sections
from storage.schema import PlanSignOffRow
from storage.targets import users_by_name
from storage.workspace import Workspace, interrupt

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


#: How many parts of a report are read at once: one a core this process may run on.
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
#: Seconds between two looks at whether the user cancelled while a report's parts are read,
#: and between two interruptions of the parts still reading once they are to stop.
POLL = 0.05

_Read = Callable[[Connection, Scope], Any]


@contextmanager
def report_readers(workspace: Workspace) -> Iterator[list[Connection]]:
    """The connections a report's parts are read on side by side: one a core, all reading
    one snapshot (a write committed meanwhile shows in no part)."""
    with workspace.read_together(CORES) as readers:
        yield readers


def make_report(
    readers: Connection | Sequence[Connection],
    kind: ReportKind,
    scope: Scope,
    workspace_name: str,
    raw_rows: bool = True,
    cancel: Cancel | None = None,
) -> Report:
    """The report of ``kind`` over ``scope``, its parts read side by side on ``readers``
    (those of :func:`report_readers`, or one connection), with the first ``RAW_ROWS`` rows
    and one more of each raw table; without ``raw_rows`` none (a PDF prints no raw row:
    they are not even counted). Cancelled (``cancel()``) at once."""
    reads, sections = _CONTENT[kind]()
    raw = [_read_ahead(read) for read in _RAW[kind]()] if raw_rows else []
    people = _signed_by if kind is ReportKind.PLAN else _goal_owners
    readers = [readers] if isinstance(readers, Connection) else list(readers)
    got = side_by_side(readers, scope, [*reads, people, *raw], cancel)
    made = sections(scope, got[: len(reads)])
    return Report(kind, workspace_name, scope.period, scope.now, got[len(reads)], made,
                  got[len(reads) + 1 :], scope.rep)  # fmt: skip


def side_by_side(
    readers: Sequence[Connection], scope: Scope, reads: Sequence[_Read], cancel: Cancel | None
) -> list[Any]:
    """What each of ``reads`` gives over ``scope``, in their order: read in a thread per
    reader, each read on a reader no other thread uses meanwhile, taken in their order (the
    longest first). A cancel, or a read that fails, stops the others at once (their
    statements interrupted, and no statement begun after): then Cancelled, or the first
    read's error as it was raised, is raised here."""
    free: queue.SimpleQueue[Connection] = queue.SimpleQueue()
    for conn in readers:
        free.put(conn)
    stop = threading.Event()

    def stopped(*_: Any) -> None:
        if stop.is_set():
            raise Cancelled()

    def run(read: _Read) -> Any:
        conn = free.get()
        try:
            stopped()
            return read(conn, scope)
        finally:
            free.put(conn)

    for conn in readers:
        event.listen(conn, "before_cursor_execute", stopped)
    try:
        with ThreadPoolExecutor(len(readers), thread_name_prefix="report") as pool:
            futures = [pool.submit(run, read) for read in reads]
            try:
                _wait(futures, cancel)
            except BaseException:
                stop.set()
                for future in futures:
                    future.cancel()
                while not all(future.done() for future in futures):
                    for conn in readers:
                        interrupt(conn)
                    wait(futures, POLL)
                raise
    finally:
        for conn in readers:
            event.remove(conn, "before_cursor_execute", stopped)
    return [future.result() for future in futures]


def _wait(futures: list[Future[Any]], cancel: Cancel | None) -> None:
    """Until every read is done: raise the first one's error as soon as one fails, and
    Cancelled as soon as ``cancel()`` says so."""
    while True:
        done, pending = wait(futures, POLL, FIRST_EXCEPTION)
        failed = [f.exception() for f in futures if f in done and f.exception() is not None]
        if failed:
            raise failed[0]  # type: ignore[misc]
        if not pending:
            return
        if cancel is not None and cancel():
            raise Cancelled("The report was cancelled; no file was written.")


def _read_ahead(read: Callable[[Connection, Scope], TableData]) -> _Read:
    """``read``'s raw table with its first ``RAW_ROWS`` rows and one more (that there are
    more is said below the sheet) read now, on the reader that reads it."""

    def ahead(conn: Connection, scope: Scope) -> TableData:
        table = read(conn, scope)
        rows = iter(table.rows)
        listed = list(islice(rows, RAW_ROWS + 1))
        close = getattr(rows, "close", None)
        if close is not None:  # a streamed query's rows: its cursor is let go here
            close()
        return replace(table, rows=listed)

    return ahead


def _goal_owners(conn: Connection, _scope: Scope) -> tuple[str, ...]:
    version = current_goal(conn)
    return version.goal.owners if version else ()


def _one(read: _Read) -> tuple[list[_Read], Callable[[Scope, list[Any]], list[Section]]]:
    """A report of one read's sections."""
    return [read], lambda _scope, got: list(got[0])


def _loop_sections(found: Any, quality: Any, learned: Any, calibrated: Any) -> list[Section]:
    return ClosedLoop(found, quality, learned, *calibrated).sections()


def _meeting(scope: Scope, got: list[Any]) -> list[Section]:
    found, sla, quality, learned, calibrated, goal = got
    return [
        *_summary(scope, summary_figures(goal), side_figures(sla)),
        *goal,
        *sla,
        *_loop_sections(found, quality, learned, calibrated),
        Section(
            "Decisions and next steps",
            notes=["What the meeting decided, who does it and by when."],
            lines=DECISION_LINES,
        ),
    ]


#: Each report's reads, the longest first (a thread CPU seconds each at a million accounts:
#: the funnel 3.7, the SLA's 3.1, lead quality 2.5-3.0, the learnings 1.9, the calibration
#: 0.8, the goal's 0.1), and its sections made of what they gave, in the order the report
#: prints them (looked up as a report is made).
_CONTENT: dict[ReportKind, Callable[[], tuple[list[_Read], Callable[..., list[Section]]]]] = {
    ReportKind.GOAL: lambda: _one(goal_sections),
    ReportKind.SLA: lambda: _one(sla_sections),
    ReportKind.CLOSED_LOOP: lambda: ([funnels, lead_quality, learnings, calibration],
                                     lambda _, got: _loop_sections(*got)),
    ReportKind.MEETING: lambda: ([funnels, sla_sections, lead_quality, learnings,
                                  calibration, goal_sections], _meeting),
    ReportKind.PLAN: lambda: _one(plan_sections),
}  # fmt: skip
#: Each report's raw tables, in the order its workbook lists them.
_RAW: dict[ReportKind, Callable[[], list[Callable[[Connection, Scope], TableData]]]] = {
    ReportKind.GOAL: lambda: [stage_change_rows, handoff_rows],
    ReportKind.SLA: lambda: [handoff_rows, interaction_rows],
    ReportKind.CLOSED_LOOP: lambda: [stage_change_rows, interaction_rows],
    ReportKind.MEETING: lambda: [handoff_rows, interaction_rows, stage_change_rows],
    ReportKind.PLAN: lambda: [],
}


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
    """The goal's figures in its unit (actual, pace, forecast) as bars, against the target;
    none when no figure has data. The gap is the space between the forecast and the
    target's line, not a bar: ahead of the target it is below zero, under the axis the bars
    stand on, where its bar covered its own name."""
    shown = [f for f in goal if f.unit is goal[0].unit and not f.shortfall] if goal else []
    if all(f.value is None for f in shown):
        return []
    series = [Series("The goal", tuple(f.value for f in shown))]
    target = next((f.target for f in shown if f.target is not None), None)
    if target is not None:
        series.append(Series("Target", tuple(target for _ in shown)))
    references = ("Target",) if target is not None else ()
    categories = tuple(f.label for f in shown)
    return [Chart("The goal", ChartKind.BAR, categories, tuple(series), shown[0].unit, references)]


def _signed_by(conn: Connection, _scope: Scope) -> tuple[str, ...]:
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
