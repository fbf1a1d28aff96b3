"""Stored failures get their fingerprint again, now that addresses and node names are masked.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_BAD = ("failure", "error", "unexpected_success")
# Failures read and rewritten per round trip: a large history never sits in memory whole.
_BATCH = 5000


def upgrade() -> None:
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
    read = (
        sa.select(
            results.c.id,
            results.c.exception_type,
            results.c.message,
            results.c.traceback,
            results.c.fingerprint,
        )
        .where(results.c.outcome.in_(_BAD), results.c.id > sa.bindparam("after"))
        .order_by(results.c.id)
        .limit(_BATCH)
    )
    write = (
        results.update()
        .where(results.c.id == sa.bindparam("row_id"))
        .values(fingerprint=sa.bindparam("print"))
    )
    after = 0
    while rows := conn.execute(read, {"after": after}).all():
        after = rows[-1].id
        changed = [
            {"row_id": row.id, "print": new}
            for row in rows
            if (new := fingerprint(row.exception_type, row.message, row.traceback))
            != row.fingerprint
        ]
        if changed:
            conn.execute(write, changed)


def downgrade() -> None:
    # The earlier rule's code is gone; fingerprints made by the new rule still group, and
    # upgrading again recomputes them.
    pass
