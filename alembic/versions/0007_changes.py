"""A count of the writes that change what pages show: cached pages compare it.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    changes = op.create_table(
        "changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_changes"),
    )
    op.bulk_insert(changes, [{"id": 1, "count": 0}])


def downgrade() -> None:
    op.drop_table("changes")
