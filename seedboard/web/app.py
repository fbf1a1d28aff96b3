"""The dashboard's routes: each asks a store through the pool, then answers in HTML or JSON.

Every page has a JSON twin under ``/api/v1``; the two share their argument
parsing and fetching, so they cannot disagree.  The write API (``PUT`` and
``POST`` under ``/api/v1/runs``) checks the bearer token, then the whole body
(``seedboard.ingest``), and only then writes, in one transaction.  Errors are
mapped in one place, ``Dashboard.failed``, which also decides between an HTML
page and JSON.  ``/static/`` serves the few files the pages load themselves
(the copy buttons' script), and nothing outside that folder.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode
from weakref import WeakKeyDictionary

from jinja2 import Environment
from klein import Klein, KleinRenderable
from klein.resource import KleinResource
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.python.filepath import FilePath, InsecurePath
from twisted.web.server import Request
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import PathConverter

from seedboard.db.compare import NoSuchRun, previous_run
from seedboard.db.pool import Pool
from seedboard.db.runs import (
    OutcomeFilter,
    ReplayFilter,
    RunFilters,
    UnknownCursor,
    UnknownRun,
    create_run,
    finish_run,
    get_run,
    list_runs,
)
from seedboard.db.sessions import end_session, find_session, save_session
from seedboard.db.tokens import active_token, hash_token
from seedboard.db.trouble import RETRY_AFTER_SECONDS, storage_trouble
from seedboard.domain import RunDetail, TestHistory
from seedboard.ingest import (
    Invalid,
    parse_batch,
    parse_batch_number,
    parse_finish,
    parse_run,
    parse_run_id,
)
from seedboard.services.compare import Comparison, compare_runs, compare_with_previous
from seedboard.services.flaky import WINDOW, flaky_tests
from seedboard.services.history import history_and_triage
from seedboard.services.results import add_batch
from seedboard.services.trends import trends
from seedboard.triage.report import TestTriage
from seedboard.triage.trends import DEFAULT_DAYS, MAX_DAYS, SPARKLINE, durations
from seedboard.web.auth import (
    LOGIN_CSRF_COOKIE,
    LOGIN_FORM_LIFETIME,
    SESSION_COOKIE,
    SESSION_LIFETIME,
    Session,
    bearer_token,
    clear_cookie,
    cookie,
    form_fields,
    header_text,
    new_session,
    random_secret,
    request_body,
    safe_next,
    same_secret,
    session_id_hash,
    set_cookie,
)
from seedboard.web.cache import ReadCache
from seedboard.web.openapi import openapi_document
from seedboard.web.render import (
    JSONObject,
    comparison_json,
    created_run_json,
    encode_json,
    error_json,
    filter_query,
    finished_run_json,
    flaky_json,
    history_json,
    page_url,
    run_detail_json,
    run_page_json,
    static_directory,
    stored_batch_json,
    trends_json,
    with_query,
)

RUNS_LIMIT = 50
HISTORY_LIMIT = 100
FLAKY_LIMIT = 200
MAX_LIMIT = 500
MAX_WINDOW = 500

# The only scripts are this site's own files (the copy buttons), never inline
# ones, and nothing is loaded from elsewhere: an escaping mistake becomes a
# blocked script instead of an exploit.
CONTENT_SECURITY_POLICY = (
    b"default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; "
    b"base-uri 'none'; form-action 'self'"
)

STATIC_TYPES = {".js": b"text/javascript; charset=utf-8", ".css": b"text/css; charset=utf-8"}
"""What ``/static/`` serves, by file extension; any other file is a 404."""
_STATIC_NAME = re.compile(r"[\w-][\w.-]*(?:/[\w-][\w.-]*)*", re.ASCII)
"""Names ``/static/`` answers for: plain segments, none starting with a dot."""
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)

E = TypeVar("E", bound=StrEnum)


class Problem(Exception):
    """A request answered with an error instead: HTTP status, API error code, message.

    ``field`` names the part of the request at fault, when there is one.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: Sequence[tuple[str, str]] = (),
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.field = field


