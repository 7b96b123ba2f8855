"""Contacts keep their e-mail as it is matched (storage.keys.email_key: trimmed, in lower
case) in an indexed column, so that an engagement import finds a row's contact through the
index rather than by reading every contact's e-mail

On SQLite the column is filled by one UPDATE that calls the key's Python function for each
row; elsewhere the contacts that have an e-mail are read and written back in chunks.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.keys import email_key

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("deleted_at IS NULL")
CHUNK = 20_000

contacts = sa.table(
    "contacts",
    sa.column("id", sa.Uuid),
    sa.column("email", sa.String),
    sa.column("email_key", sa.String),
)


def upgrade() -> None:
    op.add_column("contacts", sa.Column("email_key", sa.String(length=255), nullable=True))
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        conn.connection.driver_connection.create_function(  # type: ignore[union-attr]
            "accord_email_key", 1, email_key, deterministic=True
        )
        conn.execute(
            contacts.update()
            .where(contacts.c.email.is_not(None))
            .values(email_key=sa.func.accord_email_key(contacts.c.email))
        )
    else:
        _fill_in_chunks(conn)
    op.create_index("ix_contacts_live_email_key", "contacts", ["email_key"],
                    sqlite_where=LIVE, postgresql_where=LIVE)  # fmt: skip


def _fill_in_chunks(conn: sa.Connection) -> None:
    rows = sa.select(contacts.c.id, contacts.c.email).where(contacts.c.email.is_not(None))
    write = (
        contacts.update()
        .where(contacts.c.id == sa.bindparam("key"))
        .values(email_key=sa.bindparam("email_key"))
    )
    last = None
    while True:
        page = rows if last is None else rows.where(contacts.c.id > last)
        chunk = conn.execute(page.order_by(contacts.c.id).limit(CHUNK)).all()
        if not chunk:
            return
        conn.execute(write, [{"key": id_, "email_key": email_key(email)} for id_, email in chunk])
        last = chunk[-1][0]


def downgrade() -> None:
    op.drop_index("ix_contacts_live_email_key", table_name="contacts")
    op.drop_column("contacts", "email_key")
