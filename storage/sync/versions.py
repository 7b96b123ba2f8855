"""Numbered versions saved on two copies before they met (a dossier template saved on a
laptop and on the team, each as version 4): both are kept, and every copy numbers them the
same way, in the order they were made.

A version's number is what a person reads ("template version 4") and what says which
version holds (the highest); what refers to a version names its id. So when a sync brings a
version in, the versioned table is numbered again: the versions made before the workspace
took part in sync first, in their own order, then the others in the order of the stamps of
the changes that made them. A stamp comes after every stamp its copy had seen, so a
version made after another was seen comes after it; two made apart are ordered by their
stamps, the same on every copy. Numbering is a rule over what every copy holds alike, not
anybody's edit: it is not captured.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from domain.sync import NEW_ROW
from storage.schema import SyncChangeRow, table_of
from storage.sync.tables import SYNCED

changes = table_of(SyncChangeRow)
#: The tables whose rows are numbered versions of one document.
VERSIONED = frozenset({"icp_versions", "dossier_templates", "goal_versions", "agreement_versions"})


def placeholder(conn: Connection, name: str, count: int) -> list[int]:
    """Numbers no version of ``name`` holds, for ``count`` versions a sync brings in until
    :func:`renumber` gives them theirs (a number is unique)."""
    table = SYNCED[name].table
    lowest = conn.execute(select(func.min(table.c.number))).scalar() or 0
    start = min(lowest, 0) - 1
    return [start - n for n in range(count)]


def renumber(conn: Connection, name: str) -> None:
    """Number the versions of table ``name`` as every copy does (see the module's text)."""
    synced = SYNCED[name]
    table = synced.table
    made = dict(
        conn.execute(
            select(changes.c.record, func.min(changes.c.stamp))
            .where(changes.c.table_name == name, changes.c.field == NEW_ROW)
            .group_by(changes.c.record)
        ).all()
    )

    def order(row: Any) -> tuple[Any, ...]:
        stamp = made.get(synced.record(row.id))
        return (0, row.number, str(row.id)) if stamp is None else (1, stamp)

    rows = sorted(conn.execute(select(table.c.id, table.c.number)), key=order)
    moves = [(row.id, n) for n, row in enumerate(rows, 1) if row.number != n]
    if not moves:
        return
    # Through numbers nobody holds, so that no two rows share one on the way.
    statement = update(table).where(table.c.id == bindparam("row_id"))
    statement = statement.values(number=bindparam("new_number"))
    conn.execute(statement, [{"row_id": i, "new_number": -len(rows) - n} for i, n in moves])
    conn.execute(statement, [{"row_id": i, "new_number": n} for i, n in moves])
