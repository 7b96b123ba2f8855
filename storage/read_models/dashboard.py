"""What the dashboard reads: its panels' figures, charts and tables from the report read
models, for the scope it shows (the goal's period, or marketing's month, on the workspace
calendar), and the dossiers marketing has to write for the accounts at the head of the
reps' call queues."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, select

from domain.periods import Month, Period
from domain.queue import RULES
from domain.report import Chart, Figure, Scope, Section
from domain.tables import TableColumn, TableData
from domain.users import Role, User
from storage.agreements import current_calendar
from storage.dossiers import dossier_complete_sql
from storage.goals import current_goal
from storage.queue import queue_head
from storage.read_models import closed_loop, goal_progress, sla_compliance
from storage.read_models.reports import CORES
from storage.schema import AccountRow, WorkCalendarRow, table_of
from storage.targets import users_by_name
from storage.workspace import Workspace

calendars = table_of(WorkCalendarRow)
accounts = table_of(AccountRow)
#: The head of a rep's call queue: the accounts they will call in the next days.
QUEUE_HEAD = 10
#: A workspace without a goal shows this many months up to this one.
MONTHS_WITHOUT_GOAL = 6
#: A panel's long lists (the black hole) hold their first rows and their count: a report
#: lists them all.
PANEL_ROWS = 100


def dashboard_scope(
    conn: Connection, now: datetime, *, this_month: bool = False, rep: str | None = None
) -> Scope:
    """The goal's period (or the last six months while there is no goal), or only the
    month of ``now``, on the workspace calendar."""
    calendar = current_calendar(conn)
    month = Month.of(calendar.local_day(now))
    period = Period(month, month)
    if not this_month:
        goal = current_goal(conn)
        if goal is None:
            period = Period.months_from(month.plus(1 - MONTHS_WITHOUT_GOAL), MONTHS_WITHOUT_GOAL)
        else:
            period = goal.goal.period
    return Scope(period, calendar, now, rep)


def dossiers_to_write(conn: Connection, now: datetime, per_rep: int = QUEUE_HEAD) -> TableData:
    """The accounts among the first ``per_rep`` of each rep's call queue whose dossier is
    not complete (none, or a required section empty), in queue order, rep by rep."""
    today = current_calendar(conn).local_day(now)
    reps = sorted((u for u in users_by_name(conn).values() if u.role is Role.REP),
                  key=lambda u: u.name)  # fmt: skip
    rows = []
    for rep in reps:
        head = queue_head(conn, rep.id, now, today, per_rep, RULES)
        complete = set(
            conn.execute(
                select(accounts.c.id).where(
                    accounts.c.id.in_([e.account_id for e in head]), dossier_complete_sql()
                )
            ).scalars()
        )
        rows += [
            (rep.name, place, entry.account, entry.tier or "", entry.stage.value)
            for place, entry in enumerate(head, 1)
            if entry.account_id not in complete
        ]
    columns = [TableColumn(label) for label in ("Rep", "Place in queue", "Account", "Tier",
                                                 "Stage")]  # fmt: skip
    return TableData("Dossiers to write", columns, rows, len(rows))


@dataclass
class PanelData:
    """What one panel shows, read for ``scope``: its figures, its chart, and the sections
    whose tables a figure's rows may name."""

    scope: Scope
    figures: list[Figure] = field(default_factory=list)
    chart: Chart | None = None
    sections: list[Section] = field(default_factory=list)
    table: TableData | None = None


def first_chart(sections: Sequence[Section], word: str = "") -> Chart | None:
    """The first chart whose title has ``word`` in it (the first chart there is when no word
    is given): never another chart in its place."""
    charts = [chart for section in sections for chart in section.charts]
    found = [chart for chart in charts if word.casefold() in chart.title.casefold()]
    return found[0] if found else None


#: A read gives panels by their key, read on the workspace (each read opens its own
#: connections) for the time and the user.
Read = Callable[[Workspace, datetime, User], dict[str, PanelData]]


def _panel_scope(conn: Connection, now: datetime, user: User, this_month: bool = False) -> Scope:
    rep = user.name if user.role is Role.REP else None
    return dashboard_scope(conn, now, this_month=this_month, rep=rep)


def _on_a_connection(read: Callable[[Connection, datetime, User], dict[str, PanelData]]) -> Read:
    """``read``, which needs one connection, read on one of its own."""

    @functools.wraps(read)
    def on_its_own(workspace: Workspace, now: datetime, user: User) -> dict[str, PanelData]:
        with workspace.read() as conn:
            return read(conn, now, user)

    return on_its_own


@_on_a_connection
def goal_panel(conn: Connection, now: datetime, user: User) -> dict[str, PanelData]:
    scope = _panel_scope(conn, now, user)
    sections = goal_progress.goal_sections(conn, scope)
    figures = goal_progress.summary_figures(sections)
    return {"goal": PanelData(scope, figures, first_chart(sections), sections)}


def agreement_panels(this_month: bool) -> Read:
    """Both sides of the agreement and its trend, read on a connection for each core that
    all read one snapshot: the hand-offs, most of what they wait for at a million accounts,
    are counted in parts side by side on them."""

    def read(workspace: Workspace, now: datetime, user: User) -> dict[str, PanelData]:
        with workspace.read_together(CORES) as (conn, *helpers):
            scope = _panel_scope(conn, now, user, this_month)
            sections = sla_compliance.sla_sections(conn, scope, PANEL_ROWS, helpers)
            marketing, sales = sla_compliance.side_figures(sections)
            return {
                "marketing": PanelData(scope, marketing, None, sections),
                "sales": PanelData(scope, sales, None, sections),
                "trend": PanelData(scope, [], first_chart(sections), sections),
            }

    return read


@_on_a_connection
def funnel_panel(conn: Connection, now: datetime, user: User) -> dict[str, PanelData]:
    """The funnel's bars, and nothing else of the closed loop: the counts by segment, the
    conversions and the days in each stage are the closed loop window's and the reports'."""
    scope = _panel_scope(conn, now, user)
    reached = closed_loop.reached(conn, scope)
    chart = closed_loop.funnel_chart(reached) if any(reached.values()) else None
    return {"funnel": PanelData(scope, [], chart)}


@_on_a_connection
def quality_panel(conn: Connection, now: datetime, user: User) -> dict[str, PanelData]:
    """This month's lead quality as the closed loop has it: its figures, and its chart, or
    its first table (by tier) when it has none. Only lead quality is read."""
    scope = _panel_scope(conn, now, user, this_month=True)
    quality = closed_loop.lead_quality_section(conn, scope)
    chart = first_chart([quality])
    table = quality.tables[0] if chart is None and quality.tables else None
    return {"quality": PanelData(scope, quality.figures, chart, [quality], table)}


@_on_a_connection
def dossier_panel(conn: Connection, now: datetime, user: User) -> dict[str, PanelData]:
    table = dossiers_to_write(conn, now)
    table.rows = list(table.rows)  # read here, in the read's transaction
    return {"dossiers": PanelData(_panel_scope(conn, now, user, True), table=table)}


#: The raw sheets a figure's ``rows`` may name, read for the figure's scope.
RAW_ROWS: dict[str, Callable[[Connection, Scope], TableData]] = {
    "hand-offs": lambda conn, scope: sla_compliance.handoff_rows(conn, scope),
    "interactions": lambda conn, scope: closed_loop.interaction_rows(conn, scope),
    "stage changes": lambda conn, scope: closed_loop.stage_change_rows(conn, scope),
}
