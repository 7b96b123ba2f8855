"""The hand-off's stage now beside its facts, and the indexes that count the black hole and
the open hand-offs without reading every hand-off

``handoff_facts.stage`` is the account's stage on the target list (filled here from
``targets``; kept from now on by storage.sla_facts.refresh_sla_facts, like the other facts),
so that the reps' queues (the open hand-offs) and how many have a complete dossier are
counted in an index. ``(attempt_1, handed_off_at, owner_id)`` finds the hand-offs nobody
has touched yet, the black hole's candidates, in the order they were handed off.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 07:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

targets = sa.table(
    "targets",
    sa.column("account_id", sa.Uuid),
    sa.column("stage", sa.String),
    sa.column("handed_off_at", sa.DateTime(timezone=True)),
    sa.column("deleted_at", sa.DateTime(timezone=True)),
)
facts = sa.table("handoff_facts", sa.column("account_id", sa.Uuid), sa.column("stage", sa.String))


def upgrade() -> None:
    op.add_column("handoff_facts", sa.Column("stage", sa.String(length=20), nullable=True))
    stage = sa.select(targets.c.stage).where(
        targets.c.account_id == facts.c.account_id,
        targets.c.deleted_at.is_(None),
        targets.c.handed_off_at.is_not(None),
    )
    op.get_bind().execute(facts.update().values(stage=stage.scalar_subquery()))
    op.create_index("ix_handoff_facts_attempt_1", "handoff_facts",
                    ["attempt_1", "handed_off_at", "owner_id"])  # fmt: skip
    op.create_index("ix_handoff_facts_stage", "handoff_facts", ["stage", "owner_id"])


def downgrade() -> None:
    op.drop_index("ix_handoff_facts_stage", table_name="handoff_facts")
    op.drop_index("ix_handoff_facts_attempt_1", table_name="handoff_facts")
    op.drop_column("handoff_facts", "stage")
