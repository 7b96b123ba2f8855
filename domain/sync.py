"""Offline copies: the rules by which changes made on several copies of a workspace merge
(issue 17). Plain Python, no database: storage records and ships the changes, these rules
decide what each copy holds.

- Every change is stamped by a hybrid logical clock (:class:`Stamp`): wall-clock
  milliseconds, a counter, and the device id as the tie-breaker. Stamps are totally ordered,
  their text sorts as they do, and a stamp is always later than every stamp its device had
  seen when it was made (:class:`Clock`).
- An edited field is a multi-value register (:class:`Register`): each write names the
  writes it replaced (the values its author saw). A write nobody has replaced yet is a
  *head*. One head: the field has that value. Several heads: the same field was changed on
  two copies that had not met — a conflict; the head with the latest stamp is shown on every
  copy (:attr:`Register.winner`), the others are kept and listed until a person settles it
  with a write that replaces them all. Merging registers is a union of what each copy has
  seen, so it is idempotent, commutative and associative: copies that have seen the same
  writes hold the same state, whatever the order.
- A deletion is a write of the row's ``deleted_at`` field that also names every head of
  the row's other fields its author saw (:meth:`Record.delete`). An edit that the deletion did
  not see is a conflict on the row (:attr:`Record.conflicted`), never silently lost.
- A record made on two copies under the same id (an account's dossier, started on two
  laptops) keeps when and by whom it was first made: its ``created_at`` and ``created_by``
  registers show their earliest head, and differing heads there are not a conflict.
- History (interactions, ratings, stage changes …) is append-only and merges by union of
  its ids: never a conflict.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, Protocol

from domain.errors import AccordError, NotFound, PermissionDenied, ValidationError
from domain.users import Action, Role, User, allowed_actions, role_for_new_user
from domain.values import counted, in_words

#: A stamp further ahead of the receiver's clock than this is refused: a laptop whose clock
#: is a year off would otherwise win every conflict for a year.
MAX_DRIFT_MS = 5 * 60 * 1000
_COUNTER_LIMIT = 0xFFFF
_STAMP = re.compile(r"(\d{15})-([0-9a-f]{4})-([0-9a-z]{1,32})")
DELETED = "deleted_at"
#: Fields that say when and by whom a record was made: written once by each copy that made
#: it, their earliest write stands (:attr:`Register.first_stands`).
MADE = frozenset({"created_at", "created_by"})


class ClockDrift(AccordError):
    """A change stamped too far in the future: the clock of the device that made it is
    wrong. Nothing of the change set is applied."""

    def __init__(self, device: str, ahead_ms: int) -> None:
        minutes = ahead_ms // 60_000
        super().__init__(
            f"The clock of device {device} is {minutes:,} minutes ahead of this one: set its "
            "date and time right, then sync again. Nothing was applied."
        )


@dataclass(frozen=True, order=True)
class Stamp:
    """When a change was made: ``millis`` of the device's (corrected) clock, a ``counter``
    for changes within one millisecond, and the ``device`` id to break ties."""

    millis: int
    counter: int
    device: str

    @property
    def at(self) -> datetime:
        """When, on the clock of the device that made it (corrected)."""
        return datetime.fromtimestamp(self.millis / 1000, UTC)

    def __str__(self) -> str:
        return self.text

    @cached_property
    def text(self) -> str:
        """The stamp as it is stored and sent (worked out once: a sync writes a stamp
        several times)."""
        return f"{self.millis:015d}-{self.counter:04x}-{self.device}"

    @classmethod
    def parse(cls, text: str) -> Stamp:
        found = _STAMP.fullmatch(text)
        if not found:
            raise ValueError(f"'{text}' is not a change stamp")
        return cls(int(found.group(1)), int(found.group(2), 16), found.group(3))


@dataclass
class Clock:
    """A device's hybrid logical clock. ``offset_ms`` corrects the device's wall clock by
    what the team database's clock said at the last sync."""

    device: str
    last: Stamp | None = None
    offset_ms: int = 0

    def tick(self, wall_ms: int) -> Stamp:
        """A stamp for a change made now, later than every stamp seen so far."""
        now = wall_ms + self.offset_ms
        if self.last is None or now > self.last.millis:
            stamp = Stamp(now, 0, self.device)
        else:
            stamp = Stamp(self.last.millis, self._next(self.last.counter), self.device)
        self.last = stamp
        return stamp

    def observe(self, stamp: Stamp, wall_ms: int) -> None:
        """Take note of a stamp that arrived: the next tick will be later than it.
        :class:`ClockDrift` when it is too far ahead of this clock."""
        now = wall_ms + self.offset_ms
        if stamp.millis - now > MAX_DRIFT_MS:
            raise ClockDrift(stamp.device, stamp.millis - now)
        if self.last is None or stamp > self.last:
            self.last = Stamp(stamp.millis, stamp.counter, self.device)

    @staticmethod
    def _next(counter: int) -> int:
        if counter >= _COUNTER_LIMIT:
            raise AccordError("Too many changes within one millisecond; try again.")
        return counter + 1


