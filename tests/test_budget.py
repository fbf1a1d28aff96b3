"""Tests for a read's time budget, on the suite's real database."""

from __future__ import annotations

import time

from sqlalchemy import Connection, text
from twisted.trial.unittest import SynchronousTestCase

from seedboard.db.budget import OutOfTime, within
from seedboard.db.runs import list_runs
from tests.support import record_run, result, temporary_database


def slow(conn: Connection) -> object:
    """One statement that takes seconds."""
    if conn.dialect.name == "postgresql":
        return conn.execute(text("SELECT pg_sleep(5)")).scalar()
    counting = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
        "SELECT count(*) FROM (SELECT x FROM c LIMIT 1000000000)"
    )
    return conn.execute(text(counting)).scalar()


def statements(conn: Connection, pause: float) -> int:
    """Quick statements with Python work between them."""
    for _ in range(20):
        conn.execute(text("SELECT 1")).scalar()
        time.sleep(pause)
    return 20


class BudgetTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.db = temporary_database(self)
        record_run(self.db, [result()])

    def test_within_budget(self) -> None:
        """A read that fits its budget answers as usual."""
        page = self.db.read(within, time.monotonic() + 10, list_runs, 5, None)
        self.assertEqual(len(page.runs), 1)

    def test_slow_statement_stopped(self) -> None:
        """A statement still running at the deadline is stopped, soon after it; the
        connection then reads as usual, with no budget left behind."""
        started = time.monotonic()
        with self.assertRaises(OutOfTime):
            self.db.read(within, started + 0.2, slow)
        self.assertLess(time.monotonic() - started, 1.5)
        for _ in range(3):  # whichever pooled connection comes next
            self.assertEqual(len(self.db.read(list_runs, 5, None).runs), 1)
        if not self.db.is_sqlite:
            shown = self.db.read(lambda c: c.execute(text("SHOW statement_timeout")).scalar())
            self.assertEqual(shown, "0")

    def test_no_statement_after_the_deadline(self) -> None:
        """Python work between statements counts: no statement starts after the deadline."""
        started = time.monotonic()
        with self.assertRaises(OutOfTime):
            self.db.read(within, started + 0.2, statements, 0.05)
        self.assertLess(time.monotonic() - started, 0.5)

    def test_already_late(self) -> None:
        """A read whose deadline has passed does not start."""
        with self.assertRaises(OutOfTime):
            self.db.read(within, time.monotonic() - 1, list_runs, 5, None)
