"""Tests for comparing two stored runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from twisted.trial.unittest import SynchronousTestCase

from seedboard.db.compare import NoSuchRun
from seedboard.domain import Outcome
from seedboard.services.compare import compare_runs, compare_with_previous
from tests.support import record_run, result, run_start, temporary_database

F = Outcome.FAILURE
BASE = datetime(2026, 3, 1, 12, tzinfo=UTC)


class CompareRunsTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.db = temporary_database(self)

    def record(self, hours: float) -> str:
        return record_run(self.db, [result("t")], run_start(BASE + timedelta(hours=hours))).id

    def test_compare_runs(self) -> None:
        """Comparing two stored runs diffs their results and carries both summaries."""
        a = record_run(self.db, [result("x"), result("y", F)], run_start(BASE))
        b = record_run(self.db, [result("x", F), result("y")], run_start(BASE + timedelta(1)))
        comparison = self.db.read(compare_runs, a.id, b.id)
        self.assertEqual((comparison.a.id, comparison.b.id), (a.id, b.id))
        self.assertEqual(comparison.diff.new_failures, ("x",))
        self.assertEqual(comparison.diff.fixed, ("y",))
        self.assertEqual(self.db.read(compare_with_previous, b.id), comparison)
        self.assertIsNone(self.db.read(compare_with_previous, a.id))

    def test_compare_unknown(self) -> None:
        """Comparing with a run that does not exist names it."""
        a = self.record(0)
        error = self.assertRaises(NoSuchRun, self.db.read, compare_runs, a, "nope")
        self.assertEqual(error.run_id, "nope")
