"""Every name of trial's that seedboard uses although trial does not document it.

Private (``_``-prefixed) attributes of trial's reporters and tests, trial's
parsed options and the worker reporter of ``trial -j``: any Twisted release may
change them.  They are used here alone, so when one changes,
``tests/test_trial_private.py`` fails naming it and this is the module to change.
Imported inside every trial run: standard library and Twisted only.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from contextlib import suppress
from functools import partial
from time import perf_counter
from typing import Any, TextIO, cast

from twisted.python.failure import Failure
from twisted.trial.reporter import Reporter, TreeReporter, _AnsiColorizer, _NullColorizer

TEXT_COLORIZERS: tuple[type, ...] = (_AnsiColorizer, _NullColorizer)
"""trial's colorizers that colour by the text they write (ANSI codes, or nothing), so
what they write can be worked out once; the Windows console's colours by calls."""

TEST_METHOD_NAME = "_testMethodName"
"""Where a trial test case keeps the name of its test method."""

ORIGINAL_TEST = "_originalTest"
"""Where trial's test decorators (``TestDecorator``) keep the test they wrap."""

RANDOM = "random"
JOBS = "jobs"
DRY_RUN = "dry-run"
TEMP_DIRECTORY = "temp-directory"
"""trial's ``--random``, ``--jobs``, ``--dry-run`` and ``--temp-directory``: their keys
in its parsed options."""

WORKER_REPORTER_MODULE = "twisted.trial._dist.workerreporter"
"""Where ``trial -j`` keeps ``WorkerReporter``, the reporter its workers run tests with."""

DIST_TRIAL_MODULE = "twisted.trial._dist.disttrial"
STARTED_POOL = "startedPool"
"""``DistTrialRunner.runAsync``'s local holding the ``StartedWorkerPool`` of ``trial -j``."""
AMP_WORKERS = "ampWorkers"
"""The pool's ``LocalWorkerAMP``s: ``run(case, result)`` on one sends it a test."""
WORKERS = "workers"
"""The pool's ``LocalWorker``s, the worker processes, in the order of its ``ampWorkers``."""
LOG_DIRECTORY = "_logDirectory"
"""A ``LocalWorker``'s own directory, which ``Start`` moves its process into."""
WORKER_COMMANDS_MODULE = "twisted.trial._dist.workercommands"
"""Where ``trial -j`` keeps its commands to workers: ``Start`` is answered once the
worker's process is up, and moves it into its directory again (which changes nothing)."""


def original_test(test: object) -> object:
    """The test itself, out of the adapters trial wraps around it (``TestDecorator``)."""
    while (inner := getattr(test, ORIGINAL_TEST, None)) is not None:
        test = inner
    return test


def test_method(test: object) -> Any:
    """The method a test case runs, if it is a test case."""
    name = getattr(test, TEST_METHOD_NAME, None)
    return getattr(test, name, None) if isinstance(name, str) else None


def raw_stream(reporter: Reporter) -> TextIO:
    """The stream a reporter writes to, out of the ``SafeStream`` trial wraps it in."""
    return cast(TextIO, reporter._stream.original)


def as_failure(reporter: Reporter, error: object) -> Failure:
    """An error as trial hands it to a reporter (a Failure or an exc_info) as a Failure."""
    return cast(Failure, reporter._getFailure(error))


def colorizer_type(reporter: TreeReporter) -> type:
    """The kind of colorizer a ``TreeReporter`` chose for its stream."""
    return type(reporter._colorizer)


def prelude_segments(reporter: TreeReporter, test_id: str) -> list[str]:
    """The lines ``TreeReporter`` writes above a test's: its module's, its class's."""
    return cast(list[str], reporter._getPreludeSegments(test_id))


def written_segments(reporter: TreeReporter) -> list[str]:
    """The segments above the latest test a ``TreeReporter`` wrote."""
    return cast(list[str], reporter._lastTest)


def set_written_segments(reporter: TreeReporter, segments: list[str]) -> None:
    """Note the segments just written, where ``TreeReporter``'s own methods read them."""
    reporter._lastTest = segments


def trial_options() -> Mapping[str, object] | None:
    """trial's parsed command line, when running under the ``trial`` script.

    No reporter is given trial's options, yet they hold facts only they know
    (``--random=0`` picks its seed from the clock).  They are the local ``config``
    of ``twisted.scripts.trial.run``, up the stack from whoever calls this.
    """
    trial_script = sys.modules.get("twisted.scripts.trial")
    if trial_script is None:
        return None
    frame = sys._getframe(1)
    while frame is not None:
        config = frame.f_locals.get("config")
        if isinstance(config, trial_script.Options):
            return cast(Mapping[str, object], config)
        frame = frame.f_back  # type: ignore[assignment]
    return None


def in_trial_worker(reporter: object) -> bool:
    """Whether ``reporter`` is the one a ``trial -j`` worker runs tests with."""
    workerreporter = sys.modules.get(WORKER_REPORTER_MODULE)
    return workerreporter is not None and isinstance(reporter, workerreporter.WorkerReporter)


def note_worker_starts(starts: MutableMapping[str, float]) -> bool:
    """Under ``trial -j``, in the manager: note in ``starts`` when each test starts in
    its worker, by its id; whether that could be arranged.

    trial's ``DistReporter`` holds back a test's ``startTest`` until the test has
    stopped, and then replays it, so a reporter's own clock sees no time pass.  A
    worker runs one test at a time, so a test starts when it is sent, but for the
    first: trial sends it before the worker's process is up, so it waits for a
    ``Start`` answered first (a worker's log lines cannot tell: a test that blocks
    holds them back until it ends).  The pool is a local of
    ``DistTrialRunner.runAsync``, up the stack from the reporter being built, before
    any test is sent.
    """
    disttrial = sys.modules.get(DIST_TRIAL_MODULE)
    if disttrial is None:
        return False
    frame = sys._getframe(1)
    while frame is not None:
        pool = frame.f_locals.get(STARTED_POOL)
        if isinstance(pool, disttrial.StartedWorkerPool):
            start = sys.modules[WORKER_COMMANDS_MODULE].Start
            for amp, process in zip(
                getattr(pool, AMP_WORKERS), getattr(pool, WORKERS), strict=True
            ):
                directory = getattr(process, LOG_DIRECTORY).path
                amp.run = _noting_starts(
                    amp, partial(amp.callRemote, start, directory=directory), starts
                )
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def _noting_starts(
    amp: Any, worker_up: Callable[[], Awaitable[object]], starts: MutableMapping[str, float]
) -> Callable[[Any, Any], Awaitable[Any]]:
    """``amp.run``, noting each test's start; the first waits for ``worker_up``."""
    run = amp.run
    up = False

    async def run_noted(case: Any, result: Any) -> Any:
        nonlocal up
        if not up:
            up = True
            # trial's own run of the test says what is wrong with the worker, if anything.
            with suppress(Exception):
                await worker_up()
        starts[case.id()] = perf_counter()
        return await run(case, result)

    return run_noted
