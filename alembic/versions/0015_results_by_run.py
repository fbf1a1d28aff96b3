"""SQLite: results indexed by (run, test) alone, in place of (test, run) and (run).

Revision ID: 0015
Revises: 0014

A batch's inserts then touch the pages at its run's end rather than one page per test
(bench/README.md, ingest).  PostgreSQL keeps its indexes: it gains little there.

The partial index of bad results is made again after the others: SQLite's planner,
between two indexes it finds as good, takes the one created last, and only the
partial one finds a window's failures without reading its passes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

_BAD_OR = sa.text("outcome = 'failure' OR outcome = 'error' OR outcome = 'unexpected_success'")

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
    _bad_index_last()


def downgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        return
    op.drop_index("ix_results_run_key_test_id_all", table_name="results")
    op.create_index("ix_results_run_key", "results", ["run_key"])
    op.create_index("ix_results_test_id_run_key", "results", ["test_id", "run_key"])
    _bad_index_last()


def _bad_index_last() -> None:
    op.drop_index("ix_results_run_key_test_id", table_name="results")
    op.create_index(
        "ix_results_run_key_test_id", "results", ["run_key", "test_id"], sqlite_where=_BAD_OR
    )
