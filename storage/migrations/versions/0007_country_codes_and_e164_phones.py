"""Accounts keep their country's ISO 3166 code and their phone in E.164 beside what was
typed; contacts their phone in E.164

The country code is filled by one UPDATE from a table of the workspace's distinct
countries (a few hundred spellings at most, looked up once each); the phones are read in
chunks of rows that have one, normalised in Python and written back with their digits
added to the account's search text. The list sorts countries by their code: its index
replaces the one over what was typed.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 21:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from domain.values import country_code, phone_e164

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("deleted_at IS NULL")
CHUNK = 20_000

accounts = sa.table(
    "accounts",
    sa.column("id", sa.Uuid),
    sa.column("country", sa.String),
    sa.column("country_code", sa.String),
    sa.column("phone", sa.String),
    sa.column("phone_e164", sa.String),
    sa.column("search_text", sa.Text),
)
contacts = sa.table(
    "contacts",
    sa.column("id", sa.Uuid),
    sa.column("account_id", sa.Uuid),
    sa.column("phone", sa.String),
    sa.column("phone_e164", sa.String),
)


def upgrade() -> None:
    op.add_column("accounts", sa.Column("country_code", sa.String(length=2), nullable=True))
    op.add_column("accounts", sa.Column("phone_e164", sa.String(length=16), nullable=True))
    op.add_column("contacts", sa.Column("phone_e164", sa.String(length=16), nullable=True))
    conn = op.get_bind()
    _fill_country_codes(conn)
    _fill_account_phones(conn)
    _fill_contact_phones(conn)
    op.drop_index("ix_accounts_live_country", table_name="accounts")
    op.create_index(
        "ix_accounts_live_country_code",
        "accounts",
        ["country_code", "id"],
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )


def _fill_country_codes(conn: sa.Connection) -> None:
    typed = conn.execute(
        sa.select(accounts.c.country).distinct().where(accounts.c.country.is_not(None))
    ).scalars()
    found = [{"typed": t, "code": code} for t in typed if (code := country_code(t))]
    if not found:
        return
    codes = sa.Table(
        "country_codes_0007",
        sa.MetaData(),
        sa.Column("typed", sa.String(255), primary_key=True),
        sa.Column("code", sa.String(2)),
        prefixes=["TEMPORARY"],
    )
    codes.create(conn)
    conn.execute(codes.insert(), found)
    conn.execute(
        accounts.update()
        .values(country_code=codes.c.code)
        .where(accounts.c.country == codes.c.typed)
    )
    codes.drop(conn)


def _chunks(conn: sa.Connection, statement: sa.Select[Any], key: Any) -> Any:
    """Rows of ``statement`` in chunks, in the order of ``key`` (read after each chunk)."""
    last = None
    while True:
        page = statement if last is None else statement.where(key > last)
        rows = conn.execute(page.order_by(key).limit(CHUNK)).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _fill_account_phones(conn: sa.Connection) -> None:
    rows = sa.select(accounts.c.id, accounts.c.phone, accounts.c.country_code).where(
        accounts.c.phone.is_not(None)
    )
    write = (
        accounts.update()
        .where(accounts.c.id == sa.bindparam("key"))
        .values(
            phone_e164=sa.bindparam("e164"),
            # derived_columns puts the number's digits last in the search text
            search_text=accounts.c.search_text + sa.bindparam("digits"),
        )
    )
    for chunk in _chunks(conn, rows, accounts.c.id):
        found = [
            {"key": id_, "e164": e164, "digits": f"{e164[1:]} "}
            for id_, phone, code in chunk
            if (e164 := phone_e164(phone, code))
        ]
        if found:
            conn.execute(write, found)


def _fill_contact_phones(conn: sa.Connection) -> None:
    rows = (
        sa.select(contacts.c.id, contacts.c.phone, accounts.c.country_code)
        .select_from(contacts.join(accounts, accounts.c.id == contacts.c.account_id))
        .where(contacts.c.phone.is_not(None))
    )
    write = (
        contacts.update()
        .where(contacts.c.id == sa.bindparam("key"))
        .values(phone_e164=sa.bindparam("e164"))
    )
    for chunk in _chunks(conn, rows, contacts.c.id):
        found = [
            {"key": id_, "e164": e164}
            for id_, phone, code in chunk
            if (e164 := phone_e164(phone, code))
        ]
        if found:
            conn.execute(write, found)


def downgrade() -> None:
    op.drop_index("ix_accounts_live_country_code", table_name="accounts")
    op.create_index(
        "ix_accounts_live_country",
        "accounts",
        ["country", "id"],
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )
    op.drop_column("contacts", "phone_e164")
    op.drop_column("accounts", "phone_e164")
    op.drop_column("accounts", "country_code")
