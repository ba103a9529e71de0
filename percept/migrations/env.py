"""Alembic's environment: Percept runs migrations on a connection it opened (``config.attributes``), inside the
transaction that also holds the migration lock, so there is no engine or ini file here."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
