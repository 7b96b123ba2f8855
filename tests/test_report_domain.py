"""A report's figures as every report and the dashboard show them, and its default period."""

from __future__ import annotations

from datetime import date

import pytest

from domain import palette
from domain.agreement import Standing
from domain.periods import Period
from domain.report import Unit, default_period, shown


@pytest.mark.parametrize(
    ("value", "unit", "said"),
    [
        (None, Unit.SHARE, "no data"),
        (0.0, Unit.SHARE, "0%"),
        (0.3749, Unit.SHARE, "37%"),
        (400_000, Unit.AMOUNT, "400,000"),
        (1234, Unit.COUNT, "1,234"),
        (1.25, Unit.DAYS, "1.2 days"),
        (3.84, Unit.RATING, "3.8 of 5"),
    ],
)
def test_a_figure_reads_the_same_everywhere(value, unit, said):
    assert shown(value, unit) == said


def test_the_default_period_is_the_goals_else_the_last_six_whole_months():
    goal = Period.parse("2026-03..2026-08")
    assert default_period(goal, date(2026, 5, 20)) == goal
    assert default_period(None, date(2026, 5, 20)) == Period.parse("2025-11..2026-04")
    assert default_period(None, date(2026, 1, 1)) == Period.parse("2025-07..2025-12")


def test_the_palette_tells_standings_apart_without_colour():
    marks = [palette.STANDING[s][1] for s in Standing]
    assert len(set(marks)) == len(marks)
    assert len(set(palette.DASHES)) == len(palette.DASHES)
    assert palette.series_colour(len(palette.SERIES)) == palette.SERIES[0]
