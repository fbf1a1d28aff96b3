"""Recording a run into a current SQLite file with the standard library's ``sqlite3``.

The reporter writes here from inside trial, where SQLAlchemy would cost more
than the recording itself: its import alone takes longer than a fast suite's
tests, and every module it loads slows trial's per-test warning bookkeeping,
which visits all of ``sys.modules``.  These functions write exactly the rows
``seedboard.db.runs`` writes (a test records the same run both ways and
compares the tables), and only into a database already at the newest revision:
``connect`` gives None for anything else, and the caller then goes through the
usual store, which creates or upgrades the schema.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from seedboard.db.head import HEAD
from seedboard.domain import Outcome, OutcomeCounts, Result, RunStart
from seedboard.triage.fingerprint import fingerprint

BUSY_TIMEOUT_MS = 30_000
"""As ``seedboard.db.engine``'s: wait this long for another writer's lock."""

_CHUNK = 500
"""Names per ``IN (...)``, as in ``seedboard.db.runs``."""

_RUN_COLUMNS = (
    "id, started_at, finished_at, host, python_version, twisted_version, command, order_seed,"
    ' branch, "commit", build_url, run_seed, is_replay, '
    + ", ".join(outcome.value for outcome in Outcome)
)
_INSERT_RUN = f"INSERT INTO runs ({_RUN_COLUMNS}) VALUES ({', '.join('?' * 19)})"
_INSERT_RESULT = (
    "INSERT INTO results (run_id, test_id, outcome, duration, seed, exception_type, message,"
    " traceback, fingerprint) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class UnknownRun(LookupError):
    """Results or an end were sent for a run that was never created."""


def connect(path: Path) -> sqlite3.Connection | None:
    """A connection to the existing SQLite file at ``path`` if its schema is current.

    None when the file is missing, is no database, or is not at ``HEAD``: the
    store's own path then creates, upgrades or reports it.
    """
    try:
        # mode=rw: never create a file here; the store's path does that with its schema.
        conn = sqlite3.connect(
            f"file:{quote(str(path))}?mode=rw",
            uri=True,
            isolation_level=None,
            check_same_thread=False,
            timeout=BUSY_TIMEOUT_MS / 1000,
        )
    except sqlite3.Error:
        return None
    try:
        if _revision(conn) != HEAD:
            conn.close()
            return None
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        conn.close()
        raise
    return conn


def _revision(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:  # no such table, or not a database at all
        return None
    return None if row is None else str(row[0])


def create_run(conn: sqlite3.Connection, run: RunStart) -> bool:
    """Store a new run; False if it exists already (as ``runs.create_run``)."""
    with _transaction(conn):
        if conn.execute("SELECT 1 FROM runs WHERE id = ?", (run.id,)).fetchone():
            return False
        conn.execute(
            _INSERT_RUN,
            (
                run.id,
                _stored_time(run.started_at),
                None,
                run.host,
                run.python_version,
                run.twisted_version,
                run.command,
                run.order_seed,
                run.branch,
                run.commit,
                run.build_url,
                run.run_seed,
                run.is_replay,
                *OutcomeCounts().as_dict().values(),
            ),
        )
    return True


def add_results(conn: sqlite3.Connection, run_id: str, results: Sequence[Result]) -> None:
    """Append results to a run in one transaction, keeping its counts current."""
    with _transaction(conn):
        _require_run(conn, run_id)
        if not results:
            return
        test_ids = _test_ids(conn, results)
        conn.executemany(
            _INSERT_RESULT,
            [
                (
                    run_id,
                    test_ids[result.test_id],
                    result.outcome.value,
                    result.duration,
                    result.seed,
                    result.exception_type,
                    result.message,
                    result.traceback,
                    _fingerprint_of(result),
                )
                for result in results
            ],
        )
        added = Counter(result.outcome.value for result in results)
        # Column names come from the Outcome enum, never from the results.
        assignments = ", ".join(f"{name} = {name} + ?" for name in added)
        conn.execute(f"UPDATE runs SET {assignments} WHERE id = ?", (*added.values(), run_id))


def finish_run(conn: sqlite3.Connection, run_id: str, finished_at: datetime) -> None:
    """Record when a run ended (as ``runs.finish_run``)."""
    with _transaction(conn):
        _require_run(conn, run_id)
        conn.execute(
            "UPDATE runs SET finished_at = ? WHERE id = ?", (_stored_time(finished_at), run_id)
        )


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any error, like the store's writer."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _require_run(conn: sqlite3.Connection, run_id: str) -> None:
    if conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
        raise UnknownRun(f"no run with id {run_id!r}")


def _stored_time(moment: datetime) -> str:
    """UTC without a zone, in SQLAlchemy's SQLite text form, as ``UTCDateTime`` stores it."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: seedboard stores UTC only")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _fingerprint_of(result: Result) -> str | None:
    if not result.outcome.is_bad:
        return None
    return fingerprint(result.exception_type, result.message, result.traceback)


def _test_ids(conn: sqlite3.Connection, results: Sequence[Result]) -> dict[str, int]:
    """Ids of the results' tests, adding new tests and moving ones whose line changed."""
    located = {r.test_id: (r.file, r.line) for r in results}
    known = dict(_known_tests(conn, list(located)))
    new = [name for name in located if name not in known]
    if new:
        conn.executemany(
            "INSERT INTO tests (name, file, line) VALUES (?, ?, ?)",
            [(name, *located[name]) for name in new],
        )
        known.update(_known_tests(conn, new))
    moved = [
        (file, line, known[name][0])
        for name, (file, line) in located.items()
        if file is not None and known[name][1] != (file, line)
    ]
    if moved:
        conn.executemany("UPDATE tests SET file = ?, line = ? WHERE id = ?", moved)
    return {name: known[name][0] for name in located}


def _known_tests(
    conn: sqlite3.Connection, names: list[str]
) -> Iterator[tuple[str, tuple[int, tuple[str | None, int | None]]]]:
    for start in range(0, len(names), _CHUNK):
        chunk = names[start : start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        query = f"SELECT id, name, file, line FROM tests WHERE name IN ({marks})"
        rows = conn.execute(query, chunk)
        for test_pk, name, file, line in rows:
            yield name, (test_pk, (file, line))
