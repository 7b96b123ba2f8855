"""What a sync does not carry but works out again where it lands: the derived columns of a
row it writes, and the caches of the accounts it touched."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import Connection, select, true

from domain.values import phone_e164
from storage.dossiers import derived_dossier_columns
from storage.icps import rescore_with_active
from storage.keys import derived_columns, email_key
from storage.reach import refresh_reach
from storage.schema import AccountRow, table_of
from storage.sla_facts import refresh_sla_facts

accounts = table_of(AccountRow)
CHUNK = 500


def derived_of(conn: Connection, table: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """The derived columns of ``row`` (every synced column of it) in ``table``."""
    if table == "accounts":
        return derived_columns(row)
    if table == "contacts":
        code = conn.execute(
            select(accounts.c.country_code).where(accounts.c.id == row["account_id"])
        ).scalar()
        return {"email_key": email_key(row["email"]), "phone_e164": phone_e164(row["phone"], code)}
    if table == "dossiers":
        return derived_dossier_columns(
            conn, row["template_id"], row["texts"] or {}, row["sources"] or []
        )
    return {}


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
