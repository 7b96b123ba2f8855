"""The written plan both teams agree on: the goal, the ideal customer profile, the lead
definition, the agreement and the dossier template, each at its current version.

The heads of marketing and of sales each sign a version of it (who, when, which versions).
A plan whose parts changed since the last sign-off of either side is a draft until both
sign again. A rep signs for sales and a marketer for marketing; the owner may sign for
either side, but one person never signs both sides of the same plan.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Protocol

from domain.errors import ValidationError
from domain.users import Action, Role, User
from domain.values import in_words, shown_time


class Side(enum.StrEnum):
    MARKETING = "marketing"
    SALES = "sales"


@dataclass(frozen=True)
class PlanVersions:
    """Which version of each part the plan is made of (None: the part is not set yet; the
    ICP as its name and number, e.g. ``Core v3``)."""

    goal: int | None = None
    icp: str | None = None
    lead_definition: int | None = None
    agreement: int | None = None
    template: int | None = None

    def to_document(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> PlanVersions:
        return cls(**{f.name: document.get(f.name) for f in fields(cls)})

    def changed_since(self, signed: PlanVersions) -> list[str]:
        """The parts whose version differs from ``signed``'s, as a reader names them."""
        return [
            _PARTS[f.name] for f in fields(self) if getattr(self, f.name) != getattr(signed, f.name)
        ]

    def parts(self) -> list[tuple[str, str]]:
        """Each part as a heading names it, with the version the plan holds: ``("Shared
        goal", "version 3")``, ``("Ideal customer profile", "Core v2")``."""
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                version = _UNSET[f.name]
            else:
                version = value if isinstance(value, str) else f"version {value}"
            shown.append((PART_TITLES[f.name], version))
        return shown


_PARTS = {
    "goal": "the goal",
    "icp": "the ideal customer profile",
    "lead_definition": "the lead definition",
    "agreement": "the service agreement",
    "template": "the dossier template",
}
#: Each part as a heading names it.
PART_TITLES = {
    "goal": "Shared goal",
    "icp": "Ideal customer profile",
    "lead_definition": "Lead definition",
    "agreement": "Service agreement",
    "template": "Dossier template",
}
#: What a part not saved yet is: the lead definition and the template have defaults.
_UNSET = {
    "goal": "not set yet",
    "icp": "none applied yet",
    "lead_definition": "the default, not changed yet",
    "agreement": "not written yet",
    "template": "the default, not changed yet",
}


@dataclass(frozen=True)
class SignOff:
    side: Side
    signed_by: str
    signed_at: datetime
    versions: PlanVersions


@dataclass(frozen=True)
class PlanState:
    """The plan's parts now, and every sign-off so far (oldest first)."""

    current: PlanVersions
    sign_offs: tuple[SignOff, ...]

    def latest(self, side: Side) -> SignOff | None:
        signed = [s for s in self.sign_offs if s.side is side]
        return signed[-1] if signed else None

    @property
    def agreed(self) -> bool:
        """Both sides signed the plan as it is now."""
        return all(
            (s := self.latest(side)) is not None and s.versions == self.current for side in Side
        )

    def changed(self, side: Side) -> list[str]:
        """What changed since ``side`` last signed (everything, if it never did)."""
        signed = self.latest(side)
        return self.current.changed_since(signed.versions if signed else PlanVersions())

    @property
    def status(self) -> str:
        return "Agreed" if self.agreed else "Draft"

    def standing_of(self, side: Side) -> str:
        """Where ``side`` stands, as a sentence: who signed when, and what changed since."""
        signed = self.latest(side)
        if signed is None:
            return f"{side.capitalize()} has not signed the plan yet."
        said = f"{signed.signed_by} signed for {side} on {shown_time(signed.signed_at)}"
        changed = self.changed(side)
        if not changed:
            return f"{said}, as the plan is now."
        return f"{said}; since then {in_words(changed)} changed."

    def summary(self) -> list[str]:
        """Agreed or draft, and each side's standing: what the plan says above its parts."""
        if self.agreed:
            head = "Agreed: both sides signed the plan as it is now."
        else:
            head = "Draft: the plan is agreed when both sides have signed it as it is now."
        return [head, *(self.standing_of(side) for side in Side)]


class PlanStore(Protocol):
    def plan_state(self) -> PlanState: ...
    def save_sign_off(self, sign_off: SignOff, user: User) -> None: ...


def side_of(user: User) -> Side:
    """The side a person signs for by default: marketing for marketers, sales otherwise."""
    return Side.MARKETING if user.role is Role.MARKETING else Side.SALES


def sign_plan(store: PlanStore, user: User, side: Side, now: datetime) -> SignOff:
    """Sign the plan as it is now, for ``side``."""
    user.require(Action.SIGN_PLAN)
    if user.role is not Role.OWNER and side is not side_of(user):
        raise ValidationError({"side": f"{user.name} ({user.role}) signs for {side_of(user)}"})
    state = store.plan_state()
    other = state.latest(Side.SALES if side is Side.MARKETING else Side.MARKETING)
    if other is not None and other.signed_by == user.name and other.versions == state.current:
        once = f"{user.name} signed this plan for {other.side} already: someone else signs"
        raise ValidationError({"side": f"{once} for {side}"})
    sign_off = SignOff(side, user.name, now, state.current)
    store.save_sign_off(sign_off, user)
    return sign_off
