"""Tests for the flaky page's and a test's triage: stored results judged, on the suite's
real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from twisted.trial.unittest import SynchronousTestCase

from seedboard.domain import Outcome
from seedboard.services.flaky import flaky_tests, test_triage
from seedboard.triage.classify import Classification
from seedboard.triage.trends import SPARKLINE
from tests.support import record_run, result, run_start, temporary_database

BASE = datetime(2026, 10, 1, tzinfo=UTC)


class FlakyStoreTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.db = temporary_database(self)
        self.day = 0

    def run_with(self, *results: tuple[str, Outcome, int | None], branch: str = "main") -> None:
        self.day += 1
        record_run(
            self.db,
            [result(name, outcome, seed=seed) for name, outcome, seed in results],
            run_start(BASE + timedelta(days=self.day), branch=branch),
        )

    def test_classes_and_ranking(self) -> None:
        """Non-stable tests are listed most worrying first; stable ones are left out."""
        for seed in (1, 2, 3):
            self.run_with(
                ("t.Broken.test_x", Outcome.ERROR, seed),
                ("t.Seeded.test_x", Outcome.SUCCESS, seed),
                ("t.Fine.test_x", Outcome.SUCCESS, seed),
            )
        for _ in range(2):
            self.run_with(
                ("t.Broken.test_x", Outcome.ERROR, 9),
                ("t.Seeded.test_x", Outcome.FAILURE, 9),
                ("t.Fine.test_x", Outcome.SUCCESS, 9),
            )
        found = self.db.read(flaky_tests)
        self.assertEqual(
            [(t.test_id, t.verdict.classification) for t in found],
            [
                ("t.Broken.test_x", Classification.BROKEN),
                ("t.Seeded.test_x", Classification.SEED_DEPENDENT),
            ],
        )
        seeded = found[1]
        [failing] = [s for s in seeded.seeds if s.failed]
        self.assertEqual((failing.seed, failing.failed), (9, 2))
        self.assertEqual(failing.command, "SEEDBOARD_SEED=9 trial t.Seeded.test_x")
        [group] = seeded.groups
        self.assertEqual((group.count, group.seeds), (2, (9,)))

    def test_window_and_branch(self) -> None:
        """Old failures outside the window, or on another branch, do not count."""
        self.run_with(("t.A.test_x", Outcome.FAILURE, 1), branch="feature")
        for seed in range(3):
            self.run_with(("t.A.test_x", Outcome.SUCCESS, seed), branch="main")
        self.assertEqual(self.db.read(flaky_tests, 3), [])
        self.assertEqual(self.db.read(flaky_tests, 50, "main"), [])
        [on_feature] = self.db.read(flaky_tests, 50, "feature")
        self.assertEqual(on_feature.verdict.classification, Classification.BROKEN)

    def test_recent_outcomes(self) -> None:
        """Each test carries its latest outcomes for a sparkline, oldest first, on the
        branch asked for, however small the window it is judged on."""
        outcomes = [Outcome.SUCCESS, Outcome.FAILURE, Outcome.SKIP] * 12
        for seed, outcome in enumerate(outcomes):
            self.run_with(("t.A.test_x", outcome, seed))
        self.run_with(("t.A.test_x", Outcome.ERROR, 99), branch="dev")
        [on_main] = self.db.read(flaky_tests, 3, "main")
        self.assertEqual(on_main.recent, tuple(outcomes[-SPARKLINE:]))
        self.assertEqual((on_main.verdict.runs, on_main.verdict.failures), (2, 1))
        everywhere = self.db.read(test_triage, "t.A.test_x")
        assert everywhere is not None
        self.assertEqual(everywhere.recent, (*outcomes[-SPARKLINE + 1 :], Outcome.ERROR))

    def test_one_test(self) -> None:
        """One test's triage, stable or not; None for a test never seen."""
        self.run_with(("t.A.test_x", Outcome.SUCCESS, 1))
        triaged = self.db.read(test_triage, "t.A.test_x")
        assert triaged is not None
        self.assertEqual(triaged.verdict.classification, Classification.STABLE)
        self.assertEqual((triaged.file, triaged.line), ("mypkg/test_a.py", 10))
        self.assertIsNone(self.db.read(test_triage, "t.Nope.test_x"))
