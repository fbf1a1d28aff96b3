"""Sending spooled requests to a seedboard server with the standard library.

Runs on the recorder's and the courier's threads, in trial's process (standard
library only: no process of its own competes with the tests).  A failure that
may pass (no connection, a timeout, 429, 5xx) is retried with exponential backoff,
honouring ``Retry-After``; a refusal that retrying cannot fix (a bad token, a 400)
stops sending, is reported once, and leaves the run in the spool.
"""

from __future__ import annotations

import contextlib
import email.utils
import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from seedboard.settings import DEFAULT_FLUSH_TIMEOUT
from seedboard_reporter import wire
from seedboard_reporter.recorder import Row, RunFacts, Unrecorded
from seedboard_reporter.spool import Request, RunSpool, spooled_runs

UNHEALTHY_FLUSH_TIMEOUT = 1.0
"""…and for one that has not: its results go to the spool after at most this."""
REQUEST_TIMEOUT = 2.0
FIRST_BACKOFF = 0.25
MAX_BACKOFF = 30.0


class Retryable(Exception):
    """The request may succeed later; ``retry_after`` is the server's hint, if any."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class Rejected(Exception):
    """The server refused the request in a way retrying cannot fix."""


class Sender:
    """Sends one request; raises Retryable or Rejected when it is not acknowledged."""

    def __init__(self, base_url: str, token: str | None) -> None:
        self._base = base_url.rstrip("/")
        self._headers = {"Content-Type": "application/json", "User-Agent": "seedboard-reporter"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"

    def send(self, request: Request, timeout: float) -> None:
        http_request = urllib.request.Request(
            self._base + request.path,
            data=request.body,
            headers=self._headers,
            method=request.method,
        )
        try:
            with urllib.request.urlopen(http_request, timeout=timeout) as response:
                response.read()
        except urllib.error.HTTPError as error:
            raise _classify(error) from None
        except (OSError, http.client.HTTPException) as error:
            raise Retryable(f"{type(error).__name__}: {error}") from None


def _classify(error: urllib.error.HTTPError) -> Exception:
    message = _error_message(error)
    if error.code == 429 or error.code >= 500:
        return Retryable(message, _retry_after(error.headers.get("Retry-After")))
    return Rejected(message)


def _error_message(error: urllib.error.HTTPError) -> str:
    """The server's own words from its JSON error body, else the status line."""
    try:
        detail = json.loads(error.read())["error"]["message"]
    except (OSError, ValueError, KeyError, TypeError):
        detail = error.reason
    return f"HTTP {error.code}: {detail}"


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds, from either of its two forms."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


