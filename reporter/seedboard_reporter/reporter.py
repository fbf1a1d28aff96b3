"""The ``seedboard`` trial reporter: trial's usual verbose output, every result recorded.

Output and exit status are exactly those of trial's default reporter, plus one
last line saying where the run was recorded (or, if it could not be, why).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter
from typing import Any, TextIO

from seedboard.errors import one_line
from seedboard.settings import (
    RUN_SEED_ENV,
    enforces_quarantine,
)
from seedboard.workers import WorkerLogs, WorkerNote
from seedboard_reporter.output import TreeOutput
from seedboard_reporter.owners import Owners
from seedboard_reporter.quarantine import MARK, Marks, Quarantines
from seedboard_reporter.recorder import Row
from seedboard_reporter.recording import governing_run_seed, open_recorder
from seedboard_reporter.records import (
    ERROR,
    EXPECTED_FAILURE,
    FAILURE,
    SKIP,
    SUCCESS,
    UNEXPECTED_SUCCESS,
    Locations,
    Problem,
    make_row,
    problem_of,
    reason_of,
    test_id,
)
from seedboard_reporter.trial_private import (
    DRY_RUN,
    JOBS,
    RANDOM,
    TEMP_DIRECTORY,
    as_failure,
    note_worker_starts,
    original_test,
    trial_options,
)

_NO_PROBLEM = Problem()


def order_seed(options: Mapping[str, object] | None) -> int | None:
    """The seed of ``trial --random``, if the tests were shuffled."""
    seed = options.get(RANDOM) if options else None
    return seed if isinstance(seed, int) and seed else None


def _worker_logs(options: Mapping[str, object] | None, cwd: Path) -> WorkerLogs | None:
    """Under ``trial -j``, the logs its workers keep in trial's temporary directory."""
    if not options or not options.get(JOBS):
        return None
    return WorkerLogs(cwd / str(options.get(TEMP_DIRECTORY) or "_trial_temp"))