def not_found(message: str) -> Problem:
    return Problem(404, "not_found", message)


def bad_request(message: str, field: str | None = None) -> Problem:
    return Problem(400, "bad_request", message, field=field)


def unauthorized() -> Problem:
    return Problem(
        401,
        "unauthorized",
        "Send a valid token in an 'Authorization: Bearer <token>' header.",
        [("WWW-Authenticate", "Bearer")],
    )


def forbidden(message: str) -> Problem:
    return Problem(403, "forbidden", message)


def see_other(location: str) -> Problem:
    return Problem(303, "see_other", "Log in first.", [("Location", location)])


def unsupported_media_type(message: str) -> Problem:
    return Problem(415, "unsupported_media_type", message)


def unknown_run(run_id: str) -> Problem:
    return Problem(
        400,
        "unknown_run",
        f"No run with id {run_id!r}; create it first with PUT /api/v1/runs/{run_id}.",
        field="run_id",
    )


def unavailable(message: str) -> Problem:
    """Storage trouble (disk full, read-only, locked): nothing was done; try again later."""
    return Problem(503, "unavailable", message, [("Retry-After", str(RETRY_AFTER_SECONDS))])


EXPIRED_FORM = (
    "This form has expired or did not come from this site; go back, reload it and try again."
)

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
    """The web dashboard and API over one database, reached only through ``pool``.

    With ``private``, reading needs a token too: a bearer header, or a login
    session started with one at ``/login``.
    """

    app = Klein()
    app.url_map.converters["any_path"] = AnyPathConverter
    log = Logger()

    def __init__(
        self,
        pool: Pool,
        templates: Environment,
        clock: Callable[[], datetime] = utc_now,
        private: bool = False,
        static: Path | None = None,
    ) -> None:
        self._pool = pool
        self._cache = ReadCache(pool, clock)
        self._templates = templates
        self._static = FilePath(str(static or static_directory()))
        self._clock = clock
        self._private = private
        # The session each request came with, once looked up: pages render it synchronously.
        self._request_sessions: WeakKeyDictionary[Request, Session] = WeakKeyDictionary()
        self._openapi = openapi_document(
            runs_limit=RUNS_LIMIT,
            history_limit=HISTORY_LIMIT,
            flaky_limit=FLAKY_LIMIT,
            max_limit=MAX_LIMIT,
            window=WINDOW,
            max_window=MAX_WINDOW,
        )

    def resource(self) -> KleinResource:
        """What the site serves: the routes, behind a check that the address is UTF-8."""
        return DashboardResource(self)

    # Pages.

    @app.route("/", methods=["GET"])
    async def runs_page(self, request: Request) -> bytes:
        await self._require_reader(request)
        limit, before = _page_arguments(request)
        filters = _run_filters(request)
        page = await self._pool.read(list_runs, limit, before, filters)
        query = filter_query(filters)
        kept = query if limit == RUNS_LIMIT else [*query, ("limit", str(limit))]
        return self._html(
            request,
            "runs.html",
            page=page,
            before=before,
            filters=filters,
            filtered=bool(query),
            limit=limit,
            default_limit=RUNS_LIMIT,
            newest=with_query("/", kept),
            older=page_url("/", page.next_cursor, limit, query),
            api=with_query("/api/v1/runs", kept),
        )

    @app.route("/runs/<run_id>", methods=["GET"])
    async def run_page(self, request: Request, run_id: str) -> bytes:
        await self._require_reader(request)
        detail = await self._run(run_id)
        comparison = await self._pool.read(compare_with_previous, run_id)
        return self._html(
            request,
            "run.html",
            run=detail.summary,
            results=detail.results,
            comparison=comparison,
        )

    @app.route("/compare", methods=["GET"])
    async def compare_page(self, request: Request) -> bytes:
        await self._require_reader(request)
        a, b = _text_argument(request, "a"), _text_argument(request, "b")
        comparison = None if a is None and b is None else await self._comparison(request)
        return self._html(request, "compare.html", a=a, b=b, comparison=comparison)

    @app.route("/tests/<any_path:test_id>", methods=["GET"])
    async def test_page(self, request: Request, test_id: str) -> bytes:
        await self._require_reader(request)
        history, triage = await self._test(request, test_id)
        return self._html(
            request,
            "test.html",
            history=history,
            triage=triage,
            window=WINDOW,
            durations=durations(history.runs),
        )

    @app.route("/flaky", methods=["GET"])
    async def flaky_page(self, request: Request) -> bytes:
        await self._require_reader(request)
        window, branch, limit = _flaky_arguments(request)
        tests = await self._cache.read(flaky_tests, window, branch, limit, weight=_flaky_weight)
        return self._html(
            request,
            "flaky.html",
            tests=tests,
            spark_length=SPARKLINE,
            window=window,
            branch=branch,
            limit=limit,
            max_window=MAX_WINDOW,
            max_limit=MAX_LIMIT,
        )

    @app.route("/trends", methods=["GET"])
    async def trends_page(self, request: Request) -> bytes:
        await self._require_reader(request)
        days, branch = _trends_arguments(request)
        found = await self._cache.read(trends, days, self._today(), branch)
        return self._html(request, "trends.html", trends=found, max_days=MAX_DAYS)

    @app.route("/static/<any_path:name>", methods=["GET"])
    async def static_file(self, request: Request, name: str) -> bytes:
        await self._require_reader(request)
        found = _static_file(self._static, name)
        headers = request.responseHeaders
        headers.setRawHeaders(b"content-type", [STATIC_TYPES[found.splitext()[1]]])
        headers.setRawHeaders(b"x-content-type-options", [b"nosniff"])
        return found.getContent()

    # The JSON twins.

    @app.route("/api/v1/runs", methods=["GET"])
    async def runs_api(self, request: Request) -> bytes:
        await self._require_reader(request)
        limit, before = _page_arguments(request)
        filters = _run_filters(request)
        page = await self._pool.read(list_runs, limit, before, filters)
        return self._json(request, run_page_json(page, limit, filter_query(filters)))

    @app.route("/api/v1/runs/<run_id>", methods=["GET"])
    async def run_api(self, request: Request, run_id: str) -> bytes:
        await self._require_reader(request)
        detail = await self._run(run_id)
        previous = await self._pool.read(previous_run, run_id)
        return self._json(
            request, run_detail_json(detail, None if previous is None else previous.id)
        )

    @app.route("/api/v1/compare", methods=["GET"])
    async def compare_api(self, request: Request) -> bytes:
        await self._require_reader(request)
        return self._json(request, comparison_json(await self._comparison(request)))

    @app.route("/api/v1/tests/<any_path:test_id>", methods=["GET"])
    async def test_api(self, request: Request, test_id: str) -> bytes:
        await self._require_reader(request)
        history, triage = await self._test(request, test_id)
        return self._json(request, history_json(history, triage, durations(history.runs)))

    @app.route("/api/v1/flaky", methods=["GET"])
    async def flaky_api(self, request: Request) -> bytes:
        await self._require_reader(request)
        window, branch, limit = _flaky_arguments(request)
        tests = await self._cache.read(flaky_tests, window, branch, limit, weight=_flaky_weight)
        return self._json(request, flaky_json(window, branch, tests))

    @app.route("/api/v1/trends", methods=["GET"])
    async def trends_api(self, request: Request) -> bytes:
        await self._require_reader(request)
        days, branch = _trends_arguments(request)
        found = await self._cache.read(trends, days, self._today(), branch)
        return self._json(request, trends_json(found))

    @app.route("/api/v1/openapi.json", methods=["GET"])
    def openapi_api(self, request: Request) -> bytes:
        # Public even on a private server: it describes the API, not the data.
        return self._json(request, self._openapi)

    # Writing: token, then the whole request checked, then one transaction.

    @app.route("/api/v1/runs/<run_id>", methods=["PUT"])
    async def create_run_api(self, request: Request, run_id: str) -> bytes:
        await self._require_writer(request)
        run = parse_run(run_id, _json_body(request))
        created = await self._pool.write(create_run, run)
        request.setResponseCode(201 if created else 200)
        if created:
            request.setHeader("location", f"/api/v1/runs/{run.id}")
        return self._json(request, created_run_json(run.id, created))

    @app.route("/api/v1/runs/<run_id>/batches/<number>", methods=["PUT"])
    async def batch_api(self, request: Request, run_id: str, number: str) -> bytes:
        await self._require_writer(request)
        body = _json_body(request)
        checked_id, checked_number = parse_run_id(run_id), parse_batch_number(number)
        results = parse_batch(body)
        stored = await self._pool.write(
            add_batch, checked_id, checked_number, results, self._clock()
        )
        request.setResponseCode(201 if stored else 200)
        count = len(results) if stored else 0
        return self._json(request, stored_batch_json(count, duplicate=not stored))

    @app.route("/api/v1/runs/<run_id>/finish", methods=["POST"])
    async def finish_api(self, request: Request, run_id: str) -> bytes:
        await self._require_writer(request)
        body = _json_body(request)
        checked_id = parse_run_id(run_id)
        await self._pool.write(finish_run, checked_id, parse_finish(body))
        return self._json(request, finished_run_json(checked_id))

    # Logging in, for reading a private server in a browser.

    @app.route("/login", methods=["GET"])
    async def login_page(self, request: Request) -> bytes:
        self._require_private()
        await self._session(request)  # someone logged in gets the log-out button here too
        return self._login_form(request, safe_next(_text_argument(request, "next")))

    @app.route("/login", methods=["POST"])
    async def login(self, request: Request) -> bytes:
        self._require_private()
        form = form_fields(request)
        if not same_secret(cookie(request, LOGIN_CSRF_COOKIE), form.get("csrf")):
            raise forbidden(EXPIRED_FORM)
        next_path = safe_next(form.get("next"))
        token_hash = hash_token(form.get("token", "").strip())
        if not await self._is_active(token_hash):
            request.setResponseCode(401)
            request.responseHeaders.setRawHeaders(b"www-authenticate", [b"Bearer"])
            return self._login_form(request, next_path, "That token is not valid.")
        await self._end_session(request)
        session = new_session(token_hash, self._clock())
        await self._pool.write(save_session, session.id_hash, session.stored, self._clock())
        set_cookie(request, SESSION_COOKIE, session.id, "/", SESSION_LIFETIME)
        clear_cookie(request, LOGIN_CSRF_COOKIE, "/login")
        return _redirect(request, next_path)

    @app.route("/logout", methods=["POST"])
    async def logout(self, request: Request) -> bytes:
        self._require_private()
        session = await self._session(request)
        csrf = form_fields(request).get("csrf")
        if session is None or not same_secret(session.stored.csrf, csrf):
            raise forbidden(EXPIRED_FORM)
        await self._end_session(request)
        return _redirect(request, "/login")

    # Errors, from the routes and from routing itself (no such page, wrong method).

    @app.handle_errors(Exception)
    def failed(self, request: Request, failure: Failure) -> bytes:
        return self.refuse(request, self._problem(request, failure))

    def refuse(self, request: Request, problem: Problem) -> bytes:
        """Answer with ``problem``: JSON under /api, else the error page."""
        request.setResponseCode(problem.status)
        for name, value in problem.headers:
            request.responseHeaders.setRawHeaders(name, [value])
        if _is_api(request):
            return self._json(request, error_json(problem.code, problem.message, problem.field))
        return self._html(request, "error.html", problem=problem)

    def _problem(self, request: Request, failure: Failure) -> Problem:
        error = failure.value
        if isinstance(error, Problem):
            return error
        if isinstance(error, Invalid):
            return Problem(400, error.code, error.message, field=error.field)
        if isinstance(error, UnknownRun):
            return unknown_run(error.run_id)
        if isinstance(error, UnknownCursor):
            return bad_request(
                f"No run with id {error.run_id!r}: before must be the id of the last run "
                "of the previous page.",
                field="before",
            )
        if isinstance(error, NoSuchRun):
            return not_found(f"No run with id {error.run_id!r}.")
        if isinstance(error, NotFound):
            return not_found("There is no page at this address.")
        trouble = storage_trouble(error)
        if trouble is not None:
            self.log.warn(
                "Database unavailable answering {method} {path}: {error}",
                method=request.method.decode("latin-1"),
                path=request.path.decode("latin-1"),
                error=error,
            )
            return unavailable(trouble)
        if isinstance(error, HTTPException):
            # Keeps what routing says, e.g. the Allow header of a 405 or a redirect's Location.
            headers = [h for h in error.get_headers() if h[0].lower() != "content-type"]
            code = (error.name or "error").lower().replace(" ", "_")
            return Problem(error.code or 500, code, error.description or "", headers)
        # The path, not the URI: a token someone put in the query string stays out of logs.
        self.log.failure(
            "Unexpected error answering {method} {path}",
            failure,
            method=request.method.decode("latin-1"),
            path=request.path.decode("latin-1"),
        )
        return INTERNAL_ERROR

    # Who may read and write.

    async def _require_writer(self, request: Request) -> None:
        """Writing always needs a valid token in the Authorization header, never a session."""
        token = bearer_token(request)
        if token is None or not await self._is_active(hash_token(token)):
            raise unauthorized()

    async def _require_reader(self, request: Request) -> None:
        """On a private server: a valid token or login, else a 401 (API) or the login page."""
        if not self._private:
            return
        request.responseHeaders.setRawHeaders(b"cache-control", [b"private, no-store"])
        if await self._may_read(request):
            return
        if _is_api(request):
            raise unauthorized()
        raise see_other("/login?" + urlencode({"next": request.uri.decode("latin-1")}))

    async def _may_read(self, request: Request) -> bool:
        token = bearer_token(request)
        if token is not None:
            return await self._is_active(hash_token(token))
        session = await self._session(request)
        if session is None:
            return False
        if not await self._is_active(session.stored.token_hash):
            # The token was revoked: its sessions end with it.
            await self._pool.write(end_session, session.id_hash)
            return False
        return True

    async def _is_active(self, token_hash: str) -> bool:
        """Whether a token is known and unrevoked: an indexed lookup, on a reader thread."""
        return await self._pool.read(active_token, token_hash) is not None

    def _require_private(self) -> None:
        if not self._private:
            raise not_found("This server is open to read; there is nothing to log in to.")

    async def _session(self, request: Request) -> Session | None:
        """The unexpired session of the request's cookie, as any worker stored it."""
        session_id = cookie(request, SESSION_COOKIE)
        if session_id is None:
            return None
        stored = await self._pool.read(find_session, session_id_hash(session_id), self._clock())
        if stored is None:
            return None
        session = self._request_sessions[request] = Session(session_id, stored)
        return session

    async def _end_session(self, request: Request) -> None:
        session = await self._session(request)
        if session is not None:
            await self._pool.write(end_session, session.id_hash)
            self._request_sessions.pop(request, None)
            clear_cookie(request, SESSION_COOKIE, "/")

    def _login_form(self, request: Request, next_path: str, problem: str | None = None) -> bytes:
        # Double submit: the form's CSRF token must match this cookie, which no other site
        # can read or set.
        csrf = random_secret()
        set_cookie(request, LOGIN_CSRF_COOKIE, csrf, "/login", LOGIN_FORM_LIFETIME)
        request.responseHeaders.setRawHeaders(b"cache-control", [b"no-store"])
        return self._html(request, "login.html", csrf=csrf, next=next_path, problem=problem)

    # Fetching, shared by each page and its twin.

    async def _run(self, run_id: str) -> RunDetail:
        detail = await self._pool.read(get_run, run_id)
        if detail is None:
            raise not_found(f"No run with id {run_id!r}.")
        return detail

    async def _comparison(self, request: Request) -> Comparison:
        """Runs ``?a=`` (the older) and ``?b=`` compared; both are needed and must exist."""
        a, b = _required_argument(request, "a"), _required_argument(request, "b")
        try:
            return await self._pool.read(compare_runs, a, b)
        except NoSuchRun as missing:
            field = "a" if missing.run_id == a else "b"
            raise Problem(
                404, "not_found", f"No run with id {missing.run_id!r}.", field=field
            ) from None

    async def _test(self, request: Request, test_id: str) -> tuple[TestHistory, TestTriage]:
        """The test's latest results and its triage over the default window, on every
        branch, in one read."""
        limit = _limit_argument(request, HISTORY_LIMIT)
        found = await self._pool.read(history_and_triage, test_id, limit)
        if found is None:
            raise not_found(f"No test with id {test_id!r}.")
        return found

    def _today(self) -> date:
        return self._clock().astimezone(UTC).date()

    # Answers.

    def _html(self, request: Request, template: str, **context: Any) -> bytes:
        headers = request.responseHeaders
        headers.setRawHeaders(b"content-type", [b"text/html; charset=utf-8"])
        headers.setRawHeaders(b"content-security-policy", [CONTENT_SECURITY_POLICY])
        headers.setRawHeaders(b"x-content-type-options", [b"nosniff"])
        session = self._request_sessions.get(request)
        page = self._templates.get_template(template).render(
            now=self._clock(),
            logout_csrf=None if session is None else session.stored.csrf,
            **context,
        )
        return page.encode("utf-8")

    def _json(self, request: Request, value: JSONObject) -> bytes:
        headers = request.responseHeaders
        headers.setRawHeaders(b"content-type", [b"application/json; charset=utf-8"])
        headers.setRawHeaders(b"x-content-type-options", [b"nosniff"])
        return encode_json(value)


