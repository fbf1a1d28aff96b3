"""Trial test cases that seed ``random`` before every test, and ``@seed`` to pin one.

    from seedboard.testing import TestCase, seed

    class ClusterTests(TestCase):
        @seed(1234)
        def test_partition_heals(self): ...

Before ``setUp`` each test seeds the global ``random`` with its ``@seed(N)``,
else ``SEEDBOARD_SEED`` from the environment, else a fresh value from
``os.urandom``.  The seed is kept on the test as ``seedboard_seed`` for the
reporter, and failures and errors end with `` (random seed: N)``.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from twisted.python.failure import Failure
from twisted.trial import unittest
from twisted.trial.itrial import IReporter
from zope.interface import implementer

from seedboard.seeds import SEED_ATTRIBUTE, SeedError, check_seed, choose_seed, seed_note
from seedboard.workers import note_worker_result
from seedboard_reporter.trial_private import in_trial_worker, test_method

__all__ = ["SynchronousTestCase", "TestCase", "seed"]

_Method = TypeVar("_Method", bound=Callable[..., Any])
_ExcInfo = tuple[type[BaseException], BaseException, TracebackType]


def seed(value: int) -> Callable[[_Method], _Method]:
    """Pin the seed of one test method, to replay a failure it printed."""
    check_seed(value, "@seed()")

    def pin(method: _Method) -> _Method:
        setattr(method, SEED_ATTRIBUTE, value)
        return method

    return pin


class SynchronousTestCase(unittest.SynchronousTestCase):
    """trial's ``SynchronousTestCase``, seeded before each test."""

    seedboard_seed: int | None = None

    def run(self, result: Any) -> None:  # type: ignore[override]  # as trial's own
        _run_seeded(self, result, super().run)


class TestCase(unittest.TestCase):
    """trial's ``TestCase`` (Deferreds and all), seeded before each test."""

    seedboard_seed: int | None = None

    def run(self, result: Any) -> None:  # type: ignore[override]  # as trial's own
        _run_seeded(self, result, super().run)


def _run_seeded(
    case: SynchronousTestCase | TestCase,
    result: Any,
    run: Callable[[Any], None],
) -> None:
    reporter = _as_reporter(result)
    try:
        chosen = choose_seed(test_method(case), os.environ, case.id())
    except SeedError:
        # A bad SEEDBOARD_SEED is the user's to fix: report it on every test
        # instead of crashing trial halfway through the suite.
        reporter.startTest(case)
        reporter.addError(case, Failure())
        reporter.stopTest(case)
        return
    case.seedboard_seed = chosen
    random.seed(chosen)
    started = time.perf_counter()
    run(_SeedNotingReporter(reporter, chosen))
    if in_trial_worker(reporter):
        note_worker_result(case.id(), chosen, time.perf_counter() - started)


def _as_reporter(result: Any) -> Any:
    """Adapt a plain unittest result the way trial's own ``run`` would."""
    reporter = IReporter(result, None)
    return reporter if reporter is not None else unittest.PyUnitResultAdapter(result)


@implementer(IReporter)
class _SeedNotingReporter:
    """Passes everything through, appending the seed to failure messages."""

    def __init__(self, reporter: Any, seed: int) -> None:
        self._reporter = reporter
        self._seed = seed

    def addFailure(self, test: object, fail: Failure | _ExcInfo) -> None:
        _append_seed(_exception_of(fail), self._seed)
        self._reporter.addFailure(test, fail)

    def addError(self, test: object, error: Failure | _ExcInfo) -> None:
        _append_seed(_exception_of(error), self._seed)
        self._reporter.addError(test, error)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reporter, name)


def _exception_of(error: Failure | _ExcInfo) -> BaseException | None:
    return error.value if isinstance(error, Failure) else error[1]


def _append_seed(exception: BaseException | None, seed: int) -> None:
    note = seed_note(seed)
    if exception is None or note in str(exception):
        return
    args = exception.args
    if len(args) == 1 and isinstance(args[0], str):
        exception.args = (f"{args[0]} {note}",)
    elif not args:
        exception.args = (note,)
    if note not in str(exception):
        # The exception renders its own message (several args, a custom
        # __str__); a note still carries the seed into the traceback.
        exception.add_note(note)
