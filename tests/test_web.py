"""Tests for the dashboard: pages, their JSON twins, errors, OpenAPI, and serving over HTTP."""

# trial's assertions and treq's testing helpers are not annotated.

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar, cast

import treq
from sqlalchemy import Connection
from twisted.internet import reactor
from twisted.internet.defer import Deferred, fail
from twisted.internet.interfaces import IReactorFromThreads
from twisted.internet.tcp import Port
from twisted.trial.unittest import SynchronousTestCase, TestCase
from twisted.web.client import HTTPConnectionPool
from twisted.web.iweb import IResponse

from seedboard.db.engine import Database
from seedboard.db.pool import Pool, SynchronousPool, ThreadedPool
from seedboard.domain import Outcome, Result
from seedboard.settings import RUN_ID_PATTERN
from seedboard.triage.fingerprint import fingerprint
from seedboard.web.app import Dashboard
from seedboard.web.server import listen, make_dashboard
from seedboard.web.templates import make_environment
from seedboard.web.text import iso_utc
from seedboard.web.urls import path_to_test
from tests.contract import check_answer, checked_client, schema_errors
from tests.support import record_run, result, run_start, temporary_database

P = ParamSpec("P")
T = TypeVar("T")

NOW = datetime(2026, 11, 25, 17, 0, 0, tzinfo=UTC)
BASE = "http://seedboard.test"
SCRIPT = "<script>alert(1)</script>"


class HTTPClient(Protocol):
    """The part of StubTreq used here; it makes its methods at runtime, out of mypy's sight."""

    def request(self, method: str, url: str) -> Deferred[IResponse]: ...


class BrokenPool:
    """A pool whose database calls all fail, as a lost database would."""

    def read(
        self, fn: Callable[Concatenate[Connection, P], T], *a: P.args, **k: P.kwargs
    ) -> Deferred[T]:
        return fail(RuntimeError("the database is on fire"))

    write = read


class DashboardCase(SynchronousTestCase):
    """Drives a Dashboard over a real temporary database, without sockets."""

    def setUp(self) -> None:
        self.database = temporary_database(self)
        self.client = self.client_for(SynchronousPool(self.database))

    def client_for(self, pool: Pool) -> HTTPClient:
        dashboard = Dashboard(pool, make_environment(), clock=lambda: NOW)
        return cast(HTTPClient, checked_client(self, dashboard.app.resource()))

    def record(
        self,
        results: list[Result],
        minutes_ago: float = 3,
        duration: float | None = 2.5,
        **fields: Any,
    ) -> str:
        start = run_start(started_at=NOW - timedelta(minutes=minutes_ago), **fields)
        return record_run(self.database, results, start=start, duration=duration).id

    def get(self, path: str, method: str = "GET") -> IResponse:
        return self.successResultOf(self.client.request(method, BASE + path))

    def page(self, path: str, status: int = 200) -> str:
        """The HTML at ``path``, checking its status and content type."""
        response = self.get(path)
        self.assertEqual(response.code, status)
        self.assertEqual(
            response.headers.getRawHeaders("content-type"), ["text/html; charset=utf-8"]
        )
        body: bytes = self.successResultOf(treq.content(response))
        return body.decode("utf-8")

    def api(self, path: str, status: int = 200) -> Any:
        """The JSON at ``path``, checking its status and content type."""
        response = self.get(path)
        self.assertEqual(response.code, status)
        self.assertEqual(
            response.headers.getRawHeaders("content-type"), ["application/json; charset=utf-8"]
        )
        return self.successResultOf(treq.json_content(response))


def run_links(page: str) -> list[str]:
    """The run ids linked from a page, in page order."""
    return re.findall(r'href="/runs/([^"]+)"', page)


def history_links(page: str) -> list[str]:
    """The run ids linked from a test page's table of runs, in page order."""
    return run_links(page.partition("<h2>Runs, newest first</h2>")[2])


