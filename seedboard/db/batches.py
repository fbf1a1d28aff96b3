"""Store functions for numbered batches of results, so a retried batch is stored once.

The batch's row and its results are stored in one write transaction; the
primary key on (run, number) decides which of two copies is stored, even when
two server processes receive them at the same moment.  A finished run is closed:
a new batch for it is refused, while one stored before still answers as a duplicate.
Results are stored as given: ``seedboard.services.results.add_batch`` fingerprints them first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, select

from seedboard.db.bulk import insert_new
from seedboard.db.models import Batch
from seedboard.db.runs import RunFinished, append_results, lock_run
from seedboard.domain import Result, ResultColumns


def store_batch(
    conn: Connection,
    run_id: str,
    number: int,
    results: Sequence[Result] | ResultColumns,
    stored_at: datetime,
) -> bool:
    """Store batch ``number`` of a run and its results; False if it was stored before.

    Raises ``UnknownRun`` for a run never created, and ``RunFinished`` for a new batch
    of a run that has finished (a batch stored before is still just False: a retry
    whose answer was lost).  Call it inside one write transaction, so that nothing of
    a refused batch is kept.
    """
    run = lock_run(conn, run_id)
    if run.finished_at is not None:
        if _is_stored(conn, run_id, number):
            return False
        raise RunFinished(run_id, run.finished_at, "run_id")
    # Inserting the batch's row first claims its number: a worker storing the same
    # batch at the same moment waits on that key, then finds it taken.
    row = {"run_id": run_id, "number": number, "stored_at": stored_at, "count": len(results)}
    if not insert_new(conn, Batch, row):
        return False
    append_results(conn, run, results)
    return True


def _is_stored(conn: Connection, run_id: str, number: int) -> bool:
    query = select(Batch.number).where(Batch.run_id == run_id, Batch.number == number)
    return conn.execute(query).first() is not None


def batch_numbers(conn: Connection, run_id: str) -> list[int]:
    """The numbers of the batches stored for a run, in order."""
    query = select(Batch.number).where(Batch.run_id == run_id).order_by(Batch.number)
    return list(conn.execute(query).scalars())
