"""Tests for comparing runs: the pure diff, and the store finding a run's previous run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from twisted.trial.unittest import SynchronousTestCase

from seedboard.db.compare import NoSuchRun, compare_runs, compare_with_previous, previous_run
from seedboard.domain import Outcome
from seedboard.triage.compare import RunDiff, compare
from tests.support import record_run, result, run_start, temporary_database

S, F, E, K = Outcome.SUCCESS, Outcome.FAILURE, Outcome.ERROR, Outcome.SKIP
BASE = datetime(2026, 3, 1, 12, tzinfo=UTC)


class CompareTests(SynchronousTestCase):
    def test_sections(self) -> None:
        """Each test lands in the section its two outcomes call for, sorted by id."""
        a = [("broke", S), ("healed", F), ("still", E), ("gone", S), ("same", S)]
        b = [("same", S), ("still", F), ("healed", S), ("broke", E), ("born", S)]
        self.assertEqual(
            compare(a, b),
            RunDiff(
                new_failures=("broke",),
                fixed=("healed",),
                still_failing=("still",),
                new_tests=("born",),
                removed_tests=("gone",),
            ),
        )

    def test_new_test_failing(self) -> None:
        """A test that is new and bad is both a new test and a new failure."""
        diff = compare([("old", S)], [("old", S), ("fresh", F)])
        self.assertEqual(diff.new_failures, ("fresh",))
        self.assertEqual(diff.new_tests, ("fresh",))

    def test_removed_failing_not_fixed(self) -> None:
        """A bad test that did not run again is removed, not fixed."""
        diff = compare([("went", F)], [])
        self.assertEqual(diff.fixed, ())
        self.assertEqual(diff.removed_tests, ("went",))

    def test_bad_outcomes(self) -> None:
        """Unexpected successes are bad; skips and expected failures are not."""
        a = [("u", S), ("k", F), ("x", F)]
        b = [("u", Outcome.UNEXPECTED_SUCCESS), ("k", K), ("x", Outcome.EXPECTED_FAILURE)]
        diff = compare(a, b)
        self.assertEqual(diff.new_failures, ("u",))
        self.assertEqual(diff.fixed, ("k", "x"))

    def test_repeated_test(self) -> None:
        """A test with several results in a run is bad there if any of them is."""
        diff = compare([("t", S), ("t", F)], [("t", S), ("t", S)])
        self.assertEqual(diff.fixed, ("t",))

    def test_unchanged(self) -> None:
        """Two runs alike are unchanged, even with tests failing in both."""
        diff = compare([("a", S), ("b", F)], [("b", F), ("a", S)])
        self.assertTrue(diff.unchanged)
        self.assertEqual(diff.still_failing, ("b",))
        self.assertFalse(compare([("a", S)], [("a", F)]).unchanged)

    def test_empty(self) -> None:
        """Two empty runs have no differences."""
        self.assertEqual(compare([], []), RunDiff((), (), (), (), ()))


class PreviousRunTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.db = temporary_database(self)

    def record(self, hours: float, branch: str | None = "main", **fields: object) -> str:
        start = run_start(BASE + timedelta(hours=hours), branch=branch, **fields)
        return record_run(self.db, [result("t")], start).id

    def previous(self, run_id: str) -> str | None:
        found = self.db.read(previous_run, run_id)
        return None if found is None else found.id

    def test_latest_earlier_same_branch(self) -> None:
        """The previous run is the latest earlier one on the same branch."""
        first = self.record(0)
        second = self.record(1)
        self.record(2, branch="dev")
        third = self.record(3)
        self.record(4)
        self.assertEqual(self.previous(third), second)
        self.assertEqual(self.previous(second), first)
        self.assertIsNone(self.previous(first))

    def test_replays_skipped(self) -> None:
        """Replays are never a previous run, though a replay has one."""
        first = self.record(0)
        replay = self.record(1, is_replay=True)
        later = self.record(2)
        self.assertEqual(self.previous(later), first)
        self.assertEqual(self.previous(replay), first)

    def test_no_branch(self) -> None:
        """Runs without a branch follow the earlier runs without one."""
        first = self.record(0, branch=None)
        self.record(1)
        second = self.record(2, branch=None)
        self.assertEqual(self.previous(second), first)

    def test_same_start_time(self) -> None:
        """Runs started at the same moment are ordered by id, as the runs list is."""
        ids = sorted(self.record(0) for _ in range(3))
        self.assertEqual(self.previous(ids[2]), ids[1])
        self.assertEqual(self.previous(ids[1]), ids[0])
        self.assertIsNone(self.previous(ids[0]))

    def test_unknown(self) -> None:
        """Asking for the previous run of no run raises NoSuchRun."""
        self.assertRaises(NoSuchRun, self.db.read, previous_run, "nope")

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
