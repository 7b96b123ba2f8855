"""The closed loop's segments of every account, kept beside the rows they come from.

``account_segments``: per account, deleted or not, its tier as scored, the ICP version that
put it on the target list and the rep who owns it (its target's, listed or removed), its
industry and its source, so that the closed loop groups the accounts it counts by one narrow
row each instead of looking up each one's account, score and target.

Filled here from the existing rows, as they were at this revision (storage.segments keeps it
up to date from now on and may change with it later).

Revision ID: 0023
Revises: 0021
Create Date: 2026-11-30 12:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

accounts = sa.table(
    "accounts", sa.column("id", sa.Uuid), sa.column("industry", sa.String),
    sa.column("source", sa.String),
)  # fmt: skip
scores = sa.table("account_scores", sa.column("account_id", sa.Uuid), sa.column("tier", sa.String))
targets = sa.table(
    "targets", sa.column("account_id", sa.Uuid), sa.column("icp_version_id", sa.Uuid),
    sa.column("owner_id", sa.Uuid),
)  # fmt: skip
COLUMNS = ("account_id", "tier", "icp_version_id", "industry", "source", "owner_id")


def upgrade() -> None:
    op.create_table(
        "account_segments",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("tier", sa.String(length=1), nullable=True),
        sa.Column("icp_version_id", sa.Uuid(), nullable=True),
        sa.Column("industry", sa.String(length=255), nullable=True),
        sa.Column("source", sa.String(length=255), nullable=True),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_segments")),
    )
    rows = sa.select(
        accounts.c.id, scores.c.tier, targets.c.icp_version_id, accounts.c.industry,
        accounts.c.source, targets.c.owner_id,
    ).select_from(
        accounts.outerjoin(scores, scores.c.account_id == accounts.c.id)
        .outerjoin(targets, targets.c.account_id == accounts.c.id)
    )  # fmt: skip
    into = sa.table("account_segments", *map(sa.column, COLUMNS))
    op.get_bind().execute(into.insert().from_select(list(COLUMNS), rows))


def downgrade() -> None:
    op.drop_table("account_segments")
