"""Order dependencies: the polluters ``seedboard bisect`` found, by run and victim.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "order_dependencies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("victim_id", sa.Integer(), nullable=False),
        sa.Column("polluter_id", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("found_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
            name="fk_order_dependencies_run_id_runs",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["victim_id"], ["tests.id"], name="fk_order_dependencies_victim_id_tests"
        ),
        sa.ForeignKeyConstraint(
            ["polluter_id"], ["tests.id"], name="fk_order_dependencies_polluter_id_tests"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_order_dependencies"),
    )
    op.create_index(
        "ix_order_dependencies_victim_id_found_at",
        "order_dependencies",
        ["victim_id", "found_at"],
    )
    op.create_index("ix_order_dependencies_run_id", "order_dependencies", ["run_id"])


def downgrade() -> None:
    op.drop_table("order_dependencies")
