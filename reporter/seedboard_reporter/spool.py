"""The spool: every request to the server is written here first, deleted once acknowledged.

One folder per run, one file per request, named so that sorting them gives the
order they must be sent in.  Whatever the server has not acknowledged when a
run ends (server down, killed process) stays on disk, and the next run or
``seedboard upload`` sends it.  Sending twice is harmless: the server ignores a
run it has and a batch number it has stored.

Requests hold test output and failure text, so the spool is private to its user:
files are made 0600 and the folders it makes 0700, whatever the umask.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from seedboard_reporter.spool_file import FILE_MODE, make_folder

_LOCK = ".lock"
_CLAIM_TRIES = 5


@dataclass(frozen=True)
class Request:
    """One spooled request: where it goes and its JSON body."""

    method: str
    path: str
    body: bytes
    file: Path

    @property
    def size(self) -> int:
        return len(self.body)


class RunSpool:
    """The spooled requests of one run."""

    def __init__(self, root: Path, run_id: str) -> None:
        self.run_id = run_id
        self.folder = root / run_id
        self._lock_fd: int | None = None

    def claim(self) -> bool:
        """Hold this run's lock, so no other process replays it at the same time."""
        fd = self._open_lock()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True

    def _open_lock(self) -> int:
        # Another process tidying the spool may remove an empty run folder between
        # our mkdir and our open; make it again.
        for _ in range(_CLAIM_TRIES - 1):
            make_folder(self.folder)
            with contextlib.suppress(FileNotFoundError):
                return _open_private(self.folder / _LOCK, os.O_RDWR)
        make_folder(self.folder)
        return _open_private(self.folder / _LOCK, os.O_RDWR)

    def release(self) -> None:
        if self._lock_fd is None:
            return
        os.close(self._lock_fd)
        self._lock_fd = None
        if not self.pending():
            # A request half written when its process was killed was never spooled:
            # nothing will send it, and it would keep the folder forever.
            for leftover in self.folder.glob("*.part"):
                _remove_quietly(leftover)
            _remove_quietly(self.folder / _LOCK)
            with contextlib.suppress(OSError):  # another process spooled into it meanwhile
                self.folder.rmdir()

    def add_run(self, body: bytes) -> Request:
        return self._write("0-run.json", "PUT", f"/api/v1/runs/{self.run_id}", body)

    def add_batch(self, number: int, body: bytes) -> Request:
        path = f"/api/v1/runs/{self.run_id}/batches/{number}"
        return self._write(f"1-batch-{number:08d}.json", "PUT", path, body)

    def add_finish(self, body: bytes) -> Request:
        return self._write("2-finish.json", "POST", f"/api/v1/runs/{self.run_id}/finish", body)

    def acknowledged(self, request: Request) -> None:
        _remove_quietly(request.file)

    def pending(self) -> list[Request]:
        """The requests not yet acknowledged, in the order to send them."""
        if not self.folder.is_dir():
            return []
        return [
            request
            for file in sorted(self.folder.glob("[0-2]-*.json"))
            if (request := self._read(file)) is not None
        ]

    def _write(self, name: str, method: str, path: str, body: bytes) -> Request:
        make_folder(self.folder)
        file = self.folder / name
        partial = file.with_suffix(".part")
        fd = _open_private(partial, os.O_WRONLY | os.O_TRUNC)
        with open(fd, "wb") as written:
            written.write(body)
        os.replace(partial, file)  # a reader never sees half a request
        return Request(method, path, body, file)

    def _read(self, file: Path) -> Request | None:
        try:
            body = file.read_bytes()
        except FileNotFoundError:
            return None  # acknowledged by its owner just now
        kind = file.name.split("-", 2)
        if kind[1].startswith("run"):
            return Request("PUT", f"/api/v1/runs/{self.run_id}", body, file)
        if kind[1].startswith("finish"):
            return Request("POST", f"/api/v1/runs/{self.run_id}/finish", body, file)
        number = int(kind[2].removesuffix(".json"))
        return Request("PUT", f"/api/v1/runs/{self.run_id}/batches/{number}", body, file)


def spooled_runs(root: Path, except_run: str | None = None) -> Iterator[RunSpool]:
    """Runs left in the spool by earlier processes, oldest first."""
    if not root.is_dir():
        return
    found: list[tuple[float, str]] = []
    for folder in root.iterdir():
        if folder.name != except_run and (changed := _mtime(folder)) is not None:
            found.append((changed, folder.name))
    for _, name in sorted(found):
        yield RunSpool(root, name)


def _mtime(folder: Path) -> float | None:
    """When the folder last changed; None if it is no folder, or is gone already."""
    try:
        found = folder.stat()
    except FileNotFoundError:
        return None
    return found.st_mtime if stat.S_ISDIR(found.st_mode) else None


def _open_private(file: Path, flags: int) -> int:
    """``os.open`` creating ``file`` if need be, with exactly ``FILE_MODE`` (a file
    left by an older version or made under another umask is set right too)."""
    fd = os.open(file, flags | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):  # acknowledged by another process
        path.unlink()
