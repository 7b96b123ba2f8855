"""Which backups of a workspace to keep: the rotation policy, without a disk.

A workspace file is backed up once a day while Accord runs. Of those rotating backups,
the newest of each of the last days, weeks and months are kept, and always the newest
one; the others are deleted. Backups made for a reason (before an upgrade, before a
restore) are not rotated: they are kept until someone deletes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Kept(StrEnum):
    """Why a rotating backup is kept."""

    NEWEST = "newest"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


@dataclass(frozen=True)
class Rotation:
    """How many days, weeks and months keep their newest backup, counting the current one."""

    days: int = 7
    weeks: int = 5
    months: int = 12
    #: A new backup is due when the newest is this old.
    every: timedelta = timedelta(days=1)


ROTATION = Rotation()


def _months(moment: datetime) -> int:
    return moment.year * 12 + moment.month - 1


def _weeks(moment: datetime) -> int:
    return (moment.toordinal() - 1) // 7  # day 1 (0001-01-01) was a Monday: weeks start on Mondays


def kept_backups(
    made: Iterable[datetime], now: datetime, rotation: Rotation = ROTATION
) -> dict[datetime, set[Kept]]:
    """The backups to keep, by when they were made, each with why; the rest go.

    Args:
        made: when each rotating backup was made.
        now: the time to count days, weeks and months back from (same zone as ``made``).
        rotation: how far back each kind reaches.
    """
    times = sorted(set(made), reverse=True)
    kept: dict[datetime, set[Kept]] = {}
    if not times:
        return kept
    kept[times[0]] = {Kept.NEWEST}
    periods: tuple[tuple[Kept, Callable[[datetime], int], int, int], ...] = (
        (Kept.DAILY, datetime.toordinal, now.toordinal(), rotation.days),
        (Kept.WEEKLY, _weeks, _weeks(now), rotation.weeks),
        (Kept.MONTHLY, _months, _months(now), rotation.months),
    )
    for why, period, current, count in periods:
        seen: set[int] = set()
        for moment in times:  # newest first: the first of each period is its newest
            number = period(moment)
            if number not in seen and current - count < number <= current:
                seen.add(number)
                kept.setdefault(moment, set()).add(why)
    return kept


def backup_due(made: Iterable[datetime], now: datetime, rotation: Rotation = ROTATION) -> bool:
    """True when there is no rotating backup yet, or the newest is ``rotation.every`` old."""
    newest = max(made, default=None)
    return newest is None or now - newest >= rotation.every


def described(reason: str | None, kept: set[Kept]) -> str:
    """What a backup is, in a list: what it was made before, or why rotation keeps it."""
    if reason:
        return reason.replace("-", " ")  # "before upgrade from 0004", "before restore"
    return ", ".join(why.value for why in Kept if why in kept)


def shown_size(size: int) -> str:
    """A file's size for people: ``3.4 MB``."""
    return f"{size / 1_000_000:,.1f} MB"
