"""The ideal customer profile (ICP): criteria, the fit score, the tier and the "why".

One rule object, two evaluators: :meth:`IdealCustomerProfile.evaluate` scores one account
in Python (to explain a score on screen); storage compiles the same criteria to one SQL
expression to score a million accounts. Both follow the semantics written down here:

- A criterion on an empty field is not met.
- Text comparisons are exact (``in``), or substring (``contains``): case-sensitive, so that
  Python and every database agree.
- Tags are a comma-separated text; ``tags contain X`` means one of the tags is exactly X.
- The score is ``100 * (weight of met weighted criteria) // (weight of all weighted
  criteria)``, an integer 0-100; with no weighted criterion every included account scores
  100. An account failing a must-have is excluded: score 0, no tier.
- The tier is A when score >= threshold A, B when >= threshold B, else C.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.errors import ValidationError
from domain.fields import ACCOUNT_FIELDS, Kind


class Operator(enum.StrEnum):
    IN = "in"
    NOT_IN = "not in"
    BETWEEN = "between"
    AT_LEAST = "at least"
    AT_MOST = "at most"
    CONTAINS = "contains"
    IS_SET = "is set"


#: Facts about an account that are not one of its fields.
HAS_DECISION_MAKER = "has_decision_maker"
CUSTOM = "custom:"

_NUMERIC = {f.name for f in ACCOUNT_FIELDS if f.kind in (Kind.EMPLOYEES, Kind.AMOUNT, Kind.YEAR)}
_TEXT = {f.name for f in ACCOUNT_FIELDS if f.name not in _NUMERIC}

#: Which operators make sense on which subject.
_OPERATORS: dict[str, frozenset[Operator]] = {
    **{name: frozenset({Operator.BETWEEN, Operator.AT_LEAST, Operator.AT_MOST, Operator.IS_SET})
       for name in _NUMERIC},
    **{name: frozenset({Operator.IN, Operator.NOT_IN, Operator.CONTAINS, Operator.IS_SET})
       for name in _TEXT},
    "tags": frozenset({Operator.CONTAINS, Operator.IS_SET}),
    HAS_DECISION_MAKER: frozenset({Operator.IS_SET}),
}  # fmt: skip


class Tier(enum.StrEnum):
    A = "A"
    B = "B"
    C = "C"


def is_numeric(subject: str) -> bool:
    return subject in _NUMERIC


@dataclass(frozen=True)
class Criterion:
    """(field, operator, values); a must-have excludes failing accounts, else it adds weight."""

    subject: str
    operator: Operator
    values: tuple[Any, ...] = ()
    must_have: bool = False
    weight: int = 10

    def check(self) -> str | None:
        """What is wrong with this criterion, or None."""
        allowed = _OPERATORS.get(self.subject)
        if self.subject.startswith(CUSTOM) and len(self.subject) > len(CUSTOM):
            allowed = frozenset({Operator.CONTAINS, Operator.IS_SET})
        if allowed is None:
            return f"unknown field '{self.subject}'"
        if self.operator not in allowed:
            return f"'{self.operator}' does not apply to {self.subject}"
        wanted = {Operator.BETWEEN: 2, Operator.AT_LEAST: 1, Operator.AT_MOST: 1,
                  Operator.CONTAINS: 1, Operator.IS_SET: 0}.get(self.operator)  # fmt: skip
        if wanted is not None and len(self.values) != wanted:
            return f"'{self.operator}' takes {wanted} value(s)"
        if self.operator in (Operator.IN, Operator.NOT_IN) and not self.values:
            return f"'{self.operator}' needs at least one value"
        if is_numeric(self.subject) and not all(isinstance(v, int) for v in self.values):
            return f"{self.subject} compares with whole numbers"
        if not self.must_have and not 1 <= self.weight <= 100:
            return "a weight is between 1 and 100"
        return None

    def met(self, facts: Mapping[str, Any]) -> bool:
        """Whether an account (its field values, custom fields and facts) meets this criterion."""
        value = _subject_value(self.subject, facts)
        if self.operator is Operator.IS_SET:
            return bool(value) if self.subject == HAS_DECISION_MAKER else value not in (None, "")
        if value is None or value == "":
            return False
        match self.operator:
            case Operator.IN:
                return value in self.values
            case Operator.NOT_IN:
                return value not in self.values
            case Operator.BETWEEN:
                return bool(self.values[0] <= value <= self.values[1])
            case Operator.AT_LEAST:
                return bool(value >= self.values[0])
            case Operator.AT_MOST:
                return bool(value <= self.values[0])
            case Operator.CONTAINS if self.subject == "tags":
                return str(self.values[0]) in split_tags(str(value))
            case Operator.CONTAINS:
                return str(self.values[0]) in str(value)
        raise AssertionError(self.operator)  # pragma: no cover


def split_tags(tags: str) -> list[str]:
    return [t.strip() for t in tags.split(",")]


def _subject_value(subject: str, facts: Mapping[str, Any]) -> Any:
    if subject.startswith(CUSTOM):
        return (facts.get("custom") or {}).get(subject[len(CUSTOM) :])
    return facts.get(subject)


@dataclass(frozen=True)
class Contribution:
    criterion: Criterion
    met: bool
    points: int


@dataclass(frozen=True)
class Evaluation:
    score: int
    tier: Tier | None
    contributions: tuple[Contribution, ...]

    @property
    def excluded(self) -> bool:
        return self.tier is None


@dataclass(frozen=True)
class IdealCustomerProfile:
    name: str
    criteria: tuple[Criterion, ...] = ()
    tier_a: int = 70
    tier_b: int = 40
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def validate(self) -> None:
        problems: dict[str, str] = {}
        if not self.name.strip():
            problems["name"] = "An ICP needs a name"
        if not 0 <= self.tier_b <= self.tier_a <= 100:
            problems["tiers"] = "Thresholds need 0 ≤ B ≤ A ≤ 100"
        for number, criterion in enumerate(self.criteria, 1):
            if (problem := criterion.check()) is not None:
                problems[f"criterion {number}"] = problem
        if problems:
            raise ValidationError(problems)

    @property
    def total_weight(self) -> int:
        return sum(c.weight for c in self.criteria if not c.must_have)

    def score(self, met_weight: int) -> int:
        total = self.total_weight
        return 100 if total == 0 else 100 * met_weight // total

    def tier(self, score: int) -> Tier:
        if score >= self.tier_a:
            return Tier.A
        return Tier.B if score >= self.tier_b else Tier.C

    def evaluate(self, facts: Mapping[str, Any]) -> Evaluation:
        """Score one account and say why: each criterion's contribution."""
        contributions = []
        for criterion in self.criteria:
            met = criterion.met(facts)
            points = criterion.weight if met and not criterion.must_have else 0
            contributions.append(Contribution(criterion, met, points))
        if any(c.criterion.must_have and not c.met for c in contributions):
            return Evaluation(0, None, tuple(contributions))
        score = self.score(sum(c.points for c in contributions))
        return Evaluation(score, self.tier(score), tuple(contributions))
