"""The funnel's summary in whole seconds, with the days in each stage; each account's
campaigns with its segments

``account_reach`` keeps when each account first reached each stage and first left each open
stage as whole seconds since 1970 in UTC (its fraction cut off), and the whole days it
spent in each open stage (``days_<stage>``, none if it has not left it or left it before it
came), so that the closed loop compares numbers with the period's bounds instead of parsing
a million times, and reads each account's days instead of working them out. The summary
holds nothing of its own: it is made again here from the stage changes there are, as the
rules of domain.closed_loop stand at this revision (storage.reach keeps it from now on).

``account_segments`` keeps the campaigns each account engaged with (``campaigns``: each
once, in order, a control character between them), so that the closed loop does not group
the whole engagement by account at every read; filled here from the engagement there is
(storage.segments keeps it from now on).

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-30 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The funnel's line, in order; lost is off it.
LINE = ("targeted", "sales-ready", "contacted", "meeting", "opportunity", "won")
#: Each time the summary keeps and the stages a move to which sets it: a stage is reached by
#: a move to it or to a later stage of the line, and an open stage is left by a move to a
#: later stage or to lost.
TIMES = {
    **{stage.replace("-", "_"): LINE[n:] for n, stage in enumerate(LINE)},
    "lost": ("lost",),
    **{f"left_{stage.replace('-', '_')}": (*LINE[n + 1 :], "lost")
       for n, stage in enumerate(LINE[:-1])},
}  # fmt: skip
#: The open stages, whose days the summary keeps.
OPEN = [stage.replace("-", "_") for stage in LINE[:-1]]


def upgrade() -> None:
    op.drop_table("account_reach")
    op.create_table(
        "account_reach",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=True) for name in TIMES),
        *(sa.Column(f"days_{stage}", sa.Integer(), nullable=True) for stage in OPEN),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_reach_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_reach")),
    )
    if op.get_bind().dialect.name == "postgresql":
        seconds = "CAST(floor(extract(epoch FROM {})) AS BIGINT)"
        days = "CAST(floor(extract(epoch FROM ({1} - {0})) / 86400) AS INTEGER)"
        campaigns = "string_agg(campaign, chr(31))"
    else:
        campaigns = "group_concat(campaign, char(31))"
        seconds = "CAST(strftime('%s', substr({}, 1, 19)) AS INTEGER)"
        whole = "CAST(strftime('%s', {}) AS INTEGER)"
        days = f"(({whole.format('{1}')} - {whole.format('{0}')}) / 86400)"
    kept = [seconds.format(name) for name in TIMES]
    kept += [
        f"CASE WHEN left_{stage} >= {stage} THEN {days.format(stage, f'left_{stage}')} END"
        for stage in OPEN
    ]
    names = [*TIMES, *(f"days_{stage}" for stage in OPEN)]
    op.execute(
        f"INSERT INTO account_reach (account_id, {', '.join(names)}) "
        f"SELECT account_id, {', '.join(kept)} FROM "
        f"({_firsts()}) AS firsts"
    )
    op.add_column("account_segments", sa.Column("campaigns", sa.Text(), nullable=True))
    named = "campaign IS NOT NULL AND campaign != ''"
    each = (
        "SELECT DISTINCT campaign FROM engagements "
        f"WHERE engagements.account_id = account_segments.account_id AND {named} "
        "ORDER BY campaign"
    )
    op.execute(
        "UPDATE account_segments SET campaigns = "
        f"(SELECT {campaigns} FROM ({each}) AS each_campaign) "
        f"WHERE account_id IN (SELECT account_id FROM engagements WHERE {named})"
    )


def downgrade() -> None:
    op.drop_column("account_segments", "campaigns")
    op.drop_table("account_reach")
    op.create_table(
        "account_reach",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        *(sa.Column(name, sa.DateTime(timezone=True), nullable=True) for name in TIMES),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_reach_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_reach")),
    )
    op.execute(f"INSERT INTO account_reach (account_id, {', '.join(TIMES)}) {_firsts()}")


def _firsts() -> str:
    """Each account's first move that sets each time the summary keeps, as stored."""
    firsts = ", ".join(
        "min(CASE WHEN to_stage IN ({}) THEN at END) AS {}".format(
            ", ".join(f"'{s}'" for s in stages), name
        )
        for name, stages in TIMES.items()
    )
    return f"SELECT account_id, {firsts} FROM stage_changes GROUP BY account_id"
