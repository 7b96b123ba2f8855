"""The service agreement (SLA): what marketing delivers and how sales follows up, both
measured from the data, never typed in. Versioned: each save is a new version.

The exact definitions of what is measured (the report and the dashboard count exactly this):

- **Hand-off**: the stored hand-off time of a sales-ready account to its rep; it belongs to
  the month it happened in, in the workspace's time zone.
- **First touch**: the first interaction of any channel, by anyone, after the hand-off. On
  time when before the calendar's deadline: the end of the ``first_touch_days``-th business
  day after the hand-off's day (:meth:`domain.calendar.WorkCalendar.deadline`).
- **Attempts**: interactions within ``attempts_days`` calendar days after the hand-off; the
  hand-off meets the rule with at least ``attempts`` of them (or when won or lost before).
- **Black hole**: handed off, not touched, and the first-touch deadline has passed. It
  stays on the list until touched.
- **Follow-up kept**: an interaction on the account on or before the follow-up date that an
  earlier interaction set (only follow-up dates that have come count).
- **Feedback given**: a lead-quality rating on the first meaningful interaction after the
  hand-off, or within ``feedback_days`` days of it.
- **Marketing delivered**: hand-offs in the period; their quality is the average rating and
  the accepted share of those hand-offs, whenever the rating was given; the tier mix is the
  share of tier A/B/C at hand-off time.

A share of the sales side is met at ``on_time_share`` or above; a figure is *close* within
a tenth of its target (:func:`standing`).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Protocol, TypeVar

from domain.errors import ValidationError
from domain.users import Action, User

S = TypeVar("S", "MarketingSide", "SalesSide")
#: A figure within this fraction below its target is close, not missed.
CLOSE = 0.1


@dataclass(frozen=True)
class MarketingSide:
    """What marketing promises sales, per month."""

    handoffs_per_month: int = 20
    #: Each rep's share of them, when the agreement says it per rep.
    handoffs_per_rep: int | None = None
    #: The lowest average lead-quality rating (1-5) the reps may give the hand-offs.
    min_average_quality: float | None = 3.0
    #: The lowest share of hand-offs the reps accept (0-1).
    min_accepted_share: float | None = None
    #: The lowest share of tier A among the hand-offs (0-1).
    min_tier_a_share: float | None = None


@dataclass(frozen=True)
class SalesSide:
    """What sales promises marketing, per hand-off."""

    first_touch_days: int = 2
    attempts: int = 3
    attempts_days: int = 10
    feedback_days: int = 7
    #: The share of hand-offs that must meet each rule for the side to meet it (0-1).
    on_time_share: float = 0.9


@dataclass(frozen=True)
class Agreement:
    marketing: MarketingSide = MarketingSide()
    sales: SalesSide = SalesSide()
    #: The goal-to-agreement arithmetic the numbers came from (``ReverseFunnel``'s
    #: document), kept beside the numbers the owner chose.
    arithmetic: tuple[Mapping[str, Any], ...] = ()
    note: str = ""

    def checked(self) -> Agreement:
        """The agreement, or ValidationError naming each number that is impossible."""
        problems: dict[str, str] = {}
        m, s = self.marketing, self.sales
        _at_least(problems, "marketing.handoffs_per_month", m.handoffs_per_month, 0)
        _at_least(problems, "marketing.handoffs_per_rep", m.handoffs_per_rep, 0)
        if m.min_average_quality is not None and not 1 <= m.min_average_quality <= 5:
            problems["marketing.min_average_quality"] = "a rating is between 1 and 5"
        for key in ("min_accepted_share", "min_tier_a_share"):
            _share(problems, f"marketing.{key}", getattr(m, key))
        _at_least(problems, "sales.first_touch_days", s.first_touch_days, 0)
        _at_least(problems, "sales.attempts", s.attempts, 1)
        _at_least(problems, "sales.attempts_days", s.attempts_days, 1)
        _at_least(problems, "sales.feedback_days", s.feedback_days, 0)
        _share(problems, "sales.on_time_share", s.on_time_share)
        if problems:
            raise ValidationError(problems)
        return self

    def to_document(self) -> dict[str, Any]:
        return {
            "marketing": _side_document(self.marketing),
            "sales": _side_document(self.sales),
            "arithmetic": [dict(step) for step in self.arithmetic],
            "note": self.note,
        }

    @classmethod
    def from_document(cls, document: Any) -> Agreement:
        """The agreement a JSON document describes (as ``sla export`` writes it);
        ValidationError naming the key that is unknown, missing or impossible."""
        if not isinstance(document, Mapping):
            raise ValidationError({"agreement": "an agreement is a JSON object"})
        unknown = sorted(set(document) - {"marketing", "sales", "arithmetic", "note"})
        if unknown:
            raise ValidationError({unknown[0]: "is not a key of an agreement"})
        for side in ("marketing", "sales"):
            if side not in document:
                raise ValidationError({side: "is missing"})
        arithmetic = document.get("arithmetic", [])
        if not isinstance(arithmetic, list) or not all(_is_step(s) for s in arithmetic):
            raise ValidationError(
                {"arithmetic": "a list of steps, each an object of texts and numbers"}
            )
        return cls(
            _side(MarketingSide, document["marketing"], "marketing"),
            _side(SalesSide, document["sales"], "sales"),
            tuple(arithmetic),
            str(document.get("note", "")),
        ).checked()


def _is_step(step: Any) -> bool:
    """A step of the goal's arithmetic: names to a text or a number, nothing nested."""
    return isinstance(step, Mapping) and all(
        isinstance(key, str)
        and isinstance(value, str | int | float)
        and not isinstance(value, bool)
        for key, value in step.items()
    )


