"""Refusing early, probed against a real ``seedboard serve`` process on loopback (issue 15).

Unauthenticated 16 MiB writes are refused with 401 before their bodies are read,
so the server's memory and temporary files stay flat; the budget of bodies in
flight answers 503 and recovers; a 16 MiB login post is refused in well under
100 ms without stalling anyone else. Each test logs its figures on ``faults:`` lines.
"""

from __future__ import annotations

import functools
import json
import os
import re
import selectors
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

from twisted.python import log
from twisted.trial.unittest import SynchronousTestCase

from tests.support import BIN, database_url, environment, seedboard_command
from tests.test_ingest import run_body
from tests.test_ingest_api import split_response

MIB = 1024 * 1024
ATTACKERS = 20


@dataclass
class Server:
    """A ``seedboard serve`` process: its port, and what the kernel says about it."""

    process: subprocess.Popen[str]
    port: int

    def rss(self) -> int:
        """Resident memory, in bytes."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        assert found is not None
        return int(found.group(1)) * 1024

    def temporary_files(self) -> int:
        """Open files in the temporary folder, where twisted.web keeps large bodies."""
        folder = tempfile.gettempdir()
        count = 0
        for fd in Path(f"/proc/{self.process.pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue  # closed meanwhile
            count += target.startswith(folder)
        return count


class Peak:
    """Samples a server's memory and temporary files from a thread, keeping the highest."""

    def __init__(self, server: Server) -> None:
        self._server = server
        self.rss = server.rss()
        self.temporary_files = server.temporary_files()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> Peak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.rss = max(self.rss, self._server.rss())
            self.temporary_files = max(self.temporary_files, self._server.temporary_files())


@dataclass
class Pushed:
    """What a client pushing a body got: the answer, the body bytes the kernel took, the
    seconds from its head to the first byte answered."""

    answer: bytes
    sent: int
    seconds: float


