"""The ids of bulk inserts: made one at a time or many at once, each a time-ordered UUID;
rows inserted through the driver as the ORM stores them; indexes built again after a big
write."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, event, inspect, select, type_coerce
from sqlalchemy.types import NullType

from storage.bulk import SORT_HELPERS, SORT_PART, bulk_insert, indexes_rebuilt, new_id, new_ids
from storage.importing.importer import batches
from storage.queries import accounts
from storage.schema import stored_utc


def test_ids_made_at_once_are_distinct_time_ordered_and_after_those_made_before():
    before = new_id()
    ids = new_ids(5000)
    assert len(set(ids)) == 5000
    assert {(i.version, i.variant) for i in [before, *ids]} == {(7, before.variant)}
    # their leading 48 bits are the millisecond they were made in
    assert all(before.int >> 80 <= i.int >> 80 <= new_id().int >> 80 for i in ids)
    assert new_ids(0) == []


def test_a_big_write_builds_the_indexes_again_sorted_by_sqlites_helper_threads(
    sqlite_workspace,
):
    """Each index's entries are sorted in parts, each by one of SQLite's helper threads,
    while the builder reads on; the connection is left as it was, and so are the indexes."""
    said: list[str] = []

    def heard(_conn, _cursor, statement, *_args) -> None:
        said.append(statement)

    def settings(conn) -> list:
        return [conn.exec_driver_sql(f"PRAGMA {p}").scalar() for p in ("threads", "cache_size")]

    with sqlite_workspace.write() as conn:
        before = settings(conn)
        indexes = {i["name"] for i in inspect(conn).get_indexes("accounts")}
        event.listen(conn, "before_cursor_execute", heard)
        with indexes_rebuilt(conn, accounts):
            pass
        event.remove(conn, "before_cursor_execute", heard)
        assert settings(conn) == before
        assert {i["name"] for i in inspect(conn).get_indexes("accounts")} == indexes
    built = [n for n, statement in enumerate(said) if statement.startswith("CREATE INDEX")]
    assert len(built) == len(indexes)
    assert said[built[0] - 2 : built[0]] == [
        f"PRAGMA cache_size=-{SORT_PART // 1024}",
        f"PRAGMA threads={SORT_HELPERS}",
    ]
    assert said[built[-1] + 1] == "PRAGMA threads=0"


def test_rows_inserted_through_the_driver_read_back_as_given(workspace):
    """Rows whose values are bound by each column's type, rows already in their stored form
    (read raw), and a column NULL on every row (left out of the statement) read back the
    same."""
    now = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    columns = ["id", "kind", "file_name", "created_at", "created_by", "created", "updated",
               "skipped", "rejected", "undone_by"]  # fmt: skip
    given = [(new_id(), "accounts", f"file {n}.csv", now, "Ann", n, 0, 0, 0,
              "Bob" if n < 2 else None) for n in range(3)]  # fmt: skip
    with workspace.write() as conn:
        bulk_insert(conn, batches, columns, given[:2])
        raw = conn.execute(select(*(type_coerce(batches.c[c], NullType()) for c in columns)))
        stored = [tuple(row) for row in raw]
        conn.execute(delete(batches))
        bulk_insert(conn, batches, columns, stored, stored=True)
        bulk_insert(conn, batches, columns, given[2:], stored=["kind", "file_name"])
        back = conn.execute(select(*(batches.c[c] for c in columns)).order_by(batches.c.created))
        assert [(*row[:3], stored_utc(row[3]), *row[4:]) for row in back] == given
