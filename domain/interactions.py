"""Interactions: the calls, visits, emails and meetings reps log against accounts, the stage
each account reaches from them, and the exceptions that let a rep log outside the target list.

Interactions are append-only history: a correction is a new entry that supersedes the old
one, and both stay. Every stage change is stored with who, when and the interaction (or the
reason) that caused it, because the funnel and the closed loop are computed from that
history. Reps log only against accounts on the target list, unless the owner or marketing
granted them an exception for that account; the rule is checked here, by the use case.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Protocol, TypeVar
from uuid import UUID

from domain.accounts import Contact
from domain.errors import NotFound, OutsideTargetList, ValidationError
from domain.targets import Stage
from domain.users import Action, Role, User
from domain.values import clean_text, in_words, is_blank, parse_amount

#: The longest text one field of an interaction keeps (learned, commitments, next step).
MAX_TEXT = 100_000
#: How far ahead of this computer's clock an interaction's time may be (clocks differ a bit).
CLOCK_SLACK = timedelta(minutes=5)


class Channel(enum.StrEnum):
    CALL = "call"
    VISIT = "visit"
    EMAIL = "email"
    MEETING = "meeting"
    VIDEO = "video"

    @property
    def label(self) -> str:
        return "Video call" if self is Channel.VIDEO else self.value.capitalize()

    @property
    def face_to_face(self) -> bool:
        """A meeting held: a visit, a meeting or a video call (not a call or an email)."""
        return self in (Channel.VISIT, Channel.MEETING, Channel.VIDEO)


class Outcome(enum.StrEnum):
    NO_ANSWER = "no-answer"
    VOICEMAIL = "voicemail"
    CONVERSATION = "conversation"
    MEETING_BOOKED = "meeting-booked"
    OPPORTUNITY = "opportunity"
    WON = "won"
    LOST = "lost"
    NOT_A_FIT = "not-a-fit"

    @property
    def label(self) -> str:
        return self.value.replace("-", " ").capitalize()

    @property
    def meaningful(self) -> bool:
        """Whether an interaction with this outcome is a meaningful one by default: someone
        was reached (no answer and a voicemail are attempts only)."""
        return self not in (Outcome.NO_ANSWER, Outcome.VOICEMAIL)

    @property
    def needs_value(self) -> bool:
        """An opportunity or a win carries a deal value."""
        return self in (Outcome.OPPORTUNITY, Outcome.WON)

    @property
    def needs_reason(self) -> bool:
        """A lost deal and an account that is not a fit say why."""
        return self in (Outcome.LOST, Outcome.NOT_A_FIT)


class LeadVerdict(enum.StrEnum):
    """Whether the rep accepts the lead marketing handed off."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"


E = TypeVar("E", bound=enum.StrEnum)
T = TypeVar("T")


def _choice(kind: type[E], text: str, field_name: str, what: str) -> E:
    key = text.strip().casefold().replace(" ", "-").replace("_", "-")
    for member in kind:
        if key in (member.value, member.name.casefold().replace("_", "-")):
            return member
    names = ", ".join(m.value for m in kind)
    raise ValidationError({field_name: f"'{text}' is not {what}: use one of {names}"})


def parse_channel(text: str) -> Channel:
    return _choice(Channel, "video" if text.strip().casefold() == "video call" else text,
                   "channel", "a channel")  # fmt: skip


def parse_outcome(text: str) -> Outcome:
    return _choice(Outcome, text, "outcome", "an outcome")


def parse_verdict(text: str) -> LeadVerdict:
    return _choice(LeadVerdict, text, "lead", "a lead verdict")


def parse_value(text: str) -> int:
    """A deal value as people type it ("12,500", "$1.2M")."""
    try:
        return parse_amount(text)
    except ValueError:
        raise ValidationError({"value": f"'{text}' is not an amount"}) from None


def contact_named(contacts: Sequence[Contact], name: str, account: str) -> Contact:
    """The one of ``account``'s ``contacts`` called ``name`` (case ignored)."""
    key = name.strip().casefold()
    found = [c for c in contacts if c.name.strip().casefold() == key]
    if len(found) != 1:
        known = in_words([c.name for c in contacts], "or") or "none yet"
        what = "more than one" if found else "none"
        raise ValidationError({"contact": f"{what} of {account}'s contacts is called '{name}' "
                                          f"(they are: {known})"})  # fmt: skip
    return found[0]


