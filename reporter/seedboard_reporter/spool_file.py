"""Embedded mode's spool file: a run's results appended to a local file as the tests run.

During the tests trial's process only turns each result into one compact line
and appends it to a buffer; the buffer goes to the file every ``FLUSH_ROWS``
results, every ``FLUSH_INTERVAL`` seconds (a small thread, for a test that
runs long), at exit and on SIGTERM.  A killed run keeps what it flushed.  Once
the run ends, an importer (``seedboard.spooled``) puts the file into the
database through the store and deletes it; the database, SQLAlchemy and git are
never touched by trial's process.

The file, ``<spool>/<run id>.spool``, is ``MAGIC`` then frames, each a 4-byte
little-endian length and that many bytes of ``marshal`` (version 4, which every
Python 3 reads):

* the header, a dict: the run's id and what the reporter knew at its start
  (``HEADER_FIELDS``), the database to import into, the batch size;
* per flush, a list of results, each a tuple of ``Row``'s fields in order;
* once the run ended, ``{"finished_at": ...}``.

Binary frames, not text: encoding a result as a JSON line cost trial's process
about 20,000 instructions (a float's shortest repr, escaping every string), a
frame about a tenth of that.  ``marshal`` reads only what this process wrote:
the file is its user's alone.  Files of format 1 (``.jsonl``, a JSON value a
line) left by an earlier version are still read.

The process writing a spool holds an exclusive ``flock`` on it until the run
ends, and so does an importer: an importer never takes a live run's file, and two
importers never store one file at the same time.  The file is 0600 (it holds
failure text and the database's URL), its folder 0700.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import marshal
import os
import select
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any, BinaryIO, NamedTuple

from seedboard.errors import one_line
from seedboard_reporter.recorder import Receipt, Row, RunFacts

FILE_MODE = 0o600
FOLDER_MODE = 0o700
"""The spools' files and the folders they make: private to their user, whatever the
umask (here, not in ``spool.py``, which embedded mode does not load)."""
SUFFIX = ".spool"
MAGIC = b"seedboard spool 2\n"
LEGACY_SUFFIX = ".jsonl"
"""Format 1: a JSON value a line, the header first."""
MARSHAL_VERSION = 4
LENGTH_BYTES = 4
BATCH_SIZE = 1000
"""Results per stored batch: the importer's transaction, and the unit that makes an
import idempotent (batch ``n`` is results ``n * BATCH_SIZE`` onwards)."""
FLUSH_ROWS = 500
FLUSH_INTERVAL = 0.5
HEADER_FIELDS = ("run_id", "started_at", "cwd", "argv", "order_seed", "run_seed")
"""``RunFacts``' fields kept in the header.  Not the environment (it may hold
secrets): the importer reads the CI variables from its own, which is trial's own
when trial starts it."""


def frame(value: list[tuple[Any, ...]] | dict[str, Any]) -> bytes:
    """``value`` as one frame: its length, then its ``marshal`` bytes."""
    blob = marshal.dumps(value, MARSHAL_VERSION)
    return len(blob).to_bytes(LENGTH_BYTES, "little") + blob


def _rows_frame(rows: list[Row]) -> bytes:
    # marshal takes plain tuples only, not a NamedTuple's subclass.
    return frame(list(map(tuple, rows)))


def spool_path(root: Path, run_id: str) -> Path:
    return root / f"{run_id}{SUFFIX}"


def header_frame(facts: RunFacts, database: str | None) -> bytes:
    header: dict[str, Any] = {
        "database": database,
        "batch_size": BATCH_SIZE,
        **{name: getattr(facts, name) for name in HEADER_FIELDS},
    }
    header["started_at"] = facts.started_at.isoformat()
    header["cwd"] = str(facts.cwd)
    return MAGIC + frame(header)


def finish_frame(finished_at: datetime) -> bytes:
    return frame({"finished_at": finished_at.isoformat()})


class SpoolFile:
    """One run's spool file, open for appending, locked until ``close``."""

    def __init__(self, path: Path, facts: RunFacts, database: str | None) -> None:
        """``database``: the URL to import into; None in server mode (nothing imports it)."""
        make_folder(path.parent)
        self.path = path
        # O_EXCL: a run id given twice must not mix two runs in one file.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, header_frame(facts, database))
        except BaseException:
            os.close(fd)
            raise
        self._fd: int | None = fd
        self.added = 0
        self._rows: deque[Row] = deque()
        self._lock = threading.RLock()  # SIGTERM may flush while the main thread does
        self._closed = threading.Event()
        self.error: str | None = None
        """Why the file could not be written, once it could not."""
        self._timer = threading.Thread(target=self._flush_now_and_then, daemon=True)
        self._timer.name = "seedboard-spool"
        self._timer.start()
        atexit.register(self.flush)
        _OPEN.add(self)
        _flush_on_sigterm()

    def add(self, row: Row) -> None:
        """Append ``row`` (on the test thread: into a buffer)."""
        rows = self._rows
        rows.append(row)  # encoded as the buffer is written, in one call for all
        self.added += 1
        if len(rows) >= FLUSH_ROWS:
            self.flush()

    def flush(self, last: bytes = b"") -> None:
        """Write what is buffered, as one frame, then ``last`` (any thread, at exit, on
        SIGTERM)."""
        with self._lock:
            fd, rows = self._fd, self._rows
            if fd is None or not (rows or last):
                return
            taken = [rows.popleft() for _ in range(len(rows))]
            try:
                _write_all(fd, (_rows_frame(taken) if taken else b"") + last)
            except (OSError, TypeError, ValueError) as error:
                self.error = self.error or f"cannot write {self.path}: {one_line(error)}"

    def finish(self, finished_at: datetime) -> None:
        """The run ended: the finish line goes after every result, then ``close``."""
        self.flush(finish_frame(finished_at))
        self.close()

    def close(self) -> None:
        """Flush and let go of the file (and its lock): an importer may take it now."""
        self.flush()
        with self._lock:
            fd, self._fd = self._fd, None
        self._closed.set()
        if fd is not None:
            os.close(fd)
        atexit.unregister(self.flush)
        _OPEN.discard(self)

    def _flush_now_and_then(self) -> None:
        while not self._closed.wait(FLUSH_INTERVAL):
            self.flush()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