@dataclass(frozen=True)
class Write:
    """A value written to one field, and the writes it replaced (the heads its author saw)."""

    stamp: Stamp
    value: Any
    author: str
    replaces: frozenset[Stamp] = frozenset()


@dataclass
class Register:
    """One field of one row on one copy: every write seen, and which replaced which."""

    writes: dict[Stamp, Write] = field(default_factory=dict)
    replaced: set[Stamp] = field(default_factory=set)
    #: The stamps of the writes nobody has replaced yet, kept as writes come in.
    open: set[Stamp] = field(default_factory=set, compare=False, repr=False)
    #: The earliest head is shown and several heads are no conflict: a field of :data:`MADE`.
    first_stands: bool = False

    def apply(self, write: Write) -> bool:
        """Take ``write`` in; False when it was seen before (applying twice changes nothing)."""
        if write.stamp in self.writes:
            return False
        self.writes[write.stamp] = write
        self.replaced |= write.replaces
        self.open -= write.replaces
        if write.stamp not in self.replaced:
            self.open.add(write.stamp)
        return True

    @property
    def heads(self) -> list[Write]:
        """The writes nobody has replaced yet, latest first."""
        return [self.writes[s] for s in sorted(self.open, reverse=True)]

    @property
    def winner(self) -> Write | None:
        """The value every copy shows: the latest head (the earliest if ``first_stands``)."""
        if not self.open:
            return None
        return self.writes[min(self.open) if self.first_stands else max(self.open)]

    @property
    def conflicted(self) -> bool:
        return len(self.open) > 1 and not self.first_stands

    @property
    def disputed(self) -> bool:
        """Conflicted with values that differ: something for a person to settle. Heads that
        agree (a record made the same on two copies, such as an account's dossier) are
        not."""
        heads = self.heads
        return not self.first_stands and any(w.value != heads[0].value for w in heads[1:])

    def head_stamps(self) -> frozenset[Stamp]:
        return frozenset(w.stamp for w in self.heads)


@dataclass
class Record:
    """An edited record on one copy: a register per field."""

    fields: dict[str, Register] = field(default_factory=dict)

    def register(self, name: str) -> Register:
        found = self.fields.get(name)
        if found is None:
            found = self.fields[name] = Register(first_stands=name in MADE)
        return found

    def write(self, name: str, value: Any, stamp: Stamp, author: str) -> Write:
        """A local edit of one field: it replaces what this copy shows of it."""
        made = Write(stamp, value, author, self.register(name).head_stamps())
        self.register(name).apply(made)
        return made

    def delete(self, stamp: Stamp, author: str) -> Write:
        """A local deletion: it replaces the row's deletion heads and names every head of
        the other fields this copy has, the edits its author saw."""
        seen = frozenset().union(*(r.head_stamps() for r in self.fields.values()))
        made = Write(stamp, stamp.millis, author, seen)
        self.register(DELETED).apply(made)
        return made

    @property
    def deleted(self) -> bool:
        winner = self.fields.get(DELETED, Register()).winner
        return winner is not None and winner.value is not None

    @property
    def conflicted(self) -> bool:
        """A field changed on two copies, or an edit the deletion of the row did not see."""
        if any(r.conflicted for r in self.fields.values()):
            return True
        if not self.deleted:
            return False
        deletion = self.fields[DELETED].winner
        assert deletion is not None
        return any(
            head.stamp not in deletion.replaces
            for name, register in self.fields.items()
            if name != DELETED
            for head in register.heads
        )

    def values(self) -> dict[str, Any]:
        """What every copy shows of the row."""
        return {
            name: winner.value
            for name, register in self.fields.items()
            if (winner := register.winner) is not None
        }


