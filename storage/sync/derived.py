"""What a sync does not carry but works out again where it lands: the derived columns of a
row it writes, and the caches of the accounts it touched."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Connection, select, true

from domain.dossiers import DossierTemplate
from domain.values import phone_e164
from storage.dossiers import derived_dossier_columns
from storage.icps import rescore_with_active
from storage.keys import derived_columns, email_key
from storage.reach import refresh_reach
from storage.schema import AccountRow, DossierTemplateRow, table_of
from storage.sla_facts import refresh_sla_facts

accounts = table_of(AccountRow)
templates = table_of(DossierTemplateRow)
CHUNK = 500


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


def refresh_derived(conn: Connection, account_ids: Collection[str] | None) -> None:
    """Bring the caches up to date after a sync wrote the rows of ``account_ids`` (None:
    every account, as when the ICP applied changed): the accounts' scores, the funnel's
    summary of their stage history and the agreement's facts of their hand-offs."""
    if account_ids is None:
        rescore_with_active(conn, true())
        refresh_reach(conn)
        refresh_sla_facts(conn, None)
        return
    ids = sorted(uuid.UUID(a) for a in account_ids)
    refresh_reach(conn, ids)
    refresh_sla_facts(conn, ids)
    for start in range(0, len(ids), CHUNK):
        rescore_with_active(conn, accounts.c.id.in_(ids[start : start + CHUNK]))
