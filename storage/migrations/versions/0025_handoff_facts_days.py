"""The index the compliance counts a period's hand-offs in

``ix_handoff_facts_days`` holds, in order of the hand-offs' times, all that the agreement's
compliance counts of them (their days in whole seconds, rep, tier, attempts, close, first
meaningful interaction, rating and verdict), so that a period's hand-offs are read in it
alone, nearly in the order they are grouped in, rather than in a pass over every fact.
Built here for the facts there are; every write keeps it from now on.

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-30 18:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["handed_off_at", "handed_off_at_seconds", "owner_id", "tier",
           *(f"attempt_{n}_seconds" for n in range(1, 11)), "closed_at_seconds",
           "first_meaningful_seconds", "rated_at_seconds", "rating", "verdict"]  # fmt: skip


def upgrade() -> None:
    op.create_index("ix_handoff_facts_days", "handoff_facts", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_handoff_facts_days", table_name="handoff_facts")