def merged_history(*copies: Iterable[Mapping[str, Any]]) -> dict[Any, Mapping[str, Any]]:
    """Append-only history from several copies: the union by id, each entry once."""
    union: dict[Any, Mapping[str, Any]] = {}
    for entries in copies:
        for entry in entries:
            union.setdefault(entry["id"], entry)
    return union


# --- Change sets: what copies send each other -------------------------------------------

#: The field of a change that brings a new row: its value holds every synced column.
NEW_ROW = "*"
#: Where a dossier's section texts are told apart: ``texts/<section key>`` is one field.
SECTION = "texts/"
#: The only kind of document :meth:`ChangeSet.from_document` reads, and its version.
CHANGE_SET_FORMAT = "accord change set"
CHANGE_SET_VERSION = 1


class BadChangeSet(AccordError):
    """A change set that is not one Accord wrote: nothing of it is applied."""


class SchemaTooNew(AccordError):
    """A change set written by a newer Accord, whose changes this one may not understand."""

    def __init__(self, theirs: str, ours: str) -> None:
        super().__init__(
            f"These changes were made with a newer Accord (schema {theirs}; this one has "
            f"{ours}). Update Accord on this computer, then sync again. Nothing was applied."
        )


@dataclass(frozen=True)
class Change:
    """One stamped change of one field of one row (``field`` is :data:`NEW_ROW` for a new
    row, whose ``value`` maps each column to its value). ``account`` is the id of the
    account the row belongs to, which decides whether a rep's copy receives it."""

    stamp: Stamp
    table: str
    record: str
    field: str
    value: Any
    author: str
    replaces: frozenset[Stamp] = frozenset()
    account: str | None = None

    def writes(self) -> list[tuple[str, Write]]:
        """The register writes the change makes: one per column of a new row, else one."""
        if self.field != NEW_ROW:
            return [(self.field, Write(self.stamp, self.value, self.author, self.replaces))]
        return [
            (name, Write(self.stamp, value, self.author, self.replaces))
            for name, value in self.value.items()
        ]

    def to_document(self) -> dict[str, Any]:
        return {
            "stamp": str(self.stamp),
            "table": self.table,
            "record": self.record,
            "field": self.field,
            "value": self.value,
            "author": self.author,
            "replaces": sorted(str(s) for s in self.replaces),
            "account": self.account,
        }

    @classmethod
    def from_document(cls, document: Any) -> Change:
        """The change a document holds; :class:`BadChangeSet` when it is not one."""
        keys = {"stamp", "table", "record", "field", "value", "author", "replaces", "account"}
        if not isinstance(document, dict) or set(document) != keys:
            raise BadChangeSet("A change in the change set is not one Accord wrote.")
        texts = ("table", "record", "field", "author")
        replaces = document["replaces"]
        if (
            not all(isinstance(document[k], str) and document[k] for k in texts)
            or not isinstance(replaces, list)
            or not all(isinstance(s, str) for s in replaces)
            or not isinstance(document["account"], str | None)
            or (document["field"] == NEW_ROW and not isinstance(document["value"], dict))
        ):
            raise BadChangeSet("A change in the change set is not one Accord wrote.")
        try:
            stamp = Stamp.parse(document["stamp"])
            replaced = frozenset(Stamp.parse(s) for s in replaces)
        except (TypeError, ValueError):
            raise BadChangeSet("A change in the change set has a stamp that is not one.") from None
        return cls(
            stamp,
            document["table"],
            document["record"],
            document["field"],
            document["value"],
            document["author"],
            replaced,
            document["account"],
        )


