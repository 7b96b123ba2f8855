"""Workspaces made before migrations 0003 and 0005 were edited catch up

Both migrations were changed after they had upgraded workspaces: 0003 gained the index over
the live decision-maker contacts, and 0005 lost the score table's foreign key and gained the
index over the live accounts' search text. A workspace upgraded by the first versions says
it is at 0005, yet reads whole tables where an index should answer and checks a reference
for every score it writes. This adds what is missing and drops the foreign key; on a
workspace made by today's migrations it does nothing.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("deleted_at IS NULL")
#: What the edits added: index name, table, columns.
INDEXES = (
    ("ix_contacts_live_decision_maker", "contacts", ["account_id", "decision_maker"]),
    ("ix_accounts_live_search_text", "accounts", ["search_text"]),
)
#: What the edit of 0005 removed.
FOREIGN_KEY = "fk_account_scores_account_id_accounts"


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    for name, table, columns in INDEXES:
        if name not in {index["name"] for index in inspector.get_indexes(table)}:
            op.create_index(name, table, columns, sqlite_where=LIVE, postgresql_where=LIVE)
    if FOREIGN_KEY in {key["name"] for key in inspector.get_foreign_keys("account_scores")}:
        # SQLite copies the table to drop a constraint; it stays WITHOUT ROWID.
        with op.batch_alter_table(
            "account_scores", table_kwargs={"sqlite_with_rowid": False}
        ) as batch:
            batch.drop_constraint(FOREIGN_KEY, type_="foreignkey")


def downgrade() -> None:
    """Nothing to undo: 0005 as it stands makes the same schema."""