def typed_entry(account_id: UUID, typed: Mapping[str, str]) -> Interaction:
    """An entry from what was typed on the command line, by the names of
    :class:`Interaction`'s fields: ``at`` as "YYYY-MM-DD HH:MM" on this computer's clock
    (default now), ``follow_up`` as "YYYY-MM-DD". A :class:`ValidationError` names every
    field that cannot be read; :func:`checked` then holds the entry to the rules."""
    problems: dict[str, str] = {}

    def read(name: str, parse: Callable[[str], _T]) -> _T | None:
        text = typed.get(name, "")
        if is_blank(text):
            return None
        try:
            return parse(text.strip())
        except ValidationError as error:
            problems.update(error.problems)
        except ValueError:
            problems[name] = f"'{text}' is not {_READ_AS[name]}"
        return None

    outcome = read("outcome", parse_outcome)
    if outcome is None and "outcome" not in problems:
        outcomes = in_words([o.label.lower() for o in Outcome], "or")
        problems["outcome"] = f"say what came of it: {outcomes}"
    channel = read("channel", parse_channel) or Channel.CALL
    at = read("at", lambda t: datetime.strptime(t, "%Y-%m-%d %H:%M").astimezone(UTC))
    quality = read("quality", int)
    lead = read("lead", parse_verdict)
    follow_up = read("follow_up", date.fromisoformat)
    value = read("value", parse_value)
    if problems or outcome is None:
        raise ValidationError(problems)
    return Interaction(
        account_id, channel, outcome, at or _utcnow(),
        learned=typed.get("learned", ""), quality=quality, lead=lead,
        reason=typed.get("reason", ""), commitments=typed.get("commitments", ""),
        next_step=typed.get("next_step", ""), follow_up=follow_up, value=value,
    )  # fmt: skip


_T = TypeVar("_T")
_READ_AS = {
    "at": 'a time written as "YYYY-MM-DD HH:MM"',
    "quality": "a rating from 1 to 5",
    "follow_up": 'a date written as "YYYY-MM-DD"',
}


@dataclass(frozen=True)
class Interaction:
    """One logged call, visit, email, meeting or video call. ``at`` is when it happened
    (UTC); ``logged_by`` and ``logged_at`` who stored it, and when. ``supersedes`` is the
    entry this one corrects."""

    account_id: UUID
    channel: Channel
    outcome: Outcome
    at: datetime
    contact_id: UUID | None = None
    meaningful: bool | None = None  # None: as the outcome says
    learned: str = ""
    quality: int | None = None
    lead: LeadVerdict | None = None
    reason: str = ""
    commitments: str = ""
    next_step: str = ""
    follow_up: date | None = None
    value: int | None = None
    supersedes: UUID | None = None
    id: UUID | None = None
    logged_by: str = ""
    logged_at: datetime | None = None

    @property
    def is_meaningful(self) -> bool:
        return self.outcome.meaningful if self.meaningful is None else self.meaningful


def checked(entry: Interaction, now: datetime) -> Interaction:
    """The entry with its texts cleaned, or a :class:`ValidationError` naming every field
    that is wrong. ``now`` is the time it is logged (UTC)."""
    problems: dict[str, str] = {}
    texts = {
        name: clean_text(getattr(entry, name)).strip()
        for name in ("learned", "reason", "commitments", "next_step")
    }
    for name, text in texts.items():
        if len(text) > MAX_TEXT:
            problems[name] = f"keep it under {MAX_TEXT:,} characters"
    if entry.at > now + CLOCK_SLACK:
        problems["at"] = "an interaction is logged after it happened: the time is in the future"
    if entry.quality is not None and not 1 <= entry.quality <= 5:
        problems["quality"] = "the lead quality is a rating from 1 to 5"
    if entry.follow_up is not None and entry.follow_up < entry.at.date():
        problems["follow_up"] = "the follow-up date is before the interaction"
    if entry.value is not None and not entry.outcome.needs_value:
        problems["value"] = "a deal value belongs to an opportunity or a win"
    elif entry.value is not None and entry.value <= 0:
        problems["value"] = "a deal value is more than zero"
    elif entry.value is None and entry.outcome.needs_value:
        problems["value"] = f"say the deal's value: the outcome is {entry.outcome.label.lower()}"
    if is_blank(texts["reason"]):
        if entry.outcome.needs_reason:
            problems["reason"] = f"say why: the outcome is {entry.outcome.label.lower()}"
        elif entry.lead is LeadVerdict.REJECTED:
            problems["reason"] = "say why the lead is rejected: marketing reads it"
    if problems:
        raise ValidationError(problems)
    return replace(
        entry,
        learned=texts["learned"],
        reason=texts["reason"],
        commitments=texts["commitments"],
        next_step=texts["next_step"],
        meaningful=entry.is_meaningful,
    )


_FUNNEL = (Stage.TARGETED, Stage.SALES_READY, Stage.CONTACTED, Stage.MEETING, Stage.OPPORTUNITY)
_CLOSED = (Stage.WON, Stage.LOST)


