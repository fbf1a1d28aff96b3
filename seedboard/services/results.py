"""Storing results: each failure is fingerprinted, then the results are stored as one
bulk write (``seedboard.db.runs``, ``seedboard.db.batches``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection

from seedboard.db.batches import store_batch
from seedboard.db.runs import store_results
from seedboard.domain import Result, ResultColumns
from seedboard.triage.fingerprint import failure_fingerprints


def add_results(conn: Connection, run_id: str, results: Sequence[Result] | ResultColumns) -> None:
    """Append results to a run, their failures fingerprinted, keeping its counts current.

    Raises ``seedboard.db.runs.UnknownRun`` for a run never created, ``RunFinished``
    for one finished.
    """
    store_results(conn, run_id, fingerprinted(results))


def add_batch(
    conn: Connection,
    run_id: str,
    number: int,
    results: Sequence[Result] | ResultColumns,
    stored_at: datetime,
) -> bool:
    """Store batch ``number`` of a run and its results, their failures fingerprinted;
    False if it was stored before.

    Raises ``seedboard.db.runs.UnknownRun`` for a run never created, ``RunFinished``
    for a new batch of a finished run.  Call it inside one write transaction, so that
    nothing of a refused batch is kept.
    """
    return store_batch(conn, run_id, number, fingerprinted(results), stored_at)


def fingerprinted(results: Sequence[Result] | ResultColumns) -> ResultColumns:
    """``results`` as columns, with the fingerprint of each failure (any given is replaced:
    the server computes them, so that every client's failures group alike)."""
    columns = results if isinstance(results, ResultColumns) else ResultColumns.of(results)
    return replace(columns, fingerprint=failure_fingerprints(columns))
