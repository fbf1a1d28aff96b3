"""Narrowing the tests before a victim to its polluter, with a fake runner."""

from __future__ import annotations

import math
from collections.abc import Sequence

from twisted.trial.unittest import SynchronousTestCase

from seedboard.triage.order import narrow


class FakeRuns:
    """The victim fails when any of ``polluters`` ran before it; every run is counted."""

    def __init__(self, *polluters: str) -> None:
        self.polluters = set(polluters)
        self.runs: list[list[str]] = []

    def __call__(self, before: Sequence[str]) -> bool:
        self.runs.append(list(before))
        return bool(self.polluters & set(before))


def names(count: int) -> list[str]:
    return [f"pkg.T.test_{i:04d}" for i in range(count)]


class NarrowTests(SynchronousTestCase):
    def test_one_predecessor(self) -> None:
        """With one test before the victim, that test is the polluter, with no more runs."""
        runs = FakeRuns("pkg.T.test_0000")
        self.assertEqual(narrow(names(1), runs), "pkg.T.test_0000")
        self.assertEqual(runs.runs, [])

    def test_polluter_first(self) -> None:
        """The first test of many is found."""
        runs = FakeRuns("pkg.T.test_0000")
        self.assertEqual(narrow(names(37), runs), "pkg.T.test_0000")

    def test_polluter_last(self) -> None:
        """The last test before the victim is found."""
        runs = FakeRuns("pkg.T.test_0036")
        self.assertEqual(narrow(names(37), runs), "pkg.T.test_0036")

    def test_every_place_of_few(self) -> None:
        """Wherever the polluter is among up to 20 tests, it is the one found."""
        for count in range(1, 21):
            for index, polluter in enumerate(names(count)):
                self.assertEqual(narrow(names(count), FakeRuns(polluter)), polluter, (count, index))

    def test_order_kept(self) -> None:
        """Every run keeps the tests in the order they ran in."""
        runs = FakeRuns("pkg.T.test_0500")
        narrow(names(1000), runs)
        for ran in runs.runs:
            self.assertEqual(ran, sorted(ran))

    def test_thousand_tests_in_about_log2_runs(self) -> None:
        """Among 1,000 tests the polluter is found in at most log2(1000) + 2 runs,
        wherever it is."""
        bound = math.log2(1000) + 2
        for index in (0, 1, 333, 499, 500, 998, 999):
            polluter = f"pkg.T.test_{index:04d}"
            runs = FakeRuns(polluter)
            self.assertEqual(narrow(names(1000), runs), polluter)
            self.assertLessEqual(len(runs.runs), bound, index)

    def test_two_needed_together(self) -> None:
        """When only two tests together make the victim fail, no single test is named."""
        tests = names(8)

        def fails(before: Sequence[str]) -> bool:
            return {"pkg.T.test_0001", "pkg.T.test_0006"} <= set(before)

        self.assertIsNone(narrow(tests, fails))

    def test_nothing_before(self) -> None:
        """With no test before the victim there is no polluter."""
        self.assertIsNone(narrow([], FakeRuns()))
