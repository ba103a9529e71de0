"""Alembic migrations of the operations and models tables, run by ``storage.Database.migrate`` on open."""
