"""Answers of the slow store reads (flaky tests, trends), kept until the data changes,
and computed once however many ask for one at the same time.

Each worker keeps its own answers, on the reactor thread.  Before serving one it
reads the database's change count (``seedboard.db.changes``), which every
worker's writes move; an answer computed after reading the count is at least as
new as that count, so serving it while the count is unchanged never shows older
data than a fresh read would.  ``MAX_AGE`` bounds what a write made behind
seedboard's back (by hand, with SQL) can leave stale.

Requests for the same read that arrive while it is being computed wait for that
computation (``SingleFlight``) instead of starting their own, provided they read
the same change count: a computation started before a write may not answer a
request made after it.  Each gets the answer, or the error, of the one.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Concatenate, Generic, TypeVar

from sqlalchemy import Connection
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from seedboard.db.changes import change_count
from seedboard.db.pool import Pool

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)

MAX_AGE = timedelta(minutes=1)
SIZE = 32
"""Answers kept per worker: each page's few common queries, with room to spare."""
BUDGET = 100_000
"""What all kept answers may weigh together, in the units of ``read``'s ``weight`` (about
an object each): tens of megabytes, however odd the arguments asked for."""


def _one(value: object) -> int:
    return 1


@dataclass(frozen=True, slots=True)
class _Answer:
    changes: int
    made_at: datetime
    value: Any
    weight: int


Compute = Callable[..., Deferred[Any]]
"""How the cache computes ``fn(conn, *args)``: ``pool.read``, or a lane for heavy reads."""


class ReadCache:
    """Store reads answered again while the database has not changed, most recent kept;
    identical reads at the same time computed once.

    The change count is read with ``pool``; answers are computed with ``compute``
    (by default ``pool.read``).
    """

    def __init__(
        self,
        pool: Pool,
        clock: Callable[[], datetime],
        size: int = SIZE,
        budget: int = BUDGET,
        compute: Compute | None = None,
    ) -> None:
        self._pool = pool
        self._compute: Compute = compute or pool.read
        self._clock = clock
        self._size = size
        self._budget = budget
        self._weight = 0
        self._answers: OrderedDict[tuple[Hashable, ...], _Answer] = OrderedDict()
        self._flights: SingleFlight[tuple[Hashable, ...]] = SingleFlight()

    async def read(
        self,
        fn: Callable[Concatenate[Connection, ...], T],
        *args: Hashable,
        weight: Callable[[T], int] = _one,
        keep: bool = True,
    ) -> T:
        """``fn(conn, *args)``, or its kept answer if nothing has changed since, or the
        answer of the same read being computed since the last change.

        ``weight`` tells how much an answer costs to keep; one heavier than the whole
        budget is not kept, and none is with ``keep=False`` (the read is still shared).
        """
        changes = await self._pool.read(change_count)
        key = (fn, *args)
        kept = self._answers.get(key)
        now = self._clock()
        if kept is not None and kept.changes == changes and now - kept.made_at < MAX_AGE:
            self._answers.move_to_end(key)
            value: T = kept.value
            return value

        def computed(value: T) -> T:
            if keep:
                self._keep(key, _Answer(changes, now, value, weight(value)))
            return value

        def compute() -> Deferred[T]:
            return self._compute(fn, *args).addCallback(computed)

        return await self._flights.run((*key, changes), compute)

    def _keep(self, key: tuple[Hashable, ...], answer: _Answer) -> None:
        replaced = self._answers.pop(key, None)
        if replaced is not None:
            self._weight -= replaced.weight
        if answer.weight > self._budget:
            return
        self._answers[key] = answer
        self._weight += answer.weight
        while len(self._answers) > self._size or self._weight > self._budget:
            _, dropped = self._answers.popitem(last=False)
            self._weight -= dropped.weight


class SingleFlight(Generic[K]):
    """Calls with the same key at the same time share one: the first starts it, the
    others wait for it, and each gets its result or its failure.

    A caller that gives up (cancels its Deferred) leaves the others waiting; when
    all have, the shared call is cancelled.
    """

    def __init__(self) -> None:
        self._flights: dict[K, _Flight] = {}

    def run(self, key: K, start: Callable[[], Deferred[T]]) -> Deferred[T]:
        flight = self._flights.get(key)
        if flight is not None:
            return flight.join()
        flight = self._flights[key] = _Flight(partial(self._landed, key))
        waiter: Deferred[T] = flight.join()  # before starting: it may end at once
        flight.take_off(start())
        return waiter

    def __len__(self) -> int:
        """Calls in flight."""
        return len(self._flights)

    def _landed(self, key: K, flight: _Flight) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]


class _Flight:
    """One shared call and those waiting for it."""

    def __init__(self, landed: Callable[[_Flight], None]) -> None:
        self._landed = landed
        self._waiters: list[Deferred[Any]] = []
        self._call: Deferred[Any] | None = None

    def join(self) -> Deferred[Any]:
        waiter: Deferred[Any] = Deferred(self._left)
        self._waiters.append(waiter)
        return waiter

    def take_off(self, call: Deferred[Any]) -> None:
        self._call = call
        call.addBoth(self._land)

    def _left(self, waiter: Deferred[Any]) -> None:
        self._waiters.remove(waiter)
        if not self._waiters and self._call is not None:
            self._landed(self)  # a caller arriving now starts afresh
            self._call.cancel()

    def _land(self, result: object) -> None:
        self._landed(self)
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if isinstance(result, Failure):
                waiter.errback(result)
            else:
                waiter.callback(result)
