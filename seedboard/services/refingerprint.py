"""Stored failures fingerprinted again, after a change to the masking rules
(``seedboard.triage.fingerprint``): the Alembic revisions that change them call this."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection

from seedboard.domain import BAD_OUTCOMES
from seedboard.triage.fingerprint import fingerprint

BATCH = 5000
"""Failures read and rewritten per round trip: a large history never sits in memory whole."""

# The columns as every revision since 0003 has them, not the models of today: a
# revision runs against the schema of its own time.
_RESULTS = sa.table(
    "results",
    sa.column("id", sa.Integer),
    sa.column("outcome", sa.String),
    sa.column("exception_type", sa.Text),
    sa.column("message", sa.Text),
    sa.column("traceback", sa.Text),
    sa.column("fingerprint", sa.String),
)


def recompute_fingerprints(conn: Connection) -> int:
    """Give every stored failure the fingerprint of today's rules; how many changed."""
    columns = _RESULTS.c
    read = (
        sa.select(
            columns.id,
            columns.exception_type,
            columns.message,
            columns.traceback,
            columns.fingerprint,
        )
        .where(
            columns.outcome.in_([outcome.value for outcome in BAD_OUTCOMES]),
            columns.id > sa.bindparam("after"),
        )
        .order_by(columns.id)
        .limit(BATCH)
    )
    write = (
        _RESULTS.update()
        .where(columns.id == sa.bindparam("row_id"))
        .values(fingerprint=sa.bindparam("print"))
    )
    after, changed = 0, 0
    while rows := conn.execute(read, {"after": after}).all():
        after = rows[-1].id
        updates = [
            {"row_id": row.id, "print": new}
            for row in rows
            if (new := fingerprint(row.exception_type, row.message, row.traceback))
            != row.fingerprint
        ]
        if updates:
            conn.execute(write, updates)
            changed += len(updates)
    return changed
