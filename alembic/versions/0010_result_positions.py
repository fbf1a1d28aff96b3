"""Results keep their position in the run's order, so an order-dependent failure can be hunted.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE, never batch mode (see 0003): results stored before have no
    # position, and keep NULL.
    op.add_column("results", sa.Column("position", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("results", "position")
