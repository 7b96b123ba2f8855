"""The shared goal's facts, kept beside the rows they come from: one row per won deal that
stands, per move that stands and reaches the meeting, opportunity or won stage or moves to
lost (with the account's previous move of the same kind), and per open deal, each with its
account's tier, source, industry and rep now, filled here from the existing rows, so that
the goal's figures add up a period's rows in one index instead of looking every event's
account up.

The fill is written out here as it was at this revision (storage.goal_facts keeps the
table up to date from now on and may change with it later).

Revision ID: 0021
Revises: 0019
Create Date: 2026-11-30 09:40:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime(timezone=True)
#: The funnel in its order, won last, and the stages whose reaching the goal counts.
FUNNEL = ("targeted", "sales-ready", "contacted", "meeting", "opportunity", "won")
REACHED = ("meeting", "opportunity", "won")

accounts = sa.table(
    "accounts", sa.column("id", sa.Uuid), sa.column("source", sa.String),
    sa.column("industry", sa.String),
)  # fmt: skip
scores = sa.table("account_scores", sa.column("account_id", sa.Uuid), sa.column("tier", sa.String))
targets = sa.table(
    "targets", sa.column("id", sa.Uuid), sa.column("account_id", sa.Uuid),
    sa.column("owner_id", sa.Uuid), sa.column("stage", sa.String),
    sa.column("deleted_at", TIME),
)  # fmt: skip
interactions = sa.table(
    "interactions", sa.column("id", sa.Uuid), sa.column("account_id", sa.Uuid),
    sa.column("at", TIME), sa.column("outcome", sa.String), sa.column("value", sa.BigInteger),
    sa.column("supersedes_id", sa.Uuid),
)  # fmt: skip
stage_changes = sa.table(
    "stage_changes", sa.column("id", sa.Uuid), sa.column("account_id", sa.Uuid),
    sa.column("from_stage", sa.String), sa.column("to_stage", sa.String),
    sa.column("at", TIME), sa.column("interaction_id", sa.Uuid),
)  # fmt: skip
COLUMNS = ("account_id", "kind", "row_id", "at", "since", "amount", "owner_id", "tier",
           "source", "industry")  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "goal_facts",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("row_id", sa.Uuid(), nullable=False),
        sa.Column("at", TIME, nullable=True),
        sa.Column("since", TIME, nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("tier", sa.String(length=1), nullable=True),
        sa.Column("source", sa.String(length=255), nullable=True),
        sa.Column("industry", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("account_id", "kind", "row_id", name=op.f("pk_goal_facts")),
    )
    into = sa.table("goal_facts", *map(sa.column, COLUMNS))
    op.get_bind().execute(into.insert().from_select(list(COLUMNS), _events()))
    indexed = ["kind", "at", "since", "amount", "owner_id", "tier", "source", "industry"]
    op.create_index("ix_goal_facts_kind", "goal_facts", indexed)


def downgrade() -> None:
    op.drop_index("ix_goal_facts_kind", table_name="goal_facts")
    op.drop_table("goal_facts")


def _kept(interaction_id: Any) -> Any:
    correcting = interactions.alias("correcting")
    return ~sa.exists().where(correcting.c.supersedes_id == interaction_id)


def _event(account_id: Any, kind: str, row_id: Any, at: Any, since: Any, amount: Any) -> Any:
    return sa.select(
        account_id.label("account_id"), sa.literal(kind, sa.String).label("kind"),
        row_id.label("row_id"), at.label("at"), since.label("since"), amount.label("amount"),
    )  # fmt: skip


def _events() -> Any:
    s, i, t = stage_changes.c, interactions.c, targets.c
    standing = sa.or_(s.interaction_id.is_(None), _kept(s.interaction_id))
    earlier = sa.func.lag(s.at).over(partition_by=s.account_id, order_by=(s.at, s.id))
    none = sa.cast(sa.null(), TIME)
    one = sa.literal(1, sa.BigInteger)

    def reaching(stage: str) -> Any:
        at = FUNNEL.index(stage)
        return sa.and_(
            s.to_stage.in_(FUNNEL[at:]),
            sa.or_(s.from_stage.is_(None), s.from_stage.in_([*FUNNEL[:at], "lost"])),
        )

    moves = [
        _event(s.account_id, kind, s.id, s.at, earlier, one).where(which, standing)
        for kind, which in [(k, reaching(k)) for k in REACHED] + [("lost", s.to_stage == "lost")]
    ]
    deal = (
        sa.select(i.value)
        .where(i.account_id == t.account_id, i.outcome == "opportunity", _kept(i.id))
        .order_by(i.at.desc(), i.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    events = sa.union_all(
        _event(i.account_id, "won-deal", i.id, i.at, none, sa.func.coalesce(i.value, 0)).where(
            i.outcome == "won", _kept(i.id)
        ),
        *moves,
        _event(t.account_id, "open-deal", t.id, none, none, deal).where(
            t.deleted_at.is_(None), t.stage == "opportunity"
        ),
    ).subquery("events")
    e = events.c
    return sa.select(
        *events.c,
        sa.select(t.owner_id).where(t.account_id == e.account_id).scalar_subquery(),
        sa.select(scores.c.tier).where(scores.c.account_id == e.account_id).scalar_subquery(),
        sa.select(accounts.c.source).where(accounts.c.id == e.account_id).scalar_subquery(),
        sa.select(accounts.c.industry).where(accounts.c.id == e.account_id).scalar_subquery(),
    )
