"""Alembic environment: migrations run from code on the connection Accord hands over."""

from alembic import context

from storage.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only the alembic command line lands here
    raise SystemExit("Run migrations through Accord: python main.py --db … (it upgrades on open)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
