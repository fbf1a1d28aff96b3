"""Tests for the courier and server target, against a scripted sender (no network)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from seedboard_reporter.spool import Request, RunSpool
from seedboard_reporter.uploader import (
    Courier,
    NotDelivered,
    Rejected,
    Retryable,
    ServerTarget,
    _retry_after,
    upload_spool,
)
from tests.support import result
from tests.test_recorder import row_of, run_facts

Answer = Callable[[Request], None]


def ok(request: Request) -> None:
    pass


def down(request: Request) -> None:
    raise Retryable("ConnectionRefusedError: [Errno 111] Connection refused")


class ScriptedSender:
    """Answers each request with the next scripted answer, the last one forever."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.sent: list[tuple[float, str]] = []
        self.lock = threading.Lock()

    def send(self, request: Request, timeout: float) -> None:
        with self.lock:
            self.sent.append((time.monotonic(), request.path))
            answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        answer(request)


class ServerTargetTests(SynchronousTestCase):
    def target(self, sender: ScriptedSender, flush: float = 5.0) -> tuple[ServerTarget, RunSpool]:
        spool = RunSpool(Path(self.mktemp()), "r1")
        target = ServerTarget(Courier(sender), spool, flush)  # type: ignore[arg-type]
        self.addCleanup(target.close)
        return target, spool

    def record(self, target: ServerTarget, batches: int = 2) -> None:
        target.create_run(run_facts("r1"))
        for _ in range(batches):
            target.add_results("r1", [row_of(result())])
        target.finish_run("r1", datetime.now(UTC))

    def test_delivers_in_order(self) -> None:
        """Run, batches by number, then finish; nothing is left in the spool."""
        sender = ScriptedSender(ok)
        target, spool = self.target(sender)
        self.record(target)
        self.assertEqual(
            [path for _, path in sender.sent],
            [
                "/api/v1/runs/r1",
                "/api/v1/runs/r1/batches/0",
                "/api/v1/runs/r1/batches/1",
                "/api/v1/runs/r1/finish",
            ],
        )
        self.assertEqual(spool.pending(), [])

    def test_server_down_costs_about_a_second(self) -> None:
        """A server that never answered gets at most one second at the end; all is spooled."""
        target, spool = self.target(ScriptedSender(down), flush=30)
        started = time.monotonic()
        error = self.assertRaises(NotDelivered, self.record, target)
        self.assertLess(time.monotonic() - started, 1.5)
        self.assertIn("Connection refused", str(error))
        self.assertIn(str(spool.folder), str(error))
        self.assertEqual(len(spool.pending()), 4)

    def test_retries_until_delivered(self) -> None:
        """Failures that may pass are retried with backoff until the server answers."""
        sender = ScriptedSender(down, down, ok)
        target, spool = self.target(sender)
        self.record(target, batches=0)
        times = [when for when, _ in sender.sent]
        self.assertEqual(len(times), 4)
        self.assertGreaterEqual(times[2] - times[1], times[1] - times[0])
        self.assertEqual(spool.pending(), [])

    def test_retry_after_is_honoured(self) -> None:
        """A 503 with Retry-After waits that long before trying again."""

        def busy(request: Request) -> None:
            raise Retryable("HTTP 503: busy", retry_after=0.6)

        sender = ScriptedSender(busy, ok)
        target, _ = self.target(sender)
        self.record(target, batches=0)
        (first, _), (second, _) = sender.sent[:2]
        self.assertGreaterEqual(second - first, 0.6)

    def test_refusal_is_final(self) -> None:
        """A refusal (e.g. a bad token) is not retried, is reported, and keeps the data."""
        sender = ScriptedSender(lambda r: (_ for _ in ()).throw(Rejected("HTTP 401: bad token")))
        target, spool = self.target(sender)
        error = self.assertRaises(NotDelivered, self.record, target)
        self.assertEqual(len(sender.sent), 1)
        self.assertIn("refused it (HTTP 401: bad token)", str(error))
        self.assertEqual(len(spool.pending()), 4)

    def test_earlier_runs_are_sent_first(self) -> None:
        """What an earlier run left in the spool is delivered before the new run."""
        sender = ScriptedSender(ok)
        target, spool = self.target(sender)
        earlier = RunSpool(spool.folder.parent, "r0")
        earlier.add_run(b"{}")
        earlier.add_batch(0, b"{}")
        self.record(target, batches=0)
        self.assertEqual(
            [path for _, path in sender.sent][:3],
            ["/api/v1/runs/r0", "/api/v1/runs/r0/batches/0", "/api/v1/runs/r1"],
        )
        self.assertEqual(earlier.pending(), [])


class RetryAfterTests(SynchronousTestCase):
    def test_both_forms(self) -> None:
        """Retry-After is read as seconds or as an HTTP date."""
        self.assertEqual(_retry_after("3"), 3.0)
        later = datetime.fromtimestamp(time.time() + 10, UTC)
        wait = _retry_after(format_datetime(later, usegmt=True))
        assert wait is not None
        self.assertTrue(8 <= wait <= 10, wait)
        self.assertIsNone(_retry_after("soon"))
        self.assertIsNone(_retry_after(None))


class UploadSpoolTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.root = Path(self.mktemp())
        for run_id in ("a", "b"):
            spool = RunSpool(self.root, run_id)
            spool.add_run(b"{}")
            spool.add_batch(0, b"{}")
            spool.add_finish(b"{}")

    def test_sends_everything(self) -> None:
        """Every spooled request is delivered and the spool is left empty."""
        sender = ScriptedSender(ok)
        uploads = upload_spool(self.root, sender, sleep=lambda s: None)  # type: ignore[arg-type]
        self.assertEqual({(u.run_id, u.sent, u.left) for u in uploads}, {("a", 3, 0), ("b", 3, 0)})
        self.assertEqual(list(self.root.iterdir()), [])

    def test_server_down_keeps_everything(self) -> None:
        """A server that does not answer stops the upload; nothing is deleted."""
        sender = ScriptedSender(down)
        uploads = upload_spool(self.root, sender, attempts=2, sleep=lambda s: None)  # type: ignore[arg-type]
        self.assertEqual(len(uploads), 1)
        self.assertEqual((uploads[0].sent, uploads[0].left), (0, 3))
        self.assertTrue(uploads[0].problem and uploads[0].problem.startswith("not answering"))
        self.assertEqual(sum(len(RunSpool(self.root, r).pending()) for r in "ab"), 6)

    def test_refused_run_is_skipped(self) -> None:
        """A run the server refuses stays spooled; the others are still sent."""

        def refuse_a(request: Request) -> None:
            if "/runs/a" in request.path:
                raise Rejected("HTTP 400: invalid")

        uploads = upload_spool(self.root, ScriptedSender(refuse_a), sleep=lambda s: None)  # type: ignore[arg-type]
        self.assertEqual({u.run_id: u.left for u in uploads}, {"a": 3, "b": 0})
