"""Possible duplicates: imported accounts kept apart from the account they may duplicate

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 20:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "possible_duplicates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("existing_id", sa.Uuid(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settled_by", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_possible_duplicates_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batches.id"],
            name=op.f("fk_possible_duplicates_batch_id_import_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["existing_id"],
            ["accounts.id"],
            name=op.f("fk_possible_duplicates_existing_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_possible_duplicates")),
    )
    op.create_index(
        op.f("ix_possible_duplicates_batch_id"), "possible_duplicates", ["batch_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_possible_duplicates_batch_id"), table_name="possible_duplicates")
    op.drop_table("possible_duplicates")