class DashboardResource(KleinResource):
    """The dashboard's routes; an address that is not UTF-8 once percent-decoded, or holds
    a NUL, gets the site's own 400 (JSON under /api) rather than Klein's plain-text one
    or a database error."""

    def __init__(self, dashboard: Dashboard) -> None:
        super().__init__(dashboard.app)
        self._dashboard = dashboard

    def render(self, request: Request) -> KleinRenderable:
        try:
            path = b"/".join(request.postpath or []).decode("utf-8")
            request.getRequestHostname().decode("utf-8")
        except UnicodeDecodeError:
            return self._dashboard.refuse(
                request, bad_request("The address must be UTF-8 text once percent-decoded.")
            )
        if "\x00" in path:  # no id holds one, and PostgreSQL cannot even compare with it
            return self._dashboard.refuse(
                request, bad_request("The address must not contain NUL characters.")
            )
        return super().render(request)  # type: ignore[arg-type]


def _redirect(request: Request, location: str) -> bytes:
    request.setResponseCode(303)
    request.responseHeaders.setRawHeaders(b"location", [location.encode("utf-8")])
    return b""


def _json_body(request: Request) -> bytes:
    """The body of a write: JSON in UTF-8, not compressed, else a 415."""
    if not _is_json_type(header_text(request, b"content-type")):
        raise unsupported_media_type("Send the body as application/json, in UTF-8.")
    if (header_text(request, b"content-encoding") or "identity").strip().lower() != "identity":
        raise unsupported_media_type("Send the body without a Content-Encoding.")
    return request_body(request)


