"""Leases: which server instance runs an operation, until when, and how many claims it has had.

Several instances on one database claim pending operations by setting ``lease_owner`` and ``lease_expires``;
one that dies stops renewing, and another takes the operation over once the lease has expired.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("operations", sa.Column("lease_owner", sa.Text))
    op.add_column("operations", sa.Column("lease_expires", sa.Float))
    op.add_column("operations", sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("operations", "attempts")
    op.drop_column("operations", "lease_expires")
    op.drop_column("operations", "lease_owner")
