"""The funnel's summary of the stage history: per account, when it first reached each stage
and first left each open stage (``account_reach``), filled from the stage changes there are;
and the indexes the goal reads its won deals and its stage moves through

The closed loop reads the summary instead of grouping the whole history; from here on every
write of a stage change keeps it (storage.reach.refresh_reach). The fill is one INSERT …
SELECT grouped by account, the rules of domain.closed_loop as they stand at this revision.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The funnel's line, in order; lost is off it.
LINE = ("targeted", "sales-ready", "contacted", "meeting", "opportunity", "won")
#: Each summary column and the stages a move to which sets it: a stage is reached by a move
#: to it or to a later stage of the line, and an open stage is left by a move to a later
#: stage or to lost.
COLUMNS = {
    **{stage.replace("-", "_"): LINE[n:] for n, stage in enumerate(LINE)},
    "lost": ("lost",),
    **{f"left_{stage.replace('-', '_')}": (*LINE[n + 1 :], "lost")
       for n, stage in enumerate(LINE[:-1])},
}  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "account_reach",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        *(sa.Column(name, sa.DateTime(timezone=True), nullable=True) for name in COLUMNS),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_reach_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_reach")),
    )
    firsts = ", ".join(
        "min(CASE WHEN to_stage IN ({}) THEN at END)".format(", ".join(f"'{s}'" for s in stages))
        for stages in COLUMNS.values()
    )
    op.execute(
        f"INSERT INTO account_reach (account_id, {', '.join(COLUMNS)}) "
        f"SELECT account_id, {firsts} FROM stage_changes GROUP BY account_id"
    )
    won = sa.text("outcome = 'won'")
    op.create_index("ix_interactions_won", "interactions", ["outcome", "at"],
                    sqlite_where=won, postgresql_where=won)  # fmt: skip
    op.create_index("ix_stage_changes_to_stage", "stage_changes", ["to_stage", "at"])


def downgrade() -> None:
    op.drop_index("ix_stage_changes_to_stage", table_name="stage_changes")
    op.drop_index("ix_interactions_won", table_name="interactions")
    op.drop_table("account_reach")
