"""Interactions, stage changes, exceptions to the target list, and engagement

The stage history starts with what the target list already holds: every listed account was
put on it (targeted) when its row was made, and every handed-off account became sales-ready
when it was handed off.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 22:50:00
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "log_exceptions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("rep", sa.String(length=120), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("granted_by", sa.String(length=120), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_by", sa.String(length=120), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_log_exceptions_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_exceptions")),
    )
    op.create_index("ix_log_exceptions_rep", "log_exceptions", ["rep", "account_id"], unique=False)
    op.create_table(
        "engagements",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("campaign", sa.String(length=255), nullable=True),
        sa.Column("source", sa.String(length=255), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("import_batch_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_engagements_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_engagements_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["import_batch_id"],
            ["import_batches.id"],
            name=op.f("fk_engagements_import_batch_id_import_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engagements")),
    )
    op.create_index("ix_engagements_account_id", "engagements", ["account_id", "at"], unique=False)
    op.create_index("ix_engagements_at", "engagements", ["at"], unique=False)
    op.create_index(
        "ix_engagements_import_batch_id", "engagements", ["import_batch_id"], unique=False
    )
    op.create_table(
        "interactions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("meaningful", sa.Boolean(), nullable=False),
        sa.Column("learned", sa.Text(), nullable=False),
        sa.Column("quality", sa.Integer(), nullable=True),
        sa.Column("lead", sa.String(length=20), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("commitments", sa.Text(), nullable=False),
        sa.Column("next_step", sa.Text(), nullable=False),
        sa.Column("follow_up", sa.Date(), nullable=True),
        sa.Column("value", sa.BigInteger(), nullable=True),
        sa.Column("supersedes_id", sa.Uuid(), nullable=True),
        sa.Column("logged_by", sa.String(length=120), nullable=False),
        sa.Column("logged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_interactions_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_interactions_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["interactions.id"],
            name=op.f("fk_interactions_supersedes_id_interactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interactions")),
    )
    op.create_index(
        "ix_interactions_account_id", "interactions", ["account_id", "at"], unique=False
    )
    op.create_index("ix_interactions_at", "interactions", ["at"], unique=False)
    op.create_index("ix_interactions_logged_by", "interactions", ["logged_by", "at"], unique=False)
    op.create_index(
        "ix_interactions_supersedes_id", "interactions", ["supersedes_id"], unique=False
    )
    op.create_table(
        "stage_changes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("from_stage", sa.String(length=20), nullable=True),
        sa.Column("to_stage", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(length=120), nullable=False),
        sa.Column("interaction_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_stage_changes_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interactions.id"],
            name=op.f("fk_stage_changes_interaction_id_interactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_changes")),
    )
    op.create_index(
        "ix_stage_changes_account_id", "stage_changes", ["account_id", "at"], unique=False
    )
    op.create_index("ix_stage_changes_at", "stage_changes", ["at"], unique=False)
    op.create_index(
        "ix_stage_changes_interaction_id", "stage_changes", ["interaction_id"], unique=False
    )
    _stage_history_so_far()


def _stage_history_so_far() -> None:
    """One change per listed account to targeted, and one to sales-ready per hand-off, with
    the ids made from the target row's (a stage change's id needs only to be unique)."""
    targets = sa.table(
        "targets",
        sa.column("id", sa.Uuid()),
        sa.column("account_id", sa.Uuid()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("changed_by", sa.String()),
        sa.column("handed_off_at", sa.DateTime(timezone=True)),
        sa.column("handed_off_by", sa.String()),
    )
    changes = sa.table(
        "stage_changes",
        sa.column("id", sa.Uuid()),
        sa.column("account_id", sa.Uuid()),
        sa.column("from_stage", sa.String()),
        sa.column("to_stage", sa.String()),
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("changed_by", sa.String()),
        sa.column("reason", sa.Text()),
    )
    conn = op.get_bind()
    rows = conn.execute(sa.select(targets)).all()
    added = [
        {"id": r.id, "account_id": r.account_id, "from_stage": None, "to_stage": "targeted",
         "at": r.created_at, "changed_by": r.changed_by, "reason": ""}
        for r in rows
    ]  # fmt: skip
    handed = [
        {"id": _other(r.id), "account_id": r.account_id, "from_stage": "targeted",
         "to_stage": "sales-ready", "at": r.handed_off_at, "changed_by": r.handed_off_by or "",
         "reason": ""}
        for r in rows
        if r.handed_off_at is not None
    ]  # fmt: skip
    for chunk in (added, handed):
        if chunk:
            conn.execute(sa.insert(changes), chunk)


def _other(target_id: uuid.UUID) -> uuid.UUID:
    """A second id derived from a target row's id, for its hand-off."""
    return uuid.uuid5(uuid.NAMESPACE_OID, str(target_id))


def downgrade() -> None:
    op.drop_index("ix_stage_changes_interaction_id", table_name="stage_changes")
    op.drop_index("ix_stage_changes_at", table_name="stage_changes")
    op.drop_index("ix_stage_changes_account_id", table_name="stage_changes")
    op.drop_table("stage_changes")
    op.drop_index("ix_interactions_supersedes_id", table_name="interactions")
    op.drop_index("ix_interactions_logged_by", table_name="interactions")
    op.drop_index("ix_interactions_at", table_name="interactions")
    op.drop_index("ix_interactions_account_id", table_name="interactions")
    op.drop_table("interactions")
    op.drop_index("ix_engagements_import_batch_id", table_name="engagements")
    op.drop_index("ix_engagements_at", table_name="engagements")
    op.drop_index("ix_engagements_account_id", table_name="engagements")
    op.drop_table("engagements")
    op.drop_index("ix_log_exceptions_rep", table_name="log_exceptions")
    op.drop_table("log_exceptions")
