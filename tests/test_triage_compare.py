"""Tests for the pure diff of two runs' outcomes."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from seedboard.domain import Outcome
from seedboard.triage.compare import RunDiff, compare

S, F, E, K = Outcome.SUCCESS, Outcome.FAILURE, Outcome.ERROR, Outcome.SKIP


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
