"""Months and periods of months: what the goal, the agreement and the reports count over.

A period is whole months, first to last, read in the workspace's time zone (a hand-off at
23:30 on 31 January in Vienna belongs to January there, whatever UTC says). Typed as
``2026-05`` for one month or ``2026-01..2026-06`` for several.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from domain.errors import ValidationError

_MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str, key: str = "month") -> Month:
        """``2026-05`` as a month; ValidationError naming ``key`` otherwise."""
        found = _MONTH.fullmatch(text.strip())
        if not found or not 1 <= int(found.group(2)) <= 12:
            raise ValidationError({key: f"'{text}' is not a month written as YYYY-MM"})
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    def plus(self, months: int) -> Month:
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def start(self, zone: ZoneInfo) -> datetime:
        """The month's first moment in ``zone``, as a UTC time."""
        return datetime(self.year, self.month, 1, tzinfo=zone).astimezone(UTC)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        """``May 2026``, as a page heading says it."""
        return self.first_day.strftime("%B %Y")


@dataclass(frozen=True)
class Period:
    """Whole months from ``first`` to ``last``, both included."""

    first: Month
    last: Month

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValidationError(
                {"period": f"the period ends ({self.last}) before it starts ({self.first})"}
            )

    @classmethod
    def parse(cls, text: str) -> Period:
        """``2026-01..2026-06`` or ``2026-05``; ValidationError for anything else, or an
        empty period (one that ends before it starts)."""
        first, dots, last = text.partition("..")
        if not dots:
            month = Month.parse(first, "period")
            return cls(month, month)
        return cls(Month.parse(first, "period"), Month.parse(last, "period"))

    @classmethod
    def months_from(cls, first: Month, count: int) -> Period:
        return cls(first, first.plus(count - 1))

    @property
    def months(self) -> list[Month]:
        count = (self.last.year - self.first.year) * 12 + self.last.month - self.first.month
        return [self.first.plus(i) for i in range(count + 1)]

    def start(self, zone: ZoneInfo) -> datetime:
        """The period's first moment, as UTC."""
        return self.first.start(zone)

    def end(self, zone: ZoneInfo) -> datetime:
        """The first moment after the period, as UTC (the bound is exclusive)."""
        return self.last.plus(1).start(zone)

    def previous(self) -> Period:
        """The period of the same length just before this one (to say up or down)."""
        length = len(self.months)
        return Period(self.first.plus(-length), self.first.plus(-1))

    def __str__(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}..{self.last}"

    @property
    def label(self) -> str:
        """``May 2026`` or ``January 2026 – June 2026``."""
        if self.first == self.last:
            return self.first.label
        return f"{self.first.label} – {self.last.label}"
