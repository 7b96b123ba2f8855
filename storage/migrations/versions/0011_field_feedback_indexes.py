"""Indexes for the field feedback view's filters: rated and rejected interactions by time,
and the live accounts' sources (to offer them without reading every account)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("deleted_at IS NULL")
RATED = sa.text("quality IS NOT NULL")
REJECTED = sa.text("lead = 'rejected'")


def upgrade() -> None:
    op.create_index("ix_interactions_rated", "interactions", ["quality", "at"],
                    sqlite_where=RATED, postgresql_where=RATED)  # fmt: skip
    op.create_index("ix_interactions_rejected", "interactions", ["at"],
                    sqlite_where=REJECTED, postgresql_where=REJECTED)  # fmt: skip
    op.create_index("ix_accounts_live_source", "accounts", ["source", "id"],
                    sqlite_where=LIVE, postgresql_where=LIVE)  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_accounts_live_source", table_name="accounts")
    op.drop_index("ix_interactions_rejected", table_name="interactions")
    op.drop_index("ix_interactions_rated", table_name="interactions")