class RunsListTests(DashboardCase):
    def test_newest_first(self) -> None:
        """Runs are listed newest first, in HTML and in JSON."""
        oldest = self.record([], minutes_ago=30)
        newest = self.record([], minutes_ago=1)
        middle = self.record([], minutes_ago=10)
        self.assertEqual(run_links(self.page("/")), [newest, middle, oldest])
        ids = [run["id"] for run in self.api("/api/v1/runs")["runs"]]
        self.assertEqual(ids, [newest, middle, oldest])

    def test_row(self) -> None:
        """A row shows absolute and relative time, duration, counts, branch and short commit."""
        self.record(
            [result("a", Outcome.FAILURE), result("b"), result("c"), result("d", Outcome.SKIP)],
            minutes_ago=3,
            duration=2.5,
            branch="feature/x",
        )
        page = self.page("/")
        started = NOW - timedelta(minutes=3)
        self.assertIn(f'datetime="{iso_utc(started)}"', page)
        self.assertIn("2026-11-25 16:57:00 UTC", page)
        self.assertIn("3 min ago", page)
        self.assertIn("2.5 s", page)
        for count in ("2 success", "1 failure", "1 skip"):
            self.assertIn(count, page)
        self.assertNotIn("0 error", page)
        self.assertIn("feature/x", page)
        self.assertIn(">0123456789<", page)
        self.assertNotIn(">0123456789a", page)

    def test_unfinished(self) -> None:
        """A run without an end is shown as unfinished, with no duration in JSON."""
        self.record([result()], duration=None)
        self.assertIn("unfinished", self.page("/"))
        [run] = self.api("/api/v1/runs")["runs"]
        self.assertIsNone(run["finished_at"])
        self.assertIsNone(run["duration"])

    def test_empty(self) -> None:
        """With no runs the page explains how to record one, and the API lists none."""
        self.assertIn("trial --reporter=seedboard yourpackage", self.page("/"))
        self.assertEqual(self.api("/api/v1/runs"), {"runs": [], "next": None})

    def test_api_pages(self) -> None:
        """Following ``next`` visits every run once, newest first, then ends with null."""
        ids = [self.record([], minutes_ago=minutes) for minutes in (1, 2, 3, 4, 5)]
        seen: list[str] = []
        path: str | None = "/api/v1/runs?limit=2"
        pages = 0
        while path is not None:
            body = self.api(path)
            seen.extend(run["id"] for run in body["runs"])
            path = body["next"]
            pages += 1
        self.assertEqual(seen, ids)
        self.assertEqual(pages, 3)

    def test_next_link(self) -> None:
        """``next`` names the last run of the page and keeps the limit."""
        ids = [self.record([], minutes_ago=minutes) for minutes in (1, 2, 3)]
        body = self.api("/api/v1/runs?limit=2")
        self.assertEqual(body["next"], f"/api/v1/runs?before={ids[1]}&limit=2")

    def test_html_pages(self) -> None:
        """The "Older runs" link leads to the next page, which links back to the newest,
        keeping the page size."""
        ids = [self.record([], minutes_ago=minutes) for minutes in (1, 2, 3)]
        first = self.page("/?limit=2")
        self.assertEqual(run_links(first), ids[:2])
        [older] = re.findall(r'href="(/\?before=[^"]+)" rel="next">Older runs', first)
        second = self.page(html.unescape(older))
        self.assertEqual(run_links(second), ids[2:])
        self.assertNotIn("Older runs</a>", second)
        self.assertIn('<a href="/?limit=2">Newest runs</a>', second)

    def test_limit_out_of_range(self) -> None:
        """Limits outside 1..500 are refused naming the parameter, as every parameter is;
        the bounds themselves are taken."""
        self.record([], minutes_ago=1)
        self.record([], minutes_ago=2)
        for limit in ("0", "-3", "501", "100000"):
            body = self.api(f"/api/v1/runs?limit={limit}", status=400)
            self.assertEqual(body["error"]["field"], "limit", limit)
        self.assertEqual(len(self.api("/api/v1/runs?limit=1")["runs"]), 1)
        self.assertEqual(len(self.api("/api/v1/runs?limit=500")["runs"]), 2)

    def test_bad_limit_json(self) -> None:
        """A limit that is no integer is a 400 with a JSON error naming the parameter."""
        body = self.api("/api/v1/runs?limit=ten", status=400)
        self.assertEqual(
            body,
            {
                "error": {
                    "code": "bad_request",
                    "message": "limit must be an integer between 1 and 500",
                    "field": "limit",
                }
            },
        )

    def test_bad_limit_html(self) -> None:
        """A limit that is no integer on a page is a 400 error page."""
        self.assertIn("limit must be an integer", self.page("/?limit=1.5", status=400))


