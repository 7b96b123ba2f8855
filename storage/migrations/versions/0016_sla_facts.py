"""The service agreement's facts, kept beside the rows they come from: one row per live
hand-off of a live account (its rep and tier, its first touch, its first ten attempts, won
or lost, its first meaningful interaction, rating and verdict, as times) and one per
follow-up date (the next interaction after it), filled here from the existing rows, so
that the dashboard and the SLA report compare stored times instead of searching every
hand-off's interactions.

The fill is written out here as it was at this revision (storage.sla_facts keeps the
tables up to date from now on and may change with them later).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 04:30:00
"""

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ATTEMPTS = [f"attempt_{n}" for n in range(1, 11)]
TIME = sa.DateTime(timezone=True)

targets = sa.table(
    "targets",
    sa.column("account_id", sa.Uuid),
    sa.column("owner_id", sa.Uuid),
    sa.column("handed_off_at", TIME),
    sa.column("deleted_at", TIME),
)
interactions = sa.table(
    "interactions",
    sa.column("id", sa.Uuid),
    sa.column("account_id", sa.Uuid),
    sa.column("at", TIME),
    sa.column("meaningful", sa.Boolean),
    sa.column("quality", sa.Integer),
    sa.column("lead", sa.String),
    sa.column("follow_up", sa.Date),
    sa.column("supersedes_id", sa.Uuid),
    sa.column("logged_by", sa.String),
)
accounts = sa.table("accounts", sa.column("id", sa.Uuid), sa.column("deleted_at", TIME))
scores = sa.table("account_scores", sa.column("account_id", sa.Uuid), sa.column("tier", sa.String))
stage_changes = sa.table(
    "stage_changes",
    sa.column("account_id", sa.Uuid),
    sa.column("to_stage", sa.String),
    sa.column("at", TIME),
)


def upgrade() -> None:
    op.create_table(
        "handoff_facts",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("handed_off_at", TIME, nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("tier", sa.String(length=1), nullable=True),
        *(sa.Column(name, TIME, nullable=True) for name in ATTEMPTS),
        sa.Column("closed_at", TIME, nullable=True),
        sa.Column("first_meaningful", TIME, nullable=True),
        sa.Column("rated_at", TIME, nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rating_at", TIME, nullable=True),
        sa.Column("verdict", sa.String(length=20), nullable=True),
        sa.Column("verdict_at", TIME, nullable=True),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_handoff_facts")),
    )
    op.create_table(
        "follow_up_facts",
        sa.Column("interaction_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("logged_by", sa.String(length=120), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("follow_up", sa.Date(), nullable=False),
        sa.Column("next_at", TIME, nullable=True),
        sa.PrimaryKeyConstraint("interaction_id", name=op.f("pk_follow_up_facts")),
    )
    conn = op.get_bind()
    for table, rows in (("handoff_facts", _handoffs()), ("follow_up_facts", _follow_ups())):
        names = list(rows.selected_columns.keys())
        into = sa.table(table, *(sa.column(n) for n in names))
        conn.execute(into.insert().from_select(names, rows))
    # From the stored first meaningful interaction: nested in the subquery that finds it,
    # correlated two levels up, SQLite does not work it out per hand-off.
    facts = sa.table(
        "handoff_facts", *map(sa.column, ("account_id", "first_meaningful", "rated_at"))
    )
    i = interactions.alias("i")
    rated_at = sa.select(sa.func.min(i.c.at)).where(
        i.c.account_id == facts.c.account_id,
        i.c.at >= facts.c.first_meaningful,
        i.c.quality.is_not(None),
        _current(i),
    )
    conn.execute(
        facts.update()
        .where(facts.c.first_meaningful.is_not(None))
        .values({"rated_at": rated_at.scalar_subquery()})
    )
    op.create_index("ix_handoff_facts_handed_off_at", "handoff_facts", ["handed_off_at"])
    op.create_index("ix_follow_up_facts_account_id", "follow_up_facts", ["account_id"])
    op.create_index("ix_follow_up_facts_follow_up", "follow_up_facts",
                    ["follow_up", "logged_by", "at", "next_at"])  # fmt: skip


def downgrade() -> None:
    op.drop_table("follow_up_facts")
    op.drop_table("handoff_facts")


def _current(alias: Any) -> Any:
    later = interactions.alias()
    return ~sa.exists().where(later.c.supersedes_id == alias.c.id)


def _handoffs() -> sa.Select:  # type: ignore[type-arg]
    mine, at = targets.c.account_id, targets.c.handed_off_at

    def nth(n: int, *more: Callable[[Any], Any], value: str = "at") -> Any:
        i = interactions.alias()
        found = sa.select(i.c[value]).where(
            i.c.account_id == mine, i.c.at > at, _current(i), *(m(i.c) for m in more)
        )
        return found.order_by(i.c.at, i.c.id).offset(n - 1).limit(1).scalar_subquery()

    def given(name: str) -> Callable[[Any], Any]:
        return lambda c: c[name].is_not(None)

    closed = sa.select(sa.func.min(stage_changes.c.at)).where(
        stage_changes.c.account_id == mine,
        stage_changes.c.at > at,
        stage_changes.c.to_stage.in_(["won", "lost"]),
    )
    return sa.select(
        mine.label("account_id"),
        at.label("handed_off_at"),
        targets.c.owner_id,
        sa.select(scores.c.tier).where(scores.c.account_id == mine).scalar_subquery().label("tier"),
        *(nth(n).label(name) for n, name in enumerate(ATTEMPTS, 1)),
        closed.scalar_subquery().label("closed_at"),
        nth(1, lambda c: c.meaningful.is_(True)).label("first_meaningful"),
        nth(1, given("quality"), value="quality").label("rating"),
        nth(1, given("quality")).label("rating_at"),
        nth(1, given("lead"), value="lead").label("verdict"),
        nth(1, given("lead")).label("verdict_at"),
    ).where(
        targets.c.deleted_at.is_(None),
        at.is_not(None),
        sa.exists().where(accounts.c.id == mine, accounts.c.deleted_at.is_(None)),
    )


def _follow_ups() -> sa.Select:  # type: ignore[type-arg]
    s, k = interactions, interactions.alias("k")
    following = (
        sa.select(k.c.at)
        .where(k.c.account_id == s.c.account_id, k.c.at > s.c.at, _current(k))
        .order_by(k.c.at)
        .limit(1)
        .scalar_subquery()
    )
    return sa.select(
        s.c.id.label("interaction_id"),
        s.c.account_id,
        s.c.logged_by,
        s.c.at,
        s.c.follow_up,
        following.label("next_at"),
    ).where(s.c.follow_up.is_not(None), _current(s))
