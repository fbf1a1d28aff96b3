"""Tests for the flaky store functions: the tests that failed lately and their samples."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from twisted.trial.unittest import SynchronousTestCase

from seedboard.db.flaky import failing_tests, find_test, latest_samples
from seedboard.domain import Outcome, Sample
from tests.support import record_run, result, run_start, temporary_database

BASE = datetime(2026, 10, 1, tzinfo=UTC)


class FlakyStoreTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.db = temporary_database(self)

    def test_find_test(self) -> None:
        """A test is found by name with its key and place; one never seen is None."""
        record_run(self.db, [result("t.A.test_x", file="t/a.py", line=7)])
        found = self.db.read(find_test, "t.A.test_x")
        assert found is not None
        self.assertEqual((found.name, found.file, found.line), ("t.A.test_x", "t/a.py", 7))
        self.assertIsNone(self.db.read(find_test, "t.Nope.test_x"))

    def test_failing_tests(self) -> None:
        """The tests with a bad result in the latest runs, on the branch asked for, by name."""
        record_run(self.db, [result("t.old", Outcome.FAILURE)], run_start(BASE))
        later = run_start(BASE + timedelta(days=1), branch="dev")
        record_run(self.db, [result("t.b", Outcome.ERROR), result("t.a", Outcome.FAILURE)], later)
        record_run(self.db, [result("t.c", Outcome.SKIP)], run_start(BASE + timedelta(days=2)))
        self.assertEqual([t.name for t in self.db.read(failing_tests, 2)], ["t.a", "t.b"])
        self.assertEqual([t.name for t in self.db.read(failing_tests, 2, "main")], ["t.old"])

    def test_latest_samples(self) -> None:
        """A test's latest results come newest first, as samples with their run's facts."""
        first = record_run(self.db, [result("t.x", seed=1)], run_start(BASE, order_seed=3))
        second = run_start(BASE + timedelta(days=1), is_replay=True)
        record_run(self.db, [result("t.x", Outcome.FAILURE, seed=2)], second)
        test = self.db.read(find_test, "t.x")
        assert test is not None
        [samples] = self.db.read(latest_samples, [test.key], 10).values()
        self.assertEqual([s.run_id for s in samples], [second.id, first.id])
        newest = samples[0]
        self.assertIsInstance(newest, Sample)
        self.assertEqual(newest.started_at, second.started_at)
        self.assertIs(newest.outcome, Outcome.FAILURE)
        self.assertEqual((newest.seed, newest.is_replay), (2, True))
        self.assertEqual((samples[1].order_seed, samples[1].fingerprint), (3, None))
        self.assertEqual(self.db.read(latest_samples, [test.key], 1)[test.key], [newest])
