"""Persistence: the database schema, migrations, repositories, bulk paths and file readers."""
