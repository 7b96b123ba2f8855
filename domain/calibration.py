"""ICP calibration: how each criterion of the active ICP did against the outcomes, and the
weight the outcomes suggest for it.

Storage only counts, per criterion, the accounts closed in the period (won or lost) that
meet it and that do not, and how many of each were won. The rule that turns the counts into
a suggested weight is written here, once:

- A side with fewer than :data:`MIN_CLOSED` closed accounts says too little: the weight is
  kept, and the reason says so.
- Otherwise each side's win rate is smoothed (one win and one loss added, so that 3 of 3
  is not read as a certainty) and the weight is multiplied by the ratio of the met side's
  rate to the other side's, rounded, and kept between 1 and 100.
- A ratio within :data:`KEEP_WITHIN` of 1 keeps the weight: a small difference is noise.
- A must-have is not re-weighted: the accounts that fail it are not on the list, so the
  outcomes cannot judge it.

Nothing is applied: the suggestion becomes a new ICP draft only when a person opens it in
the ICP editor and saves it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from domain.icp import Criterion, IdealCustomerProfile
from domain.values import counted

#: The fewest closed accounts a side needs before its win rate moves a weight.
MIN_CLOSED = 10
#: Ratios of win rates between 1 / KEEP_WITHIN and KEEP_WITHIN keep the weight.
KEEP_WITHIN = 1.2


@dataclass(frozen=True)
class CriterionOutcomes:
    """The accounts closed in the period, split by whether they meet ``criterion``."""

    criterion: Criterion
    met_won: int
    met_closed: int
    unmet_won: int
    unmet_closed: int

    @property
    def met_rate(self) -> float | None:
        return self.met_won / self.met_closed if self.met_closed else None

    @property
    def unmet_rate(self) -> float | None:
        return self.unmet_won / self.unmet_closed if self.unmet_closed else None


@dataclass(frozen=True)
class Suggestion:
    outcomes: CriterionOutcomes
    #: The weight the outcomes suggest (the present one when they say too little).
    weight: int
    #: Why, in a sentence a person reads.
    reason: str

    @property
    def changed(self) -> bool:
        criterion = self.outcomes.criterion
        return not criterion.must_have and self.weight != criterion.weight


def _smoothed(won: int, closed: int) -> float:
    return (won + 1) / (closed + 2)


def suggest(outcomes: CriterionOutcomes) -> Suggestion:
    """The weight that ``outcomes`` suggest for their criterion, with the reason."""
    criterion = outcomes.criterion
    if criterion.must_have:
        return Suggestion(outcomes, criterion.weight, "A must-have is not re-weighted.")
    fewest = min(outcomes.met_closed, outcomes.unmet_closed)
    if fewest < MIN_CLOSED:
        return Suggestion(
            outcomes,
            criterion.weight,
            f"Kept: one side has only {counted(fewest, 'closed account')}, "
            f"fewer than the {MIN_CLOSED} a win rate needs.",
        )
    ratio = _smoothed(outcomes.met_won, outcomes.met_closed) / _smoothed(
        outcomes.unmet_won, outcomes.unmet_closed
    )
    if 1 / KEEP_WITHIN <= ratio <= KEEP_WITHIN:
        return Suggestion(outcomes, criterion.weight, "Kept: both sides win about as often.")
    weight = max(1, min(100, round(criterion.weight * ratio)))
    better = "more" if ratio > 1 else "less"
    return Suggestion(
        outcomes,
        weight,
        f"Accounts that meet it win {better} often ({ratio:.1f} times the others' rate).",
    )


def calibrate(outcomes: Sequence[CriterionOutcomes]) -> list[Suggestion]:
    """A suggestion for each criterion, in the ICP's order."""
    return [suggest(o) for o in outcomes]


def reweighted(
    icp: IdealCustomerProfile, suggestions: Sequence[Suggestion]
) -> IdealCustomerProfile:
    """``icp`` with each criterion's suggested weight: the draft the ICP editor opens. The
    suggestions are matched to the criteria by position, as :func:`calibrate` gives them."""
    if len(suggestions) != len(icp.criteria):
        raise ValueError("one suggestion per criterion")
    criteria = tuple(
        replace(c, weight=s.weight) if not c.must_have else c
        for c, s in zip(icp.criteria, suggestions, strict=True)
    )
    return replace(icp, criteria=criteria)