class RunPageTests(DashboardCase):
    def test_metadata(self) -> None:
        """The run page shows where, how and on what the run happened."""
        run_id = self.record(
            [result()],
            host="builder-7",
            python_version="3.12.1",
            twisted_version="25.5.0",
            command="trial --order=random mypkg",
            order_seed=987654,
            branch="release-1.0",
            build_url="https://ci.example/builds/42",
        )
        page = self.page(f"/runs/{run_id}")
        for text in (
            "builder-7",
            "3.12.1",
            "25.5.0",
            "trial --order=random mypkg",
            "987654",
            "release-1.0",
            "0123456789abcdef0123456789abcdef01234567",
            '<a href="https://ci.example/builds/42"',
            "2.5 s",
        ):
            self.assertIn(text, page)

    def test_build_url_not_web(self) -> None:
        """A build URL that is not http(s) is shown as text, never as a link."""
        run_id = self.record([result()], build_url="javascript:alert(1)")
        page = self.page(f"/runs/{run_id}")
        self.assertIn("javascript:alert(1)", page)
        self.assertNotIn('href="javascript:', page)

    def test_unfinished(self) -> None:
        """A run without an end says so on its page."""
        run_id = self.record([result()], duration=None)
        self.assertIn("unfinished", self.page(f"/runs/{run_id}"))

    def test_failures_first(self) -> None:
        """Failures and errors come before other results, in HTML and in JSON."""
        run_id = self.record(
            [
                result("pkg.a_passes"),
                result("pkg.b_fails", Outcome.FAILURE),
                result("pkg.c_skipped", Outcome.SKIP),
                result("pkg.d_errors", Outcome.ERROR),
            ]
        )
        expected = ["pkg.b_fails", "pkg.d_errors", "pkg.c_skipped", "pkg.a_passes"]
        page = self.page(f"/runs/{run_id}")
        self.assertEqual(re.findall(r'href="/tests/([^"]+)"', page), expected)
        body = self.api(f"/api/v1/runs/{run_id}")
        self.assertEqual([r["test_id"] for r in body["results"]], expected)

    def test_failure_details(self) -> None:
        """A failure shows its exception type, message and traceback, collapsed."""
        run_id = self.record(
            [
                result(
                    "pkg.test_flaky",
                    Outcome.FAILURE,
                    seed=31337,
                    exception_type="builtins.AssertionError",
                    message="expected 3 (random seed: 31337)",
                    traceback="Traceback (most recent call last):\n  boom\n",
                )
            ]
        )
        page = self.page(f"/runs/{run_id}")
        self.assertIn("builtins.AssertionError", page)
        self.assertIn("expected 3 (random seed: 31337)", page)
        self.assertRegex(page, r"(?s)<details>.*<pre>Traceback \(most recent call last\):\n  boom")
        self.assertIn(">failure</span>", page)
        self.assertRegex(
            page, r'<code id="result-1-command">SEEDBOARD_SEED=31337 trial pkg.test_flaky</code>'
        )

    def test_api(self) -> None:
        """The run's JSON has exactly the contract's fields."""
        run_id = self.record(
            [result("pkg/odd id", Outcome.ERROR, seed=7, file="pkg/t.py", line=3)],
            order_seed=5,
            build_url="https://ci.example/1",
            run_seed=77,
        )
        started = NOW - timedelta(minutes=3)
        self.assertEqual(
            self.api(f"/api/v1/runs/{run_id}"),
            {
                "run": {
                    "id": run_id,
                    "started_at": iso_utc(started),
                    "finished_at": iso_utc(started + timedelta(seconds=2.5)),
                    "duration": 2.5,
                    "host": "ci-host",
                    "python_version": "3.11.7",
                    "twisted_version": "26.10.0",
                    "command": "trial mypkg",
                    "order_seed": 5,
                    "branch": "main",
                    "commit": "0123456789abcdef0123456789abcdef01234567",
                    "build_url": "https://ci.example/1",
                    "run_seed": 77,
                    "is_replay": False,
                    "replay_command": (
                        "SEEDBOARD_RUN_SEED=77 SEEDBOARD_REPLAY=1 trial --random=5 mypkg"
                    ),
                    "counts": {
                        "success": 0,
                        "failure": 0,
                        "error": 1,
                        "skip": 0,
                        "expected_failure": 0,
                        "unexpected_success": 0,
                        "total": 1,
                    },
                    "url": f"/runs/{run_id}",
                },
                "results": [
                    {
                        "test_id": "pkg/odd id",
                        "outcome": "error",
                        "duration": 0.25,
                        "seed": 7,
                        "exception_type": "twisted.trial.unittest.FailTest",
                        "message": "1 != 2 (random seed: 7)",
                        "traceback": result(outcome=Outcome.ERROR).traceback,
                        "file": "pkg/t.py",
                        "line": 3,
                        "position": None,
                        "fingerprint": fingerprint(
                            "twisted.trial.unittest.FailTest",
                            "1 != 2 (random seed: 7)",
                            result(outcome=Outcome.ERROR).traceback,
                        ),
                        "url": "/tests/pkg%2Fodd%20id",
                        "owners": [],
                    }
                ],
                "previous_run": None,
            },
        )

    def test_unknown_html(self) -> None:
        """An unknown run id is a 404 page naming it, not a traceback."""
        page = self.page("/runs/abc", status=404)
        self.assertIn("No run with id &#39;abc&#39;.", page)
        self.assertNotIn("Traceback", page)

    def test_unknown_json(self) -> None:
        """An unknown run id in the API is a JSON 404."""
        self.assertEqual(
            self.api("/api/v1/runs/abc", status=404),
            {"error": {"code": "not_found", "message": "No run with id 'abc'."}},
        )