def _side_document(side: MarketingSide | SalesSide) -> dict[str, Any]:
    return {f.name: getattr(side, f.name) for f in fields(side)}


def _side(kind: type[S], document: Any, name: str) -> S:
    if not isinstance(document, Mapping):
        raise ValidationError({name: "is a JSON object"})
    known = {f.name: f for f in fields(kind)}
    unknown = sorted(set(document) - set(known))
    if unknown:
        raise ValidationError({f"{name}.{unknown[0]}": f"is not a key of {name}'s side"})
    values: dict[str, Any] = {}
    for key, value in document.items():
        whole = known[key].type in ("int", "int | None")
        if value is None and "None" in str(known[key].type):
            values[key] = None
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError({f"{name}.{key}": f"'{value}' is not a number"})
        elif whole and value != int(value):
            raise ValidationError({f"{name}.{key}": f"'{value}' is not a whole number"})
        else:
            values[key] = int(value) if whole else float(value)
    return kind(**values)


def _at_least(problems: dict[str, str], key: str, value: int | None, lowest: int) -> None:
    if value is not None and value < lowest:
        problems[key] = f"is at least {lowest}"


def _share(problems: dict[str, str], key: str, value: float | None) -> None:
    if value is not None and not 0 <= value <= 1:
        problems[key] = "a share is between 0 and 1 (0.3 is 30 %)"


@dataclass(frozen=True)
class AgreementVersion:
    agreement: Agreement
    number: int
    created_by: str
    created_at: datetime


class AgreementStore(Protocol):
    def save_agreement(self, agreement: Agreement, user: User) -> AgreementVersion: ...


def save_agreement(store: AgreementStore, user: User, agreement: Agreement) -> AgreementVersion:
    """Save a new version of the agreement: the owner's alone."""
    user.require(Action.EDIT_AGREEMENT)
    return store.save_agreement(agreement.checked(), user)


class Standing(enum.StrEnum):
    MET = "met"
    CLOSE = "close"
    MISSED = "missed"


def due_by(agreed: int, gone_by: float) -> int:
    """How many of an ``agreed`` count (the hand-offs of a period) are due once the share
    ``gone_by`` of the period has gone by (``domain.goal.elapsed``, as a goal's pace): whole
    ones, rounded down, so that none is due on a month's first morning, and all of them once
    the period is over. A period in progress is judged against them, not against the whole
    period's number."""
    return math.floor(agreed * gone_by)


def standing(actual: float | None, target: float | None) -> Standing | None:
    """Met at or above ``target``, close within a tenth below it, missed below that; None
    when there is nothing to judge (no data, or no target)."""
    if actual is None or target is None:
        return None
    if actual >= target:
        return Standing.MET
    return Standing.CLOSE if actual >= target * (1 - CLOSE) else Standing.MISSED