def push(port: int, head: bytes, body: Iterator[bytes]) -> Pushed:
    """Send a head, then the body as fast as the server lets it in, reading all the while."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=10)
    connection.sendall(head)
    started = time.monotonic()
    connection.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(connection, selectors.EVENT_READ | selectors.EVENT_WRITE)
    answer: list[bytes] = []
    sent, seconds, pending = 0, 0.0, b""
    deadline = started + 10
    with connection, selector:
        while time.monotonic() < deadline:
            for _, events in selector.select(timeout=1):
                if events & selectors.EVENT_WRITE:
                    pending = pending or next(body, b"")
                    try:
                        taken = connection.send(pending) if pending else 0
                    except OSError:  # the server hung up; what it answered may still be read
                        pending, body = b"", iter(())
                    else:
                        sent, pending = sent + taken, pending[taken:]
                    if not pending:
                        pending = next(body, b"")
                    if not pending:
                        selector.modify(connection, selectors.EVENT_READ)
                if events & selectors.EVENT_READ:
                    try:
                        chunk = connection.recv(65536)
                    except OSError:
                        chunk = b""
                    if chunk and not answer:
                        seconds = time.monotonic() - started
                    if not chunk:
                        return Pushed(b"".join(answer), sent, seconds)
                    answer.append(chunk)
    raise AssertionError(f"no end to the answer within 10 s: {b''.join(answer)[:200]!r}")


def blocks(size: int, block: bytes) -> Iterator[bytes]:
    """``size`` bytes of ``block`` repeated, 64 KiB at a time."""
    chunk = block * (65536 // len(block))
    for offset in range(0, size, len(chunk)):
        yield chunk[: size - offset]


def chunked_blocks(size: int, block: bytes) -> Iterator[bytes]:
    for data in blocks(size, block):
        yield b"%x\r\n%s\r\n" % (len(data), data)
    yield b"0\r\n\r\n"


def head(method: str, path: str, *headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def in_threads(count: int, work: Callable[[int], object]) -> list[object]:
    """Run ``work(i)`` for i < count in threads started together; their results in order."""
    results: list[object] = [None] * count
    start = threading.Barrier(count)

    def run(i: int) -> None:
        start.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


class RefuseEarlyTests(SynchronousTestCase):
    def serve(self, *args: str) -> Server:
        """Start ``seedboard serve`` on a free port over a database of the test's own."""
        self.folder = Path(self.mktemp()).resolve()
        self.folder.mkdir(parents=True)
        self.url = database_url(self)
        made = seedboard_command(self.folder, self.url, "token", "create", "ci", check=True)
        self.token = made.stdout.strip()
        process = subprocess.Popen(
            [str(BIN / "seedboard"), "serve", "--db", self.url, "--port", "0", *args],
            cwd=self.folder,
            env=environment(),
            stdout=subprocess.PIPE,
            text=True,
        )
        self.addCleanup(process.wait, 10)
        self.addCleanup(process.terminate)
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.search(r":(\d+)/?$", line.strip())
        assert found is not None, f"seedboard serve said: {line!r}"
        return Server(process, int(found.group(1)))

    def get(self, server: Server, path: str) -> tuple[str, float]:
        """A GET's status line and how long it took."""
        started = time.monotonic()
        pushed = push(server.port, head("GET", path, "Connection: close"), iter(()))
        return split_response(pushed.answer)[0], time.monotonic() - started

    def test_unauthenticated_bodies(self) -> None:
        """20 unauthenticated 16 MiB PUTs at once: each a 401 before its body is read, and
        the server's memory and temporary files stay flat."""
        server = self.serve()

        def attack(i: int) -> Pushed:
            put = head(
                "PUT",
                f"/api/v1/runs/{uuid4().hex}",
                "Content-Type: application/json",
                f"Content-Length: {16 * MIB}",
            )
            return push(server.port, put, blocks(16 * MIB, b" "))

        attack(0)  # warm up: whatever the first refusal loads stays loaded
        with Peak(server) as peak:
            before = server.rss(), server.temporary_files()
            pushed = in_threads(ATTACKERS, attack)
        for each in pushed:
            assert isinstance(each, Pushed)
            status, headers, body = split_response(each.answer)
            self.assertEqual(status, "HTTP/1.1 401 Unauthorized")
            self.assertEqual(headers["www-authenticate"], "Bearer")
            self.assertEqual(json.loads(body)["error"]["code"], "unauthorized")
            self.assertLess(each.sent, 16 * MIB)  # the server hung up before taking it all
        grown = peak.rss - before[0]
        log.msg(
            f"faults: {ATTACKERS} unauthenticated 16 MiB PUTs: RSS {before[0] / MIB:.1f} MiB, "
            f"peak +{grown / MIB:.1f} MiB; temporary files {before[1]} -> peak "
            f"{peak.temporary_files}; the kernel took at most "
            f"{max(p.sent for p in pushed if isinstance(p, Pushed)) / MIB:.1f} MiB of a body; "
            f"answered in at most {max(p.seconds for p in pushed if isinstance(p, Pushed)):.3f} s"
        )
        self.assertEqual(peak.temporary_files, before[1])
        self.assertLess(grown, 8 * MIB)
        self.assertEqual(self.get(server, "/api/v1/runs?limit=5")[0], "HTTP/1.1 200 OK")

    def test_bodies_in_flight(self) -> None:
        """Writers past the budget of bodies in flight get a 503 with Retry-After; retried,
        every write is stored."""
        server = self.serve("--max-body", str(MIB), "--max-bodies-in-flight", str(4 * MIB))
        run_ids = [uuid4().hex for _ in range(ATTACKERS)]

        def write(these: list[int], i: int) -> Pushed:
            body = json.dumps(run_body()).encode().ljust(MIB)
            put = head(
                "PUT",
                f"/api/v1/runs/{run_ids[these[i]]}",
                "Content-Type: application/json",
                f"Authorization: Bearer {self.token}",
                f"Content-Length: {len(body)}",
                "Expect: 100-continue",
                "Connection: close",
            )
            pushed = push(server.port, put, iter([body]))
            pushed.answer = pushed.answer.removeprefix(b"HTTP/1.1 100 Continue\r\n\r\n")
            return pushed

        statuses: list[list[str]] = []
        waiting = list(range(ATTACKERS))
        while waiting and len(statuses) < 30:
            answers = in_threads(len(waiting), functools.partial(write, waiting))
            round_statuses = [split_response(a.answer)[0] for a in answers if isinstance(a, Pushed)]
            statuses.append(round_statuses)
            for answer, status in zip(answers, round_statuses, strict=True):
                assert isinstance(answer, Pushed)
                if status.startswith("HTTP/1.1 503"):
                    _, headers, body = split_response(answer.answer)
                    self.assertEqual(headers["retry-after"], "5")
                    self.assertEqual(json.loads(body)["error"]["code"], "unavailable")
            waiting = [i for i, s in zip(waiting, round_statuses, strict=True) if "503" in s]
        log.msg(
            f"faults: {ATTACKERS} writers of 1 MiB within a 4 MiB budget: "
            f"{[sum('503' in s for s in r) for r in statuses]} 503s by round"
        )
        self.assertEqual(waiting, [])
        self.assertIn("503", " ".join(statuses[0]))
        for round_statuses in statuses:
            for status in round_statuses:
                self.assertIn(status, ("HTTP/1.1 201 Created", "HTTP/1.1 503 Service Unavailable"))
        stored = 0
        for run_id in run_ids:
            stored += self.get(server, f"/api/v1/runs/{run_id}")[0] == "HTTP/1.1 200 OK"
        self.assertEqual(stored, ATTACKERS)

    def test_large_login_posts(self) -> None:
        """Two 16 MiB login posts at once, declared and chunked: each refused with 413 in
        under 100 ms, and a page asked for meanwhile is not held up."""
        server = self.serve("--private")
        form = "Content-Type: application/x-www-form-urlencoded"

        def post(i: int) -> Pushed | tuple[str, float]:
            if i == 0:
                declared = head("POST", "/login", form, f"Content-Length: {16 * MIB}")
                return push(server.port, declared, blocks(16 * MIB, b"a=1&"))
            if i == 1:
                chunked = head("POST", "/login", form, "Transfer-Encoding: chunked")
                return push(server.port, chunked, chunked_blocks(16 * MIB, b"a=1&"))
            time.sleep(0.01)
            return self.get(server, "/login")

        self.get(server, "/login")  # warm up: the template compiled
        declared, chunked, page = in_threads(3, post)
        assert isinstance(declared, Pushed) and isinstance(chunked, Pushed)
        assert isinstance(page, tuple)
        log.msg(
            f"faults: 16 MiB login posts refused in {declared.seconds * 1000:.1f} ms (declared) "
            f"and {chunked.seconds * 1000:.1f} ms (chunked, after {chunked.sent / 1024:.0f} KiB "
            f"sent); GET /login meanwhile took {page[1] * 1000:.1f} ms"
        )
        for pushed in (declared, chunked):
            status, _, body = split_response(pushed.answer)
            self.assertEqual(status, "HTTP/1.1 413 Content Too Large")
            self.assertEqual(json.loads(body)["error"]["code"], "too_large")
            self.assertLess(pushed.seconds, 0.1)
        self.assertEqual(page[0], "HTTP/1.1 200 OK")
        self.assertLess(page[1], 1.0)
