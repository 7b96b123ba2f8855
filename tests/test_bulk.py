"""The ids of bulk inserts: made one at a time or many at once, each a time-ordered UUID."""

from __future__ import annotations

from storage.bulk import new_id, new_ids


def test_ids_made_at_once_are_distinct_time_ordered_and_after_those_made_before():
    before = new_id()
    ids = new_ids(5000)
    assert len(set(ids)) == 5000
    assert {(i.version, i.variant) for i in [before, *ids]} == {(7, before.variant)}
    # their leading 48 bits are the millisecond they were made in
    assert all(before.int >> 80 <= i.int >> 80 <= new_id().int >> 80 for i in ids)
    assert new_ids(0) == []
