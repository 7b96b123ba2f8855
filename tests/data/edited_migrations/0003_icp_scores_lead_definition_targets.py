"""ICP versions, scores, lead definition, target list

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 09:27:30.137865
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "icp_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("applied_by", sa.String(length=120), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_icp_versions")),
        sa.UniqueConstraint("name", "number", name=op.f("uq_icp_versions_name_number")),
    )
    op.create_table(
        "lead_definitions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("document", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_definitions")),
    )
    op.create_table(
        "targets",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("icp_version_id", sa.Uuid(), nullable=True),
        sa.Column("handed_off_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handed_off_by", sa.String(length=120), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(length=120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_targets_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["icp_version_id"],
            ["icp_versions.id"],
            name=op.f("fk_targets_icp_version_id_icp_versions"),
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_targets_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_targets")),
        sa.UniqueConstraint("account_id", name=op.f("uq_targets_account_id")),
    )
    with op.batch_alter_table("targets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_targets_live_owner_id",
            ["owner_id", "priority"],
            unique=False,
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        )

    # Plain ADD COLUMN (no table copy on SQLite): opening a big workspace stays quick.
    op.add_column("accounts", sa.Column("score", sa.Integer(), nullable=True))
    op.add_column("accounts", sa.Column("tier", sa.String(length=1), nullable=True))
    op.add_column("accounts", sa.Column("icp_version_id", sa.Uuid(), nullable=True))
    live = sa.text("deleted_at IS NULL")
    op.create_index("ix_accounts_live_score", "accounts", ["score", "id"],
                    sqlite_where=live, postgresql_where=live)  # fmt: skip
    op.create_index("ix_accounts_live_tier", "accounts", ["tier", "score"],
                    sqlite_where=live, postgresql_where=live)  # fmt: skip


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_accounts_live_tier")
        batch_op.drop_index("ix_accounts_live_score")
        batch_op.drop_column("icp_version_id")
        batch_op.drop_column("tier")
        batch_op.drop_column("score")

    with op.batch_alter_table("targets", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_targets_live_owner_id",
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        )

    op.drop_table("targets")
    op.drop_table("lead_definitions")
    op.drop_table("icp_versions")
