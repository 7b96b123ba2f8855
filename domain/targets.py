"""The target list: the accounts reps call on, their owners, stages and priorities, and the
hand-off of sales-ready accounts to their rep.

Only owner and marketing change the list (checked here); reps read it and see their own
accounts. Bulk work (building from an ICP version, assigning thousands of owners) happens in
SQL behind :class:`TargetRepository`; the rules for who may do it and what is valid live
here. Each use case is one user action and one transaction: it takes the unit of work and
the ids of the selection, and keeps all of it or, on a failure or a cancel, none of it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from domain.errors import Cancelled, ValidationError
from domain.icp import IcpVersion, Tier
from domain.progress import Cancel, Progress
from domain.users import Action, Role, User
from domain.values import counted, country_code, in_words


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
        return ", ".join([f"{self.handed_off:,} handed off", *self.held_back()])

    def held_back(self) -> list[str]:
        """Why the other accounts are not handed off, one count each."""
        parts = []
        if self.not_sales_ready:
            parts.append(f"{self.not_sales_ready:,} not sales-ready")
        if self.without_owner:
            parts.append(f"{self.without_owner:,} without an owner")
        if self.already_handed_off:
            parts.append(f"{self.already_handed_off:,} handed off before")
        return parts

    def question(self) -> str | None:
        """What to ask before handing off, which cannot be undone (None: nothing to hand
        off, and :meth:`nothing` says why)."""
        if not self.handed_off:
            return None
        held = self.held_back()
        return (
            f"Hand off {counted(self.handed_off, 'sales-ready account')} to their reps? Each "
            "hand-off starts the SLA clock and cannot be undone."
            + (f" Not handed off: {', '.join(held)}." if held else "")
        )

    def nothing(self) -> str:
        held = self.held_back()
        return "No account can be handed off" + (f": {', '.join(held)}." if held else ".")


@dataclass(frozen=True)
class Built:
    """What building the target list did under ``version`` (its label): how many accounts
    it added, and the listed accounts that came from an ICP but are no longer in the chosen
    tiers (they fell to a lower tier or out of every tier), which it leaves on the list."""

    version: str
    tiers: frozenset[Tier]
    added: int
    fallen: tuple[UUID, ...] = ()

    def describe(self) -> str:
        return (f"Added {counted(self.added, 'account')} of tier {self._tiers('or')} to the "
                f"target list from {self.version}.")  # fmt: skip

    def fallen_text(self) -> str | None:
        """The accounts left on the list outside the chosen tiers, said (None: there are none)."""
        if not self.fallen:
            return None
        are = "is" if len(self.fallen) == 1 else "are"
        return (f"{counted(len(self.fallen), 'account')} on the target list {are} no longer "
                f"in tier {self._tiers('or')} under {self.version}.")  # fmt: skip

    def _tiers(self, conjunction: str) -> str:
        return in_words(sorted(self.tiers), conjunction)


def history_line(action: str, details: Mapping[str, Any] | None) -> str:
    """A line of the target list's history as a person writes it: 'Built from ICP v2 with
    tiers A and B: 12 accounts added', 'Removed Acme GmbH: closed down'."""
    d = dict(details or {})
    if action == "build":
        tiers = [str(t) for t in d.get("tiers", [])]
        which = f"tier{'s' if len(tiers) > 1 else ''} {in_words(tiers)}"
        return (
            f"Built from {d.get('icp')} with {which}: {counted(d.get('added', 0), 'account')} added"
        )
    if action in ("add", "remove"):
        done = "Added" if action == "add" else "Removed"
        return f"{done} {d.get('name')}" + (f": {d['reason']}" if d.get("reason") else "")
    if action == "assign":
        return f"Owners given to {counted(d.get('accounts', 0), 'account')}"
    if action == "priority":
        return f"Priority {d.get('priority')}"
    if action == "hand off":
        return f"Handed off {counted(d.get('accounts', 0), 'account')}"
    return action  # every action storage.targets logs is said above


class TargetRepository(Protocol):
    """The target list inside one unit of work: nothing is kept until it commits."""

    def build(self, version: IcpVersion, tiers: frozenset[Tier], user: User) -> int: ...
    def outside(self, version: IcpVersion, tiers: frozenset[Tier]) -> list[UUID]: ...
    def add(self, account_id: UUID, reason: str, user: User) -> None: ...
    def remove(self, account_id: UUID, reason: str, user: User) -> None: ...
    def assign(self, owners: Mapping[UUID, UUID | None], user: User) -> int: ...
    def set_priority(self, account_id: UUID, priority: int, user: User) -> None: ...
    def hand_off(self, account_ids: Sequence[UUID] | None, user: User) -> HandOffResult: ...
    def unowned(self) -> list[tuple[UUID, str | None, str | None]]: ...
    def users_by_name(self) -> dict[str, User]: ...


class TargetUnitOfWork(Protocol):
    """One transaction: a use case commits once, and leaving without commit keeps nothing."""

    targets: TargetRepository

    def __enter__(self) -> TargetUnitOfWork: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...


def _commit(uow: TargetUnitOfWork, cancel: Cancel | None) -> None:
    """Commit, unless the user cancelled meanwhile: then nothing is kept."""
    if cancel is not None and cancel():
        raise Cancelled
    uow.commit()


