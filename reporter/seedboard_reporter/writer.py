"""The writer process: a run's recording work, in a child of trial's process.

Writing results costs about as much interpreter time as running a fast test:
importing SQLAlchemy, the inserts, fingerprinting failures, Alembic for a new
or older database; or, with a server, encoding JSON, spooling and HTTP.  In
trial's process that time is taken from the tests, since threads share one
interpreter; a child process does it on another core.  The reporter starts the
child when it is built, so its imports overlap the tests.  The recorder thread
pickles each call (what to open, create, a batch, finish) down the child's
stdin; the child applies them in order to a real target.  Once it has finished
the run it says so on stdout, so the run's end waits for the last commit (or
the server's last acknowledgement), never for the child to close its database
and exit.  If it cannot record, it prints why on one line and exits 1.

If trial dies or is interrupted, the child still reads to the end of the pipe,
so every batch already handed over is written (or spooled, with a server) and
the run shows as unfinished.
"""

from __future__ import annotations

import contextlib
import pickle
import signal
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import IO, NamedTuple

from seedboard.errors import one_line
from seedboard_reporter.recorder import Row, RunFacts, Target, Unrecorded

FINISHED = b"finished\n"
"""The child's answer once the run's finish is stored (or acknowledged by the server)."""


class DatabaseSpec(NamedTuple):
    """Record into the database at ``url``, through seedboard's own store."""

    url: str


class ServerSpec(NamedTuple):
    """Record on the server at ``url``, every request spooled first."""

    url: str
    token: str | None
    spool: Path
    run_id: str
    flush_timeout: float


Spec = DatabaseSpec | ServerSpec


def open_target(spec: Spec) -> Target:
    """The target a spec names, opened in this process."""
    if isinstance(spec, ServerSpec):
        from seedboard_reporter.spool import RunSpool
        from seedboard_reporter.uploader import Courier, Sender, ServerTarget

        courier = Courier(Sender(spec.url, spec.token))
        return ServerTarget(courier, RunSpool(spec.spool, spec.run_id), spec.flush_timeout)
    # The database through seedboard's own store: one write path, whoever writes.
    from seedboard_reporter.embedded import EmbeddedTarget

    return EmbeddedTarget.open(spec.url)


class WriterProcess:
    """A target that hands every call to a writer process, which records the run."""

    def __init__(self, spec: Spec) -> None:
        # A file, not a pipe: nobody reads the child's stderr unless it fails,
        # and a full pipe would block it.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (kept open with the child)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "seedboard_reporter.writer"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        self._send(spec)

    def create_run(self, facts: RunFacts) -> None:
        self._send(("create_run", facts))

    def add_results(self, run_id: str, rows: list[Row]) -> None:
        self._send(("add_results", run_id, columns_of(rows)))

    def finish_run(self, run_id: str, finished_at: datetime) -> None:
        """Send the finish and wait until the child says the run is stored."""
        self._send(("finish_run", run_id, finished_at))
        self.close()  # the end of the calls: the child closes its target and exits alone
        stdout = self._process.stdout
        assert stdout is not None
        answer = stdout.readline()
        if answer != FINISHED:
            raise Unrecorded(self._failure(answer))

    def close(self) -> None:
        stdin = self._process.stdin
        if stdin is not None and not stdin.closed:  # the run stopped early: the child ends alone
            with contextlib.suppress(OSError):
                stdin.close()

    def _send(self, call: object) -> None:
        stdin = self._process.stdin
        assert stdin is not None
        try:
            pickle.dump(call, stdin, protocol=pickle.HIGHEST_PROTOCOL)
            stdin.flush()
        except OSError:  # the child stopped: it says why
            stdout = self._process.stdout
            assert stdout is not None
            raise Unrecorded(self._failure(stdout.readline())) from None

    def _failure(self, answer: bytes) -> str:
        """Why the child stopped: its own line, else its last words on stderr."""
        code = self._process.wait()
        said = answer.decode(errors="replace").strip()
        self._stderr.seek(0)
        return said or _last_line(self._stderr.read()) or f"the writer process exited with {code}"


Columns = list[tuple[object, ...]]
"""A batch of rows as one tuple per field, in ``Row``'s order."""


def columns_of(rows: list[Row]) -> Columns:
    """Rows as columns, to cross the pipe: a tuple subclass like ``Row`` pickles through a
    Python call per row, where these pickle as fast as plain tuples (in trial's process)."""
    return list(zip(*rows, strict=True))


def rows_of(columns: Columns) -> list[Row]:
    """The rows again, on the writer's side."""
    return list(map(Row._make, zip(*columns, strict=True)))


def _last_line(text: bytes) -> str:
    lines = text.decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else ""


def apply_calls(calls: IO[bytes], target: Target, answer: IO[bytes] | None = None) -> None:
    """Apply pickled calls from ``calls`` to ``target`` until the stream ends.

    Once the run is finished, ``FINISHED`` goes to ``answer``.
    """
    while True:
        try:
            verb, *args = pickle.load(calls)
        except EOFError:
            return
        if verb == "create_run":
            target.create_run(*args)
        elif verb == "add_results":
            run_id, columns = args
            target.add_results(run_id, rows_of(columns))
        elif verb == "finish_run":
            target.finish_run(*args)
            if answer is not None:
                answer.write(FINISHED)
                answer.flush()
        else:
            raise ValueError(f"unknown call {verb!r}")


def main() -> None:
    # Ctrl-C reaches the whole process group: trial stops, and what it handed
    # over is still written.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    answer = sys.stdout.buffer
    sys.stdout = sys.stderr  # stdout carries the answer alone
    calls = sys.stdin.buffer
    target: Target | None = None
    try:
        target = open_target(pickle.load(calls))
        apply_calls(calls, target, answer)
    except Exception as error:
        message = str(error) if isinstance(error, Unrecorded) else one_line(error)
        answer.write(message.encode("utf-8", "replace") + b"\n")
        answer.flush()
        sys.exit(1)
    finally:
        if target is not None:
            target.close()


if __name__ == "__main__":
    # Run as a module, this file is ``__main__``: the specs it unpickles are
    # ``seedboard_reporter.writer``'s, so the rest runs from that module too.
    from seedboard_reporter.writer import main as writer_main

    writer_main()