class TestPageTests(DashboardCase):
    def test_history(self) -> None:
        """The test page lists the test's runs newest first, linking to each run."""
        old = self.record([result("pkg.t", Outcome.FAILURE, seed=1)], minutes_ago=60)
        new = self.record([result("pkg.t", seed=2)], minutes_ago=5, branch="dev")
        self.record([result("pkg.other")], minutes_ago=1)
        page = self.page("/tests/pkg.t")
        self.assertEqual(history_links(page), [new, old])
        self.assertIn("mypkg/test_a.py:10", page)
        self.assertIn("1 != 2 (random seed: 1)", page)
        self.assertIn("dev", page)
        self.assertIn("1 with a bad outcome", page)

    def test_api(self) -> None:
        """The test's JSON has exactly the contract's fields."""
        run_id = self.record([result("pkg.t", Outcome.SKIP, seed=None, message="no network")])
        self.assertEqual(
            self.api("/api/v1/tests/pkg.t"),
            {
                "test_id": "pkg.t",
                "file": "mypkg/test_a.py",
                "line": 10,
                "runs": [
                    {
                        "run_id": run_id,
                        "started_at": iso_utc(NOW - timedelta(minutes=3)),
                        "branch": "main",
                        "commit": "0123456789abcdef0123456789abcdef01234567",
                        "outcome": "skip",
                        "duration": 0.25,
                        "seed": None,
                        "message": "no network",
                    }
                ],
                "triage": {
                    "test_id": "pkg.t",
                    "file": "mypkg/test_a.py",
                    "line": 10,
                    "classification": "stable",
                    "failure_rate": 0.0,
                    "flip_rate": 0.0,
                    "runs": 0,
                    "failures": 0,
                    "groups": [],
                    "seeds": [],
                    "polluter": None,
                    "order_command": None,
                    "commits_recorded": False,
                    "before_commit": None,
                    "since_commit": None,
                    "commit_range_url": None,
                    "commits": [],
                    "url": "/tests/pkg.t",
                    "sparkline": [None],
                    "owners": [],
                    "issue_url": None,
                    "quarantine": None,
                    "looks_fixed": False,
                },
                "median_duration": None,
                "slowdowns": [],
                "quarantine_history": [],
            },
        )

    def test_limit(self) -> None:
        """``?limit=`` caps the history, keeping the newest runs."""
        ids = [self.record([result("pkg.t")], minutes_ago=m) for m in (1, 2, 3)]
        self.assertEqual(history_links(self.page("/tests/pkg.t?limit=2")), ids[:2])
        body = self.api("/api/v1/tests/pkg.t?limit=1")
        self.assertEqual([run["run_id"] for run in body["runs"]], ids[:1])

    def test_slash_in_id(self) -> None:
        """A test id holding slashes is linked quoted, and the link leads to its page."""
        run_id = self.record([result("pkg/sub//x.test_y")])
        [link] = re.findall(r'href="(/tests/[^"]+)"', self.page(f"/runs/{run_id}"))
        self.assertEqual(link, "/tests/pkg%2Fsub%2F%2Fx.test_y")
        self.assertIn("<code>pkg/sub//x.test_y</code>", self.page(link))
        self.assertEqual(self.api("/api/v1" + link)["test_id"], "pkg/sub//x.test_y")

    def test_any_characters(self) -> None:
        """Test ids with a leading slash, spaces, "?" or "%" reach their own page."""
        for test_id in ("/abs.test", "has space", "what?now", "100%"):
            self.record([result(test_id)])
            self.assertEqual(self.api("/api/v1" + path_to_test(test_id))["test_id"], test_id)

    def test_escaped(self) -> None:
        """Markup in test ids and messages is escaped on every page."""
        test_id = f"pkg.{SCRIPT}"
        run_id = self.record([result(test_id, Outcome.FAILURE, message=SCRIPT)])
        for path in (f"/runs/{run_id}", path_to_test(test_id)):
            page = self.page(path)
            self.assertNotIn(SCRIPT, page)
            self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", page)

    def test_unknown_html(self) -> None:
        """An unknown test id is a 404 page."""
        self.assertIn("No test with id", self.page("/tests/pkg.nothing", status=404))

    def test_unknown_json(self) -> None:
        """An unknown test id in the API is a JSON 404."""
        self.assertEqual(
            self.api("/api/v1/tests/pkg.nothing", status=404),
            {"error": {"code": "not_found", "message": "No test with id 'pkg.nothing'."}},
        )


