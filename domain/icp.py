"""The ideal customer profile (ICP): criteria, the fit score, the tier and the "why".

One rule object, two evaluators: :meth:`IdealCustomerProfile.evaluate` scores one account
in Python (to explain a score on screen); storage compiles the same criteria to one SQL
expression to score a million accounts. Both follow the semantics written down here:

- A criterion on an empty field is not met; a text of only spaces (tabs, no-break spaces …:
  :func:`domain.values.is_blank`) is empty, as for the lead definition's phone.
- Text comparisons are exact (``in``), or substring (``contains``): case-sensitive, so that
  Python and every database agree.
- ``country in`` and ``country not in`` compare ISO 3166 codes: a criterion's values and
  the account's country as typed ("USA", "United States") are read as codes
  (:func:`domain.values.country_code`; storage keeps the account's code in a column). An
  account whose country names no country Accord knows has no code: neither is met.
- Tags are a comma-separated text; ``tags contain X`` means one of the tags is exactly X.
- The score is ``100 * (weight of met weighted criteria) // (weight of all weighted
  criteria)``, an integer 0-100; with no weighted criterion every included account scores
  100. An account failing a must-have is excluded: score 0, no tier.
- The tier is A when score >= threshold A, B when >= threshold B, else C.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from domain.errors import ValidationError
from domain.fields import ACCOUNT_FIELDS, Kind
from domain.progress import Cancel, Progress
from domain.users import Action, User
from domain.values import country_code, country_name, is_blank


class Operator(enum.StrEnum):
    IN = "in"
    NOT_IN = "not in"
    BETWEEN = "between"
    AT_LEAST = "at least"
    AT_MOST = "at most"
    CONTAINS = "contains"
    IS_SET = "is set"


COUNTRY = "country"
#: Facts about an account that are not one of its fields.
HAS_DECISION_MAKER = "has_decision_maker"
CUSTOM = "custom:"

_NUMERIC = {f.name for f in ACCOUNT_FIELDS if f.kind in (Kind.EMPLOYEES, Kind.AMOUNT, Kind.YEAR)}
_TEXT = {f.name for f in ACCOUNT_FIELDS if f.name not in _NUMERIC}

#: Which operators make sense on which field.
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


def is_numeric(field: str) -> bool:
    return field in _NUMERIC


#: What a criterion can be about, with the label a person reads.
CRITERION_FIELDS: dict[str, str] = {
    **{f.name: f.label for f in ACCOUNT_FIELDS},
    HAS_DECISION_MAKER: "Decision-maker contact",
}


def field_label(field: str) -> str:
    if field.startswith(CUSTOM):
        return f"Custom: {field[len(CUSTOM) :]}"
    return CRITERION_FIELDS.get(field, field)


def operators_for(field: str) -> list[Operator]:
    """The operators that apply to ``field``, in the order an editor offers them."""
    allowed = _OPERATORS.get(field)
    if field.startswith(CUSTOM):
        allowed = frozenset({Operator.CONTAINS, Operator.IS_SET})
    return [o for o in Operator if allowed is not None and o in allowed]


@dataclass(frozen=True)
class Criterion:
    """(field, operator, values); a must-have excludes failing accounts, else it adds weight."""

    field: str
    operator: Operator
    values: tuple[Any, ...] = ()
    must_have: bool = False
    weight: int = 10

    def __post_init__(self) -> None:
        # An operator may arrive as its text (from JSON, or from a Qt combo box, which
        # hands back a StrEnum as plain str); "is" comparisons below need the member.
        object.__setattr__(self, "operator", Operator(self.operator))
        if self.by_country_code:
            codes = tuple(country_code(str(v)) or v for v in self.values)
            object.__setattr__(self, "values", codes)

    @property
    def by_country_code(self) -> bool:
        """Whether this criterion compares countries by their ISO code."""
        return self.field == COUNTRY and self.operator in (Operator.IN, Operator.NOT_IN)

    def check(self) -> str | None:
        """What is wrong with this criterion, or None."""
        allowed = _OPERATORS.get(self.field)
        if self.field.startswith(CUSTOM) and len(self.field) > len(CUSTOM):
            allowed = frozenset({Operator.CONTAINS, Operator.IS_SET})
        if allowed is None:
            return f"unknown field '{self.field}'"
        if self.operator not in allowed:
            return f"'{self.operator}' does not apply to {self.field}"
        wanted = {Operator.BETWEEN: 2, Operator.AT_LEAST: 1, Operator.AT_MOST: 1,
                  Operator.CONTAINS: 1, Operator.IS_SET: 0}.get(self.operator)  # fmt: skip
        if wanted is not None and len(self.values) != wanted:
            return f"'{self.operator}' takes {wanted} value(s)"
        if self.operator in (Operator.IN, Operator.NOT_IN) and not self.values:
            return f"'{self.operator}' needs at least one value"
        if is_numeric(self.field) and not all(isinstance(v, int) for v in self.values):
            return f"{self.field} compares with whole numbers"
        if not self.must_have and not 1 <= self.weight <= 100:
            return "a weight is between 1 and 100"
        return None

    def describe(self) -> str:
        """The criterion as a person reads it: "Employees between 50 and 500"."""
        label = field_label(self.field)
        shown = [f"{v:,}" if isinstance(v, int) else str(v) for v in self.values]
        if self.by_country_code:
            shown = [country_name(v) for v in shown]
        match self.operator:
            case Operator.IS_SET if self.field == HAS_DECISION_MAKER:
                return "Has a decision-maker contact"
            case Operator.IS_SET:
                return f"{label} is set"
            case Operator.BETWEEN:
                return f"{label} between {shown[0]} and {shown[1]}"
            case Operator.IN | Operator.NOT_IN:
                return f"{label} {self.operator} {', '.join(shown)}"
            case Operator.CONTAINS if self.field == "tags":
                return f"Tags include {shown[0]}"
        return f"{label} {self.operator} {shown[0]}"

    def met(self, facts: Mapping[str, Any]) -> bool:
        """Whether an account (its field values, custom fields and facts) meets this criterion."""
        value = _field_value(self.field, facts)
        if self.by_country_code:
            value = country_code(value)
        if self.operator is Operator.IS_SET:
            return bool(value) if self.field == HAS_DECISION_MAKER else not _empty(value)
        if _empty(value):
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
            case Operator.CONTAINS if self.field == "tags":
                return str(self.values[0]) in split_tags(str(value))
            case Operator.CONTAINS:
                return str(self.values[0]) in str(value)
        raise AssertionError(self.operator)  # pragma: no cover


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and is_blank(value))


def split_tags(tags: str) -> list[str]:
    return [t.strip() for t in tags.split(",")]


def _field_value(field: str, facts: Mapping[str, Any]) -> Any:
    if field.startswith(CUSTOM):
        return (facts.get("custom") or {}).get(field[len(CUSTOM) :])
    return facts.get(field)


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

    def tier_counts(self, histogram: Iterable[tuple[bool, int, int]]) -> dict[Tier | None, int]:
        """Accounts per tier (None: excluded) from (included, points, number of accounts)
        rows: the thresholds apply to the points without looking at accounts again."""
        counts: dict[Tier | None, int] = dict.fromkeys([Tier.A, Tier.B, Tier.C, None], 0)
        for included, points, number in histogram:
            counts[self.tier(self.score(points)) if included else None] += number
        return counts

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


def reasons(evaluation: Evaluation) -> list[tuple[str, str]]:
    """The why: each criterion as a person reads it, with what it gave."""
    lines = []
    for c in evaluation.contributions:
        if c.criterion.must_have:
            outcome = "must-have, met" if c.met else "must-have, NOT met: excluded"
        else:
            outcome = f"+{c.points}" if c.met else f"0 of {c.criterion.weight}"
        lines.append((c.criterion.describe(), outcome))
    return lines


def explain(evaluation: Evaluation) -> str:
    """The why in one line."""
    return "; ".join(f"{criterion} ({outcome})" for criterion, outcome in reasons(evaluation))


# --- the ICP as a JSON document that a team can share ---------------------------------------

DOCUMENT_FORMAT = "accord-icp"


def to_document(icp: IdealCustomerProfile) -> dict[str, Any]:
    return {
        "format": DOCUMENT_FORMAT,
        "version": 1,
        "name": icp.name,
        "description": icp.description,
        "tiers": {"A": icp.tier_a, "B": icp.tier_b},
        "criteria": [
            {
                "field": c.field,
                "operator": str(c.operator),
                "values": list(c.values),
                **({"must_have": True} if c.must_have else {"weight": c.weight}),
            }
            for c in icp.criteria
        ],
    }


def from_document(document: Any, name: str | None = None) -> IdealCustomerProfile:
    """The ICP a document describes (``name`` overrides its name); raises ValidationError
    naming what is wrong, e.g. ``criterion 2: unknown operator 'around'``."""
    if not isinstance(document, dict) or document.get("format") != DOCUMENT_FORMAT:
        raise ValidationError({"document": f'not an ICP: "format" must be "{DOCUMENT_FORMAT}"'})
    tiers = document.get("tiers", {})
    criteria = []
    for number, item in enumerate(document.get("criteria", []), 1):
        criteria.append(_criterion(item, f"criterion {number}"))
    icp = IdealCustomerProfile(
        name=str(name if name is not None else document.get("name", "")),
        criteria=tuple(criteria),
        tier_a=_whole(tiers.get("A", 70), "tiers"),
        tier_b=_whole(tiers.get("B", 40), "tiers"),
        description=str(document.get("description", "")),
    )
    icp.validate()
    return icp


def _criterion(item: Any, where: str) -> Criterion:
    if not isinstance(item, dict) or "field" not in item or "operator" not in item:
        raise ValidationError({where: 'needs "field" and "operator"'})
    try:
        operator = Operator(item["operator"])
    except ValueError:
        raise ValidationError({where: f"unknown operator '{item['operator']}'"}) from None
    values = item.get("values", [])
    if not isinstance(values, list):
        values = [values]
    must_have = bool(item.get("must_have", False))
    weight = 0 if must_have else _whole(item.get("weight", 10), where)
    return Criterion(str(item["field"]), operator, tuple(values), must_have, weight)


def _whole(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError({where: f"'{value}' is not a whole number"})
    return value


# --- versions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IcpVersion:
    """One saved, immutable version of an ICP."""

    id: UUID
    icp: IdealCustomerProfile
    number: int
    note: str
    created_by: str
    created_at: datetime
    applied_at: datetime | None = None

    @property
    def label(self) -> str:
        return f"{self.icp.name} v{self.number}"


class IcpStore(Protocol):
    def save_version(self, icp: IdealCustomerProfile, note: str, user: User) -> IcpVersion: ...
    def apply(
        self, version: IcpVersion, user: User, progress: Progress | None, cancel: Cancel | None
    ) -> int: ...


def save_icp(store: IcpStore, user: User, icp: IdealCustomerProfile, note: str = "") -> IcpVersion:
    """Save ``icp`` as its next version; earlier versions stay as they were."""
    user.require(Action.EDIT_ICP)
    icp.validate()
    return store.save_version(icp, note.strip(), user)


def apply_icp(
    store: IcpStore,
    user: User,
    version: IcpVersion,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> int:
    """Score every account with ``version``; it becomes the active ICP. Returns the count."""
    user.require(Action.EDIT_ICP)
    return store.apply(version, user, progress, cancel)


def tier_moves(pairs: Sequence[tuple[Tier | None, Tier | None, int]]) -> dict[str, int]:
    """Summarise (tier before, tier after, count) rows: how many accounts move up, down,
    stay, enter or leave (excluded by a must-have)."""
    rank = {Tier.A: 0, Tier.B: 1, Tier.C: 2}
    moves = {"up": 0, "down": 0, "same": 0, "newly excluded": 0, "no longer excluded": 0}
    for before, after, count in pairs:
        if before == after:
            moves["same"] += count
        elif after is None:
            moves["newly excluded"] += count
        elif before is None:
            moves["no longer excluded"] += count
        elif rank[after] < rank[before]:
            moves["up"] += count
        else:
            moves["down"] += count
    return moves
