"""Tests for the heavy reads' lane, with a fake pool and a fake clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from seedboard.db.budget import OutOfTime, within
from seedboard.web.lanes import HeavyLane
from seedboard.web.limits import HeavyLimits
from seedboard.web.problems import Problem

P = ParamSpec("P")
T = TypeVar("T")


class FakePool:
    """Reads that end when the test says: each call's Deferred and deadline are kept."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, Deferred[Any]]] = []

    def read(
        self, fn: Callable[Concatenate[Connection, P], T], *a: P.args, **k: P.kwargs
    ) -> Deferred[T]:
        assert fn is within
        call: Deferred[T] = Deferred()
        deadline = a[0]
        assert isinstance(deadline, float | int)
        self.calls.append((deadline, call))
        return call

    write = read


def store_read(conn: object, n: int) -> int:
    return n


class HeavyLaneTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.pool = FakePool()
        self.clock = Clock()
        self.lane = HeavyLane(
            self.pool, HeavyLimits(readers=2, queue=1, timeout=5), self.clock, self.clock.seconds
        )
        self.reads: list[Deferred[int]] = []
        self.addCleanup(self.forget_reads)

    def read(self, n: int = 1) -> Deferred[int]:
        read = self.lane.read(store_read, n)
        self.reads.append(read)
        return read

    def forget_reads(self) -> None:
        """Reads a test left unchecked end quietly: their deadlines pass, no one is told."""
        self.clock.advance(60)
        for read in self.reads:
            read.addErrback(lambda failure: failure.trap(Problem))

    def refusal(self, read: Deferred[int]) -> Problem:
        problem = self.failureResultOf(read, Problem).value
        assert isinstance(problem, Problem)
        self.assertEqual(problem.status, 503)
        self.assertEqual(dict(problem.headers)["Retry-After"], "5")
        return problem

    def test_bounded(self) -> None:
        """Two run, one waits, the next is refused at once; a finished read lets the
        waiting one start."""
        running = [self.read(1), self.read(2)]
        waiting = self.read(3)
        self.assertEqual(len(self.pool.calls), 2)
        self.assertIn("busy", self.refusal(self.read(4)).message)
        self.pool.calls[0][1].callback(1)
        self.assertEqual(self.successResultOf(running[0]), 1)
        self.assertEqual(len(self.pool.calls), 3)
        self.pool.calls[2][1].callback(3)
        self.assertEqual(self.successResultOf(waiting), 3)
        self.assertNoResult(running[1])

    def test_deadline_from_arrival(self) -> None:
        """A read's deadline counts from its arrival: the one that waited starts with
        what is left."""
        self.read(), self.read()
        self.clock.advance(2)
        waiting = self.read()
        self.clock.advance(1)
        self.pool.calls[0][1].callback(1)
        self.assertEqual(self.pool.calls[2][0], 7)
        self.assertNoResult(waiting)

    def test_waiting_out_of_time(self) -> None:
        """A read still waiting at its deadline is answered 503 then, and gives up its
        place."""
        self.read(), self.read()
        waiting = self.read()
        self.clock.advance(5)
        self.assertIn("longer than the server allows", self.refusal(waiting).message)
        self.assertNoResult(self.read())  # the freed place in the queue

    def test_running_out_of_time(self) -> None:
        """A running read is answered 503 at its deadline whatever its thread does; its
        thread counts as busy until it returns."""
        late = self.read()
        self.read()
        self.clock.advance(5)
        self.refusal(late)
        self.assertNoResult(self.read())
        self.assertIn("busy", self.refusal(self.read()).message)
        self.pool.calls[0][1].callback(1)  # too late: dropped
        self.assertEqual(len(self.pool.calls), 3)

    def test_stopped_by_its_budget(self) -> None:
        """A read stopped by its budget (OutOfTime) is a 503."""
        read = self.read()
        self.pool.calls[0][1].errback(OutOfTime())
        self.assertIn("longer than the server allows", self.refusal(read).message)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_errors_pass(self) -> None:
        """Other errors reach the caller as they are."""
        read = self.read()
        self.pool.calls[0][1].errback(RuntimeError("database trouble"))
        self.failureResultOf(read, RuntimeError)

    def test_cancelled_while_waiting(self) -> None:
        """A waiting read that nobody wants any more leaves the queue."""
        self.read(), self.read()
        waiting = self.read()
        waiting.cancel()
        self.failureResultOf(waiting, CancelledError)
        self.assertNoResult(self.read())
        self.pool.calls[0][1].callback(1)
        self.assertEqual(len(self.pool.calls), 3)
