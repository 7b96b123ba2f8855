"""The lead definition: the agreed checklist that makes a target account sales-ready.

Each point of the checklist is a rule of some kind (has a phone number, has a
decision-maker contact, tier in {A, B}, at least N employees, …). A kind is a small class
registered in :data:`RULE_KINDS` by its ``kind`` name; a new kind (such as "dossier
complete") plugs in by adding a class here and its SQL in ``storage.leads``. Like the ICP, the
checklist is evaluated in Python for one account (what it meets and misses) and in SQL for
many (which accounts are sales-ready).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from domain.errors import ValidationError
from domain.icp import HAS_DECISION_MAKER, Tier
from domain.users import Action, User
from domain.values import is_blank


class LeadRule(Protocol):
    kind: ClassVar[str]

    def met(self, facts: Mapping[str, Any]) -> bool: ...
    def describe(self) -> str: ...
    def settings(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class HasPhone:
    kind: ClassVar[str] = "has phone"

    def met(self, facts: Mapping[str, Any]) -> bool:
        return not is_blank(facts.get("phone"))

    def describe(self) -> str:
        return "Has a phone number"

    def settings(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True)
class HasDecisionMaker:
    kind: ClassVar[str] = "has decision-maker"

    def met(self, facts: Mapping[str, Any]) -> bool:
        return bool(facts.get(HAS_DECISION_MAKER))

    def describe(self) -> str:
        return "Has a decision-maker contact"

    def settings(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True)
class TierIn:
    kind: ClassVar[str] = "tier in"
    tiers: frozenset[Tier] = frozenset({Tier.A, Tier.B})

    def met(self, facts: Mapping[str, Any]) -> bool:
        return facts.get("tier") in self.tiers

    def describe(self) -> str:
        return f"Tier {' or '.join(sorted(self.tiers))}"

    def settings(self) -> dict[str, Any]:
        return {"tiers": sorted(self.tiers)}


@dataclass(frozen=True)
class MinimumEmployees:
    kind: ClassVar[str] = "minimum employees"
    employees: int = 10

    def met(self, facts: Mapping[str, Any]) -> bool:
        employees = facts.get("employees")
        return employees is not None and employees >= self.employees

    def describe(self) -> str:
        return f"At least {self.employees:,} employees"

    def settings(self) -> dict[str, Any]:
        return {"employees": self.employees}


#: The fact an account's dossier contributes: every required section is filled.
DOSSIER_COMPLETE = "dossier_complete"


@dataclass(frozen=True)
class DossierComplete:
    kind: ClassVar[str] = "dossier complete"

    def met(self, facts: Mapping[str, Any]) -> bool:
        return bool(facts.get(DOSSIER_COMPLETE))

    def describe(self) -> str:
        return "Dossier complete (every required section filled)"

    def settings(self) -> dict[str, Any]:
        return {}


RULE_KINDS: dict[str, type[Any]] = {
    rule.kind: rule
    for rule in (HasPhone, HasDecisionMaker, TierIn, MinimumEmployees, DossierComplete)
}


def make_rule(kind: str, settings: Mapping[str, Any]) -> LeadRule:
    """A rule from its kind and settings (as stored or typed in); ValidationError if wrong."""
    if kind not in RULE_KINDS:
        raise ValidationError({"rule": f"unknown kind of rule '{kind}'"})
    try:
        if kind == TierIn.kind:
            tiers = frozenset(Tier(t) for t in settings.get("tiers", ()))
            if not tiers:
                raise ValueError("choose at least one tier")
            return TierIn(tiers)
        if kind == MinimumEmployees.kind:
            employees = settings.get("employees")
            if isinstance(employees, bool) or not isinstance(employees, int) or employees < 0:
                raise ValueError("employees must be a whole number of 0 or more")
            return MinimumEmployees(employees)
    except ValueError as exc:
        raise ValidationError({kind: str(exc)}) from None
    rule: LeadRule = RULE_KINDS[kind]()
    return rule


@dataclass(frozen=True)
class Check:
    rule: LeadRule
    met: bool


@dataclass(frozen=True)
class LeadDefinition:
    rules: tuple[LeadRule, ...] = ()

    def evaluate(self, facts: Mapping[str, Any]) -> tuple[Check, ...]:
        """Each point of the checklist with whether the account meets it."""
        return tuple(Check(rule, rule.met(facts)) for rule in self.rules)

    def sales_ready(self, facts: Mapping[str, Any]) -> bool:
        return all(check.met for check in self.evaluate(facts))

    def to_document(self) -> dict[str, Any]:
        return {"rules": [{"kind": r.kind, **r.settings()} for r in self.rules]}

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> LeadDefinition:
        rules = []
        for item in document.get("rules", []):
            settings = {k: v for k, v in item.items() if k != "kind"}
            rules.append(make_rule(str(item.get("kind")), settings))
        return cls(tuple(rules))


#: What a new workspace starts with: the seeds' example of a specific lead definition.
DEFAULT_LEAD_DEFINITION = LeadDefinition(
    (HasPhone(), HasDecisionMaker(), TierIn(frozenset({Tier.A, Tier.B})))
)


class LeadDefinitionStore(Protocol):
    def save_lead_definition(self, definition: LeadDefinition, user: User) -> None: ...


def save_lead_definition(
    store: LeadDefinitionStore, user: User, definition: LeadDefinition
) -> None:
    user.require(Action.EDIT_LEAD_DEFINITION)
    kinds = [r.kind for r in definition.rules]
    if len(set(kinds)) != len(kinds):
        raise ValidationError({"rules": "each kind of rule appears once"})
    store.save_lead_definition(definition, user)
