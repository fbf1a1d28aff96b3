"""Tests for the write API: requests good and bad, tokens, the body limit, concurrent clients."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, cast
from urllib.parse import unquote
from uuid import uuid4

import treq
from sqlalchemy import Connection, func, select
from twisted.internet import reactor
from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.interfaces import IReactorFromThreads
from twisted.internet.task import deferLater
from twisted.internet.tcp import Port
from twisted.internet.threads import deferToThread
from twisted.trial.unittest import SynchronousTestCase, TestCase
from twisted.web.iweb import IResponse
from twisted.web.server import Request
from twisted.web.test.requesthelper import DummyChannel

from seedboard.db import runs, tokens
from seedboard.db.engine import Database, open_database
from seedboard.db.migrate import ensure_schema
from seedboard.db.models import Base
from seedboard.db.pool import SynchronousPool, ThreadedPool
from seedboard.ingest import DEFAULT_MAX_BODY
from seedboard.services.results import add_results
from seedboard.web import auth
from seedboard.web.app import Dashboard
from seedboard.web.requests import FORM_MAX_BODY
from seedboard.web.server import access_log_line, listen, make_dashboard
from seedboard.web.templates import make_environment
from tests.contract import check_answer, checked_client, fetch, schema_errors
from tests.support import everything_stored, result, run_start, temporary_database
from tests.test_ingest import result_body, run_body

NOW = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
BASE = "http://seedboard.test"
JSON_TYPE = "application/json"
APP_UNAUTHORIZED = {
    "code": "unauthorized",
    "message": "Send a valid token in an 'Authorization: Bearer <token>' header.",
}
"""The error the app answers a write without a valid token, from the site too."""


class HTTPClient(Protocol):
    """The part of StubTreq used here; it makes its methods at runtime, out of mypy's sight."""

    def request(
        self,
        method: str,
        url: str,
        data: bytes | None = None,
        headers: Any = None,
        allow_redirects: bool = True,
    ) -> Deferred[IResponse]: ...


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    response: IResponse

    def header(self, name: str) -> list[str] | None:
        values: list[str] | None = self.response.headers.getRawHeaders(name)
        return values


def row_counts(database: Database) -> dict[str, int]:
    """How many rows each table holds: "nothing written" means these did not change."""

    def count(conn: Connection) -> dict[str, int]:
        return {
            name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in Base.metadata.tables.items()
        }

    return database.read(count)


def add_token(database: Database, name: str = "ci") -> str:
    token = tokens.new_token()
    database.write(tokens.create_token, name, tokens.hash_token(token), NOW)
    return token


