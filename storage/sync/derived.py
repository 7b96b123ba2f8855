"""What a sync does not carry but works out again where it lands: the derived columns of a
row it writes, and the caches of the accounts it touched."""

from __future__ import annotations

import functools
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Connection, select, true

from domain.dossiers import DossierTemplate
from domain.sync import DELETED, NEW_ROW, Change
from domain.values import phone_e164
from storage.dossiers import derived_dossier_columns
from storage.goal_facts import refresh_goal_facts
from storage.goal_facts import worked_out_from as goal_worked_out_from
from storage.icps import rescore_with_active
from storage.keys import derived_columns, email_key
from storage.learning_facts import refresh_learning_facts
from storage.learning_facts import worked_out_from as learnings_worked_out_from
from storage.queue_facts import refresh_queue_facts
from storage.queue_facts import worked_out_from as queue_worked_out_from
from storage.reach import refresh_reach
from storage.reach import worked_out_from as reach_worked_out_from
from storage.schema import AccountRow, DossierTemplateRow, table_of
from storage.segments import refresh_segments
from storage.segments import worked_out_from as segments_worked_out_from
from storage.sla_facts import refresh_sla_facts
from storage.sla_facts import worked_out_from as facts_worked_out_from
from storage.sync.tables import SYNCED, column_of

accounts = table_of(AccountRow)
templates = table_of(DossierTemplateRow)
#: Ids per IN (…): well under SQLite's and PostgreSQL's limits on bound parameters.
CHUNK = 500
#: Accounts rescored in one statement: each scoring composes the ICP's SQL anew, so fewer
#: and bigger (SQLite takes 32,766 parameters, PostgreSQL 65,535).
RESCORED = 10_000


def derived_rows(
    conn: Connection, table: str, rows: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The derived columns of each of ``rows`` (every synced column of it) in ``table``;
    what they are worked out from (a contact's account's country, a dossier's template)
    is read once for all of them."""
    if table == "accounts":
        return [derived_columns(row) for row in rows]
    if table == "contacts":
        codes = _by_id(conn, accounts.c.country_code, {row["account_id"] for row in rows})
        return [
            {
                "email_key": email_key(row["email"]),
                "phone_e164": phone_e164(row["phone"], codes.get(row["account_id"])),
            }
            for row in rows
        ]
    if table == "dossiers":
        documents = _by_id(conn, templates.c.document, {row["template_id"] for row in rows})
        read = {key: DossierTemplate.from_document(document) for key, document in documents.items()}
        return [
            derived_dossier_columns(
                read[row["template_id"]], row["texts"] or {}, row["sources"] or []
            )
            for row in rows
        ]
    return [{} for _row in rows]


def _by_id(
    conn: Connection, column: Column[Any], ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, Any]:
    """``column`` of the rows of its table whose ids are ``ids``, by id."""
    key = column.table.c.id
    found: dict[uuid.UUID, Any] = {}
    some = sorted(ids)
    for start in range(0, len(some), CHUNK):
        chunk = some[start : start + CHUNK]
        found.update(conn.execute(select(key, column).where(key.in_(chunk))).all())
    return found


def refresh_derived(conn: Connection, applied: Collection[Change]) -> None:
    """Bring the caches up to date after a sync applied the changes ``applied``: the scores
    of the accounts they touched (of every account when the ICP applied changed), and the
    funnel's summary of their stage history and the agreement's facts of their hand-offs
    for the accounts whose rows they changed in a column those are worked out from (a
    contact's title moves neither)."""
    touched: dict[tuple[str, str], set[str]] = defaultdict(set)
    for change in applied:
        if change.account:
            touched[(change.table, change.field)].add(change.account)
    if any(change.table == "icp_versions" for change in applied):
        rescore_with_active(conn, true())
    else:
        ids = _ids(touched.values())
        for start in range(0, len(ids), RESCORED):
            rescore_with_active(conn, accounts.c.id.in_(ids[start : start + RESCORED]))
    for refresh, inputs in _caches():
        ids = _ids(some for (table, field), some in touched.items() if _feeds(inputs, table, field))
        if ids:
            refresh(conn, ids)


Inputs = Mapping[str, frozenset[str]]


@functools.cache
def _caches() -> tuple[tuple[Callable[[Connection, list[uuid.UUID]], None], Inputs], ...]:
    """The caches of an account a sync refreshes, each with the columns it is worked out
    from, read off the statements that work it out."""
    return (
        (refresh_reach, reach_worked_out_from()),
        (refresh_sla_facts, facts_worked_out_from()),
        (refresh_goal_facts, goal_worked_out_from()),
        (refresh_queue_facts, queue_worked_out_from()),
        (refresh_segments, segments_worked_out_from()),
        (refresh_learning_facts, learnings_worked_out_from()),
    )


def _ids(groups: Iterable[set[str]]) -> list[uuid.UUID]:
    """The account ids of all the ``groups``, once each, in order."""
    return sorted(uuid.UUID(account) for account in set().union(*groups))


def _feeds(inputs: Inputs, table: str, field: str) -> bool:
    """Whether a change of ``field`` of a row of ``table`` may change a column of
    ``inputs``: a new or removed row changes all of its columns."""
    read = inputs.get(table)
    if not read:
        return False
    synced = SYNCED[table]
    if field == NEW_ROW or (field == DELETED and not synced.tombstones):
        return True
    return column_of(field) in read