_OPEN: set[SpoolFile] = set()
"""The spool files open in this process (``trial --until-failure`` makes one a pass)."""


def _flush_and_die(signum: int, frame: FrameType | None) -> None:
    for spool in list(_OPEN):
        spool.flush()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _flush_on_sigterm() -> None:
    """On SIGTERM, flush before dying as SIGTERM would have; a handler that is not the
    default one (the user's, the reactor's) is left alone."""
    with contextlib.suppress(ValueError):  # not the main thread: the timer still flushes
        if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _flush_and_die)


SENDER = "seedboard_reporter.sender"
SENDER_GRACE = 10.0
"""Seconds the run's end waits for the sender beyond the flush timeout (its start, git)."""
IMPORTER = "seedboard.spooled"
"""The module that imports a spool file (``python -m``), in a process of its own."""


class SpoolRecorder:
    """Embedded mode's recording: results into a spool file, the database after the run.

    The reporter's interface is ``Recorder``'s (``start``, ``add``, ``fail``,
    ``finish``), with ``finish`` in two halves: ``end`` hands the file over, and
    ``receipt`` says how it went, so that trial prints its summary in between.  At
    the end an importer is started in a session of its own, so it outlives trial,
    which does not wait for it unless ``wait`` (``SEEDBOARD_WAIT``).
    """

    def __init__(
        self,
        root: Path,
        facts: RunFacts,
        database: str | None,
        where: str,
        wait: bool,
        server: dict[str, object] | None = None,
    ) -> None:
        self._path = spool_path(root, facts.run_id)
        self._facts = facts
        self._database = database
        self._where = where
        self._wait = wait
        self._server = server
        self._sender: subprocess.Popen[bytes] | None = None
        self._spool: SpoolFile | None = None
        self._error: str | None = None
        self._added = 0
        self._importer: subprocess.Popen[bytes] | None = None
        """The importer, when trial waits for it (``wait``)."""

    def start(self) -> None:
        try:
            self._spool = SpoolFile(self._path, self._facts, self._database)
        except OSError as error:
            self._error = f"cannot write the spool file {self._path}: {error.strerror}"
            return
        if self._server is not None:
            try:
                self._sender = self._start_sender(self._server)
            except OSError as error:
                self._error = f"cannot start the sender process: {error.strerror}"

    def add(self, row: Row) -> None:
        spool = self._spool
        if spool is not None:
            spool.add(row)

    def sink(self) -> Callable[[Row], None]:
        """``add``, or once the file is open its own ``add``: one call a row fewer."""
        return self.add if self._spool is None else self._spool.add

    def _start_sender(self, server: dict[str, object]) -> subprocess.Popen[bytes]:
        """Server mode: the child that streams the file to the server (``sender.py``)."""
        return subprocess.Popen(
            [sys.executable, "-m", SENDER, str(self._path), json.dumps(server)],
            cwd=self._facts.cwd,
            stdin=subprocess.PIPE,  # closed as the run ends (``end``), or dies
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C spares it: what trial flushed is sent
        )

    def fail(self, error: str) -> None:
        """Give up recording (the reporter itself hit a problem); keep the first error."""
        self._error = self._error or error

    def finish(self, finished_at: datetime) -> Receipt:
        """``end`` then ``receipt``, for a caller with nothing to do in between."""
        self.end(finished_at)
        return self.receipt()

    def end(self, finished_at: datetime) -> None:
        """The run ended: its finish written and the file let go, so that the sender or
        the importer starts on it while the caller does the rest of its own end (trial
        prints its summary meanwhile)."""
        spool = self._spool
        if spool is not None:
            self._added = spool.added
            spool.finish(finished_at)
            self._error = self._error or spool.error
        if self._error is not None:
            # A spool left by a reporter that failed is not this run: nobody imports it.
            if spool is not None:
                with contextlib.suppress(OSError):
                    self._path.unlink()
            return
        if self._sender is not None:
            self._told_sender()
            return
        try:
            self._importer = self._start_import()
        except OSError as problem:
            self._error = (
                f"could not start the importer ({problem.strerror}); the run waits in "
                f"{self._path} for the next seedboard command"
            )

    def receipt(self) -> Receipt:
        """How the recording went, once the sender has said so (server mode) or the
        import ended (``wait``); call after ``end``."""
        run_id, added = self._facts.run_id, self._added
        if self._error is not None:
            return Receipt(run_id, self._where, added, self._error)
        if self._sender is not None:
            return self._sent(added)
        error = None if self._importer is None else _imported(self._importer)
        return Receipt(run_id, self._where, added, error, background=not self._wait)

    def _told_sender(self) -> None:
        """Close the sender's standard input: the run's end, seen by it at once."""
        assert self._sender is not None and self._sender.stdin is not None
        with contextlib.suppress(OSError):  # it died: its receipt says so
            self._sender.stdin.close()

    def _sent(self, added: int) -> Receipt:
        """Server mode: the line the sender prints once it has finished (or given up)
        sending; not its exit, which is interpreter teardown trial need not wait for."""
        assert self._sender is not None and self._server is not None
        assert self._sender.stdout is not None
        wait = float(str(self._server["flush_timeout"])) + SENDER_GRACE
        run_id = self._facts.run_id
        said, _, _ = select.select([self._sender.stdout], [], [], wait)
        if not said:
            error = f"still sending after {wait:.0f} s; the sender goes on alone"
            return Receipt(run_id, self._where, added, error)
        line = self._sender.stdout.readline().decode(errors="replace").strip()
        if line.startswith("seedboard: "):  # its receipt's line, as the sender saw it
            return Receipt(run_id, self._where, added, said=line)
        return Receipt(run_id, self._where, added, line or "the sender stopped")

    def _start_import(self) -> subprocess.Popen[bytes] | None:
        """Start the importer, in a session of its own: Ctrl-C spares it.  Trial waits
        for it only with ``wait`` (``receipt``), so only then is its output kept."""
        kept = subprocess.PIPE if self._wait else subprocess.DEVNULL
        importer = subprocess.Popen(
            [sys.executable, "-m", IMPORTER, str(self._path)],
            cwd=self._facts.cwd,
            stdin=subprocess.DEVNULL,
            stdout=kept,
            stderr=kept,
            start_new_session=True,
        )
        return importer if self._wait else None


