"""Seed triage: runs keep their run seed and whether they were replays; failures their fingerprint.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_BAD = ("failure", "error", "unexpected_success")


def upgrade() -> None:
    # Plain ALTER TABLE, never batch mode: on SQLite a batch copies and drops the
    # table, and dropping runs would cascade-delete every result.
    op.add_column("runs", sa.Column("run_seed", sa.BigInteger(), nullable=True))
    op.add_column(
        "runs", sa.Column("is_replay", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("results", sa.Column("fingerprint", sa.String(16), nullable=True))
    _fingerprint_stored_failures()


def _fingerprint_stored_failures() -> None:
    """Failures stored before this revision get their fingerprint, so they group too."""
    from seedboard.triage.fingerprint import fingerprint

    results = sa.table(
        "results",
        sa.column("id", sa.Integer),
        sa.column("outcome", sa.String),
        sa.column("exception_type", sa.Text),
        sa.column("message", sa.Text),
        sa.column("traceback", sa.Text),
        sa.column("fingerprint", sa.String),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(
            results.c.id, results.c.exception_type, results.c.message, results.c.traceback
        ).where(results.c.outcome.in_(_BAD))
    ).all()
    if rows:
        conn.execute(
            results.update()
            .where(results.c.id == sa.bindparam("row_id"))
            .values(fingerprint=sa.bindparam("print")),
            [
                {
                    "row_id": row.id,
                    "print": fingerprint(row.exception_type, row.message, row.traceback),
                }
                for row in rows
            ],
        )


def downgrade() -> None:
    op.drop_column("results", "fingerprint")
    op.drop_column("runs", "is_replay")
    op.drop_column("runs", "run_seed")
