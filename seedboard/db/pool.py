"""Database calls off the reactor thread: store functions in, Deferreds out.

One writer thread (SQLite allows one writer; a single thread also keeps
writes in order), a few reader threads, and apart from them the heavy readers
(``ThreadedPool.heavy``): reads that scan history run there, so they never hold
up the cheap reads.  In-memory SQLite lives on one connection, so there all
share the writer's thread.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from functools import partial
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy import Connection
from twisted.internet.defer import Deferred, maybeDeferred
from twisted.internet.interfaces import IReactorFromThreads
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from twisted.python.threadpool import ThreadPool

from seedboard.db.engine import Database

P = ParamSpec("P")
T = TypeVar("T")

READ_THREADS = 4
HEAVY_THREADS = 1
"""Threads for reads that scan history (flaky tests, trends, comparisons): their work is
mostly Python, so more than one mostly shares the one interpreter lock."""

SWITCH_INTERVAL = 0.001
"""Seconds a thread keeps the interpreter lock while another waits for it, while the pool
runs (Python's default is 5 ms).  A heavy read's Python work holds the lock; a cheap
request passes it between the reactor and a reader several times, waiting up to this
each time."""

CHECKPOINT_PAUSE = 0.25
"""Seconds a checkpoint waits after the write that asks for it.  Writes that end
meanwhile are copied by the same checkpoint: under a stream of batches, a page
that every batch changes (an index's) is copied into the file once for several
batches instead of once for each, and the log holds at most this long's writes."""

log = Logger()


class Pool(Protocol):
    """What the web layer needs: run a store function, get a Deferred of its result."""

    def read(
        self, fn: Callable[Concatenate[Connection, P], T], *a: P.args, **k: P.kwargs
    ) -> Deferred[T]: ...

    def write(
        self, fn: Callable[Concatenate[Connection, P], T], *a: P.args, **k: P.kwargs
    ) -> Deferred[T]: ...


class ThreadedPool:
    def __init__(
        self,
        database: Database,
        reactor: IReactorFromThreads,
        heavy_threads: int = HEAVY_THREADS,
    ) -> None:
        self._database = database
        self._reactor = reactor
        self._writer = ThreadPool(1, 1, name="seedboard-db-write")
        # Checkpoints get a thread of their own, so a write never waits for one.
        self._checkpointer = ThreadPool(1, 1, name="seedboard-db-checkpoint")
        self._checkpoint_due = False
        self._stopped = False
        self._stopping = threading.Event()
        self._switch_interval = sys.getswitchinterval()
        self._readers = (
            self._writer
            if database.single_connection
            else ThreadPool(1, READ_THREADS, name="seedboard-db-read")
        )
        self._heavy_readers = (
            self._writer
            if database.single_connection
            else ThreadPool(heavy_threads, heavy_threads, name="seedboard-db-heavy")
        )
        self.heavy: Pool = _HeavyReads(self)
        """This pool, but reading on the heavy readers' threads (``read_heavy``)."""

    def start(self) -> None:
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch_interval, SWITCH_INTERVAL))
        self._writer.start()
        if self._database.background_checkpoints:
            self._checkpointer.start()
        if self._readers is not self._writer:
            self._readers.start()
            self._heavy_readers.start()

    def stop(self) -> None:
        self._stopped = True
        self._stopping.set()
        self._writer.stop()
        if self._database.background_checkpoints:
            self._checkpointer.stop()
        if self._readers is not self._writer:
            self._readers.stop()
            self._heavy_readers.stop()
        self._database.dispose()
        sys.setswitchinterval(self._switch_interval)

    def read(
        self, fn: Callable[Concatenate[Connection, P], T], *a: P.args, **k: P.kwargs
    ) -> Deferred[T]:
        return deferToThreadPool(
            self._reactor, self._readers, partial(self._database.read, fn, *a, **k)
        )

    def read_heavy(
        self, fn: Callable[Concatenate[Connection, P], T], *a: P.args, **k: P.kwargs
    ) -> Deferred[T]:
        """``read``, on the heavy readers' threads."""
        return deferToThreadPool(
            self._reactor, self._heavy_readers, partial(self._database.read, fn, *a, **k)
        )

    def write(
        self, fn: Callable[Concatenate[Connection, P], T], *a: P.args, **k: P.kwargs
    ) -> Deferred[T]:
        written = deferToThreadPool(
            self._reactor, self._writer, partial(self._database.write, fn, *a, **k)
        )
        if self._database.background_checkpoints:
            written.addBoth(self._checkpoint_soon)
        return written

    def _checkpoint_soon(self, result: T) -> T:
        """Ask for a checkpoint after a write, unless one is asked for and not begun."""
        # After stop, closing the last connection checkpoints instead.
        if not self._checkpoint_due and not self._stopped:
            self._checkpoint_due = True
            deferToThreadPool(self._reactor, self._checkpointer, self._checkpoint).addErrback(
                lambda failure: log.failure("Checkpoint failed", failure)
            )
        return result

    def _checkpoint(self) -> None:
        if self._stopping.wait(CHECKPOINT_PAUSE):
            return  # stopping: closing the last connection checkpoints instead
        # Cleared before it begins: a write that ends meanwhile asks for one more.
        self._checkpoint_due = False
        self._database.checkpoint()


class _HeavyReads:
    """A ``ThreadedPool`` whose reads run on the heavy readers' threads."""

    def __init__(self, pool: ThreadedPool) -> None:
        self._pool = pool

    def read(
        self, fn: Callable[Concatenate[Connection, P], T], *a: P.args, **k: P.kwargs
    ) -> Deferred[T]:
        return self._pool.read_heavy(fn, *a, **k)

    def write(
        self, fn: Callable[Concatenate[Connection, P], T], *a: P.args, **k: P.kwargs
    ) -> Deferred[T]:
        return self._pool.write(fn, *a, **k)


class SynchronousPool:
    """Runs store functions at once on the calling thread: for fast unit tests."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def read(
        self, fn: Callable[Concatenate[Connection, P], T], *a: P.args, **k: P.kwargs
    ) -> Deferred[T]:
        return maybeDeferred(partial(self._database.read, fn, *a, **k))

    def write(
        self, fn: Callable[Concatenate[Connection, P], T], *a: P.args, **k: P.kwargs
    ) -> Deferred[T]:
        return maybeDeferred(partial(self._database.write, fn, *a, **k))
