"""The hand-offs' facts in whole seconds too

``handoff_facts`` keeps the times the agreement's compliance finds the day of (the
hand-off, its attempts, its close, its first meaningful interaction and its rating) also as
whole seconds since 1970 in UTC (``<fact>_seconds``), so that a read finds a fact's day by
dividing a number instead of parsing its time. Filled here from the facts' times
(storage.sla_facts keeps them from now on).

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-30 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FACTS = ("handed_off_at", *(f"attempt_{n}" for n in range(1, 11)), "closed_at",
         "first_meaningful", "rated_at")  # fmt: skip


def upgrade() -> None:
    for name in FACTS:
        op.add_column("handoff_facts", sa.Column(f"{name}_seconds", sa.BigInteger(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        seconds = "CAST(floor(extract(epoch FROM {})) AS BIGINT)"
    else:
        seconds = "CAST(strftime('%s', substr({}, 1, 19)) AS INTEGER)"
    filled = ", ".join(f"{name}_seconds = {seconds.format(name)}" for name in FACTS)
    op.execute(f"UPDATE handoff_facts SET {filled}")


def downgrade() -> None:
    for name in reversed(FACTS):
        op.drop_column("handoff_facts", f"{name}_seconds")
