"""Property-based fuzzing of the API: malformed, oversized, wrongly typed and hostile requests.

Hypothesis generates the requests; they go through the whole Dashboard over
a real SQLite file, in-process (StubTreq), so thousands run in seconds.  The
properties: never a 5xx; every refusal a JSON ``{"error": {"code",
"message", "field"?}}``; a refused request changes no row.  Example counts
come from ``by_mode`` (README "Reliability").
"""

from __future__ import annotations

import json
from typing import Any, cast

import treq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from treq.testing import StubTreq
from twisted.python import log

from tests.support import by_mode
from tests.test_ingest import result_body, run_body
from tests.test_ingest_api import (
    BASE,
    RUN,
    UNKNOWN,
    Answer,
    APICase,
    HTTPClient,
    _is_json,
    row_counts,
)


def fuzz(short: int, long: int) -> settings:
    """Hypothesis settings for one fuzz test: its example count by mode, no deadline (the
    machine is shared), no example database on disk."""
    return settings(
        max_examples=by_mode(short, long),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


# Text that tends to break things: markup, SQL, NUL, lone surrogates, right-to-left marks.
HOSTILE = st.sampled_from(
    [
        "<script>alert(1)</script>",
        "'; DROP TABLE runs; --",
        '" OR 1=1 --',
        "%_\\",
        "\x00",
        "\ud800",
        "\u202e",
        "../../etc/passwd",
        "9" * 400,
    ]
)
# Oversized text is made, not drawn: drawing 20,000 characters is slow and finds nothing more.
HUGE = st.sampled_from(["x" * 20_000, "<b>" * 5_000, "\u00e9" * 70_000])
TEXT = st.one_of(st.text(max_size=40), HOSTILE, HUGE)
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
)
JSON = st.recursive(
    SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def mutated(base: dict[str, Any], keys: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    """``base`` with some keys dropped, retyped or added."""

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        body = dict(base)
        for _ in range(draw(st.integers(1, 3))):
            key = draw(st.one_of(st.sampled_from(sorted(base)), keys))
            if draw(st.booleans()) and key in body:
                del body[key]
            else:
                body[key] = draw(JSON)
        return body

    return build()


RUN_BODY = st.one_of(mutated(run_body(), st.text(max_size=12)), JSON)
RESULT = st.one_of(
    mutated(result_body(), st.sampled_from(["seed", "message", "file", "line", "traceback"])),
    JSON,
)
BATCH_BODY = st.one_of(
    st.fixed_dictionaries({"results": st.lists(RESULT, min_size=0, max_size=5)}),
    mutated({"results": [result_body()]}, st.text(max_size=8)),
    JSON,
)
FINISH_BODY = st.one_of(mutated({"finished_at": "2026-11-25T17:00:00Z"}, st.text(max_size=8)), JSON)
# Path segments stay under the 16 KiB request line Twisted reads (it hangs up on longer
# ones before the app sees them); lone surrogates become bytes that are not UTF-8.
SEGMENT = st.one_of(st.text(min_size=1, max_size=40), HOSTILE, st.just("x" * 7_000))
RUN_ID = st.one_of(st.sampled_from([RUN, UNKNOWN, RUN.upper()]), SEGMENT)
NUMBER = st.one_of(st.integers(-5, 2**70).map(str), SEGMENT)
RAW = st.one_of(st.binary(max_size=200), st.just(b"\xef\xbb\xbf{}"), st.just(b"[" * 5000))
CONTENT_TYPE = st.one_of(
    st.just("application/json"),
    st.sampled_from(["text/plain", "application/json; charset=latin-1", "application/xml"]),
)


def encoded(body: Any) -> bytes:
    """JSON as a client may send it: NaN and lone surrogates included."""
    return body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")


def quoted(segment: str) -> str:
    from urllib.parse import quote

    return quote(segment.encode("utf-8", "surrogatepass"), safe="")


class FuzzCase(APICase):
    def setUp(self) -> None:
        super().setUp()
        self.sent = 0
        self.addCleanup(lambda: log.msg(f"faults: {self.id()} sent {self.sent} requests"))
        # The site's resource, as `seedboard serve` serves it.
        self.client = cast(HTTPClient, StubTreq(self.dashboard.resource()))
        self.create(RUN)

    def check(
        self, method: str, path: str, body: bytes, content_type: str = "application/json"
    ) -> Answer:
        """Send a request; it must not be a 5xx, a refusal must be a JSON error naming the
        problem, and a refused request must leave every table as it was."""
        self.sent += 1
        before = row_counts(self.database)
        headers = {"Content-Type": [content_type], "Authorization": [f"Bearer {self.token}"]}
        response = self.successResultOf(
            self.client.request(
                method, BASE + path, data=body, headers=headers, allow_redirects=False
            )
        )
        raw: bytes = self.successResultOf(treq.content(response))
        answer = Answer(
            response.code, json.loads(raw) if raw and _is_json(response) else raw, response
        )
        self.assertLess(answer.status, 500, (method, path, body[:200], answer.body))
        if answer.status >= 400:
            self.assertIsInstance(answer.body, dict, (method, path, body[:200]))
            error = answer.body["error"]
            self.assertLessEqual(set(answer.body), {"error"})
            self.assertLessEqual(set(error), {"code", "message", "field"})
            self.assertIsInstance(error["code"], str)
            self.assertTrue(error["message"], error)
            self.assertIsInstance(error.get("field", ""), str)
            self.assertEqual(row_counts(self.database), before, (method, path, body[:200]))
        return answer


class WriteFuzzTests(FuzzCase):
    @fuzz(300, 3000)
    @given(RUN_ID, st.one_of(RUN_BODY.map(encoded), RAW), CONTENT_TYPE)
    def test_create(self, run_id: str, body: bytes, content_type: str) -> None:
        """Creating runs with any id, body and content type: no 5xx, JSON errors, no change."""
        self.check("PUT", f"/api/v1/runs/{quoted(run_id)}", body, content_type)

    @fuzz(400, 4500)
    @given(RUN_ID, NUMBER, st.one_of(BATCH_BODY.map(encoded), RAW), CONTENT_TYPE)
    def test_batch(self, run_id: str, number: str, body: bytes, content_type: str) -> None:
        """Sending batches of any shape: no 5xx, JSON errors, no change when refused."""
        path = f"/api/v1/runs/{quoted(run_id)}/batches/{quoted(number)}"
        self.check("PUT", path, body, content_type)

    @fuzz(150, 1500)
    @given(RUN_ID, st.one_of(FINISH_BODY.map(encoded), RAW), CONTENT_TYPE)
    def test_finish(self, run_id: str, body: bytes, content_type: str) -> None:
        """Finishing with any body: no 5xx, JSON errors, no change when refused."""
        self.check("POST", f"/api/v1/runs/{quoted(run_id)}/finish", body, content_type)


READ_PATHS = st.sampled_from(
    ["/api/v1/runs", "/api/v1/flaky", "/api/v1/trends", "/api/v1/compare", "/api/v1/tests/x"]
)
ARGUMENTS = st.dictionaries(
    st.sampled_from(
        ["limit", "before", "branch", "outcome", "since", "until", "replay", "test", "a", "b"]
    ).__or__(st.sampled_from(["window", "days"])),
    st.one_of(st.text(max_size=40), HOSTILE, st.integers(-(2**70), 2**70).map(str)),
    max_size=4,
)


class UTF8AddressTests(FuzzCase):
    def test_not_utf8(self) -> None:
        """An address that is not UTF-8 once percent-decoded is a JSON 400 under /api and the
        HTML error page elsewhere, as the fuzzer first found it was not."""
        answer = self.check("POST", "/api/v1/runs/%ED%A0%80/finish", b"{}")
        self.assertEqual((answer.status, answer.body["error"]["code"]), (400, "bad_request"))
        page = self.send("GET", "/tests/%FF", token=None)
        self.assertEqual(page.status, 400)
        self.assertIn(b"UTF-8", page.body)
        self.assertIn(b"<html", page.body)


class NulTests(FuzzCase):
    def test_nul_in_address(self) -> None:
        """A NUL in a path or a query argument is a 400 naming it, on either database
        (PostgreSQL refused such text with an error that became a 500, as the fuzzer
        found)."""
        answer = self.check("GET", "/api/v1/runs?before=%00", b"")
        self.assertEqual((answer.status, answer.body["error"]["field"]), (400, "before"))
        self.assertIn("NUL", answer.body["error"]["message"])
        for path in ("/api/v1/runs/a%00b", "/api/v1/tests/x%00"):
            answer = self.check("GET", path, b"")
            self.assertEqual((answer.status, answer.body["error"]["code"]), (400, "bad_request"))
        page = self.send("GET", "/tests/x%00", token=None)
        self.assertEqual(page.status, 400)
        self.assertIn(b"NUL", page.body)


class ReadFuzzTests(FuzzCase):
    @fuzz(150, 1500)
    @given(READ_PATHS, ARGUMENTS)
    def test_read_arguments(self, path: str, arguments: dict[str, str]) -> None:
        """Reading with any query arguments: no 5xx, JSON errors, nothing written."""
        from urllib.parse import urlencode

        query = urlencode(
            {name: value.encode("utf-8", "surrogatepass") for name, value in arguments.items()}
        )
        self.check("GET", f"{path}?{query}", b"")
