"""Tests for the reporter's terminal output: TreeReporter's, byte for byte, in fewer writes."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

from twisted.python.failure import Failure
from twisted.trial.reporter import TreeReporter, _AnsiColorizer
from twisted.trial.unittest import SynchronousTestCase, Todo

from seedboard_reporter.output import TreeOutput


class Stream(io.StringIO):
    """Keeps what is written, and counts the flushes (each one a system call on a terminal)."""

    flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


class Calls:
    """Colours by calls, as trial's Windows console colorizer does, not by escape codes."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def write(self, text: str, color: str) -> None:
        self.stream.write(f"<{color}>{text}</{color}>")


class Named:
    """Stands for a test: all a reporter asks of one is its id."""

    def __init__(self, test_id: str) -> None:
        self._id = test_id

    def id(self) -> str:
        return self._id


def failure() -> Failure:
    try:
        raise ValueError("bad")
    except ValueError:
        return Failure()


def run_events(reporter: TreeReporter) -> None:
    """A run's worth of events: every outcome, tests of several classes and modules."""
    outcomes: list[tuple[Any, Callable[[Any], None]]] = [
        (Named("pkg.test_one.First.test_a"), reporter.addSuccess),
        (Named("pkg.test_one.First.test_b"), lambda t: reporter.addFailure(t, failure())),
        (Named("pkg.test_one.Second.test_c"), lambda t: reporter.addError(t, failure())),
        (Named("pkg.test_two.Second.test_c"), lambda t: reporter.addSkip(t, "no")),
        (
            Named("other.test_two.Second.test_d"),
            lambda t: reporter.addExpectedFailure(t, failure(), Todo("known")),
        ),
        (Named("test_three.Third.test_e"), lambda t: reporter.addUnexpectedSuccess(t, Todo("k"))),
        (Named("pkg.test_one.First.test_a"), reporter.addSuccess),
        (Named("doctest_without_dots"), reporter.addSuccess),
        (Named("pkg.test_one.First.test_b"), reporter.addSuccess),
    ]
    for test, outcome in outcomes:
        reporter.startTest(test)
        outcome(test)
        reporter.stopTest(test)
    reporter.done()


def output(kind: type[TreeReporter], colorizer: Any = None) -> tuple[str, int]:
    stream = Stream()
    reporter = kind(stream)
    if colorizer is not None:
        reporter._colorizer = colorizer(stream)
    run_events(reporter)
    return re.sub(r"tests in [0-9.]+s", "tests in Ns", stream.getvalue()), stream.flushes


class TreeOutputTests(SynchronousTestCase):
    def test_same_bytes_as_tree_reporter(self) -> None:
        """Without colours (a file, a pipe, CI) the output is TreeReporter's exactly."""
        self.assertEqual(output(TreeOutput)[0], output(TreeReporter)[0])

    def test_same_bytes_in_colour(self) -> None:
        """On a colour terminal the escape codes are TreeReporter's too."""
        ours, _ = output(TreeOutput, _AnsiColorizer)
        self.assertEqual(ours, output(TreeReporter, _AnsiColorizer)[0])
        self.assertIn("\x1b[32;1m[OK]\x1b[0m\n", ours)

    def test_colour_by_calls(self) -> None:
        """A colorizer that colours by calls is left to TreeReporter's own way of writing."""
        self.assertEqual(output(TreeOutput, Calls)[0], output(TreeReporter, Calls)[0])

    def test_fewer_writes(self) -> None:
        """A test's line costs two flushes, its name as it starts and the verdict as it ends,
        where TreeReporter flushes each piece."""
        flushes = {}
        for kind in (TreeOutput, TreeReporter):
            stream = Stream()
            reporter = kind(stream)
            test = Named("pkg.test_one.First.test_a")
            reporter.startTest(test)
            self.assertEqual(stream.getvalue(), "pkg.test_one\n  First\n    test_a ... ")
            reporter.addSuccess(test)
            reporter.stopTest(test)
            flushes[kind] = stream.flushes
        self.assertEqual(flushes, {TreeOutput: 2, TreeReporter: 5})
