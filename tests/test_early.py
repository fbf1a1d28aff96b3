"""Tests for refusing early: which requests need a writer, the body budget, the raw answers.

The refusals themselves are tested through a real listening site in
``tests.test_ingest_api.RealServerTests`` and ``tests.test_faults_early``.
"""

from __future__ import annotations

import json

from twisted.trial.unittest import SynchronousTestCase

from seedboard.web.early import BodyBudget, EarlyRequests, is_api_write, raw_answer
from seedboard.web.problems import unauthorized


async def always(token_hash: str) -> bool:
    return True


class EarlyTests(SynchronousTestCase):
    def test_api_writes(self) -> None:
        """PUT, POST, PATCH and DELETE under /api/ need a writer; percent-escapes do not hide it."""
        self.assertTrue(is_api_write(b"PUT", b"/api/v1/runs/x"))
        self.assertTrue(is_api_write(b"post", b"/api/v1/runs/x/finish?a=1"))
        self.assertTrue(is_api_write(b"PUT", b"/%61pi/v1/runs/x"))
        self.assertFalse(is_api_write(b"GET", b"/api/v1/runs"))
        self.assertFalse(is_api_write(b"POST", b"/login"))
        self.assertFalse(is_api_write(b"POST", b"/apix"))

    def test_budget(self) -> None:
        """The budget reserves up to its limit, refuses beyond it and takes releases back."""
        budget = BodyBudget(100)
        self.assertTrue(budget.take(60))
        self.assertFalse(budget.take(41))
        self.assertTrue(budget.take(40))
        budget.release(60)
        self.assertEqual(budget.in_flight, 40)
        self.assertTrue(budget.take(60))

    def test_budget_holds_a_largest_body(self) -> None:
        """A budget smaller than the largest body is refused; by default it holds four."""
        with self.assertRaises(ValueError):
            EarlyRequests(always, max_body=1000, max_bodies_in_flight=999)
        self.assertEqual(EarlyRequests(always, max_body=1000).budget.limit, 4000)

    def test_raw_answer(self) -> None:
        """A refusal is a whole HTTP/1.1 answer with the problem's headers and JSON error."""
        raw = raw_answer(unauthorized())
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        self.assertEqual(lines[0], b"HTTP/1.1 401 Unauthorized")
        self.assertIn(b"WWW-Authenticate: Bearer", lines)
        self.assertIn(b"Connection: close", lines)
        self.assertIn(b"Content-Length: %d" % len(body), lines)
        self.assertEqual(json.loads(body)["error"]["code"], "unauthorized")


class TwistedPrivateNamesTests(SynchronousTestCase):
    """The one private name of twisted.web the early checks rely on, checked so that a
    Twisted upgrade that renames it fails here, by name, rather than somewhere else."""

    def test_channel_keeps_the_request_line(self) -> None:
        """Once a request's headers are in, its channel holds its method and target as
        ``_command`` and ``_path`` (read by ``early._request_line``)."""
        from twisted.internet.testing import StringTransport
        from twisted.web.http import HTTPChannel

        from seedboard.web.early import _request_line

        seen: list[tuple[bytes, bytes]] = []

        class Channel(HTTPChannel):
            def allHeadersReceived(self) -> None:
                for name in ("_command", "_path"):
                    self_attributes = vars(self)
                    if name not in self_attributes:
                        raise AssertionError(f"twisted.web's HTTPChannel has no {name!r} any more")
                seen.append(_request_line(self))
                super().allHeadersReceived()

        channel = Channel()
        channel.makeConnection(StringTransport())
        channel.dataReceived(b"PUT /api/v1/runs/x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n")
        self.assertEqual(seen, [(b"PUT", b"/api/v1/runs/x")])
        channel.connectionLost(None)
