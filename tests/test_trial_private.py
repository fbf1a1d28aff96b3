"""Tests that trial still has the undocumented names seedboard_reporter.trial_private uses."""

from __future__ import annotations

import importlib
import io
import sys
from typing import Any

import twisted
from twisted.python.filepath import FilePath
from twisted.scripts import trial as trial_script
from twisted.trial import reporter as trial_reporter
from twisted.trial.unittest import SynchronousTestCase, TestDecorator

from seedboard_reporter import trial_private


class Sample(SynchronousTestCase):
    """A test case to look inside."""

    def sample(self) -> None:
        pass


def missing_names() -> list[str]:
    """Each undocumented name of trial's that trial_private uses and this Twisted lacks."""
    tree = trial_reporter.TreeReporter(io.StringIO())
    case = Sample("sample")
    options: Any = trial_script.Options()
    workers = _module(trial_private.WORKER_REPORTER_MODULE)
    disttrial: Any = _module(trial_private.DIST_TRIAL_MODULE)
    pool = getattr(disttrial, "StartedWorkerPool", None)
    worker: Any = _module("twisted.trial._dist.worker")
    process = worker.LocalWorker(worker.LocalWorkerAMP(), FilePath("unused"), io.StringIO())
    wanted: list[tuple[str, object, str]] = [
        ("twisted.trial.reporter", trial_reporter, "_AnsiColorizer"),
        ("twisted.trial.reporter", trial_reporter, "_NullColorizer"),
        ("a TreeReporter", tree, "_stream"),
        ("a TreeReporter's _stream", getattr(tree, "_stream", None), "original"),
        ("a TreeReporter", tree, "_colorizer"),
        ("a TreeReporter", tree, "_lastTest"),
        ("a TreeReporter", tree, "_getPreludeSegments"),
        ("a TreeReporter", tree, "_getFailure"),
        ("a trial TestCase", case, trial_private.TEST_METHOD_NAME),
        ("a TestDecorator", TestDecorator(case), trial_private.ORIGINAL_TEST),
        ("twisted.scripts.trial", trial_script, "Options"),
        (trial_private.WORKER_REPORTER_MODULE, workers, "WorkerReporter"),
        (trial_private.DIST_TRIAL_MODULE, disttrial, "StartedWorkerPool"),
        ("a StartedWorkerPool", pool, trial_private.AMP_WORKERS),
        ("a StartedWorkerPool", pool, trial_private.WORKERS),
        ("a LocalWorker", process, trial_private.LOG_DIRECTORY),
        ("a LocalWorkerAMP", worker.LocalWorkerAMP, "run"),
        (
            trial_private.WORKER_COMMANDS_MODULE,
            _module(trial_private.WORKER_COMMANDS_MODULE),
            "Start",
        ),
    ]
    missing = [
        f"{owner} has no {name!r}" for owner, value, name in wanted if not hasattr(value, name)
    ]
    if "config" not in trial_script.run.__code__.co_varnames:
        missing.append("twisted.scripts.trial.run has no local 'config' (its parsed options)")
    run_async = disttrial.DistTrialRunner.runAsync.__code__
    if trial_private.STARTED_POOL not in run_async.co_varnames + run_async.co_cellvars:
        missing.append(f"DistTrialRunner.runAsync has no local {trial_private.STARTED_POOL!r}")
    keys = (
        trial_private.RANDOM,
        trial_private.JOBS,
        trial_private.DRY_RUN,
        trial_private.TEMP_DIRECTORY,
    )
    missing += [f"trial's Options has no option {key!r}" for key in keys if key not in options]
    return missing


def _module(name: str) -> object:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


class TrialStillHasTests(SynchronousTestCase):
    def test_every_name_is_there(self) -> None:
        """This Twisted still has each private name the reporter reads; the failure names
        every one that moved."""
        missing = missing_names()
        if missing:
            self.fail(
                f"Twisted {twisted.__version__} changed what seedboard_reporter.trial_private"
                " relies on: " + "; ".join(missing)
            )

    def test_a_missing_name_is_named(self) -> None:
        """When a name goes, the check says which."""
        self.patch(trial_reporter.TreeReporter, "_getPreludeSegments", None)
        del trial_reporter.TreeReporter._getPreludeSegments
        self.assertEqual(missing_names(), ["a TreeReporter has no '_getPreludeSegments'"])


class AccessorTests(SynchronousTestCase):
    def test_tree_reporter_internals(self) -> None:
        """The stream, the colorizer and the segments are TreeReporter's own."""
        stream = io.StringIO()
        tree = trial_reporter.TreeReporter(stream)
        self.assertIs(trial_private.raw_stream(tree), stream)
        self.assertIn(trial_private.colorizer_type(tree), trial_private.TEXT_COLORIZERS)
        segments = trial_private.prelude_segments(tree, "pkg.mod.Class.test_x")
        self.assertEqual(segments, ["pkg.mod", "Class"])
        trial_private.set_written_segments(tree, segments)
        self.assertEqual(trial_private.written_segments(tree), segments)

    def test_as_failure(self) -> None:
        """An exc_info tuple becomes a Failure of its exception."""
        try:
            raise ValueError("boom")
        except ValueError:
            failure = trial_private.as_failure(trial_reporter.Reporter(), sys.exc_info())
        self.assertEqual(failure.getErrorMessage(), "boom")

    def test_tests_and_their_methods(self) -> None:
        """A decorated test unwraps to the test case; its method is found by name."""
        case = Sample("sample")
        self.assertIs(trial_private.original_test(TestDecorator(TestDecorator(case))), case)
        self.assertEqual(trial_private.test_method(case), case.sample)
        self.assertIsNone(trial_private.test_method(object()))

    def test_trial_options_up_the_stack(self) -> None:
        """trial's options are found as the local ``config`` of a caller up the stack."""

        def run() -> object:
            config = trial_script.Options()
            config.parseOptions(["--random", "7", "pkg"])
            return trial_private.trial_options()

        found: Any = run()
        self.assertEqual(found[trial_private.RANDOM], 7)

    def test_not_a_worker(self) -> None:
        """Only trial -j's worker reporter is a worker's."""
        self.assertFalse(trial_private.in_trial_worker(trial_reporter.Reporter()))
        workers: Any = _module(trial_private.WORKER_REPORTER_MODULE)
        made = workers.WorkerReporter.__new__(workers.WorkerReporter)
        self.assertTrue(trial_private.in_trial_worker(made))
