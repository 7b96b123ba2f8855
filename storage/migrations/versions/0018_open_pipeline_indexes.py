"""Indexes for the goal's open pipeline: the live targets by stage, and each account's
opportunity entries newest first with their deal value, so that the forecast reads the
accounts at the opportunity stage and one index entry each instead of every target and
every interaction of each, sorted

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 07:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("deleted_at IS NULL")
OPPORTUNITY = sa.text("outcome = 'opportunity'")


def upgrade() -> None:
    op.create_index("ix_targets_live_stage", "targets", ["stage"],
                    sqlite_where=LIVE, postgresql_where=LIVE)  # fmt: skip
    op.create_index("ix_interactions_opportunity", "interactions",
                    ["account_id", "at", "id", "value"],
                    sqlite_where=OPPORTUNITY, postgresql_where=OPPORTUNITY)  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_interactions_opportunity", table_name="interactions")
    op.drop_index("ix_targets_live_stage", table_name="targets")
