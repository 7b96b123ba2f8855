"""The closed loop's rules: which stages the funnel counts, what "reached a stage" means,
and the median of a count of days.

The funnel goes targeted → sales-ready → contacted → meeting → opportunity → won; lost ends
it from any stage. An account reaches a stage when the stage history moves it there *or to
any later stage of the line*: an account won straight from a meeting counts as having
reached the opportunity too. Lost implies nothing: an account that is not a fit after the
first call reached contacted, not the opportunity. A stage is reached in a period when its
first reaching falls in the period; conversion from one stage to the next is the share of
the accounts that reached the first in the period that reached the next by the period's
end, so it never passes 100 %.
"""

from __future__ import annotations

from collections.abc import Iterable

from domain.targets import Stage

#: The funnel's line, in order; lost is off the line.
LINE: tuple[Stage, ...] = (
    Stage.TARGETED,
    Stage.SALES_READY,
    Stage.CONTACTED,
    Stage.MEETING,
    Stage.OPPORTUNITY,
    Stage.WON,
)
#: The stages the funnel shows, in the order a reader reads them.
FUNNEL: tuple[Stage, ...] = (*LINE, Stage.LOST)
#: The stages an account stays in for some time (won and lost end the funnel).
OPEN: tuple[Stage, ...] = LINE[:-1]


def reaching(stage: Stage) -> tuple[Stage, ...]:
    """The stages a move to which means that ``stage`` was reached."""
    if stage is Stage.LOST:
        return (Stage.LOST,)
    return LINE[LINE.index(stage) :]


def leaving(stage: Stage) -> tuple[Stage, ...]:
    """The stages a move to which means that the account left ``stage`` (an open stage):
    a later stage of the line, or lost."""
    return (*LINE[LINE.index(stage) + 1 :], Stage.LOST)


def next_stage(stage: Stage) -> Stage | None:
    """The stage the conversion from ``stage`` goes to (None for won and lost)."""
    if stage not in OPEN:
        return None
    return LINE[LINE.index(stage) + 1]


def median(counts: Iterable[tuple[int, int]]) -> float | None:
    """The median of values given as (value, how many times) pairs; None when there are
    none. With an even number of values, the mean of the two in the middle."""
    ordered = sorted((value, number) for value, number in counts if number > 0)
    total = sum(number for _, number in ordered)
    if total == 0:
        return None
    lower, upper = (total - 1) // 2, total // 2
    found: list[int] = []
    seen = 0
    for value, number in ordered:
        while len(found) < 2 and seen + number > (lower, upper)[len(found)]:
            found.append(value)
        seen += number
    return (found[0] + found[1]) / 2


def share(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` as a share 0-1; None when there is nothing to share."""
    return part / whole if whole else None
