"""``seedboard.in_order``: tests run in the order given, judged by the last one's outcome."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

from twisted.trial.runner import TestLoader
from twisted.trial.unittest import SynchronousTestCase

from seedboard.in_order import (
    VICTIM_FAILED,
    VICTIM_NOT_RUN,
    VICTIM_PASSED,
    ordered_line,
    ordered_suite,
    single_tests,
)
from tests.support import environment
from tests.test_bisect import (
    GLOBAL_POLLUTER,
    GLOBAL_VICTIM,
    SEEDED_POLLUTER,
    SEEDED_VICTIM,
    draws_low,
    sample_project,
)

BACKWARDS = [
    "tests.test_triage_order.NarrowTests.test_two_needed_together",
    "tests.test_triage_order.NarrowTests.test_polluter_last",
    "tests.test_triage_order.NarrowTests.test_one_predecessor",
]


def in_order(
    project: Path, *test_ids: str, seeds: dict[str, int] | None = None
) -> subprocess.CompletedProcess[str]:
    lines = "".join(ordered_line(test_id, (seeds or {}).get(test_id)) for test_id in test_ids)
    return in_order_reading(project, lines)


def in_order_reading(project: Path, stdin: str) -> subprocess.CompletedProcess[str]:
    """``python -m seedboard.in_order`` in ``project``, given ``stdin``."""
    return subprocess.run(
        [sys.executable, "-m", "seedboard.in_order"],
        input=stdin,
        cwd=project,
        env=environment(PYTHONPATH=str(project)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class OrderedSuiteTests(SynchronousTestCase):
    def test_order_given_is_kept(self) -> None:
        """Tests come out in the order given, not sorted as trial's loader sorts them."""
        suite = ordered_suite(TestLoader(), [(test_id, None) for test_id in BACKWARDS])
        self.assertEqual([test.id() for test in single_tests(suite)], BACKWARDS)


class InOrderRunTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.project = sample_project(self)

    def test_victim_judged(self) -> None:
        """The exit status says whether the last test failed: after its polluter, alone."""
        self.assertEqual(
            in_order(self.project, GLOBAL_POLLUTER, GLOBAL_VICTIM).returncode, VICTIM_FAILED
        )
        self.assertEqual(in_order(self.project, GLOBAL_VICTIM).returncode, VICTIM_PASSED)

    def test_each_test_its_seed(self) -> None:
        """Each test runs with the seed on its line: the seeded polluter leaves the cache
        stale (and its victim fails) with a seed that draws low, not with one that draws
        high."""
        low = next(seed for seed in itertools.count() if draws_low(SEEDED_POLLUTER, seed))
        high = next(seed for seed in itertools.count() if not draws_low(SEEDED_POLLUTER, seed))
        for seed, status in ((low, VICTIM_FAILED), (high, VICTIM_PASSED)):
            done = in_order(
                self.project, SEEDED_POLLUTER, SEEDED_VICTIM, seeds={SEEDED_POLLUTER: seed}
            )
            self.assertEqual(done.returncode, status, done.stdout)

    def test_bad_seed(self) -> None:
        """A seed that is no integer is refused before anything runs."""
        done = in_order_reading(self.project, f"{GLOBAL_VICTIM}\tnot-a-seed\n")
        self.assertEqual(done.returncode, 2)
        self.assertIn("is not an integer", done.stderr)

    def test_unknown_victim(self) -> None:
        """A victim that cannot be loaded is not run: one line, its own status."""
        done = in_order(self.project, GLOBAL_POLLUTER, "orderpkg.nosuch.T.test_x")
        self.assertEqual(done.returncode, VICTIM_NOT_RUN)
        self.assertRegex(done.stderr, r"^seedboard: cannot load orderpkg.nosuch.T.test_x: ")

    def test_not_one_test(self) -> None:
        """A victim naming a whole module is refused: a bisection needs one test."""
        done = in_order(self.project, "orderpkg.test_c_innocent")
        self.assertEqual(done.returncode, VICTIM_NOT_RUN)
        self.assertIn("is not one test (it names 3)", done.stderr)
