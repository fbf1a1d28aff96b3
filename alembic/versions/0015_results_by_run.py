"""SQLite: results indexed by (run, test) alone, in place of (test, run) and (run).

Revision ID: 0015
Revises: 0014

A batch's inserts then touch the pages at its run's end rather than one page per test
(bench/README.md, ingest).  PostgreSQL keeps its indexes: it gains little there.
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        return
    op.drop_index("ix_results_test_id_run_key", table_name="results")
    op.drop_index("ix_results_run_key", table_name="results")
    op.create_index("ix_results_run_key_test_id_all", "results", ["run_key", "test_id"])


def downgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        return
    op.drop_index("ix_results_run_key_test_id_all", table_name="results")
    op.create_index("ix_results_run_key", "results", ["run_key"])
    op.create_index("ix_results_test_id_run_key", "results", ["test_id", "run_key"])
