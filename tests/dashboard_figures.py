"""Hand-made figures and sections standing in for the report read models (goal progress,
SLA compliance, closed loop), so that the dashboard is tried on what they give whatever
their SQL: ``use_figures(monkeypatch)`` puts them in place and records the scopes asked."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from domain.agreement import Standing
from domain.closed_loop import FUNNEL
from domain.report import Chart, ChartKind, Figure, Scope, Section, Series, Trend, Unit
from domain.tables import ColumnKind, TableColumn, TableData
from domain.targets import Stage
from storage.read_models import closed_loop, goal_progress, sla_compliance

WEEKS = tuple(f"W{n}" for n in range(1, 13))
HANDED_OFF = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def goal_figures(conn: Any, scope: Scope) -> list[Figure]:
    return [
        Figure("Actual", 212_000, Unit.AMOUNT, 400_000, None, Trend.UP, "from 11 wins",
               "Interactions"),
        Figure("Pace", 266_000, Unit.AMOUNT, basis="where the pace says it should be today"),
        Figure("Forecast", 371_000, Unit.AMOUNT, 400_000, Standing.CLOSE,
               basis="run rate plus open pipeline at a 25% win rate"),
        Figure("Gap", 188_000, Unit.AMOUNT, basis="400,000 less 212,000"),
    ]  # fmt: skip


def goal_sections(conn: Any, scope: Scope) -> list[Section]:
    actual = tuple(float(v) for v in (0, 8, 20, 31, 52, 70, 96, 120, 151, 170, 195, 212))
    pace = tuple(round(400 / 26 * (n + 1)) * 1.0 for n in range(12))
    series = (Series("Actual", actual), Series("Pace", pace))
    chart = Chart("New revenue against the pace (thousands)", ChartKind.LINE, WEEKS, series,
                  Unit.AMOUNT, ("Pace",))  # fmt: skip
    return [Section("Goal", figures=goal_figures(conn, scope), charts=[chart])]


def sla_figures(conn: Any, scope: Scope) -> tuple[list[Figure], list[Figure]]:
    marketing = [
        Figure(
            "Hand-offs",
            58,
            Unit.COUNT,
            67,
            Standing.CLOSE,
            Trend.UP,
            "58 against 67 agreed",
            "Hand-offs",
        ),
        Figure(
            "Average quality",
            3.4,
            Unit.RATING,
            3.0,
            Standing.MET,
            Trend.SAME,
            "from 41 ratings",
            "Field feedback",
        ),
        Figure(
            "Tier A share",
            0.27,
            Unit.SHARE,
            0.3,
            Standing.CLOSE,
            Trend.DOWN,
            "16 of 58",
            "Hand-offs",
        ),
        Figure("Dossiers complete for the queue", None, Unit.SHARE, basis="no queue yet"),
    ]
    sales = [
        Figure("First touch on time", 0.84, Unit.SHARE, 0.9, Standing.CLOSE, Trend.UP,
               "49 of 58", "Black hole"),
        Figure("Attempts met", 0.71, Unit.SHARE, 0.9, Standing.MISSED, Trend.DOWN, "41 of 58",
               "Interactions"),
        Figure("Follow-ups kept", 0.93, Unit.SHARE, 0.9, Standing.MET, None, "112 of 120",
               "Interactions"),
        Figure("Feedback given", 0.62, Unit.SHARE, 0.9, Standing.MISSED, None, "36 of 58",
               "Stage changes"),
    ]  # fmt: skip
    return marketing, sales


BLACK_HOLE = TableData(
    "Black hole",
    [TableColumn("Account"), TableColumn("Rep"), TableColumn("Handed off", ColumnKind.DATETIME),
     TableColumn("Business days overdue", ColumnKind.INTEGER)],
    [("=HYPERLINK(\"x\") <b>Acme</b>", "Rita Rep", HANDED_OFF, 4),
     ("Globex", "Rita Rep", HANDED_OFF, 2)],
    2,
)  # fmt: skip


def sla_sections(
    conn: Any, scope: Scope, first: int | None = None, helpers: Any = ()
) -> list[Section]:
    months = tuple(m.label[:3] for m in scope.period.months)
    handed = tuple(float(40 + 4 * n) for n in range(len(months)))
    chart = Chart("Hand-offs per month against the agreement", ChartKind.BAR, months,
                  (Series("Hand-offs", handed), Series("Agreed", (67.0,) * len(months))),
                  references=("Agreed",))  # fmt: skip
    marketing, sales = sla_figures(conn, scope)
    return [
        Section("Marketing's side", figures=marketing),
        Section("Sales' side", figures=sales, charts=[chart], tables=[BLACK_HOLE]),
    ]


def handoff_rows(conn: Any, scope: Scope) -> TableData:
    rows = ((f"Account {n}", "Rita Rep", "A", HANDED_OFF) for n in range(12_000))
    columns = [TableColumn("Account"), TableColumn("Rep"), TableColumn("Tier"),
               TableColumn("Handed off", ColumnKind.DATETIME)]  # fmt: skip
    return TableData("Hand-offs", columns, rows, 12_000)


def reached(conn: Any, scope: Scope) -> dict[Stage, int]:
    return dict(zip(FUNNEL, (900, 400, 310, 160, 80, 20, 35), strict=True))


def lead_quality_section(conn: Any, scope: Scope) -> Section:
    quality = Chart("Lead quality by tier", ChartKind.BAR, ("A", "B", "C"),
                    (Series("Average rating", (3.9, 3.1, 2.2)),), Unit.RATING)  # fmt: skip
    return Section("Lead quality", charts=[quality])


def interaction_rows(conn: Any, scope: Scope) -> TableData:
    rows = [("Acme", "Rita Rep", "call", HANDED_OFF)]
    columns = [TableColumn(c) for c in ("Account", "Rep", "Channel")]
    columns.append(TableColumn("At", ColumnKind.DATETIME))
    return TableData("Interactions", columns, rows, 1)


def stage_change_rows(conn: Any, scope: Scope) -> TableData:
    return TableData("Stage changes", [TableColumn("Account")], [("Acme",)], 1)


def use_figures(monkeypatch: pytest.MonkeyPatch) -> list[Scope]:
    """Put the hand-made read models in place; the scopes they are asked for, in order."""
    asked: list[Scope] = []

    def recorded(function: Any) -> Any:
        def read(conn: Any, scope: Scope, *more: Any) -> Any:
            asked.append(scope)
            return function(conn, scope, *more)

        return read

    for module, names in (
        (goal_progress, ("goal_figures", "goal_sections")),
        (sla_compliance, ("sla_sections", "handoff_rows")),
        (
            closed_loop,
            ("reached", "lead_quality_section", "interaction_rows", "stage_change_rows"),
        ),
    ):
        for name in names:
            monkeypatch.setattr(module, name, recorded(globals()[name]))
    return asked