class ErrorTests(DashboardCase):
    def test_unknown_route_html(self) -> None:
        """An unknown address is the HTML 404 page."""
        self.assertIn("There is no page at this address.", self.page("/nowhere", status=404))

    def test_unknown_route_json(self) -> None:
        """An unknown address under /api/ is a JSON 404."""
        body = self.api("/api/v2/runs", status=404)
        self.assertEqual(body["error"]["code"], "not_found")

    def test_wrong_method_json(self) -> None:
        """A POST to the API is a JSON 405 that says which methods are allowed."""
        response = self.get("/api/v1/runs", method="POST")
        self.assertEqual(response.code, 405)
        self.assertIn("GET", response.headers.getRawHeaders("allow")[0])
        body = self.successResultOf(treq.json_content(response))
        self.assertEqual(body["error"]["code"], "method_not_allowed")

    def test_unexpected_html(self) -> None:
        """An unexpected failure is a generic 500 page, and is logged."""
        self.client = self.client_for(BrokenPool())
        page = self.page("/", status=500)
        self.assertIn("Something went wrong", page)
        self.assertNotIn("on fire", page)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)

    def test_unexpected_json(self) -> None:
        """An unexpected failure in the API is a JSON 500 without details."""
        self.client = self.client_for(BrokenPool())
        body = self.api("/api/v1/runs", status=500)
        self.assertEqual(body["error"]["code"], "internal_error")
        self.assertNotIn("on fire", body["error"]["message"])
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)

    def test_security_headers(self) -> None:
        """Pages allow only this site's script files, never inline ones, and no sniffing."""
        response = self.get("/")
        policy = response.headers.getRawHeaders("content-security-policy")[0]
        self.assertIn("default-src 'none'", policy)
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        self.assertEqual(directives["script-src"], "'self'")
        self.assertEqual(response.headers.getRawHeaders("x-content-type-options"), ["nosniff"])