@dataclass(frozen=True)
class ChangeSet:
    """The changes one database sends another: made or received by ``device``, read from a
    database at schema revision ``schema``."""

    device: str
    schema: str
    changes: tuple[Change, ...]

    def to_document(self) -> dict[str, Any]:
        return {
            "format": CHANGE_SET_FORMAT,
            "version": CHANGE_SET_VERSION,
            "device": self.device,
            "schema": self.schema,
            "changes": [c.to_document() for c in self.changes],
        }

    @classmethod
    def from_document(cls, document: Any) -> ChangeSet:
        """The change set a document (read from a file) holds, checked strictly:
        :class:`BadChangeSet` for anything else, nothing applied."""
        if (
            not isinstance(document, dict)
            or document.get("format") != CHANGE_SET_FORMAT
            or set(document) != {"format", "version", "device", "schema", "changes"}
        ):
            raise BadChangeSet("This file is not a change set Accord wrote.")
        if document["version"] != CHANGE_SET_VERSION:
            raise BadChangeSet(
                "This change set was written by another version of Accord: update Accord "
                "on every computer that syncs, then sync again."
            )
        device, schema, changes = document["device"], document["schema"], document["changes"]
        if not isinstance(device, str) or not _DEVICE.fullmatch(device):
            raise BadChangeSet("The change set does not say which device made it.")
        if not isinstance(schema, str) or not schema.isdigit():
            raise BadChangeSet("The change set does not say which schema it was made with.")
        if not isinstance(changes, list):
            raise BadChangeSet("The change set holds no list of changes.")
        return cls(device, schema, tuple(Change.from_document(c) for c in changes))

    def require_schema(self, ours: str) -> None:
        """:class:`SchemaTooNew` unless this Accord knows the schema the changes were read
        from (an older one is fine: the newer columns are simply not in it)."""
        if int(self.schema) > int(ours):
            raise SchemaTooNew(self.schema, ours)


_DEVICE = re.compile(r"[0-9a-z]{1,32}")


def new_device_id(random_hex: str) -> str:
    """A device id from random hex digits: 12 of them, lowercase."""
    device = random_hex[:12].lower()
    if not _DEVICE.fullmatch(device) or len(device) < 12:
        raise ValueError("a device id takes 12 hex digits")
    return device


def head_stamps(changes: Iterable[Change]) -> dict[tuple[str, str, str], frozenset[Stamp]]:
    """The heads of every field the changes touch, worked out with the rules of
    :class:`Record`: what a store's heads table must hold for them."""
    records = replay(changes)
    return {
        (table, record, name): register.head_stamps()
        for (table, record), row in records.items()
        for name, register in row.fields.items()
    }


def replay(changes: Iterable[Change]) -> dict[tuple[str, str], Record]:
    """Every row the changes touch as a :class:`Record` of registers: its winners are what
    the row holds, its heads what is still open."""
    records: dict[tuple[str, str], Record] = {}
    for change in changes:
        row = records.setdefault((change.table, change.record), Record())
        for name, write in change.writes():
            row.register(name).apply(write)
    return records


# --- What a sync tells and keeps aside ----------------------------------------------------


@dataclass(frozen=True)
class Applied:
    """What applying a change set did: changes taken in, already known, kept aside, the
    conflicts now open, and the accounts whose rows changed (for caches to catch up)."""

    applied: int = 0
    known: int = 0
    refused: int = 0
    conflicts: int = 0
    accounts: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SyncSummary:
    """What a sync moved, said in a sentence (:meth:`sentence`)."""

    sent: int = 0
    received: int = 0
    conflicts: int = 0
    refused: int = 0
    #: How far this computer's clock was from the team database's, when it was off.
    clock_off_ms: int | None = None

    def sentence(self) -> str:
        if not (self.sent or self.received):
            said = "Nothing to sync: this copy and the other side were already in step."
        else:
            said = (
                f"Sent {counted(self.sent, 'change')} and received "
                f"{counted(self.received, 'change')}."
            )
        if self.conflicts:
            said += (
                f" {counted(self.conflicts, 'field')} changed on both sides "
                f"{'waits' if self.conflicts == 1 else 'wait'} in Conflicts for you to settle."
            )
        if self.refused:
            said += (
                f" {counted(self.refused, 'change')} {'was' if self.refused == 1 else 'were'} "
                "kept aside because their author's role does not allow them."
            )
        if self.clock_off_ms is not None:
            minutes = round(abs(self.clock_off_ms) / 60_000)  # measured over a round trip
            said += (
                f" This computer's clock is {counted(minutes, 'minute')} "
                f"{'ahead of' if self.clock_off_ms > 0 else 'behind'} the team database's: "
                "Accord corrects for it, but set the clock right."
            )
        return said


