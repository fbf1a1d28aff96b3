"""Run test ids in exactly the order given, with trial's own runner, and exit saying how
the last of them (the victim) ended: what each step of ``seedboard bisect`` runs.

``python -m seedboard.in_order < ids`` reads one test id a line, each followed by a
tab and the seed it runs with if it has one (``ordered_line``): ``SEEDBOARD_SEED``
is set for that test alone, so every test draws what it drew in the run.  Not
``trial ID...``: its loader may sort what it loads, and its exit status says
whether any test failed, where a bisection must know whether the victim did.
Nothing is recorded: the reporter is trial's plain text one.
"""

from __future__ import annotations

import os
import sys
import unittest
from collections.abc import Iterator, Sequence
from functools import partial
from typing import Any, TextIO

from twisted.trial.reporter import Reporter
from twisted.trial.runner import ErrorHolder, TestLoader, TrialRunner
from twisted.trial.unittest import TestSuite

from seedboard.errors import one_line
from seedboard.settings import SEED_ENV

VICTIM_PASSED = 0
VICTIM_FAILED = 1
VICTIM_NOT_RUN = 3
"""Exit statuses; 2 is Python's own for a usage error."""


class _VictimWatch(Reporter):
    """trial's text reporter, noting whether the victim ran and whether it failed."""

    def __init__(self, victim: str, stream: TextIO, *args: Any) -> None:
        super().__init__(stream, *args)
        self.victim = victim
        self.victim_ran = False
        self.victim_failed = False

    def startTest(self, test: Any) -> None:
        super().startTest(test)
        if test.id() == self.victim:
            self.victim_ran = True

    def addFailure(self, test: Any, fail: Any) -> None:
        super().addFailure(test, fail)
        self._bad(test)

    def addError(self, test: Any, error: Any) -> None:
        super().addError(test, error)
        self._bad(test)

    def addUnexpectedSuccess(self, test: Any, todo: Any = None) -> None:
        super().addUnexpectedSuccess(test, todo)
        self._bad(test)

    def _bad(self, test: Any) -> None:
        if test.id() == self.victim:
            self.victim_failed = True


def ordered_line(test_id: str, seed: int | None) -> str:
    """A test's line on ``in_order``'s standard input."""
    return f"{test_id}\n" if seed is None else f"{test_id}\t{seed}\n"


def read_line(line: str) -> tuple[str, int | None]:
    """A test id and its seed, from a line ``ordered_line`` wrote."""
    test_id, _, seed = line.strip().partition("\t")
    return test_id, int(seed) if seed else None


class _Seeded(TestSuite):
    """A test run with ``SEEDBOARD_SEED`` set to its own seed, and unset again after."""

    def __init__(self, test: Any, seed: int) -> None:
        super().__init__([test])
        self._seed = seed

    def run(self, result: unittest.TestResult, debug: bool = False) -> unittest.TestResult:
        os.environ[SEED_ENV] = str(self._seed)
        try:
            return super().run(result, debug)
        finally:
            os.environ.pop(SEED_ENV, None)


def ordered_suite(loader: TestLoader, tests: Sequence[tuple[str, int | None]]) -> TestSuite:
    """The tests in the order given, each with its seed (one that cannot be loaded is an
    error in its place)."""
    loaded = [(loader.loadByName(test_id), seed) for test_id, seed in tests]
    return TestSuite([test if seed is None else _Seeded(test, seed) for test, seed in loaded])


def not_one_test(loader: TestLoader, test_id: str) -> str | None:
    """Why ``test_id`` does not name exactly one loadable test; None when it does."""
    tests = list(single_tests(loader.loadByName(test_id)))
    if len(tests) == 1 and isinstance(tests[0], ErrorHolder):
        return f"cannot load {test_id}: {one_line(tests[0].error[1])}"
    if [test.id() for test in tests] != [test_id]:
        return f"{test_id} is not one test (it names {len(tests)})"
    return None


def single_tests(test: Any) -> Iterator[Any]:
    if isinstance(test, unittest.TestSuite):
        for each in test:
            yield from single_tests(each)
    else:
        yield test


def main(stdin: TextIO = sys.stdin) -> int:
    try:
        tests = [read_line(line) for line in stdin if line.strip()]
    except ValueError:
        print("seedboard: a seed on standard input is not an integer", file=sys.stderr)
        return 2
    if not tests:
        print("seedboard: no test ids on standard input", file=sys.stderr)
        return 2
    victim = tests[-1][0]
    loader = TestLoader()
    problem = not_one_test(loader, victim)
    if problem is not None:
        print(f"seedboard: {problem}", file=sys.stderr)
        return VICTIM_NOT_RUN
    # A Reporter is trial's IReporter, which mypy cannot see through zope.interface.
    watching: Any = partial(_VictimWatch, victim)
    runner = TrialRunner(watching, stream=sys.stdout)
    result = runner.run(ordered_suite(loader, tests))
    assert isinstance(result, _VictimWatch)
    if not result.victim_ran:
        print(f"seedboard: {victim} did not run", file=sys.stderr)
        return VICTIM_NOT_RUN
    return VICTIM_FAILED if result.victim_failed else VICTIM_PASSED


if __name__ == "__main__":
    sys.exit(main())
