"""Indexes for the closed loop's reads: the deleted accounts, so that a summary's read can
leave them out without looking up each account it counts; and the interactions that judge
their lead (a rating or a verdict), with what lead quality adds up of them, so that a
period's are read without looking among all its interactions

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DELETED = sa.text("deleted_at IS NOT NULL")
JUDGED = sa.text("quality IS NOT NULL OR lead IS NOT NULL")


def upgrade() -> None:
    op.create_index("ix_accounts_deleted", "accounts", ["id"],
                    sqlite_where=DELETED, postgresql_where=DELETED)  # fmt: skip
    op.create_index("ix_interactions_judged", "interactions",
                    ["at", "account_id", "quality", "lead", "id"],
                    sqlite_where=JUDGED, postgresql_where=JUDGED)  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_interactions_judged", table_name="interactions")
    op.drop_index("ix_accounts_deleted", table_name="accounts")
