"""The follow-ups' tallies, ``follow_up_days``: per follow-up date and rep, how many
follow-ups there are by how late the next interaction came, in quarters of an hour from the
end of the date in UTC (-57: that early or earlier; 48: that late or later, or none), so that
the follow-ups kept of a period are added up from a few rows per date in any time zone.

Filled here from the follow-ups' facts as they were at this revision (storage.sla_facts
keeps it up to date from now on and may change with it later).

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30 12:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STEP, EARLIEST, LATEST = 900, -57, 48
SPENT = sa.text("due = 0")


def upgrade() -> None:
    op.create_table(
        "follow_up_days",
        sa.Column("follow_up", sa.Date(), nullable=False),
        sa.Column("logged_by", sa.String(length=120), nullable=False),
        sa.Column("late", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("due", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("follow_up", "logged_by", "late", name=op.f("pk_follow_up_days")),
    )
    if op.get_bind().dialect.name == "postgresql":
        seconds = "CAST(floor(extract(epoch FROM next_at)) AS BIGINT)"
        date_end = "CAST(extract(epoch FROM follow_up + 1) AS BIGINT)"
        least, most = "least", "greatest"
    else:
        seconds = "CAST(strftime('%s', next_at) AS INTEGER)"
        date_end = "CAST(strftime('%s', follow_up, '+1 day') AS INTEGER)"
        least, most = "min", "max"
    low, high = EARLIEST * STEP, LATEST * STEP
    late = (
        f"CASE WHEN next_at IS NULL THEN {LATEST} ELSE "
        f"({least}({most}({seconds} - {date_end}, {low}), {high}) - ({low})) / {STEP} "
        f"+ ({EARLIEST}) END"
    )
    op.execute(
        "INSERT INTO follow_up_days (follow_up, logged_by, late, due) "
        f"SELECT follow_up, logged_by, {late} AS late, count(*) FROM follow_up_facts "
        f"GROUP BY follow_up, logged_by, {late}"
    )
    op.create_index(
        "ix_follow_up_days_spent",
        "follow_up_days",
        ["follow_up"],
        sqlite_where=SPENT,
        postgresql_where=SPENT,
    )


def downgrade() -> None:
    op.drop_index("ix_follow_up_days_spent", table_name="follow_up_days")
    op.drop_table("follow_up_days")
