"""Trends: each test's passes and failures per UTC day and branch, kept at ingest.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "test_days",
        sa.Column("test_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("branch", sa.String(255), nullable=False),
        sa.Column("passes", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["test_id"], ["tests.id"], name="fk_test_days_test_id_tests"),
        sa.PrimaryKeyConstraint("test_id", "day", "branch", name="pk_test_days"),
        sqlite_with_rowid=False,
    )
    # Results stored before this revision are counted once, here; ingest keeps it current.
    op.execute(
        "INSERT INTO test_days (test_id, day, branch, passes, failures)"
        " SELECT results.test_id, date(runs.started_at), coalesce(runs.branch, ''),"
        " sum(CASE WHEN results.outcome IN ('success', 'expected_failure') THEN 1 ELSE 0 END),"
        " sum(CASE WHEN results.outcome IN ('failure', 'error', 'unexpected_success')"
        " THEN 1 ELSE 0 END)"
        " FROM results JOIN runs ON runs.id = results.run_id"
        " WHERE NOT runs.is_replay"
        " GROUP BY results.test_id, date(runs.started_at), coalesce(runs.branch, '')"
    )


def downgrade() -> None:
    op.drop_table("test_days")
