"""Pages: a partial index on failing results, by run then test.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_BAD_ONLY = sa.text("outcome IN ('failure', 'error', 'unexpected_success')")


def upgrade() -> None:
    op.create_index(
        "ix_results_run_id_test_id",
        "results",
        ["run_id", "test_id"],
        sqlite_where=_BAD_ONLY,
        postgresql_where=_BAD_ONLY,
    )


def downgrade() -> None:
    op.drop_index("ix_results_run_id_test_id", table_name="results")