def stage_after(stage: Stage, entry: Interaction) -> Stage:
    """The stage an account reaches from ``stage`` by the interaction ``entry``.

    Any interaction is a touch (contacted); a meeting booked, or a meaningful visit, meeting
    or video call (a meeting held), makes it a meeting; then opportunity, won, lost (a lost
    deal or an account that is not a fit). Stages only move forward; a won or lost account
    changes only by another win or loss (or by hand, with a reason)."""
    outcome = entry.outcome
    if outcome is Outcome.WON:
        return Stage.WON
    if outcome in (Outcome.LOST, Outcome.NOT_A_FIT):
        return Stage.LOST
    if stage in _CLOSED:
        return stage
    if outcome is Outcome.OPPORTUNITY:
        reached = Stage.OPPORTUNITY
    elif outcome is Outcome.MEETING_BOOKED or (entry.channel.face_to_face and entry.is_meaningful):
        reached = Stage.MEETING
    else:
        reached = Stage.CONTACTED
    return max(stage, reached, key=_FUNNEL.index)


@dataclass(frozen=True)
class StageChange:
    """An account's move from one stage to another: by an interaction, by the target list
    (put on it, handed off) or by hand with a reason. ``before`` is None when the account
    first came on the list."""

    account_id: UUID
    before: Stage | None
    after: Stage
    at: datetime
    changed_by: str
    interaction_id: UUID | None = None
    reason: str = ""


@dataclass(frozen=True)
class LogException:
    """Leave for one rep to log against one account that is not on the target list."""

    id: UUID
    rep: str
    account_id: UUID
    reason: str
    granted_by: str
    granted_at: datetime
    revoked_by: str | None = None
    revoked_at: datetime | None = None


class InteractionStore(Protocol):
    """Interactions, stages and exceptions inside one unit of work."""

    def account_name(self, account_id: UUID) -> str:
        """The live account's name; :class:`NotFound` if it is deleted or was never there."""
        ...

    def stage_of(self, account_id: UUID) -> Stage | None:
        """The account's stage on the target list (None: it is not on the list)."""
        ...

    def has_exception(self, rep: str, account_id: UUID) -> bool: ...
    def contact_account(self, contact_id: UUID) -> UUID | None:
        """The account of a live contact (None: no such contact)."""
        ...

    def get(self, interaction_id: UUID) -> Interaction | None: ...
    def is_superseded(self, interaction_id: UUID) -> bool: ...
    def add(self, entry: Interaction) -> Interaction: ...
    def add_contact(self, contact: Contact, user: User) -> Contact: ...
    def change_of(self, interaction_id: UUID) -> StageChange | None:
        """The stage change ``interaction_id`` caused, if it is the account's latest."""
        ...

    def change_stage(self, change: StageChange) -> None: ...
    def grant(self, rep: str, account_id: UUID, reason: str, user: User) -> LogException: ...
    def revoke(self, exception_id: UUID, user: User) -> LogException: ...
    def users_by_name(self) -> dict[str, User]: ...


class InteractionUnitOfWork(Protocol):
    interactions: InteractionStore

    def __enter__(self) -> InteractionUnitOfWork: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...


@dataclass(frozen=True)
class Logged:
    """What logging did: the stored entry, and the stage change it caused (if any)."""

    interaction: Interaction
    stage_change: StageChange | None = None
    contact: Contact | None = field(default=None)


def log_interaction(
    uow: InteractionUnitOfWork,
    user: User,
    entry: Interaction,
    new_contact: Contact | None = None,
    now: datetime | None = None,
) -> Logged:
    """Store a call, visit, email, meeting or video call, and move the account's stage.

    A rep logs only against accounts on the target list or granted by an exception;
    ``new_contact`` is a person met on the spot, added to the account with the entry."""
    user.require(Action.LOG_INTERACTION)
    when = now or _utcnow()
    with uow:
        result = _store(uow, user, replace(entry, supersedes=None), new_contact, when, None)
        uow.commit()
    return result


def correct_interaction(
    uow: InteractionUnitOfWork,
    user: User,
    original_id: UUID,
    entry: Interaction,
    now: datetime | None = None,
) -> Logged:
    """Store ``entry`` as the correction of an earlier one, which stays in the history as
    superseded. Its author or the owner corrects it. When the corrected entry caused the
    account's latest stage change, the stage is worked out again from where it was before."""
    user.require(Action.LOG_INTERACTION)
    when = now or _utcnow()
    with uow:
        original = uow.interactions.get(original_id)
        if original is None:
            raise NotFound("That interaction is not in the history.")
        if original.logged_by != user.name and user.role is not Role.OWNER:
            raise ValidationError({"interaction": f"only {original.logged_by} or the owner "
                                                  "can correct this entry"})  # fmt: skip
        if uow.interactions.is_superseded(original_id):
            raise ValidationError({"interaction": "this entry was corrected already: "
                                                  "correct the newest one"})  # fmt: skip
        if entry.account_id != original.account_id:
            raise ValidationError({"account": "a correction stays on the same account"})
        corrected = replace(entry, supersedes=original_id)
        result = _store(uow, user, corrected, None, when, uow.interactions.change_of(original_id))
        uow.commit()
    return result