def _is_json_type(header: str | None) -> bool:
    """Whether a Content-Type is JSON, with no charset or UTF-8 as its charset."""
    if header is None:
        return False
    media_type, *parameters = (part.strip().lower() for part in header.split(";"))
    charsets = [p.partition("=")[2].strip('"') for p in parameters if p.startswith("charset=")]
    return media_type == "application/json" and all(c in ("utf-8", "utf8") for c in charsets)


def _is_api(request: Request) -> bool:
    """Whether errors should be JSON: the one place HTML and the API part ways."""
    return request.path == b"/api" or request.path.startswith(b"/api/")


def _page_arguments(request: Request) -> tuple[int, str | None]:
    """``?limit=`` and ``?before=`` of a list of runs."""
    return _limit_argument(request, RUNS_LIMIT), _text_argument(request, "before")


def _run_filters(request: Request) -> RunFilters:
    """The filters of a list of runs: ``?branch=``, ``?outcome=``, ``?since=``, ``?until=``,
    ``?replay=`` and ``?test=``; an empty one is the same as none."""
    return RunFilters(
        branch=_text_argument(request, "branch"),
        outcome=_choice_argument(request, "outcome", OutcomeFilter),
        since=_date_argument(request, "since"),
        until=_date_argument(request, "until"),
        replay=_choice_argument(request, "replay", ReplayFilter),
        test=_text_argument(request, "test"),
    )