def _each(
    uow: TargetUnitOfWork,
    account_ids: Sequence[UUID],
    change: Callable[[UUID], None],
    progress: Progress | None,
    cancel: Cancel | None,
) -> int:
    """Apply ``change`` to every account in one transaction: all of them or none (the
    first account that fails rolls the whole action back, and its error names it)."""
    with uow:
        for done, account_id in enumerate(account_ids, 1):
            if cancel is not None and cancel():
                raise Cancelled
            change(account_id)
            if progress is not None:
                progress(done, len(account_ids))
        _commit(uow, cancel)
    return len(account_ids)


def build_target_list(
    uow: TargetUnitOfWork,
    user: User,
    version: IcpVersion,
    tiers: Iterable[Tier],
    cancel: Cancel | None = None,
) -> Built:
    """Put every account of the chosen tiers under ``version`` on the list (accounts
    already on it keep their owner, stage and priority). Says how many were added, and
    which listed accounts are no longer in those tiers: removing them is the user's call,
    with a reason (:func:`remove_from_target_list`)."""
    user.require(Action.EDIT_TARGET_LIST)
    chosen = frozenset(tiers)
    if not chosen:
        raise ValidationError({"tiers": "choose at least one tier"})
    with uow:
        added = uow.targets.build(version, chosen, user)
        fallen = tuple(uow.targets.outside(version, chosen))
        _commit(uow, cancel)
    return Built(version.label, chosen, added, fallen)


def _reason(reason: str) -> str:
    if not reason.strip():
        raise ValidationError({"reason": "say why: the reason is kept in the list's history"})
    return reason.strip()


def add_to_target_list(
    uow: TargetUnitOfWork,
    user: User,
    account_ids: Sequence[UUID],
    reason: str,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> int:
    """Put the accounts on the list, with the reason kept in its history. Returns how many."""
    user.require(Action.EDIT_TARGET_LIST)
    why = _reason(reason)
    return _each(uow, account_ids, lambda a: uow.targets.add(a, why, user), progress, cancel)


def remove_from_target_list(
    uow: TargetUnitOfWork,
    user: User,
    account_ids: Sequence[UUID],
    reason: str,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> int:
    """Take the accounts off the list, with the reason kept in its history."""
    user.require(Action.EDIT_TARGET_LIST)
    why = _reason(reason)
    return _each(uow, account_ids, lambda a: uow.targets.remove(a, why, user), progress, cancel)


def assign_owners(
    uow: TargetUnitOfWork,
    user: User,
    owners: Mapping[UUID, UUID | None],
    cancel: Cancel | None = None,
) -> int:
    """Set the owning rep of listed accounts (None: no owner). Returns how many changed."""
    user.require(Action.EDIT_TARGET_LIST)
    with uow:
        changed = uow.targets.assign(owners, user)
        _commit(uow, cancel)
    return changed


def assign_round_robin(
    uow: TargetUnitOfWork, user: User, rep_names: Sequence[str], cancel: Cancel | None = None
) -> int:
    """Deal the listed accounts that have no owner yet to ``rep_names`` in turn, best first."""
    user.require(Action.EDIT_TARGET_LIST)
    with uow:
        people = uow.targets.users_by_name()
        check_reps(rep_names, people)
        reps = [people[name] for name in rep_names]
        owners = round_robin([a for a, _, _ in uow.targets.unowned()], reps)
        changed = uow.targets.assign(owners, user)
        _commit(uow, cancel)
    return changed


def assign_by_territory(
    uow: TargetUnitOfWork, user: User, territories: Territories, cancel: Cancel | None = None
) -> int:
    """Give each listed account without an owner to the rep of its country or region;
    accounts outside every territory stay without an owner."""
    user.require(Action.EDIT_TARGET_LIST)
    with uow:
        people = uow.targets.users_by_name()
        check_reps(territories.reps(), people)
        owners: dict[UUID, UUID | None] = {}
        for account_id, country, region in uow.targets.unowned():
            rep = territories.rep_for(country, region)
            if rep is not None:
                owners[account_id] = people[rep].id
        changed = uow.targets.assign(owners, user)
        _commit(uow, cancel)
    return changed


def set_priority(
    uow: TargetUnitOfWork,
    user: User,
    account_ids: Sequence[UUID],
    priority: int,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> int:
    """Give the listed accounts ``priority`` (1 is called first)."""
    user.require(Action.EDIT_TARGET_LIST)
    if priority not in PRIORITIES:
        raise ValidationError({"priority": "priority is 1 (first), 2 or 3"})
    return _each(
        uow, account_ids, lambda a: uow.targets.set_priority(a, priority, user), progress, cancel
    )


def hand_off(
    uow: TargetUnitOfWork,
    user: User,
    account_ids: Sequence[UUID] | None = None,
    cancel: Cancel | None = None,
) -> HandOffResult:
    """Pass sales-ready accounts with an owner to their rep (``None``: every such account
    on the list). The hand-off time is stored: it starts the SLA clock."""
    user.require(Action.EDIT_TARGET_LIST)
    with uow:
        result = uow.targets.hand_off(account_ids, user)
        _commit(uow, cancel)
    return result
