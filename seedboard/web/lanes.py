"""The heavy reads' lane: reads that scan history (flaky tests, trends, comparisons)
run a few at a time on threads of their own, so cheap reads and writes never wait
behind them.

At most ``readers`` heavy reads run at once and ``queue`` more wait; one more is
refused at once with a 503.  Each has ``timeout`` seconds from its arrival, waiting
included: a read still queued then is answered 503, and one still running is
stopped by its budget (``seedboard.db.budget``) and answered 503 too, at the
deadline whatever its thread is doing (its thread is counted busy until it
returns).  Every 503 says when to try again (``Retry-After``).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, cast

from twisted.internet.base import DelayedCall
from twisted.internet.defer import Deferred, fail
from twisted.python.failure import Failure

from seedboard.db.budget import OutOfTime, within
from seedboard.db.pool import Pool
from seedboard.web.limits import DEFAULT_LIMITS, HeavyLimits
from seedboard.web.problems import Problem

T = TypeVar("T")


class Timers(Protocol):
    """The reactor's timers, spelt out because mypy cannot read zope interfaces."""

    def callLater(
        self, delay: float, callable: Callable[..., object], *args: object, **kw: object
    ) -> DelayedCall: ...


def busy(limits: HeavyLimits) -> Problem:
    return Problem(
        503,
        "unavailable",
        "The server is busy with other slow reads (flaky tests, trends, comparisons); "
        f"try again in {limits.retry_after} s.",
        [("Retry-After", limits.retry_after)],
    )


def too_slow(limits: HeavyLimits) -> Problem:
    return Problem(
        503,
        "unavailable",
        f"This read needs longer than the server allows ({limits.timeout:g} s); try again "
        "later, or ask for less (a smaller window, fewer days).",
        [("Retry-After", limits.retry_after)],
    )


@dataclass(eq=False)
class _Read:
    """One heavy read, from its arrival to its answer."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    deadline: float
    answer: Deferred[Any] = field(init=False)
    timer: DelayedCall | None = None
    running: bool = False


class HeavyLane:
    """Heavy reads through ``pool`` (whose reads should run on threads of their own),
    within ``limits``."""

    def __init__(
        self,
        pool: Pool,
        limits: HeavyLimits = DEFAULT_LIMITS,
        reactor: Timers | None = None,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        if reactor is None:
            from twisted.internet import reactor as default_reactor

            reactor = cast(Timers, default_reactor)
        self.limits = limits
        self._pool = pool
        self._reactor = reactor
        self._now = now
        self._running = 0
        self._waiting: deque[_Read] = deque()

    def read(self, fn: Callable[..., T], *args: Any) -> Deferred[T]:
        """``fn(conn, *args)`` on the pool, or a 503 ``Problem`` (queue full, out of time)."""
        if self._running >= self.limits.readers and len(self._waiting) >= self.limits.queue:
            return fail(busy(self.limits))
        read = _Read(fn, args, self._now() + self.limits.timeout)
        read.answer = Deferred(lambda _: self._cancel(read))
        if self._running < self.limits.readers:
            self._start(read)
        else:
            self._waiting.append(read)
        if not read.answer.called:
            read.timer = self._reactor.callLater(self.limits.timeout, self._expire, read)
        return read.answer

    def _start(self, read: _Read) -> None:
        self._running += 1
        read.running = True
        computed = self._pool.read(within, read.deadline, read.fn, *read.args)
        computed.addBoth(self._finished, read)

    def _finished(self, result: object, read: _Read) -> None:
        self._running -= 1
        if isinstance(result, Failure) and result.check(OutOfTime):
            result = Failure(too_slow(self.limits))
        self._settle(read, result)
        while self._waiting and self._running < self.limits.readers:
            self._start(self._waiting.popleft())

    def _expire(self, read: _Read) -> None:
        """The deadline: answer now, whether the read still waits or still runs."""
        read.timer = None
        if not read.running:
            self._waiting.remove(read)
        self._settle(read, Failure(too_slow(self.limits)))

    def _cancel(self, read: _Read) -> None:
        """Nobody wants the answer any more: a read still waiting gives up its place."""
        if not read.running and read in self._waiting:
            self._waiting.remove(read)
        if read.timer is not None:
            read.timer.cancel()
            read.timer = None

    def _settle(self, read: _Read, result: object) -> None:
        if read.timer is not None:
            read.timer.cancel()
            read.timer = None
        if read.answer.called:
            return  # answered at its deadline, or cancelled
        if isinstance(result, Failure):
            read.answer.errback(result)
        else:
            read.answer.callback(result)
