"""The workspace calendar: its time zone, which weekdays are the weekend, and the holidays
the owner enters. Business days are the days that are neither.

The service agreement's first-touch deadline is counted on it: a hand-off must be touched by
the end of the N-th business day after the day it happened (a hand-off on a Saturday, or on
a Monday at 9:00, both have Monday as day 0; with N = 2 the deadline is the end of
Wednesday, in the workspace's time zone).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from domain.errors import ValidationError
from domain.users import Action, User
from domain.values import counted, in_words

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_KEYS = {"time_zone", "weekend", "holidays"}


@dataclass(frozen=True)
class Holiday:
    day: date
    name: str = ""


@dataclass(frozen=True)
class WorkCalendar:
    time_zone: str = "UTC"
    #: Weekday numbers, Monday 0 … Sunday 6.
    weekend: frozenset[int] = frozenset({5, 6})
    holidays: tuple[Holiday, ...] = field(default=())

    def __post_init__(self) -> None:
        problems = {}
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            problems["time_zone"] = f"'{self.time_zone}' is not a time zone Accord knows"
        if not self.weekend <= set(range(7)):
            problems["weekend"] = "weekend days are numbered 0 (Monday) to 6 (Sunday)"
        elif len(self.weekend) == 7:
            problems["weekend"] = "a week needs at least one business day"
        if problems:
            raise ValidationError(problems)

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @cached_property
    def _holiday_days(self) -> frozenset[date]:
        return frozenset(h.day for h in self.holidays)

    def local_day(self, moment: datetime) -> date:
        """The day ``moment`` (an aware time) falls on in the workspace's time zone."""
        return moment.astimezone(self.zone).date()

    def day_start(self, day: date) -> datetime:
        """The first moment of ``day`` in the workspace's time zone, as UTC."""
        return datetime.combine(day, time(), self.zone).astimezone(UTC)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() not in self.weekend and day not in self._holiday_days

    def business_day_after(self, day: date, count: int) -> date:
        """The ``count``-th business day after ``day`` (``day`` itself when 0 and it is one;
        the next business day when 0 and it is not)."""
        while not self.is_business_day(day):
            day += timedelta(days=1)
        while count:
            day += timedelta(days=1)
            if self.is_business_day(day):
                count -= 1
        return day

    def deadline(self, moment: datetime, business_days: int) -> datetime:
        """When something that happened at ``moment`` must be answered: the end of the
        ``business_days``-th business day after its day (exclusive bound, as UTC)."""
        last = self.business_day_after(self.local_day(moment), business_days)
        return self.day_start(last + timedelta(days=1))

    def business_days_between(self, start: datetime, end: datetime) -> int:
        """The business days from ``start``'s day to ``end``'s day, both counted (0 when
        ``end`` is not after ``start``): how many business days a deadline (the first moment
        of a day) is overdue, the day in progress included."""
        if end <= start:
            return 0
        day, last, count = self.local_day(start), self.local_day(end), 0
        while day <= last:
            count += self.is_business_day(day)
            day += timedelta(days=1)
        return count

    def with_holiday(self, holiday: Holiday) -> WorkCalendar:
        """The calendar with one more holiday; ValidationError if its day is one already."""
        if holiday.day in self._holiday_days:
            raise ValidationError({"holidays": f"{holiday.day.isoformat()} is a holiday already"})
        holidays = sorted((*self.holidays, holiday), key=lambda h: h.day)
        return replace(self, holidays=tuple(holidays))

    def without_holiday(self, day: date) -> WorkCalendar:
        """The calendar without the holiday on ``day``; ValidationError if there is none."""
        if day not in self._holiday_days:
            raise ValidationError({"holidays": f"{day.isoformat()} is not a holiday"})
        return replace(self, holidays=tuple(h for h in self.holidays if h.day != day))

    @property
    def summary(self) -> str:
        """``Europe/Vienna, weekend Saturday and Sunday, 2 holidays``."""
        weekend = in_words([WEEKDAYS[d] for d in sorted(self.weekend)]) or "none"
        return f"{self.time_zone}, weekend {weekend}, {counted(len(self.holidays), 'holiday')}"

    def to_document(self) -> dict[str, Any]:
        return {
            "time_zone": self.time_zone,
            "weekend": sorted(self.weekend),
            "holidays": [{"day": h.day.isoformat(), "name": h.name} for h in self.holidays],
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> WorkCalendar:
        """The calendar a document describes; ValidationError naming the key that is wrong."""
        if not isinstance(document, Mapping):
            raise ValidationError({"calendar": "a calendar is a JSON object"})
        unknown = sorted(set(document) - _KEYS)
        if unknown:
            raise ValidationError({unknown[0]: "is not a key of a calendar"})
        weekend = document.get("weekend", [5, 6])
        if not isinstance(weekend, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) for d in weekend
        ):
            raise ValidationError({"weekend": "a list of weekday numbers, 0 (Monday) to 6"})
        return cls(
            str(document.get("time_zone", "UTC")),
            frozenset(weekend),
            _holidays(document.get("holidays", [])),
        )


def _holidays(items: Any) -> tuple[Holiday, ...]:
    if not isinstance(items, list):
        raise ValidationError({"holidays": "a list of days"})
    holidays = []
    for number, item in enumerate(items, 1):
        if not isinstance(item, Mapping) or set(item) - {"day", "name"}:
            raise ValidationError({f"holidays[{number}]": "has a day and a name, nothing else"})
        try:
            day = date.fromisoformat(str(item.get("day")))
        except ValueError:
            raise ValidationError(
                {f"holidays[{number}].day": f"'{item.get('day')}' is not a date YYYY-MM-DD"}
            ) from None
        holidays.append(Holiday(day, str(item.get("name", ""))))
    return tuple(sorted(holidays, key=lambda h: h.day))


def weekdays_named(text: str) -> frozenset[int]:
    """``Saturday,Sunday`` (or ``sat, sun``) as weekday numbers; ValidationError naming a
    word that is no weekday."""
    days = set()
    for word in (w.strip() for w in text.split(",") if w.strip()):
        found = [n for n, name in enumerate(WEEKDAYS) if name.lower().startswith(word.lower())]
        if len(word) < 2 or len(found) != 1:
            raise ValidationError({"weekend": f"'{word}' is not a day of the week"})
        days.add(found[0])
    return frozenset(days)


def known_time_zones() -> list[str]:
    """The time zones a calendar can be in, sorted, for a chooser."""
    return sorted(available_timezones())


class CalendarStore(Protocol):
    def save_calendar(self, calendar: WorkCalendar, user: User) -> None: ...


def save_calendar(store: CalendarStore, user: User, calendar: WorkCalendar) -> None:
    """Set the workspace calendar (the owner's, like the agreement it serves)."""
    user.require(Action.EDIT_AGREEMENT)
    days = [h.day for h in calendar.holidays]
    if len(set(days)) != len(days):
        raise ValidationError({"holidays": "each day is entered once"})
    store.save_calendar(calendar, user)