def _imported(importer: subprocess.Popen[bytes]) -> str | None:
    """Wait for the importer: None once the run is in the database, else why not."""
    out, err = importer.communicate()
    if importer.returncode == 0:
        return None
    said = (out or err).decode(errors="replace").strip().splitlines()
    return said[-1] if said else f"the importer exited with {importer.returncode}"


def make_folder(folder: Path) -> None:
    """Make ``folder`` and its missing parents, each ``FOLDER_MODE`` whatever the umask;
    folders that exist already are left as they are."""
    missing: list[Path] = []
    while not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        try:
            made.mkdir(FOLDER_MODE)
        except FileExistsError:  # another process made it first, the same way
            continue
        os.chmod(made, FOLDER_MODE)  # the umask may have taken bits away


class Spooled(NamedTuple):
    """A spool file as read back: its header, its results, its finish if it has one."""

    header: dict[str, Any]
    rows: list[Sequence[Any]]
    finished_at: str | None


class BadSpool(ValueError):
    """A file that is no spool file (no header)."""


def read_spool(data: bytes) -> Spooled:
    """A spool file's content.  A frame cut short (the process was killed while
    writing) ends it: everything before it was written whole."""
    if not data.startswith(MAGIC):
        return _read_legacy(data)
    values, _ = take_frames(data, len(MAGIC))
    if not values or not isinstance(values[0], dict):
        raise BadSpool("no header")
    return _spooled(values[0], values[1:])


