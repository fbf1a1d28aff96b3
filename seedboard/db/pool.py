"""Database calls off the reactor thread: store functions in, Deferreds out.

One writer thread (SQLite allows one writer; a single thread also keeps
writes in order) and a few reader threads.  In-memory SQLite lives on one
connection, so there both share the writer's thread.
"""

from __future__ import annotations

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
    def __init__(self, database: Database, reactor: IReactorFromThreads) -> None:
        self._database = database
        self._reactor = reactor
        self._writer = ThreadPool(1, 1, name="seedboard-db-write")
        # Checkpoints get a thread of their own, so a write never waits for one.
        self._checkpointer = ThreadPool(1, 1, name="seedboard-db-checkpoint")
        self._checkpoint_due = False
        self._stopped = False
        self._stopping = threading.Event()
        self._readers = (
            self._writer
            if database.single_connection
            else ThreadPool(1, READ_THREADS, name="seedboard-db-read")
        )

    def start(self) -> None:
        self._writer.start()
        if self._database.background_checkpoints:
            self._checkpointer.start()
        if self._readers is not self._writer:
            self._readers.start()

    def stop(self) -> None:
        self._stopped = True
        self._stopping.set()
        self._writer.stop()
        if self._database.background_checkpoints:
            self._checkpointer.stop()
        if self._readers is not self._writer:
            self._readers.stop()
        self._database.dispose()

    def read(
        self, fn: Callable[Concatenate[Connection, P], T], *a: P.args, **k: P.kwargs
    ) -> Deferred[T]:
        return deferToThreadPool(
            self._reactor, self._readers, partial(self._database.read, fn, *a, **k)
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
