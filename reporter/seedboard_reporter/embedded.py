"""Recording straight into a database, with the server's own store functions.

This module imports SQLAlchemy: the writer process imports it, never trial's
process (unless no process can be started, and then on the recorder's thread).
"""

from __future__ import annotations

from datetime import datetime

from seedboard.db import runs
from seedboard.db.engine import Database, open_database
from seedboard.db.migrate import ensure_schema
from seedboard.domain import Outcome, Result
from seedboard.services.notify import finish_run_with_events
from seedboard.services.results import add_results
from seedboard_reporter.recorder import Row, RunFacts


def result_of(row: Row) -> Result:
    """The row as a record, field by field by name."""
    return Result(**{**row._asdict(), "outcome": Outcome(row.outcome)})


class EmbeddedTarget:
    def __init__(self, database: Database) -> None:
        self._database = database

    @classmethod
    def open(cls, url: str) -> EmbeddedTarget:
        database = open_database(url)
        try:
            ensure_schema(database)
        except BaseException:
            database.dispose()
            raise
        return cls(database)

    def create_run(self, facts: RunFacts) -> None:
        self._database.write(runs.create_run, facts.start())

    def add_results(self, run_id: str, rows: list[Row]) -> None:
        self._database.write(add_results, run_id, [result_of(row) for row in rows])

    def finish_run(self, run_id: str, finished_at: datetime) -> None:
        # Webhooks' events are written with the finish; a server delivers them.
        self._database.write(finish_run_with_events, run_id, finished_at)

    def close(self) -> None:
        self._database.dispose()
