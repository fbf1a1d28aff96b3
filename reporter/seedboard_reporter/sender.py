"""Server mode's sender: a light child of trial's process that streams the spool file.

Trial's process records a run on a server as it does into a database: its
results appended to a spool file (``spool_file.py``), a frame per flush.  This process, started
with the reporter, reads the file as it grows and hands its rows to a
``Recorder`` over a ``ServerTarget`` (batches spooled as requests, sent by the
courier with the standard library), so the server shows the run as it happens.
It imports no SQLAlchemy and does its encoding and HTTP on a core of its own.

Once the file's finish is read it finishes the run (waiting at most the
flush timeout for the server) and prints the receipt's line on stdout, which
the reporter prints as its last line.  If trial dies first (its lock on the file
is gone with no finish), what was flushed is sent or kept in the request spool
without a finish: the run shows as unfinished.  Either way the spool file is
deleted once all of it is in the request spool.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import signal
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from seedboard.settings import TOKEN_ENV
from seedboard_reporter.recorder import Recorder, Row, RunFacts, Target
from seedboard_reporter.spool_file import read_header, take_frames

POLL = 0.05
"""Seconds between looks at the spool file for new frames, unless woken sooner."""


def open_server_target(
    url: str, token: str | None, spool: Path, run_id: str, timeout: float
) -> Target:
    """The server at ``url`` as a target: requests spooled under ``spool``, then sent."""
    from seedboard_reporter.spool import RunSpool
    from seedboard_reporter.uploader import Courier, Sender, ServerTarget

    return ServerTarget(Courier(Sender(url, token)), RunSpool(spool, run_id), timeout)


def facts_of(header: dict[str, Any]) -> RunFacts:
    """The run's facts from a spool file's header, with this process's environment
    (trial's own, which started it)."""
    return RunFacts(
        header["run_id"],
        datetime.fromisoformat(header["started_at"]),
        dict(os.environ),
        Path(header["cwd"]),
        list(header["argv"]),
        header["order_seed"],
        header["run_seed"],
    )


def _writer_gone(fd: int) -> bool:
    """Whether the process writing the file let go of its lock (it ended, or died)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    fcntl.flock(fd, fcntl.LOCK_UN)
    return True


class Wake:
    """Waits that end early once trial closes our standard input, which it does as its
    run ends (its finish written) or as it dies: the run's end, seen at once rather
    than at the next look, is time trial's ``done()`` does not wait."""

    def __init__(self, stdin: int) -> None:
        self._stdin = stdin
        self._closed = False

    def wait(self, seconds: float) -> None:
        if self._closed:
            time.sleep(seconds)
            return
        ready, _, _ = select.select([self._stdin], [], [], seconds)
        if ready and not os.read(self._stdin, 1):
            self._closed = True  # end of file: look at once, then poll as before


def stream(path: Path, server: dict[str, Any], wake: Wake) -> str:
    """Send the run in the spool file at ``path`` as it grows; the receipt's line."""
    fd = os.open(path, os.O_RDONLY)
    with open(fd, "rb") as file:
        facts = facts_of(read_header(file))
        target = (
            server["url"],
            os.environ.get(TOKEN_ENV),  # from the environment, never argv: ps shows argv
            Path(server["spool"]),
            facts.run_id,
            server["flush_timeout"],
        )
        recorder = Recorder(lambda: open_server_target(*target), facts, server["where"])
        recorder.start()
        left = b""
        while True:
            chunk = file.read()
            if not chunk:
                if _writer_gone(fd):
                    chunk = file.read()  # what it wrote last, before letting go
                    if not chunk:
                        recorder.abandon()
                        path.unlink(missing_ok=True)
                        return ""
                else:
                    wake.wait(POLL)
                    continue
            buffer = left + chunk
            values, used = take_frames(buffer, 0)
            left = buffer[used:]
            for value in values:
                if isinstance(value, list):
                    for row in value:
                        recorder.add(Row._make(row))
                    continue
                path.unlink(missing_ok=True)  # every row is the recorder's now
                receipt = recorder.finish(datetime.fromisoformat(value["finished_at"]))
                return receipt.line()


def main() -> None:
    # Ctrl-C reaches trial's process group: trial stops, and what it flushed is sent.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    path, server = Path(sys.argv[1]), json.loads(sys.argv[2])
    line = stream(path, server, Wake(sys.stdin.fileno()))
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