class ServerTests(TestCase):
    async def test_serves_http(self) -> None:
        """The real site answers HTTP on a real port, reading through real database threads."""
        database: Database = temporary_database(self)
        run = record_run(database, [result("pkg.test_serving", Outcome.FAILURE)])
        pool = ThreadedPool(database, cast(IReactorFromThreads, reactor))
        pool.start()
        self.addCleanup(pool.stop)
        # TCP endpoints listen with tcp.Port, whose getHost() has the port number.
        port = cast(Port, await listen(reactor, make_dashboard(pool), "127.0.0.1", 0))
        self.addCleanup(port.stopListening)
        connections = HTTPConnectionPool(reactor, persistent=False)
        self.addCleanup(connections.closeCachedConnections)
        base = f"http://127.0.0.1:{port.getHost().port}"

        async def fetch(path: str) -> tuple[int, bytes]:
            response = await treq.get(base + path, pool=connections)
            body: bytes = await treq.content(response)
            check_answer(self, "GET", path, response.code, body)
            return response.code, body

        code, body = await fetch("/")
        self.assertEqual(code, 200)
        self.assertIn(f'href="/runs/{run.id}"'.encode(), body)
        code, body = await fetch(f"/runs/{run.id}")
        self.assertEqual(code, 200)
        self.assertIn(b"pkg.test_serving", body)
        code, body = await fetch("/api/v1/runs")
        self.assertEqual(code, 200)
        self.assertIn(f'"id":"{run.id}"'.encode(), body)


