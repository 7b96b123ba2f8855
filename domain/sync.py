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
- History (interactions, ratings, stage changes …) is append-only and merges by union of
  its ids: never a conflict.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.errors import AccordError, PermissionDenied
from domain.users import Role, User

#: A stamp further ahead of the receiver's clock than this is refused: a laptop whose clock
#: is a year off would otherwise win every conflict for a year.
MAX_DRIFT_MS = 5 * 60 * 1000
_COUNTER_LIMIT = 0xFFFF
_STAMP = re.compile(r"(\d{15})-([0-9a-f]{4})-([0-9a-z]{1,32})")
DELETED = "deleted_at"


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

    def __str__(self) -> str:
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

    def apply(self, write: Write) -> bool:
        """Take ``write`` in; False when it was seen before (applying twice changes nothing)."""
        if write.stamp in self.writes:
            return False
        self.writes[write.stamp] = write
        self.replaced |= write.replaces
        return True

    @property
    def heads(self) -> list[Write]:
        """The writes nobody has replaced yet, latest first."""
        return sorted(
            (w for s, w in self.writes.items() if s not in self.replaced),
            key=lambda w: w.stamp,
            reverse=True,
        )

    @property
    def winner(self) -> Write | None:
        """The value every copy shows: the latest head."""
        heads = self.heads
        return heads[0] if heads else None

    @property
    def conflicted(self) -> bool:
        return len(self.heads) > 1

    def head_stamps(self) -> frozenset[Stamp]:
        return frozenset(w.stamp for w in self.heads)


@dataclass
class Record:
    """An edited record on one copy: a register per field."""

    fields: dict[str, Register] = field(default_factory=dict)

    def register(self, name: str) -> Register:
        return self.fields.setdefault(name, Register())

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
