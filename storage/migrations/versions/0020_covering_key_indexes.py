"""The key indexes an engagement file's rows are matched through hold what the matching
reads, so that it never reads the accounts' or the contacts' rows: a website's domain and
an account's name with the account's id, a contact's e-mail with when it was made, its id
and its account's; and the deletion time, always empty in these live-row indexes, since
SQLite reads a row to check a partial index's condition unless the index holds its column

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 09:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("deleted_at IS NULL")
#: Index → its table, its columns before and its columns now.
WIDENED = {
    "ix_accounts_live_domain_key": ("accounts", ["domain_key"],
                                    ["domain_key", "id", "deleted_at"]),
    "ix_accounts_live_name_key": ("accounts", ["name_key", "country"],
                                  ["name_key", "country", "id", "deleted_at"]),
    "ix_contacts_live_email_key": ("contacts", ["email_key"],
                                   ["email_key", "created_at", "id", "account_id", "deleted_at"]),
}  # fmt: skip


def _index(name: str, table: str, columns: list[str]) -> None:
    op.drop_index(name, table_name=table)
    op.create_index(name, table, columns, sqlite_where=LIVE, postgresql_where=LIVE)


def upgrade() -> None:
    for name, (table, _, columns) in WIDENED.items():
        _index(name, table, columns)


def downgrade() -> None:
    for name, (table, columns, _) in WIDENED.items():
        _index(name, table, columns)