class OpenAPITests(DashboardCase):
    def document(self) -> Any:
        return self.api("/api/v1/openapi.json")

    def request_schema(self, path: str, method: str) -> Any:
        return self.document()["paths"][path][method]["requestBody"]["content"]["application/json"][
            "schema"
        ]

    def test_openapi_3_1(self) -> None:
        """The document is JSON, OpenAPI 3.1, with a bearer security scheme."""
        document = self.document()
        self.assertEqual(document["openapi"], "3.1.0")
        self.assertEqual(document["components"]["securitySchemes"]["bearer"]["scheme"], "bearer")

    def test_every_api_route_documented(self) -> None:
        """The documented paths and methods are exactly the routes the app serves under /api/v1."""
        served = {
            (re.sub(r"<(?:[a-z_]+:)?([a-z_]+)>", r"{\1}", rule.rule), method.lower())
            for rule in Dashboard.app.url_map.iter_rules()
            if rule.rule.startswith("/api/v1/")
            for method in rule.methods or ()
            if method not in ("HEAD", "OPTIONS")
        }
        documented = {
            (path, method) for path, item in self.document()["paths"].items() for method in item
        }
        self.assertEqual(documented, served)

    def test_outcome_enum(self) -> None:
        """Every outcome enum in the document is exactly seedboard.domain.Outcome."""
        schemas = self.document()["components"]["schemas"]
        outcomes = [o.value for o in Outcome]
        self.assertEqual(schemas["Outcome"]["enum"], outcomes)
        outcome = {"$ref": "#/components/schemas/Outcome"}
        for schema in ("ResultBody", "Result", "TestRun"):
            self.assertEqual(schemas[schema]["properties"]["outcome"], outcome, schema)

    def test_refs_resolve(self) -> None:
        """Every $ref points at a component that exists."""
        document = self.document()
        refs = re.findall(r'"\$ref": "#/components/(\w+)/(\w+)"', json.dumps(document))
        self.assertTrue(refs)
        for kind, name in refs:
            self.assertIn(name, document["components"][kind])

    def test_write_operations_need_bearer(self) -> None:
        """Every write operation requires the bearer token and documents 401, 413 and 415."""
        for path, item in self.document()["paths"].items():
            for method in set(item) & {"put", "post"}:
                operation = item[method]
                self.assertEqual(operation["security"], [{"bearer": []}], path)
                self.assertTrue({"400", "401", "413", "415"} <= set(operation["responses"]), path)

    def test_request_schemas(self) -> None:
        """Valid bodies pass the request schemas and bad ones fail them."""
        from tests.test_ingest import result_body, run_body

        document = self.document()
        run = self.request_schema("/api/v1/runs/{run_id}", "put")
        batch = self.request_schema("/api/v1/runs/{run_id}/batches/{number}", "put")
        finish = self.request_schema("/api/v1/runs/{run_id}/finish", "post")
        valid = [
            (run, run_body()),
            (run, run_body(order_seed=None, branch=None, commit=None, build_url=None)),
            (batch, {"results": [result_body(), result_body(seed=2**63 - 1, line=None)]}),
            (finish, {"finished_at": "2026-11-25T17:00:00Z"}),
        ]
        for schema, body in valid:
            self.assertEqual(schema_errors(body, schema, document), [], body)
        invalid = [
            (run, run_body(colour="red")),
            (run, {k: v for k, v in run_body().items() if k != "host"}),
            (run, run_body(order_seed=1.5)),
            (run, run_body(commit="f" * 65)),
            (batch, {"results": []}),
            (batch, {"results": [result_body(outcome="passed")]}),
            (batch, {"results": [result_body(duration=-1)]}),
            (batch, {"results": [result_body(seed=-1)]}),
            (batch, {"results": [result_body(test_id="")]}),
            (batch, {"results": [result_body(extra=1)]}),
            (finish, {}),
        ]
        for schema, body in invalid:
            self.assertNotEqual(schema_errors(body, schema, document), [], body)

    def test_read_answers_match(self) -> None:
        """What the read API answers fits the documented response schemas."""
        run_id = self.record([result("pkg.t", Outcome.FAILURE), result("pkg.u")])
        document = self.document()
        for path, schema in [
            ("/api/v1/runs?limit=1", "RunPage"),
            (f"/api/v1/runs/{run_id}", "RunDetail"),
            ("/api/v1/tests/pkg.t", "TestHistory"),
            ("/api/v1/runs/nope", "Error"),
        ]:
            status = 404 if "nope" in path else 200
            body = self.api(path, status=status)
            errors = schema_errors(body, {"$ref": f"#/components/schemas/{schema}"}, document)
            self.assertEqual(errors, [], path)

    def test_path_parameters(self) -> None:
        """Path parameters carry the same constraints the server enforces."""
        document = self.document()
        put = document["paths"]["/api/v1/runs/{run_id}/batches/{number}"]["put"]
        parameters = {p["name"]: p["schema"] for p in put["parameters"]}
        self.assertEqual(parameters["run_id"]["pattern"], RUN_ID_PATTERN)
        self.assertEqual(
            (parameters["number"]["minimum"], parameters["number"]["maximum"]), (0, 2**31 - 1)
        )
