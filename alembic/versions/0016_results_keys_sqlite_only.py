"""Results' foreign keys to runs and tests dropped on PostgreSQL; SQLite keeps them.

Revision ID: 0016
Revises: 0015

PostgreSQL checks a foreign key with a trigger per inserted row that looks up and
locks the referred row: for the two keys of ``results`` that was two fifths of the
database server's CPU time a stored result, 19 to 19.5 µs with them against 10.5 to
12.5 without (bench/README.md, issue 18).  The models keep both keys, made on SQLite
only (``ddl_if``): there they cost nothing measurable, and dropping a
constraint would rebuild the table.

What the keys guaranteed, the store keeps on PostgreSQL:

- A result's run exists: results are inserted under their run's row lock
  (``runs.lock_run``), which ``deletes.delete_run`` takes before deleting the run,
  and ``delete_run`` deletes the run's results itself instead of cascading.
- A result's test exists: the store interns the batch's tests in the transaction that
  inserts the results, holding a shared lock (``runs.share_tests``) that
  ``delete_run`` takes exclusively before dropping the tests no result names.
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_KEYS = {
    "fk_results_run_key_runs": "FOREIGN KEY (run_key) REFERENCES runs (key) ON DELETE CASCADE",
    "fk_results_test_id_tests": "FOREIGN KEY (test_id) REFERENCES tests (id)",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in _KEYS:
        op.execute(f"ALTER TABLE results DROP CONSTRAINT {name}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, definition in _KEYS.items():
        op.execute(f"ALTER TABLE results ADD CONSTRAINT {name} {definition}")
