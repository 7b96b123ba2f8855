"""An index of the deleted accounts, so that a summary's read can leave them out without
looking up each account it counts

Revision ID: 0018
Revises: 0016
Create Date: 2026-11-30 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DELETED = sa.text("deleted_at IS NOT NULL")


def upgrade() -> None:
    op.create_index("ix_accounts_deleted", "accounts", ["id"],
                    sqlite_where=DELETED, postgresql_where=DELETED)  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_accounts_deleted", table_name="accounts")
