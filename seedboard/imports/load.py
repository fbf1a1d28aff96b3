"""``seedboard import``: a file's results into a database, or to a server, as one run.

The run's id is the SHA-256 of the file's bytes, so importing a file again stores
nothing new.  Into a database the whole file goes in one transaction: a malformed
file (found part-way) leaves nothing behind.  To a server it is read twice, checked
whole first and then sent in batches, so nothing of a malformed file is sent; a
send cut short is finished by importing again (the server ignores what it has).
Either way a file of any size is read as a stream, in bounded memory.
"""

from __future__ import annotations

import hashlib
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from seedboard.domain import Result, RunStart
from seedboard.imports.common import Facts, FileFormat, Malformed, ResultSink
from seedboard.imports.junit import read_junit
from seedboard.imports.subunit import V2_SIGNATURE, read_subunit

BATCH = 1000
"""Results per batch: per transaction into a database, per request to a server."""
_HEAD = 512
_V1_WORDS = b"test|testing|tags|time|progress|success|successful|failure|error|skip|xfail|uxsuccess"
_V1_LINE = re.compile(rb"\A(?:" + _V1_WORDS + rb")[: ]")
"""The first line of a subunit v1 stream: one of its directives."""


@dataclass(frozen=True, slots=True)
class Source:
    """A file to import: where it is on disk, what to call it, and its digest."""

    path: Path
    name: str
    digest: str

    @property
    def run_id(self) -> str:
        return self.digest[:32]


@dataclass(frozen=True, slots=True)
class Labels:
    """What the command line says about the run that the file may not."""

    branch: str | None = None
    commit: str | None = None
    build_url: str | None = None


@dataclass(frozen=True, slots=True)
class Imported:
    run_id: str
    results: int
    new: bool
    """False when the file had been imported before: nothing was stored."""


class Unreadable(Exception):
    """A file that cannot be imported, in words for one line."""


@contextmanager
def opened_source(argument: str) -> Iterator[Source]:
    """The file ``argument`` names, or standard input for ``-`` (kept in a temporary
    file while it is imported: it is read more than once)."""
    if argument != "-":
        path = Path(argument)
        try:
            yield Source(path, argument, _digest(path))
        except OSError as error:
            raise Unreadable(f"cannot read {argument}: {error.strerror or error}") from None
        return
    with tempfile.NamedTemporaryFile(prefix="seedboard-import-") as copy:
        digest = hashlib.sha256()
        while chunk := sys.stdin.buffer.read(1 << 20):
            digest.update(chunk)
            copy.write(chunk)
        copy.flush()
        yield Source(Path(copy.name), "standard input", digest.hexdigest())


def _digest(path: Path) -> str:
    try:
        with path.open("rb") as file:
            return hashlib.file_digest(file, "sha256").hexdigest()
    except OSError as error:
        raise Unreadable(f"cannot read {path}: {error.strerror or error}") from None


def detect(head: bytes) -> FileFormat | None:
    """The format a file's first bytes say it is in."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        return FileFormat.JUNIT
    if text[:1] == bytes([V2_SIGNATURE]) or _V1_LINE.match(text):
        return FileFormat.SUBUNIT
    return None


def file_format(source: Source, given: FileFormat | None) -> FileFormat:
    if given is not None:
        return given
    with source.path.open("rb") as file:
        found = detect(file.read(_HEAD))
    if found is None:
        raise Unreadable(f"{source.name} is neither JUnit XML nor subunit; say which with --format")
    return found


def read(source: Source, format: FileFormat, sink: ResultSink, facts: Facts) -> None:
    """Every result of ``source`` to ``sink``, what it says of its run to ``facts``;
    ``Unreadable`` naming the file and where in it."""
    reader = read_junit if format is FileFormat.JUNIT else read_subunit
    with source.path.open("rb") as file:
        try:
            reader(file, sink, facts)
        except Malformed as error:
            raise Unreadable(
                f"{source.name}, {error.where}: {error.message}; nothing of it was stored"
            ) from None


def run_start(source: Source, format: FileFormat, facts: Facts, labels: Labels) -> RunStart:
    started = facts.started_at or datetime.fromtimestamp(source.path.stat().st_mtime, UTC)
    return RunStart(
        id=source.run_id,
        started_at=started,
        host=_one_line(facts.host or ""),
        python_version="",
        twisted_version="",
        command=_one_line(f"seedboard import --format {format.value} {source.name}"),
        order_seed=None,
        branch=labels.branch,
        commit=labels.commit,
        build_url=labels.build_url,
        run_seed=facts.run_seed,
    )


def finished_at(run: RunStart, facts: Facts) -> datetime:
    return max(facts.finished_at or run.started_at, run.started_at)


def _one_line(text: str) -> str:
    return " ".join(text.split())[:255]


class Batches:
    """A sink that hands results on ``BATCH`` at a time, numbered from 0."""

    def __init__(self, send: Callable[[int, list[Result]], None]) -> None:
        self._send = send
        self._pending: list[Result] = []
        self.sent = 0

    def __call__(self, result: Result) -> None:
        self._pending.append(result)
        if len(self._pending) == BATCH:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self._send(self.sent, self._pending)
            self.sent += 1
            self._pending = []


def checked(source: Source, format: FileFormat) -> Facts:
    """Read the whole file, keeping nothing: ``Unreadable`` if it cannot be imported,
    else what it says of its run."""
    facts = Facts()
    read(source, format, lambda result: None, facts)
    return facts