class Courier:
    """A thread that sends spooled requests in order, retrying with backoff.

    It alone touches the network, so writing to the spool never waits on it,
    and a run's end can stop waiting for it at any moment: whatever it has
    not delivered is on disk already.
    """

    def __init__(
        self,
        sender: Sender,
        clock: Callable[[], float] = time.monotonic,
        request_timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        self._sender = sender
        self._clock = clock
        self._request_timeout = request_timeout
        self._pending: list[tuple[RunSpool, Request]] = []
        self._ready = threading.Condition()
        self._retry_at = 0.0
        self._backoff = FIRST_BACKOFF
        self.answered = False
        """Whether the server acknowledged the latest request sent."""
        self.problem: str | None = None
        self.rejected: str | None = None
        self._thread = threading.Thread(target=self._work, name="seedboard-courier", daemon=True)
        self._thread.start()

    def post(self, spool: RunSpool, request: Request) -> None:
        with self._ready:
            self._pending.append((spool, request))
            self._ready.notify_all()

    def drain(self, deadline: float) -> bool:
        """Wait until everything is delivered, or the deadline; True if delivered."""
        with self._ready:
            while self._pending and self.rejected is None:
                left = deadline - self._clock()
                if left <= 0:
                    break
                self._ready.wait(left)
            return not self._pending

    def _work(self) -> None:
        while True:
            with self._ready:
                while not self._pending or self.rejected is not None or self._waiting():
                    self._ready.wait(self._retry_at - self._clock() if self._waiting() else None)
                spool, request = self._pending[0]
            delivered = self._send(request)
            with self._ready:
                if delivered:
                    self._pending.pop(0)
                    spool.acknowledged(request)
                self._ready.notify_all()

    def _waiting(self) -> bool:
        return self._clock() < self._retry_at

    def _send(self, request: Request) -> bool:
        try:
            self._sender.send(request, self._request_timeout)
        except Retryable as error:
            self.answered = False
            self.problem = str(error)
            delay = error.retry_after if error.retry_after is not None else self._backoff
            self._backoff = min(self._backoff * 2, MAX_BACKOFF)
            self._retry_at = self._clock() + min(delay, MAX_BACKOFF)
            return False
        except Rejected as error:
            self.answered = True
            self.rejected = str(error)
            return False
        self.answered = True
        self._backoff = FIRST_BACKOFF
        self._retry_at = 0.0
        return True


class NotDelivered(Unrecorded):
    """The run ended before the server acknowledged everything; the spool keeps it."""


class ServerTarget:
    """Records a run on a server: each request spooled first, then handed to the courier."""

    def __init__(
        self,
        courier: Courier,
        spool: RunSpool,
        flush_timeout: float = DEFAULT_FLUSH_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._courier = courier
        self._spool = spool
        self._flush_timeout = flush_timeout
        self._clock = clock
        self._next_batch = 0

    def create_run(self, facts: RunFacts) -> None:
        self._spool.claim()
        self._resend_earlier_runs()
        self._courier.post(self._spool, self._spool.add_run(wire.run_body(facts.start())))

    def add_results(self, run_id: str, rows: list[Row]) -> None:
        request = self._spool.add_batch(self._next_batch, wire.batch_body(rows))
        self._next_batch += 1
        self._courier.post(self._spool, request)

    def finish_run(self, run_id: str, finished_at: datetime) -> None:
        self._courier.post(self._spool, self._spool.add_finish(wire.finish_body(finished_at)))
        wait = self._flush_timeout
        if not self._courier.answered:
            wait = min(wait, UNHEALTHY_FLUSH_TIMEOUT)
        if not self._courier.drain(self._clock() + wait):
            raise NotDelivered(self._undelivered_reason())

    def close(self) -> None:
        self._spool.release()

    def _resend_earlier_runs(self) -> None:
        """What earlier runs left in the spool goes out first.

        Other reporters may be tidying the same spool at the same moment: a run
        folder that vanishes under us is theirs to finish, never our failure.
        """
        for spool in spooled_runs(self._spool.folder.parent, except_run=self._spool.run_id):
            with contextlib.suppress(OSError):
                if spool.claim():
                    for request in spool.pending():
                        self._courier.post(spool, request)
                    spool.release()

    def _undelivered_reason(self) -> str:
        where = self._spool.folder
        if self._courier.rejected is not None:
            return (
                f"the server refused it ({self._courier.rejected}); "
                f"kept in {where} for `seedboard upload`"
            )
        problem = self._courier.problem or "no answer yet"
        return (
            f"the server did not acknowledge it in time ({problem}); "
            f"kept in {where} for the next run or `seedboard upload`"
        )


@dataclass(frozen=True)
class Upload:
    """What ``seedboard upload`` did with one spooled run."""

    run_id: str
    sent: int
    left: int
    problem: str | None = None


def upload_spool(
    root: Path,
    sender: Sender,
    attempts: int = 3,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Upload]:
    """Send every spooled run now, oldest first; stop at a server that is not answering."""
    uploads: list[Upload] = []
    for spool in spooled_runs(root):
        if not spool.claim():
            continue  # a running trial owns it and is sending it
        try:
            upload = _upload_run(spool, sender, attempts, sleep)
        finally:
            spool.release()
        uploads.append(upload)
        if upload.left and upload.problem and not upload.problem.startswith("refused"):
            break
    return uploads


def _upload_run(
    spool: RunSpool, sender: Sender, attempts: int, sleep: Callable[[float], None]
) -> Upload:
    pending = spool.pending()
    for sent, request in enumerate(pending):
        problem = _send_with_retries(sender, request, attempts, sleep)
        if problem is not None:
            return Upload(spool.run_id, sent, len(pending) - sent, problem)
        spool.acknowledged(request)
    return Upload(spool.run_id, len(pending), 0)


def _send_with_retries(
    sender: Sender, request: Request, attempts: int, sleep: Callable[[float], None]
) -> str | None:
    """None once delivered, else why not."""
    backoff = FIRST_BACKOFF
    for attempt in range(attempts):
        try:
            sender.send(request, REQUEST_TIMEOUT)
        except Rejected as error:
            return f"refused: {error}"
        except Retryable as error:
            if attempt == attempts - 1:
                return f"not answering: {error}"
            sleep(error.retry_after if error.retry_after is not None else backoff)
            backoff *= 2
        else:
            return None
    return None
