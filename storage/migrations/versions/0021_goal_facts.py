"""The shared goal's facts and the call queue's, kept beside the rows they come from.

``goal_facts``: one row per won deal that stands, per move that stands and reaches the
meeting, opportunity or won stage or moves to lost (with the account's previous move of the
same kind), and per open deal, each with its account's tier, source, industry and rep now,
so that the goal's figures add up a period's rows in one index instead of looking every
event's account up. ``queue_facts``: per open target of a live account, its owner,
priority, hand-off, score, last touch and current follow-up date, so that the head of a
rep's queue is read in an index in queue order.

Both are filled here from the existing rows, as they were at this revision
(storage.goal_facts and storage.queue_facts keep them up to date from now on and may change
with them later).

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30 09:40:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime(timezone=True)
#: The funnel in its order, won last, and the stages whose reaching the goal counts.
FUNNEL = ("targeted", "sales-ready", "contacted", "meeting", "opportunity", "won")
REACHED = ("meeting", "opportunity", "won")

accounts = sa.table(
    "accounts", sa.column("id", sa.Uuid), sa.column("source", sa.String),
    sa.column("industry", sa.String), sa.column("deleted_at", TIME),
)  # fmt: skip
scores = sa.table("account_scores", sa.column("account_id", sa.Uuid), sa.column("tier", sa.String),
                  sa.column("score", sa.Integer))  # fmt: skip
targets = sa.table(
    "targets", sa.column("id", sa.Uuid), sa.column("account_id", sa.Uuid),
    sa.column("owner_id", sa.Uuid), sa.column("stage", sa.String),
    sa.column("deleted_at", TIME), sa.column("priority", sa.Integer),
    sa.column("handed_off_at", TIME),
)  # fmt: skip
interactions = sa.table(
    "interactions", sa.column("id", sa.Uuid), sa.column("account_id", sa.Uuid),
    sa.column("at", TIME), sa.column("outcome", sa.String), sa.column("value", sa.BigInteger),
    sa.column("supersedes_id", sa.Uuid), sa.column("follow_up", sa.Date),
)  # fmt: skip
stage_changes = sa.table(
    "stage_changes", sa.column("id", sa.Uuid), sa.column("account_id", sa.Uuid),
    sa.column("from_stage", sa.String), sa.column("to_stage", sa.String),
    sa.column("at", TIME), sa.column("interaction_id", sa.Uuid),
)  # fmt: skip
COLUMNS = ("account_id", "kind", "row_id", "at", "since", "amount", "owner_id", "tier",
           "source", "industry")  # fmt: skip
QUEUE_COLUMNS = ("account_id", "owner_id", "priority", "score", "handed_off_at", "last_touch",
                 "follow_up")  # fmt: skip


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
    segments = ["kind", "tier", "source", "industry", "owner_id", "at", "since", "amount"]
    op.create_index("ix_goal_facts_segments", "goal_facts", segments)
    op.create_table(
        "queue_facts",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("handed_off_at", TIME, nullable=True),
        sa.Column("last_touch", TIME, nullable=True),
        sa.Column("follow_up", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_queue_facts")),
    )
    into = sa.table("queue_facts", *map(sa.column, QUEUE_COLUMNS))
    op.get_bind().execute(into.insert().from_select(list(QUEUE_COLUMNS), _queue()))
    score: Any = sa.column("score").desc()
    op.create_index("ix_queue_facts_rank", "queue_facts", ["owner_id", "priority", score,
                    "last_touch", "account_id", "follow_up", "handed_off_at"])  # fmt: skip
    op.create_index("ix_queue_facts_handed_off_at", "queue_facts", ["owner_id", "handed_off_at",
                    "priority", score, "last_touch", "account_id", "follow_up"])  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_queue_facts_handed_off_at", table_name="queue_facts")
    op.drop_index("ix_queue_facts_rank", table_name="queue_facts")
    op.drop_table("queue_facts")
    op.drop_index("ix_goal_facts_segments", table_name="goal_facts")
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


def _queue() -> Any:
    t, i = targets.c, interactions
    newest, later, touch = i.alias("newest"), i.alias("later"), i.alias("touch")
    follow_up = (
        sa.select(newest.c.follow_up)
        .where(
            newest.c.account_id == t.account_id,
            ~sa.exists().where(later.c.supersedes_id == newest.c.id),
        )
        .order_by(newest.c.at.desc(), newest.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return sa.select(
        t.account_id, t.owner_id, t.priority,
        sa.select(scores.c.score).where(scores.c.account_id == t.account_id).scalar_subquery(),
        t.handed_off_at,
        sa.select(sa.func.max(touch.c.at)).where(touch.c.account_id == t.account_id)
        .scalar_subquery(),
        follow_up,
    ).where(
        t.deleted_at.is_(None),
        t.stage.not_in(["won", "lost"]),
        sa.exists().where(accounts.c.id == t.account_id, accounts.c.deleted_at.is_(None)),
    )  # fmt: skip
