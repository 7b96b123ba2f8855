"""The shared goal: one metric, a target and a period that marketing and sales own together,
and the arithmetic from it to the service agreement (the reverse funnel).

What each metric counts (storage counts it in SQL, the reports show it):

- **new revenue**: the values of the won interactions in the period (a corrected entry
  counts as its correction);
- **won accounts**: accounts that moved to won in the period;
- **meetings**: accounts that reached the meeting stage in the period;
- **opportunities**: accounts that reached the opportunity stage in the period.

An account *reaches* a stage when it moves into it, or past it, from a stage before it (or
from lost, or from none): one call that books a meeting and opens an opportunity reaches
both. A move made by an interaction that was corrected since counts as the correction's
move instead; an account counts once, at the first time it reached the stage in the period.

Progress (:class:`Progress`) is read as of a moment: the pace is the target spread evenly
over the goal's period; the forecast is the run rate to date extended to the end, plus the
open pipeline weighted by the observed win rate; the gap is what the forecast falls short
of the target.

Only the owner sets the goal; every change is a new version, the old ones are kept.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from domain.errors import ValidationError
from domain.periods import Month, Period
from domain.targets import Stage
from domain.users import Action, Role, User

_KEYS = {"metric", "target", "start", "months", "owners"}
#: The longest goal period, in months: past two years a goal is a strategy, not a goal.
LONGEST = 24


class Metric(enum.StrEnum):
    NEW_REVENUE = "new-revenue"
    WON_ACCOUNTS = "won-accounts"
    MEETINGS = "meetings"
    OPPORTUNITIES = "opportunities"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def is_amount(self) -> bool:
        return self is Metric.NEW_REVENUE

    @property
    def stage(self) -> Stage | None:
        """The stage whose reaching the metric counts (None: new revenue adds up wins)."""
        return _STAGES.get(self)


#: The funnel in its order, won last.
FUNNEL = (Stage.TARGETED, Stage.SALES_READY, Stage.CONTACTED, Stage.MEETING, Stage.OPPORTUNITY,
          Stage.WON)  # fmt: skip
_STAGES = {
    Metric.WON_ACCOUNTS: Stage.WON,
    Metric.MEETINGS: Stage.MEETING,
    Metric.OPPORTUNITIES: Stage.OPPORTUNITY,
}


def reaching(stage: Stage) -> tuple[frozenset[Stage], frozenset[Stage | None]]:
    """The stages a move into which reaches ``stage`` (it and those past it), and the
    stages a move must start from to reach it (those before it, lost, or none)."""
    at = FUNNEL.index(stage)
    return frozenset(FUNNEL[at:]), frozenset((*FUNNEL[:at], Stage.LOST, None))


def reaches(stage: Stage, before: Stage | None, after: Stage) -> bool:
    """Whether a move from ``before`` to ``after`` reaches ``stage``."""
    into, starts = reaching(stage)
    return after in into and before in starts


_LABELS = {
    Metric.NEW_REVENUE: "New revenue",
    Metric.WON_ACCOUNTS: "Won accounts",
    Metric.MEETINGS: "Meetings",
    Metric.OPPORTUNITIES: "Opportunities",
}


def parse_metric(text: str) -> Metric:
    try:
        return Metric(text.strip().lower())
    except ValueError:
        choices = ", ".join(m.value for m in Metric)
        raise ValidationError({"metric": f"'{text}' is not one of {choices}"}) from None


@dataclass(frozen=True)
class Goal:
    metric: Metric
    #: Whole units of the metric: an amount of money for new revenue, a count otherwise.
    target: int
    start: date
    months: int = 6
    owners: tuple[str, ...] = ()

    @property
    def period(self) -> Period:
        """The goal's months; a goal starting mid-month counts that month whole."""
        return Period.months_from(Month.of(self.start), self.months)

    def checked(self) -> Goal:
        """The goal, or ValidationError naming each key that is wrong."""
        problems = {}
        if self.target <= 0:
            problems["target"] = "the target is a number above 0"
        if not 1 <= self.months <= LONGEST:
            problems["months"] = f"a goal runs 1 to {LONGEST} months"
        if not self.owners:
            problems["owners"] = "a goal has owners from marketing and from sales"
        elif len(set(self.owners)) != len(self.owners):
            problems["owners"] = "each owner is named once"
        if problems:
            raise ValidationError(problems)
        return self

    def to_document(self) -> dict[str, Any]:
        return {
            "metric": self.metric.value,
            "target": self.target,
            "start": self.start.isoformat(),
            "months": self.months,
            "owners": list(self.owners),
        }

    @classmethod
    def from_document(cls, document: Any) -> Goal:
        """The goal a JSON document describes; ValidationError naming the key that is
        wrong (an unknown key, a negative target, a start that is not a date …)."""
        if not isinstance(document, Mapping):
            raise ValidationError({"goal": "a goal is a JSON object"})
        unknown = sorted(set(document) - _KEYS)
        if unknown:
            raise ValidationError({unknown[0]: "is not a key of a goal"})
        missing = sorted(_KEYS - {"months"} - set(document))
        if missing:
            raise ValidationError({missing[0]: "is missing"})
        try:
            start = date.fromisoformat(str(document["start"]))
        except ValueError:
            raise ValidationError(
                {"start": f"'{document['start']}' is not a date YYYY-MM-DD"}
            ) from None
        owners = document["owners"]
        if not isinstance(owners, list) or not all(isinstance(o, str) for o in owners):
            raise ValidationError({"owners": "a list of people's names"})
        return cls(
            parse_metric(str(document["metric"])),
            _whole(document["target"], "target"),
            start,
            _whole(document.get("months", 6), "months"),
            tuple(o.strip() for o in owners),
        ).checked()