class SeedboardReporter(TreeOutput):
    def __init__(
        self,
        stream: TextIO = sys.stdout,
        tbformat: str = "default",
        realtime: bool = False,
        publisher: Any = None,
    ) -> None:
        super().__init__(stream, tbformat, realtime, publisher)
        # trial chdirs into _trial_temp only after building its reporter.
        self._cwd = Path.cwd()
        self._locations = Locations(str(self._cwd))
        options = trial_options()
        self._dry_run = bool(options and options.get(DRY_RUN))
        # A run seed this reporter chooses is its own: trial --until-failure builds a
        # reporter per pass, and each pass must get fresh seeds, not the last one's.
        self._chose_run_seed = RUN_SEED_ENV not in os.environ
        run_seed = governing_run_seed(os.environ, parallel=bool(options and options.get(JOBS)))
        self._recorder = open_recorder(
            os.environ, self._cwd, sys.argv, order_seed(options), run_seed
        )
        self._worker_logs = _worker_logs(options, self._cwd)
        self._worker_starts: dict[str, float] = {}
        """Under ``trial -j``: when each test was sent to a worker (``note_worker_starts``)."""
        if self._worker_logs is not None:
            note_worker_starts(self._worker_starts)
        self._test_started: float | None = None
        self._started: Any = None
        """The test as trial handed it to ``startTest``, maybe inside an adapter."""
        self._current: Any = None
        """That test itself, out of any adapter."""
        self._position = -1
        """Where ``_started`` is in the run's order: how many tests started before it."""
        self._noted_test: str | None = None
        self._worker_note: WorkerNote | None = None
        """The note a ``trial -j`` worker left for the test recorded last, if any."""
        self._pending: list[tuple[Any, str, Problem]] = []
        quarantines = None if self._dry_run else Quarantines(os.environ, self._cwd)
        self._marks = Marks(quarantines, enforces_quarantine(os.environ))
        self._owners = Owners(self._cwd)
        self._plain = self._worker_logs is None and not self._owners.active
        """Whether a result needs nothing but its row (``addSuccess``)."""
        if not self._dry_run:
            self._recorder.start()
        self._add = self._recorder.sink()

    # The three calls below, once per test, name TreeOutput rather than ask super():
    # building a super object a call cost 700 instructions a test (bench/README.md).

    def startTest(self, test: Any) -> None:
        TreeOutput.startTest(self, test)
        self._position += 1
        self._started = test
        self._current = original_test(test)
        now = perf_counter()
        self._test_started = (
            self._worker_starts.pop(self.test_id, now) if self._worker_starts else now
        )

    def stopTest(self, test: Any) -> None:
        TreeOutput.stopTest(self, test)
        started, self._test_started = self._test_started, None
        if self._pending:
            self._record_pending(0.0 if started is None else perf_counter() - started)

    def addSuccess(self, test: Any) -> None:
        TreeOutput.addSuccess(self, test)
        # The common case, recorded at once: trial reports a success last, after
        # tearDown and cleanups, so its duration is complete and nothing follows.
        started = self._test_started
        if started is not None and test is self._current and self._plain:
            # The usual test, with no worker's note to read and no owners to note: its
            # row straight into the spool, without _record's checks (issue 18).
            try:
                self._add(
                    make_row(
                        test,
                        self.test_id,
                        SUCCESS,
                        _NO_PROBLEM,
                        perf_counter() - started,
                        self._locations,
                        self._position,
                    )
                )
            except Exception as error:
                self._unreadable(error)
            return
        self._record(
            test, SUCCESS, _NO_PROBLEM, 0.0 if started is None else perf_counter() - started
        )

    def _record_pending(self, duration: float) -> None:
        """Record the results kept since ``startTest``, each with the test's duration."""
        pending, self._pending = self._pending, []
        for test, outcome, problem in pending:
            self._record(test, outcome, problem, duration)

    def _record(self, test: Any, outcome: str, problem: Problem, duration: float) -> None:
        """Hand one result to the recorder; never disturb the run."""
        try:
            position: int | None = self._position
            # Usually the test started last: trial hands startTest an adapter around it,
            # and the results the test itself; both were unwrapped, their id asked, then.
            if test is self._current or test is self._started:
                original, identity = self._current, self.test_id
            else:  # trial may wrap a test anew for each call
                original = original_test(test)
                if original is self._current:
                    identity = self.test_id
                else:  # reported outside the test that ran: it has no place in the order
                    identity, position = test_id(test), None
            row = make_row(
                original, identity, outcome, problem, duration, self._locations, position
            )
            if self._worker_logs is not None:
                row = self._with_worker_note(row, self._worker_logs)
            self._add(row)
            if self._owners.active:
                self._owners.note(row.test_id, row.file)
        except Exception as error:
            self._unreadable(error)

    def _unreadable(self, error: Exception) -> None:
        """Stop recording over a result the reporter could not read; the run goes on."""
        self._recorder.fail(f"the reporter could not read a result: {one_line(error)}")

    def _with_worker_note(self, row: Row, logs: WorkerLogs) -> Row:
        """Under ``trial -j``: the seed and duration the worker noted for the test
        (kept for the test's next result too: a failure and an error in tearDown)."""
        if self._noted_test != row.test_id:
            self._noted_test, self._worker_note = row.test_id, logs.take(row.test_id)
        note = self._worker_note
        if note is None:
            return row
        seed = row.seed if row.seed is not None else note.seed
        return row._replace(duration=note.duration, seed=seed)

    def addFailure(self, test: Any, fail: Any) -> None:
        self.mark = MARK if self._marks.judge(test_id(test)) else ""
        super().addFailure(test, fail)
        self.mark = ""
        self._note(test, FAILURE, lambda: self._problem(fail))

    def addError(self, test: Any, error: Any) -> None:
        self.mark = MARK if self._marks.judge(test_id(test)) else ""
        super().addError(test, error)
        self.mark = ""
        self._note(test, ERROR, lambda: self._problem(error))

    def _printResults(self, flavor: str, errors: Any, formatter: Any) -> None:
        """trial's list of failures at the end, the quarantined ones apart and marked."""
        results = list(errors)
        plain, marked = self._marks.split(results, [test_id(r[0]) for r in results])
        super()._printResults(flavor, plain, formatter)
        if marked:
            super()._printResults(f"{flavor} {MARK}", marked, formatter)

    def wasSuccessful(self) -> bool:
        """trial's verdict; under ``SEEDBOARD_QUARANTINE=enforce``, quarantined failures
        and errors left out of it."""
        if not self._marks.enforce or not self._marks.quarantined:
            return bool(super().wasSuccessful())
        bad = [test_id(result[0]) for result in (*self.failures, *self.errors)]
        return self._marks.all_quarantined(bad)

    def addSkip(self, test: Any, reason: Any) -> None:
        super().addSkip(test, reason)
        self._note(test, SKIP, lambda: reason_of(reason))

    def addExpectedFailure(self, test: Any, failure: Any, todo: Any = None) -> None:
        super().addExpectedFailure(test, failure, todo)
        self._note(test, EXPECTED_FAILURE, lambda: self._problem(failure))

    def addUnexpectedSuccess(self, test: Any, todo: Any = None) -> None:
        super().addUnexpectedSuccess(test, todo)
        self._note(test, UNEXPECTED_SUCCESS, lambda: reason_of(todo))

    def done(self) -> None:
        self._marks.settle()  # before trial prints the failures and the status
        if not self._dry_run:
            # Reported outside any test (e.g. a dirty reactor after the last one).
            self._record_pending(0.0)
            # The run's end handed over first: the sender sends the last results, or
            # the importer starts, on the other core while trial prints its summary.
            self._recorder.end(datetime.now(UTC))
        super().done()
        if self._chose_run_seed:
            os.environ.pop(RUN_SEED_ENV, None)
        if self._dry_run:
            return
        receipt = self._recorder.receipt()
        self._put(receipt.line() + "\n")
        for line in self._marks.lines():
            self._put(line + "\n")
        problem = self._owners.problem
        if receipt.error is None and self._owners.active:
            problem = self._owners.send(os.environ, receipt.run_id)
        if problem:
            self._put(f"seedboard: {problem}\n")

    def _problem(self, error: Any) -> Problem:
        # Under trial -j an expected failure arrives as its text alone.
        if isinstance(error, str):
            return Problem(message=error)
        return problem_of(as_failure(self, error))

    def _note(self, test: Any, outcome: str, problem: Callable[[], Problem]) -> None:
        """Keep a result until ``stopTest`` gives the test's duration (a failure may be
        followed by an error in tearDown); never disturb the run."""
        try:
            self._pending.append((test, outcome, problem()))
        except Exception as error:
            self._unreadable(error)
        if self._test_started is None:
            self._record_pending(0.0)
