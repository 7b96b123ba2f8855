"""The target list: the accounts reps call on, their owners, stages and priorities, and the
hand-off of sales-ready accounts to their rep.

Only owner and marketing change the list (checked here); reps read it and see their own
accounts. Bulk work (building from an ICP version, assigning thousands of owners) happens in
SQL behind :class:`TargetStore`; the rules for who may do it and what is valid live here.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from domain.errors import ValidationError
from domain.icp import IcpVersion, Tier
from domain.users import Action, Role, User
from domain.values import country_code


class Stage(enum.StrEnum):
    """An account's place in the funnel; building the list makes it targeted, the hand-off
    sales-ready; later stages come from the reps' interactions."""

    TARGETED = "targeted"
    SALES_READY = "sales-ready"
    CONTACTED = "contacted"
    MEETING = "meeting"
    OPPORTUNITY = "opportunity"
    WON = "won"
    LOST = "lost"


#: 1 is called first.
PRIORITIES = (1, 2, 3)
_PRIORITY_BY_TIER = {Tier.A: 1, Tier.B: 2, Tier.C: 3}


def priority_for(tier: Tier | None) -> int:
    """The starting priority of an account put on the list: A first."""
    return _PRIORITY_BY_TIER.get(tier, 3) if tier is not None else 3


def round_robin(account_ids: Sequence[UUID], reps: Sequence[User]) -> dict[UUID, UUID]:
    """Deal accounts to reps in turn, in the order given (best first, so each rep gets an
    even share of the best accounts)."""
    if not reps:
        raise ValidationError({"reps": "name at least one rep"})
    return {account: reps[i % len(reps)].id for i, account in enumerate(account_ids)}


@dataclass(frozen=True)
class Territories:
    """Country or region → rep name. A country rule wins over a region rule. Countries
    compare by ISO code: a rule for "United States" takes accounts typed "USA" or "US"."""

    rules: Mapping[str, str]

    @classmethod
    def from_document(cls, document: Any) -> Territories:
        """``{"Germany": "Sam Rivera", "Europe": "Jordan Lee"}`` (keys are a country, by name
        or ISO code, or a region as written on the accounts; values a rep's name)."""
        if not isinstance(document, dict) or not document:
            raise ValidationError({"territories": "expected an object: country/region → rep"})
        bad = [k for k, v in document.items() if not isinstance(v, str) or not v.strip()]
        if bad:
            raise ValidationError({"territories": f"no rep named for '{bad[0]}'"})
        return cls({_place(str(k)): v.strip() for k, v in document.items()})

    def rep_for(self, country_code: str | None, region: str | None) -> str | None:
        """The rep for an account with this country code and region."""
        if country_code and (rep := self.rules.get(country_code)):
            return rep
        return self.rules.get(region.strip().casefold()) if region else None

    def reps(self) -> set[str]:
        return set(self.rules.values())


def _place(key: str) -> str:
    """A rule's key: the ISO code of a country (upper case), else the region folded."""
    return country_code(key) or key.strip().casefold()


def check_reps(names: Iterable[str], users: Mapping[str, User]) -> None:
    """Every name must be a rep of this workspace."""
    for name in names:
        user = users.get(name)
        if user is None:
            raise ValidationError({"rep": f"there is no user named '{name}'"})
        if user.role is not Role.REP:
            raise ValidationError({"rep": f"{name} is {user.role}, not a rep"})


@dataclass(frozen=True)
class HandOffResult:
    handed_off: int
    not_sales_ready: int
    without_owner: int
    already_handed_off: int

    def describe(self) -> str:
        parts = [f"{self.handed_off:,} handed off"]
        if self.not_sales_ready:
            parts.append(f"{self.not_sales_ready:,} not sales-ready")
        if self.without_owner:
            parts.append(f"{self.without_owner:,} without an owner")
        if self.already_handed_off:
            parts.append(f"{self.already_handed_off:,} handed off before")
        return ", ".join(parts)


class TargetStore(Protocol):
    def build(self, version: IcpVersion, tiers: frozenset[Tier], user: User) -> int: ...
    def add(self, account_id: UUID, reason: str, user: User) -> None: ...
    def remove(self, account_id: UUID, reason: str, user: User) -> None: ...
    def assign(self, owners: Mapping[UUID, UUID | None], user: User) -> int: ...
    def set_priority(self, account_id: UUID, priority: int, user: User) -> None: ...
    def hand_off(self, account_ids: Sequence[UUID] | None, user: User) -> HandOffResult: ...
    def unowned(self) -> list[tuple[UUID, str | None, str | None]]: ...
    def users_by_name(self) -> dict[str, User]: ...


def build_target_list(
    store: TargetStore, user: User, version: IcpVersion, tiers: Iterable[Tier]
) -> int:
    """Put every account of the chosen tiers under ``version`` on the list (accounts
    already on it keep their owner, stage and priority). Returns how many were added."""
    user.require(Action.EDIT_TARGET_LIST)
    chosen = frozenset(tiers)
    if not chosen:
        raise ValidationError({"tiers": "choose at least one tier"})
    return store.build(version, chosen, user)


def _reason(reason: str) -> str:
    if not reason.strip():
        raise ValidationError({"reason": "say why: the reason is kept in the list's history"})
    return reason.strip()


def add_to_target_list(store: TargetStore, user: User, account_id: UUID, reason: str) -> None:
    user.require(Action.EDIT_TARGET_LIST)
    store.add(account_id, _reason(reason), user)


def remove_from_target_list(store: TargetStore, user: User, account_id: UUID, reason: str) -> None:
    user.require(Action.EDIT_TARGET_LIST)
    store.remove(account_id, _reason(reason), user)


def assign_owners(store: TargetStore, user: User, owners: Mapping[UUID, UUID | None]) -> int:
    """Set the owning rep of listed accounts (None: no owner). Returns how many changed."""
    user.require(Action.EDIT_TARGET_LIST)
    return store.assign(owners, user)


def assign_round_robin(store: TargetStore, user: User, rep_names: Sequence[str]) -> int:
    """Deal the listed accounts that have no owner yet to ``rep_names`` in turn, best first."""
    user.require(Action.EDIT_TARGET_LIST)
    people = store.users_by_name()
    check_reps(rep_names, people)
    reps = [people[name] for name in rep_names]
    return store.assign(round_robin([a for a, _, _ in store.unowned()], reps), user)


def assign_by_territory(store: TargetStore, user: User, territories: Territories) -> int:
    """Give each listed account without an owner to the rep of its country or region;
    accounts outside every territory stay without an owner."""
    user.require(Action.EDIT_TARGET_LIST)
    people = store.users_by_name()
    check_reps(territories.reps(), people)
    owners: dict[UUID, UUID | None] = {}
    for account_id, country, region in store.unowned():
        rep = territories.rep_for(country, region)
        if rep is not None:
            owners[account_id] = people[rep].id
    return store.assign(owners, user)


def set_priority(store: TargetStore, user: User, account_id: UUID, priority: int) -> None:
    user.require(Action.EDIT_TARGET_LIST)
    if priority not in PRIORITIES:
        raise ValidationError({"priority": "priority is 1 (first), 2 or 3"})
    store.set_priority(account_id, priority, user)


def hand_off(
    store: TargetStore, user: User, account_ids: Sequence[UUID] | None = None
) -> HandOffResult:
    """Pass sales-ready accounts with an owner to their rep (``None``: every such account
    on the list). The hand-off time is stored: it starts the SLA clock."""
    user.require(Action.EDIT_TARGET_LIST)
    return store.hand_off(account_ids, user)