@dataclass(frozen=True)
class Head:
    """One value a conflicted field holds: what, who wrote it and when, on which device;
    ``field`` names the field when it is not the conflict's own (an edit a deletion did
    not see)."""

    stamp: Stamp
    field: str
    value: Any
    author: str

    @property
    def at(self) -> datetime:
        return self.stamp.at


@dataclass(frozen=True)
class Conflict:
    """A field changed on copies that had not met (or a row deleted on one and edited on
    another, ``field`` :data:`DELETED`): the value every copy shows (``winner``) and the
    others kept beside it until a person settles it."""

    id: str
    table: str
    record: str
    what: str
    field: str
    winner: Head
    others: tuple[Head, ...]

    @property
    def heads(self) -> tuple[Head, ...]:
        return (self.winner, *self.others)

    def kept(self, keep: Any, device: str) -> Head | Any:
        """What settling with ``keep`` keeps: ``"mine"``, the latest value made on
        ``device`` (this copy); ``"theirs"``, the latest made elsewhere; anything else is a
        value typed for the field."""
        if keep not in ("mine", "theirs"):
            return keep
        mine = keep == "mine"
        chosen = [h for h in self.heads if (h.stamp.device == device) == mine]
        if not chosen:
            raise NotFound(
                "None of the values in this conflict was made on this copy."
                if mine
                else "Every value in this conflict was made on this copy."
            )
        return max(chosen, key=lambda h: h.stamp)


def conflict_id(table: str, record: str, field: str) -> str:
    """A short id for the conflict on a field, the same on every copy."""
    return hashlib.sha256(f"{table}\0{record}\0{field}".encode()).hexdigest()[:10]


@dataclass(frozen=True)
class Refused:
    """A change kept aside because its author's role did not allow it."""

    stamp: Stamp
    table: str
    record: str
    field: str
    value: Any
    author: str
    reason: str

    @property
    def at(self) -> datetime:
        return self.stamp.at


# --- Roles hold at sync --------------------------------------------------------------------

#: The actions that allow a change to each synced table, and the fields each may change
#: there (None: any). A change no action of its author's role allows is kept aside.
#: tests/test_sync_engine.py holds it to storage.team.WRITES, the grants of a team database.
CHANGED_BY: dict[str, dict[Action, frozenset[str] | None]] = {
    "users": {Action.MANAGE_USERS: None},
    "accounts": {Action.EDIT_ACCOUNTS: None, Action.IMPORT: None, Action.UNDO_IMPORT: None},
    "contacts": {
        Action.EDIT_ACCOUNTS: None,
        Action.IMPORT: None,
        Action.UNDO_IMPORT: None,
        # A rep adds and corrects the contacts of their accounts as they meet them.
        Action.LOG_INTERACTION: None,
    },
    "targets": {
        Action.EDIT_TARGET_LIST: None,
        # Logging and correcting move the account's stage, nothing else of the target.
        Action.LOG_INTERACTION: frozenset({"stage"}),
        Action.CORRECT_STAGE: frozenset({"stage"}),
    },
    "interactions": {Action.LOG_INTERACTION: None},
    "stage_changes": {
        Action.EDIT_TARGET_LIST: None,
        Action.LOG_INTERACTION: None,
        Action.CORRECT_STAGE: None,
    },
    "log_exceptions": {Action.GRANT_EXCEPTION: None},
    "engagements": {Action.IMPORT: None, Action.UNDO_IMPORT: None},
    "icp_versions": {Action.EDIT_ICP: None},
    "lead_definitions": {Action.EDIT_LEAD_DEFINITION: None},
    "dossier_templates": {Action.EDIT_DOSSIER_TEMPLATE: None, Action.EDIT_DOSSIER: None},
    "dossiers": {Action.EDIT_DOSSIER: None, Action.REVIEW_DOSSIER: None},
    "dossier_conflicts": {Action.EDIT_DOSSIER: None},
    "dossier_ratings": {Action.RATE_DOSSIER: None},
    "goal_versions": {Action.SET_GOAL: None},
    "agreement_versions": {Action.EDIT_AGREEMENT: None},
    "work_calendars": {Action.EDIT_AGREEMENT: None},
    "plan_sign_offs": {Action.SIGN_PLAN: None},
}


