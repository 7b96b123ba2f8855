"""Offline copies and sync (issue 17): the tables a database that syncs keeps beside the
user's data. Empty until the database first syncs (storage.sync.capture.enable_sync), so a
workspace that never syncs carries nothing more than these empty tables.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _change_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("stamp", sa.String(64), nullable=False),
        sa.Column("device", sa.String(32), nullable=False),
        sa.Column("table_name", sa.String(40), nullable=False),
        sa.Column("record", sa.String(64), nullable=False),
        sa.Column("field", sa.String(200), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("author", sa.String(120), nullable=False),
        sa.Column("replaces", sa.Text(), nullable=False),
        sa.Column("account_id", sa.String(36), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "sync_device",
        sa.Column("device", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("source", sa.String(500), nullable=True),
        sa.Column("rep", sa.String(120), nullable=True),
        sa.Column("last", sa.String(64), nullable=True),
        sa.Column("offset_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("device", name=op.f("pk_sync_device")),
    )
    op.create_table(
        "sync_outbox",
        sa.Column("seq", SERIAL, nullable=False),
        sa.Column("table_name", sa.String(40), nullable=False),
        sa.Column("record", sa.String(64), nullable=False),
        sa.Column("field", sa.String(200), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("author", sa.String(120), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_sync_outbox")),
    )
    op.create_table(
        "sync_changes",
        *_change_columns(),
        sa.PrimaryKeyConstraint("stamp", name=op.f("pk_sync_changes")),
    )
    op.create_index("ix_sync_changes_device", "sync_changes", ["device", "stamp"])
    op.create_index("ix_sync_changes_record", "sync_changes", ["table_name", "record"])
    op.create_table(
        "sync_heads",
        sa.Column("table_name", sa.String(40), nullable=False),
        sa.Column("record", sa.String(64), nullable=False),
        sa.Column("field", sa.String(200), nullable=False),
        sa.Column("stamp", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("table_name", "record", "field", "stamp",
                                name=op.f("pk_sync_heads")),
    )  # fmt: skip
    op.create_table(
        "sync_seen",
        sa.Column("device", sa.String(32), nullable=False),
        sa.Column("stamp", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("device", name=op.f("pk_sync_seen")),
    )
    op.create_table(
        "sync_refused",
        *_change_columns(),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("stamp", name=op.f("pk_sync_refused")),
    )
    op.create_table(
        "sync_applying",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_applying")),
    )


def downgrade() -> None:
    for table in ("sync_applying", "sync_refused", "sync_seen", "sync_heads", "sync_changes",
                  "sync_outbox", "sync_device"):  # fmt: skip
        op.drop_table(table)
