"""Embedded mode's writer process: the database work of a run, off trial's process.

Writing results costs about as much interpreter time as running a fast test
(importing SQLAlchemy, the inserts, fingerprinting failures, and Alembic for a
new or older database).  In trial's process that time is taken from the
tests, since threads share one interpreter; a child process does it on another
core.  The recorder thread pickles each call (create, a batch, finish) down
the child's stdin; the child applies them in order to a real target and
exits 0, or prints why it could not on one line and exits 1.

If trial dies or is interrupted, the child still reads to the end of the pipe,
so every batch already handed over is written and the run shows as unfinished.
"""

from __future__ import annotations

import contextlib
import pickle
import signal
import subprocess
import sys
from datetime import datetime
from typing import IO, Any

from seedboard.domain import Result, RunStart
from seedboard.errors import one_line
from seedboard_reporter.recorder import Target, Unrecorded

_ROW = tuple[Any, ...]
"""A result as its fields in order: a tuple pickles several times faster than the record."""


def _row(result: Result) -> _ROW:
    return (
        result.test_id,
        result.outcome,
        result.duration,
        result.seed,
        result.exception_type,
        result.message,
        result.traceback,
        result.file,
        result.line,
    )


class WriterProcess:
    """A target that hands every call to a writer process, which writes the database."""

    def __init__(self, url: str) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "seedboard_reporter.writer", url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def create_run(self, run: RunStart) -> None:
        self._send("create_run", run)

    def add_results(self, run_id: str, results: list[Result]) -> None:
        self._send("add_results", run_id, [_row(result) for result in results])

    def finish_run(self, run_id: str, finished_at: datetime) -> None:
        """Send the finish and wait for the child to have written everything."""
        self._send("finish_run", run_id, finished_at)
        self._wait()

    def close(self) -> None:
        stdin = self._process.stdin
        if stdin is not None and not stdin.closed:  # the run stopped early: the child ends alone
            with contextlib.suppress(OSError):
                stdin.close()

    def _send(self, *call: object) -> None:
        stdin = self._process.stdin
        assert stdin is not None
        try:
            pickle.dump(call, stdin, protocol=pickle.HIGHEST_PROTOCOL)
            stdin.flush()
        except OSError:  # the child stopped: it says why
            self._wait()
            raise Unrecorded("the writer process stopped") from None

    def _wait(self) -> None:
        out, err = self._process.communicate()  # closes the child's stdin: the end of the calls
        if self._process.returncode != 0:
            said = out.decode(errors="replace").strip() or _last_line(err)
            raise Unrecorded(said or f"the writer process exited with {self._process.returncode}")


def _last_line(text: bytes) -> str:
    lines = text.decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else ""


def open_target(url: str) -> Target:
    """The database through seedboard's own store: one write path, whoever writes."""
    from seedboard_reporter.embedded import EmbeddedTarget

    return EmbeddedTarget.open(url)


def apply_calls(calls: IO[bytes], target: Target) -> None:
    """Apply pickled calls from ``calls`` to ``target`` until the stream ends."""
    while True:
        try:
            verb, *args = pickle.load(calls)
        except EOFError:
            return
        if verb == "create_run":
            target.create_run(*args)
        elif verb == "add_results":
            run_id, rows = args
            target.add_results(run_id, [Result(*row) for row in rows])
        elif verb == "finish_run":
            target.finish_run(*args)
        else:
            raise ValueError(f"unknown call {verb!r}")


def main() -> None:
    # Ctrl-C reaches the whole process group: trial stops, and what it handed
    # over is still written.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    target: Target | None = None
    try:
        target = open_target(sys.argv[1])
        apply_calls(sys.stdin.buffer, target)
    except Exception as error:
        print(str(error) if isinstance(error, Unrecorded) else one_line(error), flush=True)
        sys.exit(1)
    finally:
        if target is not None:
            target.close()


if __name__ == "__main__":
    main()