class APICase(SynchronousTestCase):
    """A Dashboard over a real temporary database, with one token, driven without sockets."""

    private = False

    def setUp(self) -> None:
        self.database = temporary_database(self)
        self.token = add_token(self.database)
        self.dashboard = Dashboard(
            SynchronousPool(self.database),
            make_environment(),
            clock=lambda: NOW,
            private=self.private,
        )
        self.client = cast(HTTPClient, checked_client(self, self.dashboard.app.resource()))

    def send(
        self,
        method: str,
        path: str,
        body: object = None,
        token: str | None = "default",
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """Send ``body`` (JSON-encoded unless bytes) with the test's token unless told otherwise."""
        sent: dict[str, str] = {"Content-Type": JSON_TYPE}
        if token is not None:
            sent["Authorization"] = f"Bearer {self.token if token == 'default' else token}"
        sent.update(headers or {})
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        wire_headers = {name: [value] for name, value in sent.items() if value}
        response = self.successResultOf(
            self.client.request(method, BASE + path, data=data, headers=wire_headers)
        )
        raw: bytes = self.successResultOf(treq.content(response))
        decoded = json.loads(raw) if raw and _is_json(response) else raw
        return Answer(response.code, decoded, response)

    def create(self, run_id: str | None = None, **fields: object) -> str:
        run_id = run_id or uuid4().hex
        answer = self.send("PUT", f"/api/v1/runs/{run_id}", run_body(**fields))
        self.assertEqual(answer.status, 201, answer.body)
        return run_id

    def batch(self, run_id: str, number: int, results: list[dict[str, Any]]) -> Answer:
        return self.send("PUT", f"/api/v1/runs/{run_id}/batches/{number}", {"results": results})

    def run_json(self, run_id: str) -> Any:
        answer = self.send("GET", f"/api/v1/runs/{run_id}", token=None)
        self.assertEqual(answer.status, 200)
        return answer.body


def _is_json(response: IResponse) -> bool:
    content_type = response.headers.getRawHeaders("content-type") or [""]
    return bool(content_type[0].startswith(JSON_TYPE))


def results(*names: str, outcome: str = "success") -> list[dict[str, Any]]:
    return [result_body(test_id=name, outcome=outcome) for name in names]


class CreateRunTests(APICase):
    def test_create(self) -> None:
        """A new run answers 201 with its id and page, and is then readable."""
        run_id = uuid4().hex
        answer = self.send("PUT", f"/api/v1/runs/{run_id}", run_body())
        self.assertEqual(answer.status, 201)
        self.assertEqual(
            answer.body, {"run": {"id": run_id, "url": f"/runs/{run_id}"}, "created": True}
        )
        self.assertEqual(answer.header("location"), [f"/api/v1/runs/{run_id}"])
        run = self.run_json(run_id)["run"]
        self.assertEqual(run["started_at"], "2026-11-25T16:49:36.423877Z")
        self.assertEqual((run["host"], run["order_seed"], run["finished_at"]), ("ci-7", 12, None))

    def test_retried_create(self) -> None:
        """Creating an existing run answers 200, created false, and changes nothing."""
        run_id = self.create(host="first")
        answer = self.send("PUT", f"/api/v1/runs/{run_id}", run_body(host="second"))
        self.assertEqual(answer.status, 200)
        self.assertEqual(answer.body["created"], False)
        self.assertEqual(self.run_json(run_id)["run"]["host"], "first")
        self.assertEqual(row_counts(self.database)["runs"], 1)

    def test_offset_time_stored_utc(self) -> None:
        """A start sent with an offset is stored and answered in UTC."""
        run_id = self.create(started_at="2026-11-25T18:00:00+01:00")
        self.assertEqual(self.run_json(run_id)["run"]["started_at"], "2026-11-25T17:00:00.000000Z")


class BatchTests(APICase):
    def test_batch(self) -> None:
        """A batch answers 201 with how many results it stored; the run shows them."""
        run_id = self.create()
        answer = self.batch(run_id, 0, results("t.a", "t.b") + results("t.c", outcome="failure"))
        self.assertEqual((answer.status, answer.body), (201, {"stored": 3, "duplicate": False}))
        body = self.run_json(run_id)
        self.assertEqual(body["run"]["counts"]["total"], 3)
        self.assertEqual(body["run"]["counts"]["failure"], 1)
        self.assertEqual(body["results"][0]["test_id"], "t.c")

    def test_retried_batch(self) -> None:
        """A batch number stored before answers 200 duplicate and stores nothing again."""
        run_id = self.create()
        self.batch(run_id, 0, results("t.a", "t.b"))
        before = row_counts(self.database)
        answer = self.batch(run_id, 0, results("t.a", "t.b"))
        self.assertEqual((answer.status, answer.body), (200, {"stored": 0, "duplicate": True}))
        self.assertEqual(row_counts(self.database), before)
        self.assertEqual(before["results"], 2)
        self.assertEqual(self.run_json(run_id)["run"]["counts"]["total"], 2)

    def test_batches_append(self) -> None:
        """Batches 0, 1, 2 add up, in any order of arrival."""
        run_id = self.create()
        for number in (2, 0, 1):
            self.assertEqual(self.batch(run_id, number, results(f"t.{number}")).status, 201)
        self.assertEqual(self.run_json(run_id)["run"]["counts"]["total"], 3)
        self.assertEqual(row_counts(self.database)["batches"], 3)

    def test_same_number_other_run(self) -> None:
        """Batch numbers belong to their run: two runs may both send batch 0."""
        first, second = self.create(), self.create()
        self.assertEqual(self.batch(first, 0, results("t.a")).status, 201)
        self.assertEqual(self.batch(second, 0, results("t.a")).status, 201)

    def test_optional_fields(self) -> None:
        """A result with only test_id, outcome and duration is stored with nulls."""
        run_id = self.create()
        self.batch(run_id, 0, [{"test_id": "t.a", "outcome": "skip", "duration": 0}])
        [stored] = self.run_json(run_id)["results"]
        self.assertEqual((stored["seed"], stored["file"], stored["message"]), (None, None, None))


class FinishTests(APICase):
    def test_finish(self) -> None:
        """Finishing answers 200 and the run gets its end and duration."""
        run_id = self.create(started_at="2026-11-25T16:00:00Z")
        answer = self.send(
            "POST", f"/api/v1/runs/{run_id}/finish", {"finished_at": "2026-11-25T16:00:02.5Z"}
        )
        self.assertEqual(answer.status, 200)
        self.assertEqual(
            answer.body, {"run": {"id": run_id, "url": f"/runs/{run_id}"}, "finished": True}
        )
        self.assertEqual(self.run_json(run_id)["run"]["duration"], 2.5)

    def test_finish_again(self) -> None:
        """Finishing twice is harmless."""
        run_id = self.create()
        body = {"finished_at": "2026-11-25T17:00:00Z"}
        for _ in range(2):
            self.assertEqual(self.send("POST", f"/api/v1/runs/{run_id}/finish", body).status, 200)


@dataclass(frozen=True)
class Bad:
    """A request that must be refused: what to send, and the error it gets."""

    method: str
    path: str
    body: object
    status: int
    code: str
    field: str | None = None


RUN = "0123456789abcdef0123456789abcdef"
UNKNOWN = "fedcba9876543210fedcba9876543210"


def bad_requests() -> list[Bad]:
    run = f"/api/v1/runs/{RUN}"
    batch, finish = f"{run}/batches/1", f"{run}/finish"
    naive = run_body(started_at="2026-11-25T16:49:36")
    missing = {k: v for k, v in run_body().items() if k != "host"}
    valid_then_bad = [*results("t.new"), result_body(test_id="t.x", outcome="passed")]
    return [
        Bad("PUT", run, b'{"started_at": ', 400, "bad_json"),
        Bad("PUT", run, b"\xff\xfe", 400, "bad_json"),
        Bad("PUT", run, [run_body()], 400, "invalid"),
        Bad("PUT", run, naive, 400, "invalid", "started_at"),
        Bad("PUT", run, missing, 400, "invalid", "host"),
        Bad("PUT", run, run_body(extra=1), 400, "invalid", "extra"),
        Bad("PUT", run, run_body(order_seed="7"), 400, "invalid", "order_seed"),
        Bad("PUT", "/api/v1/runs/NOT-HEX", run_body(), 400, "invalid", "run_id"),
        Bad("PUT", batch, b"{", 400, "bad_json"),
        Bad("PUT", batch, {"results": []}, 400, "invalid", "results"),
        Bad("PUT", batch, {"results": valid_then_bad}, 400, "invalid", "results[1].outcome"),
        Bad("PUT", batch, {"results": results("t.a"), "n": 1}, 400, "invalid", "n"),
        Bad("PUT", batch, {"results": [result_body(duration=-1)]}, 400, "invalid"),
        Bad("PUT", f"{run}/batches/-1", {"results": results("t")}, 400, "invalid", "number"),
        Bad("PUT", f"{run}/batches/x", {"results": results("t")}, 400, "invalid", "number"),
        Bad("PUT", batch.replace(RUN, UNKNOWN), {"results": results("t")}, 400, "unknown_run"),
        Bad("POST", finish, {"finished_at": "2026-11-25"}, 400, "invalid", "finished_at"),
        Bad("POST", finish, {}, 400, "invalid", "finished_at"),
        Bad(
            "POST",
            finish.replace(RUN, UNKNOWN),
            {"finished_at": "2026-11-25T17:00:00Z"},
            400,
            "unknown_run",
            "run_id",
        ),
    ]


class BadRequestTests(APICase):
    def setUp(self) -> None:
        super().setUp()
        self.create(RUN)
        self.batch(RUN, 0, results("t.a"))

    def refused(
        self, answer: Answer, status: int, code: str, field: str | None = None, case: object = ""
    ) -> None:
        self.assertEqual(answer.status, status, f"{case}: {answer.body}")
        self.assertEqual(answer.header("content-type"), ["application/json; charset=utf-8"])
        self.assertEqual(answer.body["error"]["code"], code, case)
        self.assertIsInstance(answer.body["error"]["message"], str)
        if field is not None:
            self.assertEqual(answer.body["error"]["field"], field, case)

    def test_each_bad_request(self) -> None:
        """Each bad request gets its status and error code, names its field, and writes nothing."""
        for bad in bad_requests():
            before = row_counts(self.database)
            answer = self.send(bad.method, bad.path, bad.body)
            self.refused(answer, bad.status, bad.code, bad.field, case=bad)
            self.assertEqual(row_counts(self.database), before, bad)

    def test_no_field_when_body_unreadable(self) -> None:
        """Malformed JSON names no field."""
        answer = self.send("PUT", f"/api/v1/runs/{uuid4().hex}", b"{nope")
        self.assertNotIn("field", answer.body["error"])

    def test_unknown_run_message(self) -> None:
        """A batch for an unknown run says to create the run first."""
        answer = self.batch(UNKNOWN, 0, results("t.a"))
        self.refused(answer, 400, "unknown_run", "run_id")
        self.assertIn("create it first", answer.body["error"]["message"])

    def test_wrong_content_type(self) -> None:
        """A body that is not declared application/json in UTF-8 is a 415."""
        for content_type in ("text/plain", "", "application/json; charset=latin-1", "form"):
            answer = self.send(
                "PUT",
                f"/api/v1/runs/{uuid4().hex}",
                run_body(),
                headers={"Content-Type": content_type},
            )
            self.refused(answer, 415, "unsupported_media_type")
        self.assertEqual(row_counts(self.database)["runs"], 1)

    def test_json_content_type_variants(self) -> None:
        """application/json is accepted with a UTF-8 charset and in any letter case."""
        for content_type in ("application/json; charset=utf-8", "Application/JSON"):
            answer = self.send(
                "PUT",
                f"/api/v1/runs/{uuid4().hex}",
                run_body(),
                headers={"Content-Type": content_type},
            )
            self.assertEqual(answer.status, 201)

    def test_compressed(self) -> None:
        """A compressed body is refused with a 415 rather than misread."""
        answer = self.send(
            "PUT", f"/api/v1/runs/{uuid4().hex}", run_body(), headers={"Content-Encoding": "gzip"}
        )
        self.refused(answer, 415, "unsupported_media_type")

    def test_wrong_method(self) -> None:
        """GET on a write-only address is a JSON 405."""
        answer = self.send("GET", f"/api/v1/runs/{RUN}/finish")
        self.refused(answer, 405, "method_not_allowed")


class TokenTests(APICase):
    def assert_unauthorized(self, answer: Answer) -> None:
        self.assertEqual(answer.status, 401)
        self.assertEqual(answer.header("www-authenticate"), ["Bearer"])
        self.assertEqual(answer.body["error"]["code"], "unauthorized")

    def each_write(self, token: str | None, headers: Mapping[str, str] | None = None) -> None:
        """Every write endpoint refuses this token, and nothing is written."""
        before = row_counts(self.database)
        writes = [
            ("PUT", f"/api/v1/runs/{uuid4().hex}", run_body()),
            ("PUT", f"/api/v1/runs/{RUN}/batches/5", {"results": results("t.a")}),
            ("POST", f"/api/v1/runs/{RUN}/finish", {"finished_at": "2026-11-25T17:00:00Z"}),
        ]
        for method, path, body in writes:
            self.assert_unauthorized(self.send(method, path, body, token=token, headers=headers))
        self.assertEqual(row_counts(self.database), before)

    def setUp(self) -> None:
        super().setUp()
        self.create(RUN)

    def test_missing_token(self) -> None:
        """Writing without a token is a 401 asking for a bearer token."""
        self.each_write(None)

    def test_bad_token(self) -> None:
        """An unknown token is a 401."""
        self.each_write(tokens.new_token())

    def test_revoked_token(self) -> None:
        """A revoked token stops working at once."""
        self.database.write(tokens.revoke_token, "ci", NOW)
        self.each_write(self.token)

    def test_token_in_query(self) -> None:
        """A token in the query string is ignored."""
        answer = self.send(
            "PUT", f"/api/v1/runs/{uuid4().hex}?token={self.token}", run_body(), token=None
        )
        self.assert_unauthorized(answer)
        answer = self.send(
            "PUT", f"/api/v1/runs/{uuid4().hex}?access_token={self.token}", run_body(), token=None
        )
        self.assert_unauthorized(answer)

    def test_other_scheme(self) -> None:
        """The token must come as a Bearer credential, not Basic or bare."""
        for header in (f"Basic {self.token}", self.token, "Bearer"):
            self.each_write(None, headers={"Authorization": header})

    def test_scheme_any_case(self) -> None:
        """The Bearer scheme is matched without regard to case."""
        answer = self.send(
            "PUT",
            f"/api/v1/runs/{uuid4().hex}",
            run_body(),
            token=None,
            headers={"Authorization": f"bearer {self.token}"},
        )
        self.assertEqual(answer.status, 201)

    def test_second_token(self) -> None:
        """Any active token may write, and revoking one leaves the others working."""
        other = add_token(self.database, "laptop")
        self.database.write(tokens.revoke_token, "ci", NOW)
        self.assertEqual(
            self.send("PUT", f"/api/v1/runs/{uuid4().hex}", run_body(), other).status, 201
        )

    def test_token_not_stored(self) -> None:
        """The plain token appears nowhere in the database files, only its hash."""
        self.create()
        stored = everything_stored(self.database)
        self.assertNotIn(self.token.encode(), stored)
        self.assertIn(tokens.hash_token(self.token).encode(), stored)

    def test_undecodable_headers(self) -> None:
        """Header bytes that are not UTF-8 are refused like any bad header, not a crash."""
        for name, value, status in [
            (b"Authorization", b"Bearer \xff\xfe", 401),
            (b"Content-Type", b"application/json\xff", 415),
        ]:
            headers = {
                b"Authorization": [f"Bearer {self.token}".encode()],
                b"Content-Type": [JSON_TYPE.encode()],
                name: [value],
            }
            response = self.successResultOf(
                self.client.request(
                    "PUT",
                    f"{BASE}/api/v1/runs/{uuid4().hex}",
                    data=json.dumps(run_body()).encode(),
                    headers=headers,
                )
            )
            self.assertEqual(response.code, status)

    def test_unauthorized_message_has_no_token(self) -> None:
        """A refused token is not echoed back."""
        wrong = tokens.new_token()
        answer = self.send("PUT", f"/api/v1/runs/{uuid4().hex}", run_body(), token=wrong)
        self.assertNotIn(wrong, json.dumps(answer.body))


class ReadsStayOpenTests(APICase):
    def test_reads_need_no_token(self) -> None:
        """Without --private, pages and the read API answer without a token, as before."""
        run_id = self.create()
        for path in ("/", f"/runs/{run_id}", "/api/v1/runs", f"/api/v1/runs/{run_id}"):
            self.assertEqual(self.send("GET", path, token=None).status, 200, path)

    def test_no_login_page(self) -> None:
        """Without --private there is nothing to log in to."""
        self.assertEqual(self.send("GET", "/login", token=None).status, 404)


def raw_exchange(case: SynchronousTestCase, port: int, message: bytes) -> bytes:
    """Send raw bytes to the server and read until it closes the connection; the answer is
    checked against the document for the request line's method and path."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(message)
        received = []
        while chunk := connection.recv(65536):
            received.append(chunk)
    raw = b"".join(received)
    method, path, _ = message.decode("latin-1").split(" ", 2)
    status, headers, body = split_response(raw)
    if headers.get("transfer-encoding") == "chunked":
        body = dechunked(body)
    check_answer(case, method, unquote(path), int(status.split()[1]), body)
    return raw


def split_response(raw: bytes) -> tuple[str, dict[str, str], bytes]:
    """Status line, headers (lower-case names) and body of one raw HTTP response."""
    head, _, body = raw.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def dechunked(body: bytes) -> bytes:
    """The data a chunked body carries."""
    data: list[bytes] = []
    while True:
        size, _, rest = body.partition(b"\r\n")
        length = int(size.split(b";")[0], 16)
        if length == 0:
            return b"".join(data)
        data.append(rest[:length])
        body = rest[length + 2 :]


def send_head(port: int, head: bytes) -> tuple[socket.socket, bytes]:
    """Open a connection, send a request's head and return the first bytes answered."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=10)
    connection.sendall(head)
    return connection, connection.recv(65536)


def send_rest(connection: socket.socket, body: bytes) -> bytes:
    """Send the body of a request whose head went first; read until the server closes."""
    with connection:
        connection.sendall(body)
        received = []
        while chunk := connection.recv(65536):
            received.append(chunk)
    return b"".join(received)


def chunked(*chunks: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks) + b"0\r\n\r\n"


@dataclass
class Client:
    """One uploader in its own thread, with the standard library, as the reporter does it."""

    case: SynchronousTestCase
    base: str
    token: str
    answers: list[tuple[int, bytes]]

    def send(self, method: str, path: str, body: object) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": JSON_TYPE}
        data = json.dumps(body).encode()
        answer = fetch(self.case, self.base + path, method, data, headers, timeout=60)
        status, raw = answer.status, answer.body
        self.answers.append((status, raw))
        return status, json.loads(raw)


class RealServerTests(TestCase):
    """The write API through a real listening site, real database threads and a real file."""

    async def serve(
        self, max_body: int = DEFAULT_MAX_BODY, max_bodies_in_flight: int | None = None
    ) -> int:
        self.database = temporary_database(self)
        self.token = add_token(self.database)
        pool = ThreadedPool(self.database, cast(IReactorFromThreads, reactor))
        pool.start()
        self.addCleanup(pool.stop)
        dashboard = make_dashboard(pool)
        port = cast(
            Port,
            await listen(reactor, dashboard, "127.0.0.1", 0, max_body, max_bodies_in_flight),
        )
        self.addCleanup(port.stopListening)
        number: int = port.getHost().port
        return number

    async def continued(self, port: int, body: bytes) -> socket.socket:
        """A connection whose new run's head, expecting 100-continue, was answered
        ``100 Continue``: its body not sent yet."""
        head = self.head(
            "PUT",
            f"/api/v1/runs/{uuid4().hex}",
            f"Content-Length: {len(body)}",
            "Expect: 100-continue",
            "Connection: close",
        )
        connection, first = await deferToThread(send_head, port, head)
        self.addCleanup(connection.close)
        self.assertEqual(first, b"HTTP/1.1 100 Continue\r\n\r\n")
        return connection

    def head(self, method: str, path: str, *extra: str, token: str | None = "") -> bytes:
        """A request's head; with the test's token unless ``token`` is another, or None."""
        lines = [
            f"{method} {path} HTTP/1.1",
            "Host: 127.0.0.1",
            *([] if token is None else [f"Authorization: Bearer {token or self.token}"]),
            f"Content-Type: {JSON_TYPE}",
            *extra,
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def assert_unauthorized(self, raw: bytes) -> None:
        """The app's own 401, answered on a connection then closed."""
        status, headers, body = split_response(raw)
        self.assertEqual(status, "HTTP/1.1 401 Unauthorized")
        self.assertEqual(headers["www-authenticate"], "Bearer")
        self.assertEqual(headers["connection"], "close")
        self.assertEqual(json.loads(body), {"error": APP_UNAUTHORIZED})

    async def test_write_refused_at_headers(self) -> None:
        """A write with no token or a wrong one is a 401 before its 16 MiB body is sent."""
        port = await self.serve()
        before = row_counts(self.database)
        for token in (None, "wrong"):
            message = self.head(
                "PUT", f"/api/v1/runs/{uuid4().hex}", "Content-Length: 16777216", token=token
            )
            raw = await deferToThread(raw_exchange, self, port, message + b'{"started_at": ')
            self.assert_unauthorized(raw)
        self.assertEqual(row_counts(self.database), before)

    async def test_no_continue_before_the_token(self) -> None:
        """``Expect: 100-continue`` gets the 401 alone with a wrong token; with a good one,
        ``100 Continue`` once the token is checked, then the answer."""
        port = await self.serve()
        path = f"/api/v1/runs/{uuid4().hex}"
        refused = self.head("PUT", path, "Content-Length: 5000", "Expect: 100-continue", token="x")
        raw = await deferToThread(raw_exchange, self, port, refused)
        self.assertNotIn(b"100 Continue", raw)
        self.assert_unauthorized(raw)

        body = json.dumps(run_body()).encode()
        head = self.head(
            "PUT", path, f"Content-Length: {len(body)}", "Expect: 100-continue", "Connection: close"
        )
        connection, first = await deferToThread(send_head, port, head)
        self.assertEqual(first, b"HTTP/1.1 100 Continue\r\n\r\n")
        status, _, _ = split_response(await deferToThread(send_rest, connection, body))
        self.assertEqual(status, "HTTP/1.1 201 Created")

    async def test_token_looked_up_once(self) -> None:
        """A batch's token, found active as its headers arrive, is not looked up again
        when its body follows at once."""
        port = await self.serve()
        looked_up: list[str] = []

        def counted(conn: Connection, token_hash: str) -> str | None:
            looked_up.append(token_hash)
            return tokens.active_token(conn, token_hash)

        self.patch(auth, "active_token", counted)
        body = json.dumps(run_body()).encode()
        head = self.head(
            "PUT",
            f"/api/v1/runs/{uuid4().hex}",
            f"Content-Length: {len(body)}",
            "Connection: close",
        )
        status, _, _ = split_response(await deferToThread(raw_exchange, self, port, head + body))
        self.assertEqual(status, "HTTP/1.1 201 Created")
        self.assertEqual(looked_up, [tokens.hash_token(self.token)])

    async def test_revoked_between_batches(self) -> None:
        """A token revoked in the database, as ``seedboard token revoke`` does from another
        process, refuses the very next batch."""
        port = await self.serve()
        client = Client(self, f"http://127.0.0.1:{port}", self.token, [])
        run_id = uuid4().hex
        await deferToThread(client.send, "PUT", f"/api/v1/runs/{run_id}", run_body())
        path = f"/api/v1/runs/{run_id}/batches/0"
        status, _ = await deferToThread(client.send, "PUT", path, {"results": results("a")})
        self.assertEqual(status, 201)
        self.database.write(tokens.revoke_token, "ci", NOW)
        body = json.dumps({"results": results("b")}).encode()
        head = self.head(
            "PUT",
            f"/api/v1/runs/{run_id}/batches/1",
            f"Content-Length: {len(body)}",
            "Connection: close",
        )
        self.assert_unauthorized(await deferToThread(raw_exchange, self, port, head + body))
        self.assertEqual(row_counts(self.database)["results"], 1)

    async def test_slow_body_looked_up_again(self) -> None:
        """A body arriving later than ``TOKEN_CHECK_REUSE`` after its headers has its token
        looked up again: revoked meanwhile, the write is refused and nothing is stored."""
        port = await self.serve()
        self.patch(auth, "TOKEN_CHECK_REUSE", 0.05)
        body = json.dumps(run_body()).encode()
        connection = await self.continued(port, body)  # the token was active
        self.database.write(tokens.revoke_token, "ci", NOW)
        await deferLater(reactor, 0.1, lambda: None)
        status, headers, answer = split_response(await deferToThread(send_rest, connection, body))
        self.assertEqual(status, "HTTP/1.1 401 Unauthorized")
        self.assertEqual(headers["transfer-encoding"], "chunked")  # the app's, not the site's
        self.assertEqual(json.loads(dechunked(answer)), {"error": APP_UNAUTHORIZED})
        self.assertEqual(row_counts(self.database)["runs"], 0)

    async def test_bodies_in_flight(self) -> None:
        """Past the budget of bodies in flight a write is a 503 with Retry-After, a form is
        not; the budget comes back when a request finishes and when a connection is lost."""
        body = json.dumps(run_body()).encode().ljust(1000)
        port = await self.serve(max_body=len(body), max_bodies_in_flight=2 * len(body))

        async def start() -> socket.socket:
            return await self.continued(port, body)

        async def assert_busy(header: str, content: bytes = b"") -> None:
            head = self.head("PUT", f"/api/v1/runs/{uuid4().hex}", "Connection: close", header)
            raw = await deferToThread(raw_exchange, self, port, head + content)
            status, headers, answer = split_response(raw)
            self.assertEqual(status, "HTTP/1.1 503 Service Unavailable")
            self.assertEqual(headers["retry-after"], "5")
            self.assertEqual(json.loads(answer)["error"]["code"], "unavailable")

        first, second = await start(), await start()
        await assert_busy(f"Content-Length: {len(body)}")
        await assert_busy("Transfer-Encoding: chunked", chunked(b"x" * 16))  # counted as it comes
        # Bodies that are not writes do not count: no one without a token can use it up.
        form = self.head("POST", "/login", "Content-Length: 3", "Connection: close", token=None)
        status, _, _ = split_response(await deferToThread(raw_exchange, self, port, form + b"a=1"))
        self.assertEqual(status, "HTTP/1.1 404 Not Found")

        status, _, _ = split_response(await deferToThread(send_rest, first, body))
        self.assertEqual(status, "HTTP/1.1 201 Created")  # finished: its part comes back
        await start()
        second.close()  # lost: its part comes back too
        await self.eventually(start)
        await assert_busy(f"Content-Length: {len(body)}")

    async def eventually(self, attempt: Callable[[], Awaitable[object]]) -> None:
        """``attempt`` passes within a second: the server sees a closed connection soon."""
        for _ in range(50):
            try:
                await attempt()
                return
            except self.failureException:
                await deferLater(reactor, 0.02, lambda: None)
        await attempt()

    async def test_other_bodies_are_small(self) -> None:
        """A body that is not an API write, login forms included, is held to FORM_MAX_BODY."""
        port = await self.serve()
        for method, path in (("POST", "/login"), ("POST", "/logout"), ("GET", "/")):
            head = self.head(method, path, f"Content-Length: {FORM_MAX_BODY + 1}", token=None)
            raw = await deferToThread(raw_exchange, self, port, head)
            self.assert_too_large(raw)
            self.assertIn(b"limit of 16384 bytes", raw)

    def assert_too_large(self, raw: bytes) -> None:
        status, headers, body = split_response(raw)
        self.assertEqual(status, "HTTP/1.1 413 Content Too Large")
        self.assertEqual(headers["content-type"], "application/json; charset=utf-8")
        self.assertEqual(headers["connection"], "close")
        self.assertEqual(int(headers["content-length"]), len(body))
        self.assertEqual(json.loads(body)["error"]["code"], "too_large")

    async def test_content_length_over_limit(self) -> None:
        """A Content-Length over the limit is refused with 413 before the body is sent."""
        port = await self.serve(max_body=1000)
        before = row_counts(self.database)
        message = (
            self.head("PUT", f"/api/v1/runs/{uuid4().hex}", "Content-Length: 100000000")
            + b'{"started_at": '
        )
        # The server must answer and hang up although most of the body never comes.
        raw = await deferToThread(raw_exchange, self, port, message)
        self.assert_too_large(raw)
        self.assertEqual(row_counts(self.database), before)

    async def test_no_continue_after_refusal(self) -> None:
        """A client expecting 100-continue gets the 413 alone."""
        port = await self.serve(max_body=1000)
        message = self.head(
            "PUT", f"/api/v1/runs/{uuid4().hex}", "Content-Length: 5000", "Expect: 100-continue"
        )
        raw = await deferToThread(raw_exchange, self, port, message)
        self.assertNotIn(b"100 Continue", raw)
        self.assert_too_large(raw)

    async def test_chunked_over_limit(self) -> None:
        """A chunked body is refused with 413 once its total passes the limit."""
        port = await self.serve(max_body=1000)
        before = row_counts(self.database)
        message = self.head(
            "PUT", f"/api/v1/runs/{uuid4().hex}", "Transfer-Encoding: chunked"
        ) + chunked(b" " * 600, b" " * 600, json.dumps(run_body()).encode())
        raw = await deferToThread(raw_exchange, self, port, message)
        self.assert_too_large(raw)
        self.assertEqual(row_counts(self.database), before)

    async def test_chunked_within_limit(self) -> None:
        """A chunked body under the limit is read whole and stored."""
        port = await self.serve(max_body=1000)
        body = json.dumps(run_body()).encode()
        message = self.head(
            "PUT", f"/api/v1/runs/{uuid4().hex}", "Transfer-Encoding: chunked", "Connection: close"
        ) + chunked(body[:100], body[100:])
        status, _, answer = split_response(await deferToThread(raw_exchange, self, port, message))
        self.assertEqual(status, "HTTP/1.1 201 Created", answer)
        self.assertEqual(row_counts(self.database)["runs"], 1)

    async def test_exactly_the_limit(self) -> None:
        """A body of exactly the limit is accepted."""
        body = json.dumps(run_body()).encode()
        port = await self.serve(max_body=len(body))
        message = (
            self.head(
                "PUT",
                f"/api/v1/runs/{uuid4().hex}",
                f"Content-Length: {len(body)}",
                "Connection: close",
            )
            + body
        )
        status, _, _ = split_response(await deferToThread(raw_exchange, self, port, message))
        self.assertEqual(status, "HTTP/1.1 201 Created")

    async def test_concurrent_clients(self) -> None:
        """Eight clients uploading 5,000 results each at once all succeed; every run is whole."""
        port = await self.serve()
        clients, batches, size = 8, 20, 250
        start = threading.Barrier(clients)
        base = f"http://127.0.0.1:{port}"

        def upload(client: Client) -> str:
            run_id = uuid4().hex
            start.wait()
            client.send("PUT", f"/api/v1/runs/{run_id}", run_body())
            for number in range(batches):
                names = [f"pkg.T.test_{number * size + i}" for i in range(size)]
                client.send(
                    "PUT", f"/api/v1/runs/{run_id}/batches/{number}", {"results": results(*names)}
                )
            status, body = client.send(
                "PUT", f"/api/v1/runs/{run_id}/batches/3", {"results": results("x")}
            )
            assert (status, body["duplicate"]) == (200, True), (status, body)
            client.send(
                "POST", f"/api/v1/runs/{run_id}/finish", {"finished_at": "2026-11-25T17:00:00Z"}
            )
            return run_id

        uploaders = [Client(self, base, self.token, []) for _ in range(clients)]
        run_ids = await gatherResults([deferToThread(upload, client) for client in uploaders])

        answers = [answer for client in uploaders for answer in client.answers]
        self.assertEqual(len(answers), clients * (batches + 3))
        self.assertEqual([a for a in answers if a[0] >= 500 or b"locked" in a[1]], [])
        self.assertEqual({status for status, _ in answers}, {200, 201})
        for run_id in run_ids:
            detail = self.database.read(runs.get_run, run_id)
            assert detail is not None
            self.assertEqual(len(detail.results), batches * size)
            self.assertEqual(len({r.test_id for r in detail.results}), batches * size)
            self.assertEqual(detail.summary.counts.total, batches * size)
            self.assertIsNotNone(detail.summary.finished_at)
        counts = row_counts(self.database)
        self.assertEqual(counts["results"], clients * batches * size)
        self.assertEqual(counts["batches"], clients * batches)
        self.assertEqual(counts["tests"], batches * size)

    async def test_racing_copies_of_one_batch(self) -> None:
        """Eight copies of one batch sent at once are stored exactly once."""
        port = await self.serve()
        base, run_id, copies = f"http://127.0.0.1:{port}", uuid4().hex, 8
        creator = Client(self, base, self.token, [])
        await deferToThread(creator.send, "PUT", f"/api/v1/runs/{run_id}", run_body())
        start = threading.Barrier(copies)
        names = [f"pkg.T.test_{i}" for i in range(500)]

        def send_copy(client: Client) -> tuple[int, Any]:
            start.wait()
            return client.send(
                "PUT", f"/api/v1/runs/{run_id}/batches/0", {"results": results(*names)}
            )

        senders = [Client(self, base, self.token, []) for _ in range(copies)]
        answers = await gatherResults([deferToThread(send_copy, client) for client in senders])
        self.assertEqual(sorted(status for status, _ in answers), [200] * (copies - 1) + [201])
        self.assertEqual(sum(body["stored"] for _, body in answers), 500)
        self.assertEqual(row_counts(self.database)["results"], 500)


class AccessLogTests(SynchronousTestCase):
    def test_query_left_out(self) -> None:
        """The access log shows the path, never a query string that may hold a token."""
        request = Request(DummyChannel())
        request.method, request.clientproto = b"GET", b"HTTP/1.1"
        request.uri, request.path = b"/api/v1/runs?token=SECRET", b"/api/v1/runs"
        request.code, request.sentLength = 401, 10
        line = access_log_line("[25/Nov/2026:17:00:00 +0000]", request)
        self.assertNotIn("SECRET", line)
        self.assertIn('"GET /api/v1/runs HTTP/1.1" 401 10', line)


class OpenAPIAnswerTests(APICase):
    def test_write_answers_match(self) -> None:
        """What the write API answers, errors included, fits the documented schemas."""
        document = self.send("GET", "/api/v1/openapi.json", token=None).body
        run_id = uuid4().hex
        answers = [
            (self.send("PUT", f"/api/v1/runs/{run_id}", run_body()), "CreatedRun"),
            (self.send("PUT", f"/api/v1/runs/{run_id}", run_body()), "CreatedRun"),
            (self.batch(run_id, 0, results("t.a")), "StoredBatch"),
            (self.batch(run_id, 0, results("t.a")), "StoredBatch"),
            (
                self.send(
                    "POST", f"/api/v1/runs/{run_id}/finish", {"finished_at": "2026-11-25T17:00:00Z"}
                ),
                "FinishedRun",
            ),
            (self.batch(run_id, 1, results("")), "Error"),
            (self.send("PUT", f"/api/v1/runs/{run_id}", b"{", token=None), "Error"),
        ]
        for answer, schema in answers:
            reference = {"$ref": f"#/components/schemas/{schema}"}
            self.assertEqual(schema_errors(answer.body, reference, document), [], answer.body)


class BackgroundCheckpointTests(TestCase):
    """The server's pool copies SQLite's log into the file after writes, off the writer."""

    async def test_checkpoint_follows_writes(self) -> None:
        """After a write through the pool, its rows reach the database file by themselves."""
        path = Path(self.mktemp()).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        database = open_database(f"sqlite:///{path}", background_checkpoints=True)
        ensure_schema(database)
        pool = ThreadedPool(database, cast(IReactorFromThreads, reactor))
        pool.start()
        self.addCleanup(pool.stop)
        empty = path.stat().st_size
        start = run_start()
        await pool.write(runs.create_run, start)
        many = [result(f"t.T.test_{i}", message="x" * 2000) for i in range(2000)]
        await pool.write(add_results, start.id, many)
        for _ in range(200):
            if path.stat().st_size > empty + 1000 * 1024:
                break
            await deferLater(reactor, 0.05)
        self.assertGreater(path.stat().st_size, empty + 1000 * 1024)
