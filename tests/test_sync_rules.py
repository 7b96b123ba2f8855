"""The merge rules of offline copies (domain/sync.py) on plain data: clocks, registers,
deletions, history, and a state machine of three copies and the team database that must
all end in the same state."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule

from domain.sync import (
    DELETED,
    MAX_DRIFT_MS,
    Clock,
    ClockDrift,
    Record,
    Register,
    Stamp,
    Write,
    merged_history,
)

T0 = 1_790_000_000_000


def test_a_stamp_reads_back_and_its_text_sorts_as_it_does():
    stamps = [Stamp(T0, 0, "b"), Stamp(T0, 1, "a"), Stamp(T0 + 1, 0, "a"), Stamp(T0, 0, "a")]
    assert [Stamp.parse(str(s)) for s in stamps] == stamps
    assert sorted(stamps) == sorted(stamps, key=str)


def test_a_clock_never_goes_back_and_stays_ahead_of_what_it_saw():
    clock = Clock("a")
    first = clock.tick(T0)
    assert clock.tick(T0 - 5000) > first  # the wall clock went back: the stamp does not
    clock.observe(Stamp(T0 + 60_000, 7, "b"), T0)
    assert clock.tick(T0) > Stamp(T0 + 60_000, 7, "b")


def test_a_stamp_from_a_clock_far_ahead_is_refused_with_a_sentence():
    clock = Clock("a")
    year = 365 * 24 * 3600 * 1000
    with pytest.raises(ClockDrift, match="ahead of this one"):
        clock.observe(Stamp(T0 + year, 0, "laptop"), T0)
    clock.observe(Stamp(T0 + MAX_DRIFT_MS, 0, "laptop"), T0)


def test_the_same_field_changed_on_two_copies_is_a_conflict_until_someone_settles_it():
    base = Write(Stamp(T0, 0, "hub"), "Graz", "Mark")
    mine = Write(Stamp(T0 + 10, 0, "a"), "Linz", "Rita", frozenset({base.stamp}))
    theirs = Write(Stamp(T0 + 20, 0, "b"), "Wels", "Mark", frozenset({base.stamp}))
    one, two = Register(), Register()
    for write in (base, mine, theirs):
        one.apply(write)
    for write in (theirs, base, mine, mine):
        two.apply(write)
    assert one.conflicted and two.conflicted
    assert one.winner == two.winner == theirs  # shown the same way on every copy
    settle = Write(Stamp(T0 + 30, 0, "a"), "Linz", "Rita", one.head_stamps())
    one.apply(settle)
    assert not one.conflicted and one.winner == settle


def test_an_edit_the_deletion_did_not_see_is_a_conflict_and_one_it_saw_is_not():
    edited, deleted = Record(), Record()
    first = edited.write("city", "Graz", Stamp(T0, 0, "a"), "Rita")
    deleted.register("city").apply(first)
    later = edited.write("city", "Linz", Stamp(T0 + 5, 0, "a"), "Rita")
    gone = deleted.delete(Stamp(T0 + 9, 0, "b"), "Mark")
    assert deleted.deleted and not deleted.conflicted  # it saw the first edit
    deleted.register("city").apply(later)
    edited.register(DELETED).apply(gone)
    assert deleted.conflicted and edited.conflicted
    assert deleted.values() == edited.values()


def test_history_merges_by_union_each_entry_once():
    a = [{"id": 1, "outcome": "won"}, {"id": 2, "outcome": "lost"}]
    b = [{"id": 2, "outcome": "lost"}, {"id": 3, "outcome": "no answer"}]
    assert sorted(merged_history(a, b, a)) == [1, 2, 3]


class _Copy:
    def __init__(self, device: str) -> None:
        self.clock = Clock(device)
        self.skew = 0
        self.rows: dict[str, Record] = {}
        self.history: dict[str, dict[str, str]] = {}

    def row(self, key: str) -> Record:
        return self.rows.setdefault(key, Record())

    def writes(self) -> list[tuple[str, str, Write]]:
        return [
            (key, name, write)
            for key, row in self.rows.items()
            for name, register in row.fields.items()
            for write in register.writes.values()
        ]

    def take(self, other: _Copy, wall: int) -> None:
        for key, name, write in other.writes():
            self.clock.observe(write.stamp, wall + self.skew)
            self.row(key).register(name).apply(write)
        self.history = dict(merged_history(self.history.values(), other.history.values()))

    def state(self) -> tuple[object, ...]:
        return (
            {
                (key, name): (frozenset(r.writes), frozenset(r.replaced))
                for key, row in self.rows.items()
                for name, r in row.fields.items()
            },
            {k: row.values() for k, row in self.rows.items()},
            {k: row.conflicted for k, row in self.rows.items()},
            set(self.history),
        )


def _open(made: list[Write]) -> list[Write]:
    """The edits nobody replaced, latest first, worked out from every edit made."""
    replaced = set().union(*(w.replaces for w in made))
    return sorted((w for w in made if w.stamp not in replaced), key=lambda w: w.stamp)[::-1]


def _conflicted(made: dict[str, list[Write]]) -> bool:
    """A row is in conflict when a field has two open edits, or when it is deleted and an
    open edit of another field is one the deletion did not see."""
    if any(len(_open(writes)) > 1 for writes in made.values()):
        return True
    deletion = next(iter(_open(made.get(DELETED, []))), None)
    if deletion is None or deletion.value is None:
        return False
    others = [w for name, writes in made.items() if name != DELETED for w in _open(writes)]
    return any(w.stamp not in deletion.replaces for w in others)


ROWS = st.sampled_from(["acme", "globex", "initech"])
FIELDS = st.sampled_from(["city", "phone", "industry"])
DEVICES = st.integers(0, 2)


class ThreeCopies(RuleBasedStateMachine):
    """Three laptops and the team database, random edits, deletes, logs, clock skews and
    syncs in random order; a final round of syncs leaves them all the same."""

    def __init__(self) -> None:
        super().__init__()
        self.wall = T0
        self.team = _Copy("team")
        self.copies = [_Copy(f"laptop{i}") for i in range(3)]
        self.logged: set[str] = set()
        self.made: dict[tuple[str, str], list[Write]] = {}
        self.ids = itertools.count()

    def _now(self, copy: _Copy) -> int:
        self.wall += 7
        return self.wall + copy.skew

    @rule(device=DEVICES, key=ROWS, name=FIELDS, value=st.text(max_size=3))
    def edit(self, device: int, key: str, name: str, value: str) -> None:
        copy = self.copies[device]
        made = copy.row(key).write(name, value, copy.clock.tick(self._now(copy)), f"u{device}")
        self.made.setdefault((key, name), []).append(made)

    @rule(device=DEVICES, key=ROWS)
    def delete(self, device: int, key: str) -> None:
        copy = self.copies[device]
        made = copy.row(key).delete(copy.clock.tick(self._now(copy)), f"u{device}")
        self.made.setdefault((key, DELETED), []).append(made)

    @rule(device=DEVICES, key=ROWS)
    def log(self, device: int, key: str) -> None:
        entry = f"i{next(self.ids)}"
        self.copies[device].history[entry] = {"id": entry, "account": key}
        self.logged.add(entry)

    @rule(device=DEVICES, skew=st.integers(-MAX_DRIFT_MS // 2, MAX_DRIFT_MS // 2))
    def skew_clock(self, device: int, skew: int) -> None:
        self.copies[device].skew = skew

    @rule(device=DEVICES, down_first=st.booleans())
    def sync(self, device: int, down_first: bool) -> None:
        copy = self.copies[device]
        steps = [(self.team, copy), (copy, self.team)]
        for receiver, sender in steps[::-1] if down_first else steps:
            receiver.take(sender, self.wall)

    @rule(device=DEVICES)
    def sync_twice(self, device: int) -> None:
        self.sync(device, False)
        self.sync(device, True)

    def teardown(self) -> None:
        for _ in range(2):
            for device in range(3):
                self.sync(device, False)
        states = [c.state() for c in (self.team, *self.copies)]
        assert all(s == states[0] for s in states[1:])
        assert set(self.team.history) == self.logged  # every interaction, exactly once
        for (key, name), made in self.made.items():
            # an edit nobody replaced is shown (the latest), or listed as a conflict
            register = self.team.row(key).register(name)
            assert register.heads == _open(made)
            assert register.winner == _open(made)[0]
        for key, row in self.team.rows.items():
            made = {name: self.made.get((key, name), []) for name in row.fields}
            assert row.conflicted == _conflicted(made), key


ThreeCopies.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
test_three_copies_and_the_team_database_end_the_same = ThreeCopies.TestCase
