"""Hands a run's results to a target from a background thread, in batches.

Tests never wait on storage: the reporter only appends a row to a list.  The
thread opens the target (importing whatever it needs off trial's start-up
path), creates the run, hands over a batch every ``batch_size`` results or
``interval`` seconds, and finishes the run when asked.  A short interval keeps
the run's end short: only what came after the last batch is left to write.  A
target that fails stops the recording, never the test run; the failure is
reported once.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

from seedboard.errors import one_line

if TYPE_CHECKING:
    from seedboard.domain import RunStart

# Records here are NamedTuples, not dataclasses, and seedboard.domain is not
# imported: this module loads in every trial run, and a dataclass compiles its
# methods as its module is imported.

BATCH_SIZE = 1000
INTERVAL = 0.1


class Row(NamedTuple):
    """A result as the reporter hands it over: ``seedboard.domain.Result``'s fields but
    the fingerprint (the store computes it), its outcome as ``Outcome``'s value.

    Built once per test in trial's process, where ``Result`` is not imported (see
    above); ``tests/test_recorder.py`` holds these fields to ``Result``'s."""

    test_id: str
    outcome: str
    duration: float
    seed: int | None
    exception_type: str | None
    message: str | None
    traceback: str | None
    file: str | None
    line: int | None
    position: int | None


class RunFacts(NamedTuple):
    """What the reporter knows as a run starts.

    The run's record (host, versions, branch and commit, which asks git) is made
    from these off the tests' path: on the recorder's thread (server mode) or by the
    importer (embedded mode, from the spool file's header).
    """

    run_id: str
    started_at: datetime
    environ: dict[str, str]
    cwd: Path
    argv: list[str]
    order_seed: int | None
    run_seed: int | None

    def start(self) -> RunStart:
        from seedboard_reporter.metadata import run_start  # off the tests' path: git, platform

        return run_start(**self._asdict())


class Target(Protocol):
    """Somewhere a run can be recorded: a database or a server, in this process or another."""

    def create_run(self, facts: RunFacts) -> None: ...

    def add_results(self, run_id: str, rows: list[Row]) -> None: ...

    def finish_run(self, run_id: str, finished_at: datetime) -> None: ...

    def close(self) -> None: ...


class Receipt(NamedTuple):
    """How the recording went, for the reporter's last line."""

    run_id: str
    where: str
    results: int
    error: str | None = None
    background: bool = False
    """Whether the results are still being put where they go, by a process of their own."""
    said: str | None = None
    """The line as another process wrote it (server mode's sender), if one did."""

    def line(self) -> str:
        if self.said is not None:
            return self.said
        if self.error is not None:
            return f"seedboard: warning: this run was not recorded in {self.where}: {self.error}"
        if self.background:
            return (
                f"seedboard: recording run {self.run_id} ({self.results} results) "
                f"into {self.where} (importing in the background)"
            )
        return f"seedboard: recorded run {self.run_id} ({self.results} results) in {self.where}"


class Unrecorded(Exception):
    """Raised by a target whose message already says, for a person, what happened."""


class Recorder:
    """Collects results on the test thread; a background thread takes them in batches.

    The test thread only appends a row to a deque (no lock: only the recorder
    thread takes from it); the recorder thread wakes when a batch is full or an
    interval has passed, not once per test, so the tests keep the interpreter
    to themselves.
    """

    def __init__(
        self,
        open_target: Callable[[], Target],
        facts: RunFacts,
        where: str,
        batch_size: int = BATCH_SIZE,
        interval: float = INTERVAL,
    ) -> None:
        self._open_target = open_target
        self._facts = facts
        self._run_id = facts.run_id
        self._where = where
        self._batch_size = batch_size
        self._interval = interval
        self._wake = threading.Event()
        self._rows: deque[Row] = deque()
        self._finished_at: datetime | None = None
        self._abandoned = False
        self._thread = threading.Thread(target=self._work, name="seedboard-recorder", daemon=True)
        self._added = 0
        self._error: str | None = None

    def start(self) -> None:
        self._thread.start()

    def add(self, row: Row) -> None:
        rows = self._rows
        rows.append(row)
        self._added += 1
        if len(rows) >= self._batch_size:
            self._wake.set()

    def fail(self, error: str) -> None:
        """Give up recording (the reporter itself hit a problem); keep the first error."""
        self._error = self._error or error

    def finish(self, finished_at: datetime, timeout: float | None = None) -> Receipt:
        """Finish the run and wait for the thread; the receipt says how it went."""
        self._finished_at = finished_at
        self._wake.set()
        self._thread.join(timeout)
        error = self._error
        if error is None and self._thread.is_alive():
            error = f"still writing after {timeout} s; stopped waiting"
        return Receipt(self._run_id, self._where, self._added, error)

    def abandon(self, timeout: float | None = None) -> None:
        """Hand over what was added, without finishing the run (its process died)."""
        self._abandoned = True
        self._wake.set()
        self._thread.join(timeout)

    def _work(self) -> None:
        target: Target | None = None
        try:
            target = self._open_target()
            target.create_run(self._facts)
            self._write_until_finished(target)
        except Unrecorded as error:
            self.fail(str(error))
        except Exception as error:
            self.fail(one_line(error))
        finally:
            self._rows = deque(maxlen=0)  # nobody takes rows any more: keep none
            if target is not None:
                target.close()

    def _write_until_finished(self, target: Target) -> None:
        while True:
            self._wake.wait(self._interval)
            self._wake.clear()
            if self._error is not None:
                return
            batch, finished_at = self._take()
            for start in range(0, len(batch), self._batch_size):
                target.add_results(self._run_id, batch[start : start + self._batch_size])
            if finished_at is not None:
                target.finish_run(self._run_id, finished_at)
                return
            if self._abandoned and not self._rows:
                return

    def _take(self) -> tuple[list[Row], datetime | None]:
        # The finish first: every row added before finish() is then in the deque.
        finished_at = self._finished_at
        rows = self._rows
        return [rows.popleft() for _ in range(len(rows))], finished_at