def _choice_argument(request: Request, name: str, choices: type[E]) -> E | None:
    raw = _text_argument(request, name)
    if raw is None:
        return None
    try:
        return choices(raw)
    except ValueError:
        allowed = " or ".join(choice.value for choice in choices)
        raise bad_request(f"{name} must be {allowed}", field=name) from None


def _date_argument(request: Request, name: str) -> date | None:
    """A UTC day given as ``YYYY-MM-DD``."""
    raw = _text_argument(request, name)
    if raw is None:
        return None
    try:
        if _DATE.fullmatch(raw):
            return date.fromisoformat(raw)
    except ValueError:
        pass
    raise bad_request(f"{name} must be a date written YYYY-MM-DD", field=name)


def _required_argument(request: Request, name: str) -> str:
    value = _text_argument(request, name)
    if value is None:
        raise bad_request(f"{name} is required: the id of a run", field=name)
    return value


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


def _flaky_weight(tests: list[TestTriage]) -> int:
    """What flaky tests cost to keep: their seeds are most of it (up to one per result)."""
    return sum(1 + len(t.seeds) for t in tests)


def _flaky_arguments(request: Request) -> tuple[int, str | None, int]:
    """``?window=``, ``?branch=`` and ``?limit=`` of the flaky tests."""
    window = _window_argument(request)
    return window, _text_argument(request, "branch"), _limit_argument(request, FLAKY_LIMIT)


