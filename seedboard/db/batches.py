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
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import DBAPIError

from seedboard.db.bulk import Row, claiming, insert_new, together
from seedboard.db.models import Batch
from seedboard.db.runs import (
    RunFinished,
    UnknownRun,
    append_results,
    lock_run,
    locking_run,
    run_times,
    test_lookup,
)
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
    row = {"run_id": run_id, "number": number, "stored_at": stored_at, "count": len(results)}
    if conn.dialect.name == "postgresql":
        return _store_together(conn, row, results)
    run = lock_run(conn, run_id)
    if run.finished_at is not None:
        if _is_stored(conn, run_id, number):
            return False
        raise RunFinished(run_id, run.finished_at, "run_id")
    # Inserting the batch's row first claims its number: a worker storing the same
    # batch at the same moment waits on that key, then finds it taken.
    if not insert_new(conn, Batch, row):
        return False
    append_results(conn, run, results)
    return True


def _store_together(
    conn: Connection, row: dict[str, Any], results: Sequence[Result] | ResultColumns
) -> bool:
    """``store_batch`` on PostgreSQL: the run's lock, the batch's row and the lookup of
    its tests sent in one round trip (``bulk.together``) instead of one each.

    The batch's number is claimed whether or not the run has finished: a batch refused
    for that is rolled back with the rest, and one stored before finds its number taken.
    """
    run_id = row["run_id"]
    names = list(
        dict.fromkeys(
            results.test_id if isinstance(results, ResultColumns) else (r.test_id for r in results)
        )
    )
    calls = [locking_run(run_id), claiming(conn, Batch, row)]
    if names:
        calls += test_lookup(conn, names)
    done: list[list[Row]] = []
    try:
        together(conn, calls, done)
    except DBAPIError:
        if done and not done[0]:  # no run to lock: its batch's row failed on its key
            raise UnknownRun(run_id) from None
        raise
    run = run_times(run_id, done[0])
    if not done[1]:
        return False
    if run.finished_at is not None:
        raise RunFinished(run_id, run.finished_at, "run_id")
    append_results(conn, run, results, done[-1] if names else [])
    return True


def _is_stored(conn: Connection, run_id: str, number: int) -> bool:
    query = select(Batch.number).where(Batch.run_id == run_id, Batch.number == number)
    return conn.execute(query).first() is not None


def batch_numbers(conn: Connection, run_id: str) -> list[int]:
    """The numbers of the batches stored for a run, in order."""
    query = select(Batch.number).where(Batch.run_id == run_id).order_by(Batch.number)
    return list(conn.execute(query).scalars())
