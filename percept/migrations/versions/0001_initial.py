"""The operations and models tables as Percept kept them before Alembic.

A SQLite file an earlier version made already has them, perhaps without ``parent_id`` or its index: what is
missing is added and the rows stay, so this revision both creates a new database and adopts an old one.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

INDEXES = {"operations_status": "status", "operations_expires": "expires", "operations_parent": "parent_id"}


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    tables = set(inspector.get_table_names())
    if "operations" not in tables:
        op.create_table(
            "operations",
            sa.Column("id", sa.Text, primary_key=True),
            sa.Column("kind", sa.Text, nullable=False),
            sa.Column("model_id", sa.Text, nullable=False),
            sa.Column("status", sa.Text, nullable=False),
            sa.Column("created", sa.Float, nullable=False),
            sa.Column("updated", sa.Float, nullable=False),
            sa.Column("expires", sa.Float),
            sa.Column("params", sa.Text, nullable=False),
            sa.Column("error", sa.Text),
            sa.Column("parent_id", sa.Text),
        )
        have: set[str] = set()
    else:
        if "parent_id" not in {c["name"] for c in inspector.get_columns("operations")}:
            op.add_column("operations", sa.Column("parent_id", sa.Text))
        have = {str(i["name"]) for i in inspector.get_indexes("operations")}
    for name, column in INDEXES.items():
        if name not in have:
            op.create_index(name, "operations", [column])
    if "models" not in tables:
        op.create_table(
            "models",
            sa.Column("id", sa.Text, primary_key=True),
            sa.Column("name", sa.Text),
            sa.Column("status", sa.Text, nullable=False),
            sa.Column("created", sa.Float, nullable=False),
            sa.Column("updated", sa.Float, nullable=False),
            sa.Column("params", sa.Text, nullable=False),
            sa.Column("train_result", sa.Text),
            sa.Column("keys", sa.Text),
        )


def downgrade() -> None:
    op.drop_table("models")
    op.drop_table("operations")
