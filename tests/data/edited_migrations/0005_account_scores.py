"""Scores move from the accounts to a narrow table of their own

Applying an ICP rewrote every account row (the whole table) to store three small values;
now it writes one narrow row per account.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 13:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("deleted_at IS NULL")
SCORE_COLUMNS = ("score", "tier", "icp_version_id")


def upgrade() -> None:
    op.create_table(
        "account_scores",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("tier", sa.String(length=1), nullable=True),
        sa.Column("icp_version_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_scores_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_scores")),
        sqlite_with_rowid=False,
    )
    op.execute(
        "INSERT INTO account_scores (account_id, score, tier, icp_version_id) "
        "SELECT id, score, tier, icp_version_id FROM accounts"
    )
    op.create_index("ix_account_scores_score", "account_scores", ["score", "account_id"])
    op.drop_index("ix_accounts_live_score", "accounts", sqlite_where=LIVE, postgresql_where=LIVE)
    op.drop_index("ix_accounts_live_tier", "accounts", sqlite_where=LIVE, postgresql_where=LIVE)
    # Plain DROP COLUMN (SQLite 3.35 and later) rather than a batch copy of the table.
    for column in SCORE_COLUMNS:
        op.drop_column("accounts", column)


def downgrade() -> None:
    op.add_column("accounts", sa.Column("score", sa.Integer(), nullable=True))
    op.add_column("accounts", sa.Column("tier", sa.String(length=1), nullable=True))
    op.add_column("accounts", sa.Column("icp_version_id", sa.Uuid(), nullable=True))
    op.execute(
        "UPDATE accounts SET "
        + ", ".join(
            f"{c} = (SELECT s.{c} FROM account_scores s WHERE s.account_id = accounts.id)"
            for c in SCORE_COLUMNS
        )
    )
    op.create_index(
        "ix_accounts_live_score", "accounts", ["score", "id"],
        sqlite_where=LIVE, postgresql_where=LIVE,
    )  # fmt: skip
    op.create_index(
        "ix_accounts_live_tier", "accounts", ["tier", "score"],
        sqlite_where=LIVE, postgresql_where=LIVE,
    )  # fmt: skip
    op.drop_index("ix_account_scores_score", "account_scores")
    op.drop_table("account_scores")
