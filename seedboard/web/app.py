"""The dashboard's routes: each asks a store through the pool, then answers in HTML or JSON.

Every page has a JSON twin under ``/api/v1``; the two share their argument
parsing and fetching, so they cannot disagree.  Errors are mapped in one place,
``Dashboard.failed``, which also decides between an HTML page and JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment
from klein import Klein
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.server import Request
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import PathConverter

from seedboard.db.history import test_history
from seedboard.db.pool import Pool
from seedboard.db.runs import get_run, list_runs
from seedboard.domain import RunDetail, TestHistory
from seedboard.web.render import (
    JSONObject,
    encode_json,
    error_json,
    history_json,
    page_url,
    run_detail_json,
    run_page_json,
)

RUNS_LIMIT = 50
HISTORY_LIMIT = 100
MAX_LIMIT = 500

# No script runs on these pages and nothing is loaded from elsewhere; saying
# so turns any escaping mistake into a blocked script instead of an exploit.
CONTENT_SECURITY_POLICY = (
    b"default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'"
)


class Problem(Exception):
    """A request answered with an error instead: HTTP status, API error code, message."""

    def __init__(
        self, status: int, code: str, message: str, headers: Sequence[tuple[str, str]] = ()
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def not_found(message: str) -> Problem:
    return Problem(404, "not_found", message)


def bad_request(message: str) -> Problem:
    return Problem(400, "bad_request", message)


INTERNAL_ERROR = Problem(
    500, "internal_error", "Something went wrong on the server; the details are in its log."
)


class AnyPathConverter(PathConverter):
    """Like werkzeug's ``path``, but also matching a leading ``/``: any test id is routable."""

    regex = ".+"
    part_isolating = False


def utc_now() -> datetime:
    return datetime.now(UTC)


class Dashboard:
    """The web dashboard over one database, reached only through ``pool``."""

    app = Klein()
    app.url_map.converters["any_path"] = AnyPathConverter
    log = Logger()

    def __init__(
        self,
        pool: Pool,
        templates: Environment,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._pool = pool
        self._templates = templates
        self._clock = clock

    # Pages.

    @app.route("/", methods=["GET"])
    async def runs_page(self, request: Request) -> bytes:
        limit, before = _page_arguments(request)
        page = await self._pool.read(list_runs, limit, before)
        older = page_url("/", page.next_cursor, limit)
        return self._html(request, "runs.html", page=page, before=before, older=older)

    @app.route("/runs/<run_id>", methods=["GET"])
    async def run_page(self, request: Request, run_id: str) -> bytes:
        detail = await self._run(run_id)
        return self._html(request, "run.html", run=detail.summary, results=detail.results)

    @app.route("/tests/<any_path:test_id>", methods=["GET"])
    async def test_page(self, request: Request, test_id: str) -> bytes:
        history = await self._history(request, test_id)
        return self._html(request, "test.html", history=history)

    # The JSON twins.

    @app.route("/api/v1/runs", methods=["GET"])
    async def runs_api(self, request: Request) -> bytes:
        limit, before = _page_arguments(request)
        page = await self._pool.read(list_runs, limit, before)
        return self._json(request, run_page_json(page, limit))

    @app.route("/api/v1/runs/<run_id>", methods=["GET"])
    async def run_api(self, request: Request, run_id: str) -> bytes:
        return self._json(request, run_detail_json(await self._run(run_id)))

    @app.route("/api/v1/tests/<any_path:test_id>", methods=["GET"])
    async def test_api(self, request: Request, test_id: str) -> bytes:
        return self._json(request, history_json(await self._history(request, test_id)))

    # Errors, from the routes and from routing itself (no such page, wrong method).

    @app.handle_errors(Exception)
    def failed(self, request: Request, failure: Failure) -> bytes:
        problem = self._problem(request, failure)
        request.setResponseCode(problem.status)
        for name, value in problem.headers:
            request.responseHeaders.setRawHeaders(name, [value])
        if _is_api(request):
            return self._json(request, error_json(problem.code, problem.message))
        return self._html(request, "error.html", problem=problem)

    def _problem(self, request: Request, failure: Failure) -> Problem:
        error = failure.value
        if isinstance(error, Problem):
            return error
        if isinstance(error, NotFound):
            return not_found("There is no page at this address.")
        if isinstance(error, HTTPException):
            # Keeps what routing says, e.g. the Allow header of a 405 or a redirect's Location.
            headers = [h for h in error.get_headers() if h[0].lower() != "content-type"]
            code = (error.name or "error").lower().replace(" ", "_")
            return Problem(error.code or 500, code, error.description or "", headers)
        self.log.failure(
            "Unexpected error answering {method} {uri}",
            failure,
            method=request.method.decode("latin-1"),
            uri=request.uri.decode("latin-1"),
        )
        return INTERNAL_ERROR

    # Fetching, shared by each page and its twin.

    async def _run(self, run_id: str) -> RunDetail:
        detail = await self._pool.read(get_run, run_id)
        if detail is None:
            raise not_found(f"No run with id {run_id!r}.")
        return detail

    async def _history(self, request: Request, test_id: str) -> TestHistory:
        limit = _limit_argument(request, HISTORY_LIMIT)
        history = await self._pool.read(test_history, test_id, limit)
        if history is None:
            raise not_found(f"No test with id {test_id!r}.")
        return history

    # Answers.

    def _html(self, request: Request, template: str, **context: Any) -> bytes:
        headers = request.responseHeaders
        headers.setRawHeaders(b"content-type", [b"text/html; charset=utf-8"])
        headers.setRawHeaders(b"content-security-policy", [CONTENT_SECURITY_POLICY])
        headers.setRawHeaders(b"x-content-type-options", [b"nosniff"])
        page = self._templates.get_template(template).render(now=self._clock(), **context)
        return page.encode("utf-8")

    def _json(self, request: Request, value: JSONObject) -> bytes:
        headers = request.responseHeaders
        headers.setRawHeaders(b"content-type", [b"application/json; charset=utf-8"])
        headers.setRawHeaders(b"x-content-type-options", [b"nosniff"])
        return encode_json(value)


def _is_api(request: Request) -> bool:
    """Whether errors should be JSON: the one place HTML and the API part ways."""
    return request.path == b"/api" or request.path.startswith(b"/api/")


def _page_arguments(request: Request) -> tuple[int, str | None]:
    """``?limit=`` and ``?before=`` of a list of runs."""
    return _limit_argument(request, RUNS_LIMIT), _text_argument(request, "before")


def _limit_argument(request: Request, default: int) -> int:
    """``?limit=``, clamped to 1..MAX_LIMIT; only a value that is no integer is refused."""
    raw = _text_argument(request, "limit")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"limit must be an integer between 1 and {MAX_LIMIT}") from None
    return min(max(value, 1), MAX_LIMIT)


def _text_argument(request: Request, name: str) -> str | None:
    """A query argument as text; None when absent or empty."""
    values: list[bytes] = request.args.get(name.encode("ascii"), [])
    if not values or not values[0]:
        return None
    try:
        return values[0].decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request(f"{name} must be UTF-8 text") from None
