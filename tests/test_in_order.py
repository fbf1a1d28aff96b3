"""``seedboard.in_order``: tests run in the order given, judged by the last one's outcome."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from twisted.trial.runner import TestLoader
from twisted.trial.unittest import SynchronousTestCase

from seedboard.in_order import (
    VICTIM_FAILED,
    VICTIM_NOT_RUN,
    VICTIM_PASSED,
    ordered_suite,
    single_tests,
)
from tests.support import environment
from tests.test_bisect import GLOBAL_POLLUTER, GLOBAL_VICTIM, sample_project

BACKWARDS = [
    "tests.test_triage_order.NarrowTests.test_two_needed_together",
    "tests.test_triage_order.NarrowTests.test_polluter_last",
    "tests.test_triage_order.NarrowTests.test_one_predecessor",
]


def in_order(project: Path, *test_ids: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seedboard.in_order"],
        input="".join(f"{test_id}\n" for test_id in test_ids),
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
        suite = ordered_suite(TestLoader(), BACKWARDS)
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