def signs_in(change: Change, has_owner: bool) -> bool:
    """Whether ``change`` is its author signing in for the first time: the new user row of
    themselves, with the role a new user gets (domain.users.role_for_new_user: the first
    person of a workspace owns it). Nobody else had to allow it."""
    return (
        change.table == "users"
        and change.field == NEW_ROW
        and change.value.get("name") == change.author
        and change.value.get("role") == role_for_new_user(has_owner).value
    )


def refusal(author: str, role: Role | None, table: str, field: str) -> str | None:
    """Why a change of ``field`` of ``table`` by ``author`` (of ``role``, None when the
    workspace does not know them) is not applied; None when their role allows it."""
    if role is None:
        return f"{author} is not a user of this workspace."
    allowed = allowed_actions(role)
    column = field.split("/", 1)[0] if field.startswith(SECTION) else field
    for action, narrowed in CHANGED_BY.get(table, {}).items():
        if action in allowed and (narrowed is None or column in narrowed):
            return None
    actions = [a.value for a in CHANGED_BY.get(table, {})]
    what = in_words(actions, "or") if actions else "change it"
    return f"{author} ({role.value}) may not {what}."


# --- Settling a conflict -------------------------------------------------------------------


class ConflictStore(Protocol):
    """Where conflicts are read and settled, in one transaction."""

    #: This database's device id: "mine" are the values made here.
    device: str

    def conflict(self, conflict_id: str) -> Conflict:
        """The open conflict with this id; :class:`NotFound` when there is none."""
        ...

    def settle(self, conflict: Conflict, field: str, value: Any, user: User) -> None:
        """Write ``value`` to ``field`` of the conflict's row as a change that replaces
        every value the conflict holds."""
        ...


def settle(store: ConflictStore, user: User, conflict_id: str, keep: Any) -> Conflict:
    """Settle a conflict, keeping ``"mine"``, ``"theirs"`` or a value typed for the field:
    a new change that replaces every value it held, so that it is settled on every copy
    once they have synced. The user's role must allow changing the field."""
    conflict = store.conflict(conflict_id)
    why = refusal(user.name, user.role, conflict.table, conflict.field)
    if why is not None:
        raise PermissionDenied(why)
    kept = conflict.kept(keep, store.device)
    if conflict.field == DELETED:
        # A row deleted on one copy and edited on another: kept deleted, or kept as edited.
        if not isinstance(kept, Head):
            raise ValidationError(
                {"keep": "a deleted record is kept deleted or kept, not given a value"}
            )
        gone = kept.field == DELETED and kept.value is not None
        store.settle(conflict, DELETED, kept.value if gone else None, user)
    else:
        store.settle(conflict, conflict.field, kept.value if isinstance(kept, Head) else kept, user)
    return conflict


def is_device(text: str) -> bool:
    """Whether ``text`` is a device id (a shared folder's subfolder of a device is named so)."""
    return _DEVICE.fullmatch(text) is not None


def copy_scope(user: User, rep: str | None) -> str | None:
    """Whose accounts a local copy of the team workspace holds: the named ``rep``'s, or
    None for the whole workspace. A rep takes a copy of their own accounts only; the owner
    and marketing take the whole workspace or any rep's part of it."""
    if user.role is Role.REP:
        if rep not in (None, user.name):
            raise PermissionDenied(
                f"{user.name} (rep) may take a copy of their own accounts only, not {rep}'s."
            )
        return user.name
    return rep
