"""Tests for the change count, the cache of slow reads (on the suite's real database) and
the sharing of identical reads at once."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection
from twisted.internet.defer import CancelledError, Deferred, succeed
from twisted.trial.unittest import SynchronousTestCase

from seedboard.db import aggregates, runs
from seedboard.db.changes import change_count
from seedboard.db.pool import SynchronousPool
from seedboard.domain import Outcome
from seedboard.services.flaky import flaky_tests
from seedboard.web.cache import MAX_AGE, ReadCache, SingleFlight
from tests.support import record_run, result, run_start, temporary_database

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


class ChangeCountTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.db = temporary_database(self)

    def count(self) -> int:
        return self.db.read(change_count)

    def test_every_write_of_runs_counts(self) -> None:
        """Creating a run, adding results, finishing it and recounting each move the count;
        a retried create, an empty batch and a retried finish do not."""
        start = run_start()
        finished = start.started_at + timedelta(seconds=1)
        steps: list[tuple[str, Callable[[], object]]] = [
            ("create", lambda: self.db.write(runs.create_run, start)),
            ("add", lambda: self.db.write(runs.store_results, start.id, [result()])),
            ("finish", lambda: self.db.write(runs.finish_run, start.id, finished)),
        ]
        for name, step in steps:
            before = self.count()
            step()
            self.assertEqual(self.count(), before + 1, name)
            if name == "add":
                self.db.write(runs.store_results, start.id, [])
                self.assertEqual(self.count(), before + 1, "empty batch")
        before = self.count()
        self.db.write(runs.create_run, start)
        self.db.write(runs.finish_run, start.id, finished)
        self.assertEqual(self.count(), before)
        self.db.write(aggregates.rebuild)
        self.assertEqual(self.count(), before + 1)

    def test_refused_write_does_not_count(self) -> None:
        """Results for an unknown run are refused, and the count stays."""
        before = self.count()
        with self.assertRaises(runs.UnknownRun):
            self.db.write(runs.store_results, "no-such-run", [result()])
        self.assertEqual(self.count(), before)


class ReadCacheTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.db = temporary_database(self)
        self.now = NOW
        self.cache = ReadCache(SynchronousPool(self.db), lambda: self.now, size=2)
        self.calls: list[tuple[object, ...]] = []

    def counted(self, conn: Connection, *args: object) -> int:
        """A store read that says how many times it ran."""
        self.calls.append(args)
        return len(self.calls)

    def read(self, *args: object) -> int:
        answer: Deferred[int] = Deferred.fromCoroutine(self.cache.read(self.counted, *args))
        return self.successResultOf(answer)

    def test_kept_until_a_write(self) -> None:
        """The same read is answered again until a write changes the data."""
        self.assertEqual([self.read("a"), self.read("a")], [1, 1])
        record_run(self.db, [result()])
        self.assertEqual([self.read("a"), self.read("a")], [2, 2])

    def test_arguments_kept_apart(self) -> None:
        """Each set of arguments has its own answer."""
        self.assertEqual([self.read("a"), self.read("b"), self.read("a")], [1, 2, 1])

    def test_least_recently_used_dropped(self) -> None:
        """Beyond its size the cache drops the answer used longest ago."""
        self.read("a")
        self.read("b")
        self.read("a")
        self.read("c")  # drops "b"
        self.assertEqual(self.read("a"), 1)
        self.assertEqual(self.read("b"), 4)

    def test_weight_budget(self) -> None:
        """Answers are dropped, oldest first, to keep their weight within the budget, and
        one heavier than the whole budget is not kept at all."""
        cache = ReadCache(SynchronousPool(self.db), lambda: self.now, budget=10)

        def read(arg: int) -> int:
            answer = cache.read(self.counted, arg, weight=lambda _: arg)
            return self.successResultOf(Deferred.fromCoroutine(answer))

        self.assertEqual([read(4), read(5), read(4), read(5)], [1, 2, 1, 2])
        read(3)  # 4 + 5 + 3 > 10: drops 4, used longest ago
        self.assertEqual([read(5), read(3), read(4)], [2, 3, 4])
        self.assertEqual([read(11), read(11)], [5, 6])

    def test_too_old(self) -> None:
        """An answer older than MAX_AGE is read again, changes or not."""
        self.read("a")
        self.now += MAX_AGE - timedelta(seconds=1)
        self.assertEqual(self.read("a"), 1)
        self.now += timedelta(seconds=1)
        self.assertEqual(self.read("a"), 2)

    def test_errors_not_kept(self) -> None:
        """A read that failed is tried again next time."""

        def failing(conn: Connection) -> int:
            self.calls.append(())
            raise RuntimeError("database trouble")

        for _ in range(2):
            self.failureResultOf(Deferred.fromCoroutine(self.cache.read(failing)), RuntimeError)
        self.assertEqual(len(self.calls), 2)

    def test_flaky_tests_after_a_failure(self) -> None:
        """Through the real store read: a new failing run shows at once."""
        record_run(self.db, [result("pkg.t")], run_start(NOW - timedelta(hours=2)))

        def flaky() -> list[str]:
            answer = Deferred.fromCoroutine(self.cache.read(flaky_tests))
            return [t.test_id for t in self.successResultOf(answer)]

        self.assertEqual(flaky(), [])
        record_run(self.db, [result("pkg.t", Outcome.FAILURE)], run_start(NOW - timedelta(hours=1)))
        self.assertEqual(flaky(), ["pkg.t"])


class SingleFlightTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.flights: SingleFlight[str] = SingleFlight()
        self.started: list[Deferred[int]] = []
        self.cancelled: list[Deferred[int]] = []

    def start(self) -> Deferred[int]:
        call: Deferred[int] = Deferred(self.cancelled.append)
        self.started.append(call)
        return call

    def test_shared_answer(self) -> None:
        """Calls with one key at once start one call, and each gets its answer."""
        waiters = [self.flights.run("a", self.start) for _ in range(3)]
        other = self.flights.run("b", self.start)
        self.assertEqual(len(self.started), 2)
        self.started[0].callback(7)
        self.assertEqual([self.successResultOf(w) for w in waiters], [7, 7, 7])
        self.assertNoResult(other)
        self.assertEqual(len(self.flights), 1)

    def test_shared_failure(self) -> None:
        """A failed call fails every waiter, and the next call starts afresh."""
        waiters = [self.flights.run("a", self.start) for _ in range(2)]
        self.started[0].errback(RuntimeError("database trouble"))
        for waiter in waiters:
            self.failureResultOf(waiter, RuntimeError)
        self.flights.run("a", self.start)
        self.assertEqual(len(self.started), 2)

    def test_at_once(self) -> None:
        """A call that ends as it starts answers its caller, and is not kept."""
        self.assertEqual(self.successResultOf(self.flights.run("a", lambda: succeed(1))), 1)
        self.assertEqual(len(self.flights), 0)

    def test_one_gives_up(self) -> None:
        """A waiter that cancels leaves the others waiting; when all have, the call is
        cancelled."""
        first, second = (self.flights.run("a", self.start) for _ in range(2))
        first.cancel()
        self.failureResultOf(first, CancelledError)
        self.assertEqual(self.cancelled, [])
        second.cancel()
        self.failureResultOf(second, CancelledError)
        self.assertEqual(self.cancelled, self.started)
        self.assertEqual(len(self.flights), 0)


class SharedReadTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.db = temporary_database(self)
        self.computing: list[Deferred[object]] = []
        self.cache = ReadCache(SynchronousPool(self.db), lambda: NOW, compute=self.compute)

    def compute(self, fn: object, *args: object) -> Deferred[object]:
        computing: Deferred[object] = Deferred()
        self.computing.append(computing)
        return computing

    def read(self, *args: Hashable) -> Deferred[object]:
        return Deferred.fromCoroutine(self.cache.read(flaky_tests, *args))

    def test_identical_reads_computed_once(self) -> None:
        """Eight identical reads at once are computed once, and the answer is kept."""
        reads = [self.read(50) for _ in range(8)]
        self.assertEqual(len(self.computing), 1)
        self.computing[0].callback(["answer"])
        self.assertEqual([self.successResultOf(r) for r in reads], [["answer"]] * 8)
        self.assertEqual(self.successResultOf(self.read(50)), ["answer"])
        self.assertEqual(len(self.computing), 1)

    def test_not_shared_across_a_write(self) -> None:
        """A read made after a write does not wait for a computation started before it."""
        before = self.read(50)
        record_run(self.db, [result()])
        after = self.read(50)
        self.assertEqual(len(self.computing), 2)
        self.computing[1].callback(["new"])
        self.computing[0].callback(["old"])
        self.assertEqual(self.successResultOf(before), ["old"])
        self.assertEqual(self.successResultOf(after), ["new"])

    def test_not_kept(self) -> None:
        """With keep=False reads at once are still shared, but the answer is not kept."""

        def read() -> Deferred[object]:
            return Deferred.fromCoroutine(self.cache.read(flaky_tests, 50, keep=False))

        first, second = read(), read()
        self.computing[0].callback(["answer"])
        self.assertEqual(self.successResultOf(second), ["answer"])
        self.successResultOf(first)
        read()
        self.assertEqual(len(self.computing), 2)
