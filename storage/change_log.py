"""The change log: who did what, when, written in the caller's transaction."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, insert

from domain.users import User
from storage.schema import ChangeRow, table_of, utcnow

change_log = table_of(ChangeRow)


def log_change(
    conn: Connection,
    user: User,
    table: str,
    record_id: uuid.UUID | None,
    action: str,
    details: Any,
) -> None:
    conn.execute(
        insert(change_log).values(
            user_name=user.name,
            table_name=table,
            record_id=record_id,
            action=action,
            details=details,
            at=utcnow(),
        )
    )