def read_header(file: BinaryIO) -> dict[str, Any]:
    """The header at the start of an open spool file, reading no further."""
    start = file.read(len(MAGIC) + LENGTH_BYTES)
    if not start.startswith(MAGIC):
        return read_spool(start + file.readline()).header
    size = int.from_bytes(start[len(MAGIC) :], "little")
    return read_spool(start + file.read(size)).header


def has_finish(data: bytes) -> bool:
    """Whether a spool file's last whole frame is its finish, decoding no other."""
    if not data.startswith(MAGIC):
        return _read_legacy(data).finished_at is not None
    last, at = None, len(MAGIC)
    while (end := _frame_end(data, at)) is not None:
        last, at = at, end
    if last is None:
        return False
    values, _ = take_frames(data[:at], last)
    return bool(values) and _finish_of(values[0]) is not None


def take_frames(data: bytes, at: int) -> tuple[list[Any], int]:
    """The values of the whole frames in ``data`` from offset ``at``, and the offset
    where the rest (a frame still being written) starts.  A frame that is whole but
    undecodable ends the values too: nothing after it can be trusted."""
    values: list[Any] = []
    while (end := _frame_end(data, at)) is not None:
        try:
            values.append(marshal.loads(data[at + LENGTH_BYTES : end]))
        except (EOFError, ValueError, TypeError):
            break
        at = end
    return values, at


def _frame_end(data: bytes, at: int) -> int | None:
    """Where the frame at ``at`` ends, if all of it is in ``data``."""
    if len(data) - at < LENGTH_BYTES:
        return None
    end = at + LENGTH_BYTES + int.from_bytes(data[at : at + LENGTH_BYTES], "little")
    return end if end <= len(data) else None


def _finish_of(value: object) -> str | None:
    finished = value.get("finished_at") if isinstance(value, dict) else None
    return finished if isinstance(finished, str) else None


def _spooled(header: dict[str, Any], values: Iterable[Any]) -> Spooled:
    rows: list[Sequence[Any]] = []
    for value in values:
        if isinstance(value, list):
            rows.extend(value)
        elif (finished_at := _finish_of(value)) is not None:
            return Spooled(header, rows, finished_at)
    return Spooled(header, rows, None)


def _read_legacy(data: bytes) -> Spooled:
    """A file of format 1: a JSON value a line, one row per line."""
    lines = iter(data.split(b"\n"))
    try:
        header = json.loads(next(lines))
    except ValueError:
        raise BadSpool("no header") from None
    if not isinstance(header, dict) or header.get("format") != 1:
        raise BadSpool("not a spool file")
    # A row a line: each as a frame of one.
    values = ([value] if isinstance(value, list) else value for value in _json_values(lines))
    return _spooled(header, values)


def _json_values(lines: Iterator[bytes]) -> Iterator[Any]:
    for line in lines:
        try:
            yield json.loads(line)
        except ValueError:
            return