def _trends_arguments(request: Request) -> tuple[int, str | None]:
    """``?days=`` and ``?branch=`` of the trends."""
    return _days_argument(request), _text_argument(request, "branch")


def _days_argument(request: Request) -> int:
    """``?days=``: how many days up to today, 1..MAX_DAYS; anything else is a 400."""
    raw = _text_argument(request, "days")
    if raw is None:
        return DEFAULT_DAYS
    try:
        days = int(raw)
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_DAYS:
        raise bad_request(f"days must be an integer between 1 and {MAX_DAYS}", field="days")
    return days


def _window_argument(request: Request) -> int:
    """``?window=``: how many recent runs to judge on, 1..MAX_WINDOW; anything else is a 400."""
    raw = _text_argument(request, "window")
    if raw is None:
        return WINDOW
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_WINDOW:
        raise bad_request(f"window must be an integer between 1 and {MAX_WINDOW}")
    return value


def _static_file(root: FilePath[str], name: str) -> FilePath[str]:
    """The file ``name`` names inside ``root``, of a type served; else a 404.

    ``name`` arrives percent-decoded, so ``%2e%2e`` is ``..`` by now.  Plain
    names only (no dot first: no ``..``, no hidden files; no NUL or backslash),
    and ``descendant`` refuses anything leading out of ``root`` besides.
    """
    found = None
    if _STATIC_NAME.fullmatch(name):
        with contextlib.suppress(InsecurePath):
            found = root.descendant(name.split("/"))
    if found is None or not found.isfile() or found.splitext()[1] not in STATIC_TYPES:
        raise not_found("There is no page at this address.")
    return found


def _text_argument(request: Request, name: str) -> str | None:
    """A query argument as text; None when absent or empty."""
    values: list[bytes] = request.args.get(name.encode("ascii"), [])
    if not values or not values[0]:
        return None
    try:
        text = values[0].decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request(f"{name} must be UTF-8 text", field=name) from None
    if "\x00" in text:
        raise bad_request(f"{name} must not contain NUL characters", field=name)
    return text
