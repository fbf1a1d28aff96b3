"""Recording into a current SQLite file with the standard library alone.

The usual case of embedded mode, and the cheap one: no SQLAlchemy in trial's
process (see ``seedboard.db.sqlite_direct``).  A new file, an older schema or
another database goes through ``embedded.EmbeddedTarget`` instead.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from seedboard.db import sqlite_direct
from seedboard.domain import Result, RunStart
from seedboard.settings import sqlite_file


class DirectTarget:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    @classmethod
    def open(cls, url: str) -> DirectTarget | None:
        """A target for ``url`` if it names a SQLite file already at the newest revision."""
        path = sqlite_file(url)
        connection = None if path is None else sqlite_direct.connect(path)
        return None if connection is None else cls(connection)

    def create_run(self, run: RunStart) -> None:
        sqlite_direct.create_run(self._connection, run)

    def add_results(self, run_id: str, results: list[Result]) -> None:
        sqlite_direct.add_results(self._connection, run_id, results)

    def finish_run(self, run_id: str, finished_at: datetime) -> None:
        sqlite_direct.finish_run(self._connection, run_id, finished_at)

    def close(self) -> None:
        self._connection.close()
