"""A file's results into the database as one run, in one transaction, through the same
store functions as the server's write path."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from seedboard.db.runs import create_run, run_summary
from seedboard.domain import Result, RunStart
from seedboard.imports.common import Facts, FileFormat
from seedboard.imports.load import (
    Batches,
    Imported,
    Labels,
    Source,
    finished_at,
    read,
    run_start,
)
from seedboard.services.notify import finish_run_with_events
from seedboard.services.results import add_batch


def import_file(
    conn: Connection, source: Source, format: FileFormat, labels: Labels, now: datetime
) -> Imported:
    """Store ``source`` as a run, created once its first batch (or its end) has told when
    it started.  Call it in one write transaction: ``Unreadable`` part-way through
    leaves nothing stored."""
    known = run_summary(conn, source.run_id)
    if known is not None and known.finished_at is not None:
        return Imported(source.run_id, known.counts.total, new=False)
    facts = Facts()
    started: list[RunStart] = []

    def store(number: int, results: list[Result]) -> None:
        if not started:
            started.append(_created(conn, source, format, facts, labels))
        add_batch(conn, source.run_id, number, results, now)

    batches = Batches(store)
    read(source, format, batches, facts)
    batches.flush()
    run = started[0] if started else _created(conn, source, format, facts, labels)
    finish_run_with_events(conn, run.id, finished_at(run, facts))
    return Imported(run.id, facts.results, new=True)


def _created(
    conn: Connection, source: Source, format: FileFormat, facts: Facts, labels: Labels
) -> RunStart:
    run = run_start(source, format, facts, labels)
    create_run(conn, run)
    return run
