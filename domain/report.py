"""A report as plain data: what the goal, SLA, closed-loop, meeting and plan reports say,
before it is a PDF, a workbook or a dashboard.

Storage's read models build :class:`Section` s from SQL aggregates; ``reports/`` turns a
:class:`Report` into a PDF (ReportLab) and a workbook (openpyxl), the dashboard shows the
same figures. One figure, one value: the window, the PDF and the workbook print what the
section holds, never a number worked out again.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from domain.agreement import Standing
from domain.calendar import WorkCalendar
from domain.errors import NotFound, ValidationError
from domain.periods import Month, Period
from domain.tables import TableData
from domain.users import Role, User


class ReportKind(enum.StrEnum):
    GOAL = "goal"
    SLA = "sla"
    CLOSED_LOOP = "closed-loop"
    MEETING = "meeting"
    PLAN = "plan"

    @property
    def heading(self) -> str:
        return _TITLES[self]

    @property
    def in_sentence(self) -> str:
        """The report named inside a sentence: "the goal report", "the plan"."""
        name = self.heading.lower()
        return name if name.startswith("the ") else f"the {name}"


_TITLES = {
    ReportKind.GOAL: "Goal report",
    ReportKind.SLA: "Service agreement report",
    ReportKind.CLOSED_LOOP: "Closed-loop report",
    ReportKind.MEETING: "Sales and marketing meeting",
    ReportKind.PLAN: "The plan",
}


@dataclass(frozen=True)
class Scope:
    """What a report or the dashboard is about: whole months, counted on the workspace
    calendar, as of ``now``; one rep's figures only when ``rep`` is given."""

    period: Period
    calendar: WorkCalendar
    now: datetime
    rep: str | None = None


#: How many months a report covers when neither a period nor a goal says.
DEFAULT_MONTHS = 6


def default_period(goal_period: Period | None, today: date) -> Period:
    """The goal's period when a goal is set, else the last six whole months before
    ``today``'s month."""
    if goal_period is not None:
        return goal_period
    return Period.months_from(Month.of(today).plus(-DEFAULT_MONTHS), DEFAULT_MONTHS)


def report_rep(name: str, people: Mapping[str, User]) -> User:
    """The rep a report is narrowed to: NotFound for a name nobody has, ValidationError
    for someone who is not a rep."""
    person = people.get(name)
    if person is None:
        raise NotFound(f"There is no user called '{name}'.")
    if person.role is not Role.REP:
        raise ValidationError(
            {"rep": f"{name} is {person.role}, not a rep: only a rep's figures can be reported"}
        )
    return person


class Unit(enum.StrEnum):
    COUNT = "count"
    AMOUNT = "amount"
    #: A share 0-1, shown as a percentage.
    SHARE = "share"
    DAYS = "days"
    #: A lead-quality rating, 1-5.
    RATING = "rating"


class Trend(enum.StrEnum):
    UP = "up"
    DOWN = "down"
    SAME = "same"


def shown(value: float | None, unit: Unit) -> str:
    """A figure's value as every report and the dashboard print it: ``1,234``, ``37%``,
    ``2.5 days``, ``3.8 of 5``; "no data" when the period has none."""
    if value is None:
        return "no data"
    if unit is Unit.SHARE:
        return f"{value:.0%}"
    if unit is Unit.DAYS:
        return f"{value:,.1f} days"
    if unit is Unit.RATING:
        return f"{value:.1f} of 5"
    return f"{value:,.0f}"


def trend(now: float | None, before: float | None) -> Trend | None:
    """Up, down or the same against the previous period; None when either has no data."""
    if now is None or before is None:
        return None
    return Trend.UP if now > before else Trend.DOWN if now < before else Trend.SAME


@dataclass(frozen=True)
class Figure:
    """One number a reader looks for: ``value`` is None when the period has no data (the
    report says so instead of printing 0 % or NaN); ``basis`` says what it is made of
    (``37 of 148``); ``rows`` names the raw table a reader traces it to."""

    label: str
    value: float | None
    unit: Unit = Unit.COUNT
    target: float | None = None
    standing: Standing | None = None
    trend: Trend | None = None
    basis: str = ""
    rows: str = ""
    #: The figure is a shortfall (the gap to a target): below zero, it is ahead by as much.
    shortfall: bool = False


#: What a shortfall below zero reads as, before the amount it goes beyond the target by.
AHEAD = "ahead by"


def shown_value(figure: Figure) -> str:
    """A figure's value as the reports, the dashboard, the goal's window and the command
    line print it: :func:`shown`, and a shortfall below zero as ``ahead by 466,214``."""
    if figure.shortfall and figure.value is not None and figure.value < 0:
        return f"{AHEAD} {shown(-figure.value, figure.unit)}"
    return shown(figure.value, figure.unit)


class ChartKind(enum.StrEnum):
    BAR = "bar"
    STACKED_BAR = "stacked bar"
    LINE = "line"


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class Chart:
    """A chart over ``categories`` (months, weeks, tiers, stages …): one value per
    category in each series. A LINE chart's series named like a target (the pace, the
    agreed number) are drawn dashed."""

    title: str
    kind: ChartKind
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    unit: Unit = Unit.COUNT
    #: Names of series drawn as a reference (pace, agreed) rather than as the data.
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class Quote:
    """What a rep learned, as the digest prints it."""

    text: str
    rep: str
    account: str
    at: date
    group: str = ""


@dataclass
class Section:
    """One part of a report: a page (or more) of the PDF, a sheet (or more) of the
    workbook. ``notes`` are sentences printed as they are (e.g. "No hand-offs in this
    period."); ``lines`` asks for that many ruled lines to write on (the meeting's
    decisions)."""

    title: str
    figures: list[Figure] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[TableData] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    lines: int = 0
    #: Whether the section starts a page of the PDF (the meeting's summary keeps its three
    #: parts on one page).
    new_page: bool = True


#: The most rows a workbook's raw sheet holds (the first, in the read model's order): a
#: workbook of millions of rows takes minutes to write and more than a sheet holds
#: (1,048,576 rows). A report reads one more, to tell whether there were more.
RAW_ROWS = 20_000


@dataclass
class Report:
    kind: ReportKind
    workspace: str
    period: Period | None
    made_at: datetime
    #: The people the cover names: the goal's owners, or those who signed the plan.
    people: tuple[str, ...] = ()
    sections: list[Section] = field(default_factory=list)
    #: The raw rows behind the figures (hand-offs, interactions, stage changes), written
    #: as sheets of their own in the workbook (streamed), not printed in the PDF.
    raw: list[TableData] = field(default_factory=list)
    #: Whose figures when a report is for one rep.
    rep: str | None = None

    @property
    def title(self) -> str:
        return self.kind.heading
