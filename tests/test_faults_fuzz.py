"""Property-based fuzzing of the API: malformed, oversized, wrongly typed and hostile requests.

Hypothesis generates the requests; they go through the whole Dashboard over
a real SQLite file, in-process (StubTreq), so thousands run in seconds.  The
properties: never a 5xx; every refusal a JSON ``{"error": {"code",
"message", "field"?}}``; a refused request changes no row.  Example counts
come from ``by_mode`` (README "Reliability").
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any, cast

import treq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.python import log

from tests.contract import checked_client
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
        self.client = cast(HTTPClient, checked_client(self, self.dashboard.resource()))
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
    st.one_of(
        st.text(max_size=40),
        HOSTILE,
        st.integers(-(2**70), 2**70).map(str),
        st.dates().map(date.isoformat),
        st.sampled_from(["0001-01-01", "9999-12-31", "9" * 5000]),
    ),
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


# Tokens written into a body as raw JSON, where json.dumps would not put them: a key that
# is a lone surrogate, and numbers no field holds.
BAD_TOKENS = st.sampled_from(
    ['"\\ud800"', '"\\udc00x"', "9" * 5000, "-" + "9" * 5000, "1e999", "-1e999"]
)


@st.composite
def with_bad_token(draw: st.DrawFn, body: dict[str, Any]) -> bytes:
    """``body`` as JSON with one position (a key, or a field's value, in the body or in
    its first result) taken by a bad token."""
    token = draw(BAD_TOKENS)
    target = body["results"][0] if "results" in body else body
    name = draw(st.sampled_from(sorted(target)))
    placeholder = "PLACEHOLDER-7f3a"
    if draw(st.booleans()) and token.startswith('"'):
        target[placeholder] = 1  # the token as a key
    else:
        target[name] = placeholder  # the token as a value
    return json.dumps(body).replace(f'"{placeholder}"', token).encode("utf-8")


class BadTokenFuzzTests(FuzzCase):
    """Surrogate keys and oversized numbers in every position of every body: each a 400
    naming what is wrong, never a 500 (a surrogate key was one, its error unencodable)."""

    @fuzz(100, 1000)
    @given(st.data())
    def test_run(self, data: st.DataObject) -> None:
        """Creating a run."""
        body = data.draw(with_bad_token(run_body()))
        self.assertEqual(self.check("PUT", f"/api/v1/runs/{UNKNOWN}", body).status, 400)

    @fuzz(100, 1000)
    @given(st.data())
    def test_batch(self, data: st.DataObject) -> None:
        """Sending a batch."""
        full = result_body(seed=1, message="m", file="f.py", line=3, traceback="t")
        body = data.draw(with_bad_token({"results": [full]}))
        self.assertEqual(self.check("PUT", f"/api/v1/runs/{RUN}/batches/0", body).status, 400)

    @fuzz(50, 500)
    @given(st.data())
    def test_finish(self, data: st.DataObject) -> None:
        """Finishing a run."""
        body = data.draw(with_bad_token({"finished_at": "2026-11-25T17:00:00Z"}))
        self.assertEqual(self.check("POST", f"/api/v1/runs/{RUN}/finish", body).status, 400)


class FoundFiveHundredsTests(FuzzCase):
    """The three inputs that reached a 500 before the API's bodies were msgspec Structs."""

    def test_surrogate_key(self) -> None:
        """A lone-surrogate key is a JSON 400, its name written with an escape."""
        for path, body in [
            (f"/api/v1/runs/{UNKNOWN}", b'{"\\ud800":1}'),
            (f"/api/v1/runs/{RUN}/batches/0", b'{"results":[{"\\ud800":1}]}'),
            (f"/api/v1/runs/{RUN}/finish", b'{"\\ud800":1}'),
        ]:
            answer = self.check("PUT" if "finish" not in path else "POST", path, body)
            self.assertEqual(answer.status, 400, path)
            self.assertIn("\\ud800", answer.body["error"]["field"])

    def test_long_batch_number(self) -> None:
        """A batch number of thousands of digits is a 400 naming ``number``."""
        body = json.dumps({"results": [result_body()]}).encode("utf-8")
        answer = self.check("PUT", f"/api/v1/runs/{RUN}/batches/{'9' * 5000}", body)
        self.assertEqual((answer.status, answer.body["error"]["field"]), (400, "number"))

    def test_last_day(self) -> None:
        """Runs until the last day there is are every run, on the API and the page."""
        answer = self.check("GET", "/api/v1/runs?until=9999-12-31&since=0001-01-01", b"")
        self.assertEqual((answer.status, len(answer.body["runs"])), (200, 1))
        self.assertEqual(self.send("GET", "/?until=9999-12-31", token=None).status, 200)
