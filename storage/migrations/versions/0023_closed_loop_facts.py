"""The closed loop's segments of every account and its learnings, kept beside the rows they
come from.

``account_segments``: per account, deleted or not, its tier as scored, the ICP version that
put it on the target list and the rep who owns it (its target's, listed or removed), its
industry and its source, so that the closed loop groups the accounts it counts by one narrow
row each instead of looking up each one's account, score and target. ``learning_facts``: per
interaction with something learned that no later entry corrects, its account, its time and
how telling it is, in the order of the account, so that the learnings digest counts a
period's learnings without reading the interactions.

Both are filled here from the existing rows, as they were at this revision
(storage.segments and storage.learning_facts keep them up to date from now on and may
change with them later).

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30 12:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime(timezone=True)
accounts = sa.table(
    "accounts", sa.column("id", sa.Uuid), sa.column("industry", sa.String),
    sa.column("source", sa.String),
)  # fmt: skip
scores = sa.table("account_scores", sa.column("account_id", sa.Uuid), sa.column("tier", sa.String))
targets = sa.table(
    "targets", sa.column("account_id", sa.Uuid), sa.column("icp_version_id", sa.Uuid),
    sa.column("owner_id", sa.Uuid),
)  # fmt: skip
interactions = sa.table(
    "interactions", sa.column("id", sa.Uuid), sa.column("account_id", sa.Uuid),
    sa.column("at", TIME), sa.column("outcome", sa.String), sa.column("lead", sa.String),
    sa.column("meaningful", sa.Boolean), sa.column("learned", sa.Text),
    sa.column("supersedes_id", sa.Uuid),
)  # fmt: skip
SEGMENTS = ("account_id", "tier", "icp_version_id", "industry", "source", "owner_id")
LEARNINGS = ("account_id", "at", "interaction_id", "telling")
#: Outcomes whose learning is most telling: how a deal went, or why it did not.
TELLING = ("won", "lost", "not-a-fit", "opportunity")


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
        sqlite_with_rowid=False,
    )
    op.create_table(
        "learning_facts",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("interaction_id", sa.Uuid(), nullable=False),
        sa.Column("telling", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "account_id", "at", "interaction_id", name=op.f("pk_learning_facts")
        ),
        sqlite_with_rowid=False,
    )
    segments = sa.select(
        accounts.c.id, scores.c.tier, targets.c.icp_version_id, accounts.c.industry,
        accounts.c.source, targets.c.owner_id,
    ).select_from(
        accounts.outerjoin(scores, scores.c.account_id == accounts.c.id)
        .outerjoin(targets, targets.c.account_id == accounts.c.id)
    )  # fmt: skip
    later = interactions.alias("correcting")
    i = interactions.c
    telling = sa.case(
        (i.outcome.in_(TELLING), 2), (i.lead == "rejected", 2), (i.meaningful.is_(True), 1),
        else_=0,
    )  # fmt: skip
    learnings = sa.select(i.account_id, i.at, i.id, telling).where(
        i.learned != "", ~sa.exists().where(later.c.supersedes_id == i.id)
    )
    bind = op.get_bind()
    for name, columns, rows in (("account_segments", SEGMENTS, segments),
                                ("learning_facts", LEARNINGS, learnings)):  # fmt: skip
        into = sa.table(name, *map(sa.column, columns))
        bind.execute(into.insert().from_select(list(columns), rows))


def downgrade() -> None:
    op.drop_table("learning_facts")
    op.drop_table("account_segments")