def _whole(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ValidationError({key: f"'{value}' is not a whole number"})
    return int(value)


@dataclass(frozen=True)
class GoalVersion:
    goal: Goal
    number: int
    set_by: str
    set_at: datetime


@dataclass(frozen=True)
class Progress:
    """Where the goal stands as of a moment: ``actual`` to date, ``elapsed`` the share of
    the goal's period gone by (0-1), and ``pipeline`` the open pipeline weighted by the
    observed win rate (None for a metric the pipeline does not add to: meetings and
    opportunities, or when there is no win rate yet)."""

    target: int
    actual: float
    elapsed: float
    pipeline: float | None = None

    @property
    def pace(self) -> float:
        """Where the actual should be by now, the target spread evenly over the period."""
        return self.target * self.elapsed

    @property
    def run_rate(self) -> float | None:
        """The actual to date extended to the end of the period (None before it starts)."""
        if self.elapsed >= 1:
            return self.actual
        return self.actual / self.elapsed if self.elapsed > 0 else None

    @property
    def forecast(self) -> float | None:
        """The run rate plus the weighted pipeline; the actual once the period is over."""
        run = self.run_rate
        if run is None or self.elapsed >= 1:
            return run
        return run + (self.pipeline or 0)

    @property
    def gap(self) -> float | None:
        """What the forecast falls short of the target (below 0: it goes beyond it)."""
        forecast = self.forecast
        return None if forecast is None else self.target - forecast


def elapsed(start: datetime, end: datetime, moment: datetime) -> float:
    """The share of ``start`` to ``end`` gone by at ``moment``, 0 before and 1 after."""
    return min(1.0, max(0.0, (moment - start) / (end - start)))


class GoalStore(Protocol):
    def roles(self) -> Mapping[str, Role]:
        """Every person of the workspace, by name, with their role."""
        ...

    def save_goal(self, goal: Goal, user: User) -> GoalVersion: ...


def set_goal(store: GoalStore, user: User, goal: Goal) -> GoalVersion:
    """Set the shared goal (a new version): the owner's alone. Its owners must be people
    of the workspace, at least one from marketing and one from sales (a rep)."""
    user.require(Action.SET_GOAL)
    goal.checked()
    roles = store.roles()
    strangers = [name for name in goal.owners if name not in roles]
    if strangers:
        raise ValidationError({"owners": f"'{strangers[0]}' is not a person of this workspace"})
    sides = {roles[name] for name in goal.owners}
    if Role.MARKETING not in sides or Role.REP not in sides:
        both = "a goal has owners from both teams: at least one marketing person and one rep"
        raise ValidationError({"owners": both})
    return store.save_goal(goal, user)


# The reverse funnel: from the goal to the agreement's numbers.


@dataclass(frozen=True)
class Rate:
    """A conversion rate with the counts behind it, or a rate entered by hand (where there
    is no history yet): a rate from 4 deals is not trusted like one from 400."""

    numerator: int = 0
    denominator: int = 0
    entered: float | None = None

    @property
    def value(self) -> float | None:
        if self.entered is not None:
            return self.entered
        return self.numerator / self.denominator if self.denominator else None

    @property
    def basis(self) -> str:
        """``37 of 148``, ``entered``, or ``no history``."""
        if self.entered is not None:
            return "entered"
        return f"{self.numerator:,} of {self.denominator:,}" if self.denominator else "no history"


@dataclass(frozen=True)
class Observed:
    """What the reverse funnel needs from history (or typed in)."""

    #: The total value of the won deals and how many there were.
    won_value: int
    wins: int
    opportunity_to_won: Rate
    meeting_to_opportunity: Rate
    handoff_to_meeting: Rate
    reps: int
    #: An average deal value typed in, where there are no wins yet.
    entered_deal: int | None = None

    @property
    def average_deal(self) -> int | None:
        if self.entered_deal is not None:
            return self.entered_deal
        return round(self.won_value / self.wins) if self.wins else None


@dataclass(frozen=True)
class Step:
    """One line of the arithmetic: what, the figure, and how it was worked out."""

    step: str
    figure: float
    how: str


@dataclass(frozen=True)
class ReverseFunnel:
    steps: tuple[Step, ...]
    handoffs_per_month: int
    handoffs_per_rep: int | None
    meetings_per_month: int

    def to_document(self) -> list[dict[str, Any]]:
        return [{"step": s.step, "figure": s.figure, "how": s.how} for s in self.steps]


class MissingRate(ValidationError):
    """The arithmetic needs a rate (or an average deal) that history does not give."""


def reverse_funnel(goal: Goal, observed: Observed) -> ReverseFunnel:
    """Work back from the goal's target to the hand-offs marketing must deliver a month
    and the meetings sales must hold, each step rounded up. Starts at the goal's metric:
    a meetings goal needs no win rate."""
    steps = [Step("goal", goal.target, f"{goal.metric.label.lower()} in {goal.months} months")]
    needed = float(goal.target)
    chain = [
        (Metric.NEW_REVENUE, "wins needed", None),
        (Metric.WON_ACCOUNTS, "opportunities needed", observed.opportunity_to_won),
        (Metric.OPPORTUNITIES, "meetings needed", observed.meeting_to_opportunity),
        (Metric.MEETINGS, "sales-ready hand-offs needed", observed.handoff_to_meeting),
    ]
    started = False
    meetings = needed
    for metric, label, rate in chain:
        started = started or metric is goal.metric
        if not started:
            continue
        if rate is None:
            deal = observed.average_deal
            if not deal:
                raise MissingRate({"average deal": "no won deal yet: enter an average deal"})
            steps.append(Step("average won deal", deal, _deal_basis(observed)))
            needed = math.ceil(needed / deal)
            steps.append(Step(label, needed, f"{goal.target:,} / {deal:,}"))
            continue
        value = rate.value
        if not value:
            raise MissingRate({label: "no history for this rate: enter one"})
        steps.append(Step(_rate_name(metric), value, rate.basis))
        previous = needed
        needed = math.ceil(previous / value)
        steps.append(Step(label, needed, f"{previous:,.0f} / {value:.0%}"))
        if metric is Metric.OPPORTUNITIES:
            meetings = needed
    per_month = math.ceil(needed / goal.months)
    per_rep = math.ceil(per_month / observed.reps) if observed.reps else None
    how = f"{needed:,.0f} / {goal.months} months"
    if per_rep is not None:
        how += f"; {per_rep} per rep with {observed.reps} reps"
    steps.append(Step("hand-offs a month", per_month, how))
    if goal.metric is Metric.MEETINGS:
        meetings = float(goal.target)
    return ReverseFunnel(tuple(steps), per_month, per_rep, math.ceil(meetings / goal.months))


def _deal_basis(observed: Observed) -> str:
    if observed.entered_deal is not None:
        return "entered"
    return f"from {observed.wins:,} wins"


def _rate_name(metric: Metric) -> str:
    return {
        Metric.WON_ACCOUNTS: "opportunity → won",
        Metric.OPPORTUNITIES: "meeting → opportunity",
        Metric.MEETINGS: "hand-off → meeting",
    }[metric]