def _store(
    uow: InteractionUnitOfWork,
    user: User,
    entry: Interaction,
    new_contact: Contact | None,
    now: datetime,
    undone: StageChange | None,
) -> Logged:
    store = uow.interactions
    account = store.account_name(entry.account_id)
    stage = store.stage_of(entry.account_id)
    if (user.role is Role.REP and stage is None
            and not store.has_exception(user.name, entry.account_id)):  # fmt: skip
        raise OutsideTargetList(user.name, account)
    entry = checked(entry, now)
    contact = None
    if new_contact is not None:
        if is_blank(new_contact.name):
            raise ValidationError({"contact": "the new contact needs a name"})
        contact = store.add_contact(replace(new_contact, account_id=entry.account_id), user)
        entry = replace(entry, contact_id=contact.id)
    elif (
        entry.contact_id is not None and store.contact_account(entry.contact_id) != entry.account_id
    ):
        raise ValidationError({"contact": f"that contact is not one of {account}'s contacts"})
    stored = store.add(replace(entry, logged_by=user.name, logged_at=now))
    change = None
    if stage is not None:
        start = undone.before if undone is not None and undone.before is not None else stage
        after = stage_after(start, stored)
        if after is not stage:
            assert stored.id is not None
            change = StageChange(stored.account_id, stage, after, now, user.name, stored.id,
                                 "correction" if undone is not None else "")  # fmt: skip
            store.change_stage(change)
    return Logged(stored, change, contact)


def correct_stage(
    uow: InteractionUnitOfWork,
    user: User,
    account_id: UUID,
    stage: Stage,
    reason: str,
    now: datetime | None = None,
) -> StageChange:
    """Set a listed account's stage by hand (the owner and marketing), with the reason kept."""
    user.require(Action.CORRECT_STAGE)
    if is_blank(reason):
        raise ValidationError(
            {"reason": "say why the stage is corrected: it is kept in the history"}
        )
    with uow:
        account = uow.interactions.account_name(account_id)
        before = uow.interactions.stage_of(account_id)
        if before is None:
            raise ValidationError({"account": f"{account} is not on the target list, so it has "
                                              "no stage"})  # fmt: skip
        if before is stage:
            raise ValidationError({"stage": f"{account} is {stage} already"})
        change = StageChange(account_id, before, stage, now or _utcnow(), user.name,
                             reason=clean_text(reason).strip())  # fmt: skip
        uow.interactions.change_stage(change)
        uow.commit()
    return change


def grant_exception(
    uow: InteractionUnitOfWork, user: User, rep: str, account_id: UUID, reason: str
) -> LogException:
    """Let ``rep`` log against an account that is not on the target list."""
    user.require(Action.GRANT_EXCEPTION)
    if is_blank(reason):
        raise ValidationError({"reason": "say why the rep may log outside the target list"})
    with uow:
        person = uow.interactions.users_by_name().get(rep)
        if person is None:
            raise ValidationError({"rep": f"there is no user named '{rep}'"})
        if person.role is not Role.REP:
            raise ValidationError({"rep": f"{rep} is {person.role}, not a rep: only reps "
                                          "are held to the target list"})  # fmt: skip
        uow.interactions.account_name(account_id)
        granted = uow.interactions.grant(rep, account_id, clean_text(reason).strip(), user)
        uow.commit()
    return granted


def revoke_exception(uow: InteractionUnitOfWork, user: User, exception_id: UUID) -> LogException:
    """End an exception: the rep logs against that account no more (what they logged stays)."""
    user.require(Action.GRANT_EXCEPTION)
    with uow:
        revoked = uow.interactions.revoke(exception_id, user)
        uow.commit()
    return revoked


def read_feedback(user: User, read: Callable[[str | None], T], rep: str | None = None) -> T:
    """What the reps reported back (learnings, lead ratings, rejected leads), as
    ``read(rep)`` gives it: ``rep``'s, or every rep's when ``rep`` is None.

    Field feedback is marketing's view: the owner and marketing read every rep's. A rep
    reads their own only; asking for another rep's is refused."""
    if user.can(Action.READ_FIELD_FEEDBACK):
        return read(rep)
    if rep is not None and rep != user.name:
        user.require(Action.READ_FIELD_FEEDBACK)
    return read(user.name)


def _utcnow() -> datetime:
    return datetime.now(UTC)
