"""An account's street address, postal code and description, as CRM exports carry them

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 21:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("address", sa.String(length=255), nullable=True))
    op.add_column("accounts", sa.Column("postal_code", sa.String(length=20), nullable=True))
    op.add_column("accounts", sa.Column("description", sa.String(length=4000), nullable=True))


def downgrade() -> None:
    op.drop_column("accounts", "description")
    op.drop_column("accounts", "postal_code")
    op.drop_column("accounts", "address")
