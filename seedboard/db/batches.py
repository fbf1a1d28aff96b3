"""Store functions for numbered batches of results, so a retried batch is stored once.

The check for an earlier copy and the insert happen in one write transaction
(on SQLite the writer's ``BEGIN IMMEDIATE`` holds the lock throughout), and
the primary key on (run, number) refuses a second copy whatever happens.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, insert, select

from seedboard.db.models import Batch
from seedboard.db.runs import append_results, require_run
from seedboard.domain import Result


def add_batch(
    conn: Connection, run_id: str, number: int, results: Sequence[Result], stored_at: datetime
) -> bool:
    """Store batch ``number`` of a run and its results; False if it was stored before.

    Raises ``UnknownRun`` for a run never created.  Call it inside one write
    transaction, so that nothing of a refused batch is kept.
    """
    require_run(conn, run_id)
    if _stored(conn, run_id, number):
        return False
    conn.execute(
        insert(Batch).values(run_id=run_id, number=number, stored_at=stored_at, count=len(results))
    )
    append_results(conn, run_id, results)
    return True


def batch_numbers(conn: Connection, run_id: str) -> list[int]:
    """The numbers of the batches stored for a run, in order."""
    query = select(Batch.number).where(Batch.run_id == run_id).order_by(Batch.number)
    return list(conn.execute(query).scalars())


def _stored(conn: Connection, run_id: str, number: int) -> bool:
    query = select(Batch.number).where(Batch.run_id == run_id, Batch.number == number)
    return conn.execute(query).first() is not None
