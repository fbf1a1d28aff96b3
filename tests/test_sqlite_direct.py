"""Tests for the reporter's standard-library SQLite writer: the same rows as the store."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from seedboard.db import runs, sqlite_direct
from seedboard.db.engine import Database, open_database
from seedboard.db.migrate import ensure_schema
from seedboard.domain import Outcome, Result, RunStart
from seedboard.settings import sqlite_file
from tests.support import result, run_start

TABLES = ("runs", "tests", "results")


def migrated_file(case: SynchronousTestCase) -> tuple[Path, Database]:
    path = Path(case.mktemp()).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    database = open_database(f"sqlite:///{path}")
    ensure_schema(database)
    case.addCleanup(database.dispose)
    return path, database


def rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(path) as conn:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in TABLES}


def sample_batches() -> list[list[Result]]:
    """Two batches: new tests, every outcome, failures to fingerprint, then a moved test."""
    first = [
        result("pkg.T.test_ok"),
        result("pkg.T.test_fail", Outcome.FAILURE, seed=7),
        result("pkg.T.test_error", Outcome.ERROR, seed=8),
        result("pkg.T.test_skip", Outcome.SKIP, seed=None, message="no network"),
        result("pkg.T.test_nowhere", file=None, line=None),
    ]
    second = [
        result("pkg.T.test_ok", line=99),
        result("pkg.T.test_new", Outcome.UNEXPECTED_SUCCESS),
        result("pkg.T.test_fail", Outcome.EXPECTED_FAILURE, message="known"),
    ]
    return [first, second]


class SameRowsTests(SynchronousTestCase):
    def test_same_rows_as_the_store(self) -> None:
        """A run written directly leaves exactly the rows the SQLAlchemy store leaves."""
        start = run_start(order_seed=3, run_seed=2**40, is_replay=True, build_url="http://ci/1")
        finished = start.started_at + timedelta(seconds=2.5)
        stored_path, stored = migrated_file(self)
        direct_path, _ = migrated_file(self)
        stored.write(runs.create_run, start)
        conn = sqlite_direct.connect(direct_path)
        assert conn is not None
        self.addCleanup(conn.close)
        self.assertTrue(sqlite_direct.create_run(conn, start))
        for batch in sample_batches():
            stored.write(runs.add_results, start.id, batch)
            sqlite_direct.add_results(conn, start.id, batch)
        stored.write(runs.finish_run, start.id, finished)
        sqlite_direct.finish_run(conn, start.id, finished)
        self.assertEqual(rows(direct_path), rows(stored_path))
        self.assertEqual(len(rows(direct_path)["results"]), 8)
        detail = stored.read(runs.run_summary, start.id)
        assert detail is not None
        self.assertEqual(detail.start, start)

    def test_retried_create_is_harmless(self) -> None:
        """Creating a run twice keeps the first, as the store does."""
        path, _ = migrated_file(self)
        conn = sqlite_direct.connect(path)
        assert conn is not None
        self.addCleanup(conn.close)
        start = run_start()
        self.assertTrue(sqlite_direct.create_run(conn, start))
        self.assertFalse(sqlite_direct.create_run(conn, start))
        self.assertEqual(len(rows(path)["runs"]), 1)

    def test_unknown_run(self) -> None:
        """Results for a run never created are refused and nothing is written."""
        path, _ = migrated_file(self)
        conn = sqlite_direct.connect(path)
        assert conn is not None
        self.addCleanup(conn.close)
        with self.assertRaises(sqlite_direct.UnknownRun):
            sqlite_direct.add_results(conn, "nope", [result()])
        self.assertEqual(rows(path)["tests"], [])
        self.assertFalse(conn.in_transaction)

    def test_naive_time_refused(self) -> None:
        """A time without a zone is refused, as UTCDateTime refuses it."""
        path, _ = migrated_file(self)
        conn = sqlite_direct.connect(path)
        assert conn is not None
        self.addCleanup(conn.close)
        start = RunStart(
            id="a" * 32,
            started_at=datetime(2026, 1, 1),
            host="h",
            python_version="3",
            twisted_version="26",
            command="trial",
        )
        with self.assertRaises(ValueError):
            sqlite_direct.create_run(conn, start)
        self.assertEqual(rows(path)["runs"], [])


class ConnectTests(SynchronousTestCase):
    def test_only_current_schema(self) -> None:
        """connect gives None for a missing file, a non-database, no schema or an old one."""
        folder = Path(self.mktemp())
        folder.mkdir()
        self.assertIsNone(sqlite_direct.connect(folder / "missing.db"))
        self.assertFalse((folder / "missing.db").exists())
        (folder / "text.db").write_text("not a database\n" * 100)
        self.assertIsNone(sqlite_direct.connect(folder / "text.db"))
        sqlite3.connect(folder / "empty.db").close()
        self.assertIsNone(sqlite_direct.connect(folder / "empty.db"))
        path, _ = migrated_file(self)
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE alembic_version SET version_num = '0002'")
        self.assertIsNone(sqlite_direct.connect(path))

    def test_sqlite_file(self) -> None:
        """Only plain sqlite:///PATH URLs name a file to write directly."""
        self.assertEqual(sqlite_file("sqlite:////tmp/x.db"), Path("/tmp/x.db"))
        self.assertIsNone(sqlite_file("sqlite://"))
        self.assertIsNone(sqlite_file("sqlite:///:memory:"))
        self.assertIsNone(sqlite_file("sqlite:////tmp/x.db?mode=ro"))
        self.assertIsNone(sqlite_file("postgresql://u@h/db"))
