"""Hands a run's results to a target from a background thread, in batches.

Tests never wait on storage: the reporter only puts results on a queue.  The
thread opens the target (importing whatever it needs off trial's start-up
path), creates the run, writes a batch every ``batch_size`` results or
``interval`` seconds, and finishes the run when asked.  A target that fails
stops the recording, never the test run; the failure is reported once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from queue import Empty, SimpleQueue
from typing import Protocol

from seedboard.domain import Result, RunStart
from seedboard.errors import one_line

BATCH_SIZE = 1000
INTERVAL = 1.0


class Target(Protocol):
    """Somewhere a run can be recorded: a database, later a server."""

    def create_run(self, run: RunStart) -> None: ...

    def add_results(self, run_id: str, results: list[Result]) -> None: ...

    def finish_run(self, run_id: str, finished_at: datetime) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Receipt:
    """How the recording went, for the reporter's last line."""

    run_id: str
    where: str
    results: int
    error: str | None = None

    def line(self) -> str:
        if self.error is not None:
            return f"seedboard: warning: this run was not recorded in {self.where}: {self.error}"
        return f"seedboard: recorded run {self.run_id} ({self.results} results) in {self.where}"


class Unrecorded(Exception):
    """Raised by a target whose message already says, for a person, what happened."""


@dataclass(frozen=True)
class _Finish:
    finished_at: datetime


class Recorder:
    def __init__(
        self,
        open_target: Callable[[], Target],
        make_run: Callable[[], RunStart],
        run_id: str,
        where: str,
        batch_size: int = BATCH_SIZE,
        interval: float = INTERVAL,
    ) -> None:
        self._open_target = open_target
        self._make_run = make_run
        self._run_id = run_id
        self._where = where
        self._batch_size = batch_size
        self._interval = interval
        self._queue: SimpleQueue[Result | _Finish] = SimpleQueue()
        self._thread = threading.Thread(target=self._work, name="seedboard-recorder", daemon=True)
        self._added = 0
        self._error: str | None = None

    def start(self) -> None:
        self._thread.start()

    def add(self, result: Result) -> None:
        self._added += 1
        self._queue.put(result)

    def fail(self, error: str) -> None:
        """Give up recording (the reporter itself hit a problem); keep the first error."""
        self._error = self._error or error

    def finish(self, finished_at: datetime, timeout: float | None = None) -> Receipt:
        """Finish the run and wait for the thread; the receipt says how it went."""
        self._queue.put(_Finish(finished_at))
        self._thread.join(timeout)
        error = self._error
        if error is None and self._thread.is_alive():
            error = f"still writing after {timeout} s; stopped waiting"
        return Receipt(self._run_id, self._where, self._added, error)

    def _work(self) -> None:
        target: Target | None = None
        try:
            target = self._open_target()
            target.create_run(self._make_run())
            self._write_until_finished(target)
        except Unrecorded as error:
            self.fail(str(error))
        except Exception as error:
            self.fail(one_line(error))
        finally:
            if target is not None:
                target.close()

    def _write_until_finished(self, target: Target) -> None:
        batch: list[Result] = []
        deadline = time.monotonic() + self._interval
        while True:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except Empty:
                item = None
            if self._error is not None:
                return
            if isinstance(item, _Finish):
                if batch:
                    target.add_results(self._run_id, batch)
                target.finish_run(self._run_id, item.finished_at)
                return
            if item is not None:
                batch.append(item)
            if len(batch) >= self._batch_size or (batch and time.monotonic() >= deadline):
                target.add_results(self._run_id, batch)
                batch = []
            if time.monotonic() >= deadline:
                deadline = time.monotonic() + self._interval
