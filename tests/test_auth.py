"""Tests for a private server: reads need a bearer token or a login session; CSRF-safe forms."""

from __future__ import annotations

import contextlib
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode

import treq
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.server import Request
from twisted.web.test.requesthelper import DummyChannel

from seedboard import cli
from seedboard.db import sessions, tokens
from seedboard.db.pool import SynchronousPool
from seedboard.web import auth, requests
from seedboard.web.app import Dashboard
from seedboard.web.templates import make_environment
from tests import contract
from tests.contract import checked_client
from tests.support import record_run, result, start_server, temporary_database
from tests.test_ingest import run_body
from tests.test_ingest_api import BASE, Answer, HTTPClient, add_token, row_counts

START = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
FORM = "application/x-www-form-urlencoded"


class PrivateCase(SynchronousTestCase):
    """A private Dashboard over a real temporary database, with a clock the test moves."""

    def setUp(self) -> None:
        self.now = START
        self.database = temporary_database(self)
        self.token = add_token(self.database)
        self.run_id = record_run(self.database, [result("pkg.T.test_a")]).id
        dashboard = Dashboard(
            SynchronousPool(self.database),
            make_environment(),
            clock=lambda: self.now,
            private=True,
        )
        self.resource = dashboard.app.resource()

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> Answer:
        wire = {name: [value] for name, value in (headers or {}).items()}
        # A new client each time: StubTreq would otherwise keep and resend cookies itself.
        client = cast(HTTPClient, checked_client(self, self.resource))
        response = self.successResultOf(
            client.request(method, BASE + path, data=body, headers=wire, allow_redirects=False)
        )
        raw: bytes = self.successResultOf(treq.content(response))
        content_type = (response.headers.getRawHeaders("content-type") or [""])[0]
        decoded: Any = json.loads(raw) if content_type.startswith("application/json") else raw
        return Answer(response.code, decoded, response)

    def bearer(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}

    def login_form(self, path: str = "/login") -> tuple[str, str]:
        """GET the login page: the CSRF cookie it set and the token in its form."""
        page = self.request("GET", path)
        self.assertEqual(page.status, 200)
        cookie = set_cookies(page)[auth.LOGIN_CSRF_COOKIE]
        [field] = re.findall(rb'name="csrf" value="([^"]+)"', page.body)
        return cookie["value"], field.decode()

    def post_form(self, path: str, fields: dict[str, str], cookies: dict[str, str]) -> Answer:
        headers = {"Content-Type": FORM}
        if cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
        return self.request("POST", path, headers, urlencode(fields).encode())

    def log_in(self, token: str | None = None, next_path: str = "/") -> Answer:
        csrf_cookie, csrf_field = self.login_form()
        fields = {"csrf": csrf_field, "token": token or self.token, "next": next_path}
        return self.post_form("/login", fields, {auth.LOGIN_CSRF_COOKIE: csrf_cookie})

    def session_cookie(self) -> str:
        answer = self.log_in()
        self.assertEqual(answer.status, 303)
        return str(set_cookies(answer)[auth.SESSION_COOKIE]["value"])

    def with_session(self, session: str) -> dict[str, str]:
        return {"Cookie": f"{auth.SESSION_COOKIE}={session}"}


def set_cookies(answer: Answer) -> dict[str, dict[str, Any]]:
    """The response's Set-Cookie headers by cookie name: value and attributes."""
    found: dict[str, dict[str, Any]] = {}
    for header in answer.header("set-cookie") or []:
        pair, *attributes = [part.strip() for part in header.split(";")]
        name, _, value = pair.partition("=")
        found[name] = {"value": value, "attributes": attributes}
    return found


class PrivateReadTests(PrivateCase):
    def read_paths(self) -> list[str]:
        return [
            "/",
            f"/runs/{self.run_id}",
            "/tests/pkg.T.test_a",
            "/api/v1/runs",
            f"/api/v1/runs/{self.run_id}",
            "/api/v1/tests/pkg.T.test_a",
        ]

    def test_api_reads_need_token(self) -> None:
        """Without a token, the read API answers a JSON 401 asking for a bearer token."""
        for path in self.read_paths()[3:]:
            answer = self.request("GET", path)
            self.assertEqual(answer.status, 401, path)
            self.assertEqual(answer.header("www-authenticate"), ["Bearer"])
            self.assertEqual(answer.body["error"]["code"], "unauthorized")

    def test_pages_redirect_to_login(self) -> None:
        """Without a token or login, pages redirect to the login page, keeping the address."""
        answer = self.request("GET", f"/runs/{self.run_id}?limit=3")
        self.assertEqual(answer.status, 303)
        self.assertEqual(
            answer.header("location"),
            ["/login?" + urlencode({"next": f"/runs/{self.run_id}?limit=3"})],
        )
        self.assertNotIn(b"pkg.T.test_a", answer.body)

    def test_every_read_route_is_guarded(self) -> None:
        """Every GET route but login and the OpenAPI document refuses an anonymous reader
        (of the static files, only the stylesheets are public: the login page needs them)."""
        open_routes = {"/login", "/api/v1/openapi.json"}
        for rule in Dashboard.app.url_map.iter_rules():
            if "GET" not in (rule.methods or ()) or rule.rule in open_routes:
                continue
            path = re.sub(r"<[^>]+>", "x", rule.rule)
            self.assertIn(self.request("GET", path).status, (401, 303), rule.rule)

    def test_stylesheet_public(self) -> None:
        """The stylesheet loads for a visitor not yet logged in, so the login page is
        styled; the copy buttons' script still needs a login."""
        answer = self.request("GET", "/static/seedboard.css")
        self.assertEqual(
            (answer.status, answer.header("content-type")), (200, ["text/css; charset=utf-8"])
        )
        self.assertEqual(self.request("GET", "/static/copy.js").status, 303)

    def test_bearer_reads(self) -> None:
        """A valid bearer token reads pages and the API."""
        for path in self.read_paths():
            self.assertEqual(self.request("GET", path, self.bearer()).status, 200, path)

    def test_private_not_cached(self) -> None:
        """Private answers tell caches not to keep them."""
        answer = self.request("GET", "/api/v1/runs", self.bearer())
        self.assertEqual(answer.header("cache-control"), ["private, no-store"])

    def test_bad_or_revoked_bearer(self) -> None:
        """An unknown or revoked token reads nothing."""
        self.assertEqual(self.request("GET", "/api/v1/runs", self.bearer("nope")).status, 401)
        self.database.write(tokens.revoke_token, "ci", START)
        self.assertEqual(self.request("GET", "/api/v1/runs", self.bearer()).status, 401)

    def test_token_in_query_ignored(self) -> None:
        """A token in the query string does not open a private server."""
        self.assertEqual(self.request("GET", f"/api/v1/runs?token={self.token}").status, 401)

    def test_openapi_public(self) -> None:
        """The OpenAPI document stays public."""
        self.assertEqual(self.request("GET", "/api/v1/openapi.json").status, 200)

    def test_writes_unchanged(self) -> None:
        """Writing works with a bearer token as on an open server."""
        headers = {**self.bearer(), "Content-Type": "application/json"}
        body = json.dumps(run_body()).encode()
        answer = self.request("PUT", "/api/v1/runs/" + "a" * 32, headers, body)
        self.assertEqual(answer.status, 201)


class LoginTests(PrivateCase):
    def test_login_page(self) -> None:
        """The login page has a token field and a CSRF token bound to a strict cookie."""
        page = self.request("GET", "/login")
        self.assertEqual(page.status, 200)
        self.assertIn(b'type="password"', page.body)
        self.assertNotIn(b"Log out", page.body)
        cookie = set_cookies(page)[auth.LOGIN_CSRF_COOKIE]
        self.assertIn(cookie["value"].encode(), page.body)
        for attribute in ("HttpOnly", "SameSite=strict", "Path=/login"):
            self.assertIn(attribute, cookie["attributes"])
        self.assertNotIn("Secure", cookie["attributes"])

    def test_login_flow(self) -> None:
        """Logging in sets an HttpOnly strict session cookie, not the token, and opens pages."""
        answer = self.log_in(next_path=f"/runs/{self.run_id}")
        self.assertEqual(answer.status, 303)
        self.assertEqual(answer.header("location"), [f"/runs/{self.run_id}"])
        cookie = set_cookies(answer)[auth.SESSION_COOKIE]
        for attribute in ("HttpOnly", "SameSite=strict", "Path=/"):
            self.assertIn(attribute, cookie["attributes"])
        self.assertNotIn(self.token, cookie["value"])
        self.assertNotIn(self.token, " ".join(answer.header("set-cookie") or []))
        page = self.request("GET", f"/runs/{self.run_id}", self.with_session(cookie["value"]))
        self.assertEqual(page.status, 200)
        self.assertIn(b"pkg.T.test_a", page.body)
        self.assertIn(b'action="/logout"', page.body)
        api = self.request("GET", "/api/v1/runs", self.with_session(cookie["value"]))
        self.assertEqual(api.status, 200)

    def test_login_page_when_logged_in(self) -> None:
        """The login page offers someone logged in a way out; to others only the form."""
        session = self.session_cookie()
        logged_in = self.request("GET", "/login", self.with_session(session))
        self.assertIn(b'action="/logout"', logged_in.body)
        self.assertNotIn(b'action="/logout"', self.request("GET", "/login").body)

    def test_login_without_csrf(self) -> None:
        """A login POST without the CSRF token, or with the wrong one, is a 403."""
        csrf_cookie, csrf_field = self.login_form()
        cases = [
            ({"token": self.token}, {auth.LOGIN_CSRF_COOKIE: csrf_cookie}),
            ({"token": self.token, "csrf": csrf_field}, {}),
            ({"token": self.token, "csrf": "forged"}, {auth.LOGIN_CSRF_COOKIE: csrf_cookie}),
            ({"token": self.token, "csrf": "same"}, {auth.LOGIN_CSRF_COOKIE: "other"}),
        ]
        for fields, cookies in cases:
            answer = self.post_form("/login", fields, cookies)
            self.assertEqual(answer.status, 403, (fields, cookies))
            self.assertNotIn(auth.SESSION_COOKIE, set_cookies(answer))

    def test_bad_token(self) -> None:
        """A wrong token shows the form again with a 401 and starts no session."""
        answer = self.log_in(token="not-the-token")
        self.assertEqual(answer.status, 401)
        self.assertIn(b"That token is not valid.", answer.body)
        self.assertNotIn(auth.SESSION_COOKIE, set_cookies(answer))

    def test_token_in_login_query_ignored(self) -> None:
        """The login form reads the token from its body only, never the query string."""
        csrf_cookie, csrf_field = self.login_form()
        answer = self.post_form(
            f"/login?token={self.token}",
            {"csrf": csrf_field},
            {auth.LOGIN_CSRF_COOKIE: csrf_cookie},
        )
        self.assertEqual(answer.status, 401)

    def test_next_stays_on_site(self) -> None:
        """After logging in, a ``next`` pointing elsewhere leads home instead."""
        for elsewhere in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
            self.assertEqual(self.log_in(next_path=elsewhere).header("location"), ["/"])

    def test_logout(self) -> None:
        """Logging out with the session's CSRF token ends the session and clears the cookie."""
        session = self.session_cookie()
        page = self.request("GET", "/", self.with_session(session))
        [csrf] = re.findall(rb'action="/logout".*?name="csrf" value="([^"]+)"', page.body, re.S)
        answer = self.post_form("/logout", {"csrf": csrf.decode()}, {auth.SESSION_COOKIE: session})
        self.assertEqual(answer.status, 303)
        self.assertEqual(answer.header("location"), ["/login"])
        cleared = set_cookies(answer)[auth.SESSION_COOKIE]
        self.assertEqual((cleared["value"], "Max-Age=0" in cleared["attributes"]), ("", True))
        self.assertEqual(self.request("GET", "/", self.with_session(session)).status, 303)

    def test_logout_without_csrf(self) -> None:
        """A logout POST without the session's CSRF token is a 403 and leaves the session."""
        session = self.session_cookie()
        for fields in ({}, {"csrf": "forged"}):
            answer = self.post_form("/logout", fields, {auth.SESSION_COOKIE: session})
            self.assertEqual(answer.status, 403)
        self.assertEqual(self.request("GET", "/", self.with_session(session)).status, 200)

    def test_forms_refused_before_parsing(self) -> None:
        """A login without its CSRF cookie, or a logout without a session, is a 403 whose
        body is never parsed: even one over the form limit."""
        body = b"a=1&" * (requests.FORM_MAX_BODY // 2)
        for path in ("/login", "/logout"):
            answer = self.request("POST", path, {"Content-Type": FORM}, body)
            self.assertEqual(answer.status, 403, path)

    def test_form_over_limit(self) -> None:
        """A form body over ``FORM_MAX_BODY`` is a 413, read no further than the limit."""
        csrf_cookie, csrf_field = self.login_form()
        fields = {"csrf": csrf_field, "token": self.token, "pad": "x" * requests.FORM_MAX_BODY}
        answer = self.post_form("/login", fields, {auth.LOGIN_CSRF_COOKIE: csrf_cookie})
        self.assertEqual(answer.status, 413)
        self.assertIn(b"larger than this server&#39;s limit of 16384 bytes", answer.body)

    def test_form_with_too_many_fields(self) -> None:
        """A form with more fields than any of this site's has none of them: a 403."""
        csrf_cookie, csrf_field = self.login_form()
        fields = {"csrf": csrf_field, "token": self.token}
        fields.update((f"f{i}", "1") for i in range(requests.FORM_MAX_FIELDS))
        answer = self.post_form("/login", fields, {auth.LOGIN_CSRF_COOKIE: csrf_cookie})
        self.assertEqual(answer.status, 403)
        self.assertNotIn(auth.SESSION_COOKIE, set_cookies(answer))

    def test_session_expires(self) -> None:
        """A session ends 12 hours after logging in."""
        session = self.session_cookie()
        self.now = START + timedelta(hours=11, minutes=59)
        self.assertEqual(self.request("GET", "/", self.with_session(session)).status, 200)
        self.now = START + timedelta(hours=12)
        self.assertEqual(self.request("GET", "/", self.with_session(session)).status, 303)

    def test_revoking_ends_sessions(self) -> None:
        """Revoking the token a session was started with ends the session."""
        session = self.session_cookie()
        self.database.write(tokens.revoke_token, "ci", START)
        self.assertEqual(self.request("GET", "/", self.with_session(session)).status, 303)

    def test_session_known_to_every_worker(self) -> None:
        """A session started on one server process opens pages on another of the same database."""
        session = self.session_cookie()
        other = Dashboard(
            SynchronousPool(self.database), make_environment(), clock=lambda: self.now, private=True
        )
        self.resource = other.app.resource()
        self.assertEqual(self.request("GET", "/", self.with_session(session)).status, 200)

    def test_made_up_session(self) -> None:
        """A session id the server never issued opens nothing."""
        self.assertEqual(self.request("GET", "/", self.with_session("made-up")).status, 303)

    def test_session_cannot_write(self) -> None:
        """A login session reads, but writing still needs the bearer header."""
        session = self.session_cookie()
        before = row_counts(self.database)
        headers = {**self.with_session(session), "Content-Type": "application/json"}
        answer = self.request(
            "PUT", "/api/v1/runs/" + "b" * 32, headers, json.dumps(run_body()).encode()
        )
        self.assertEqual(answer.status, 401)
        self.assertEqual(row_counts(self.database), before)


class SessionTests(SynchronousTestCase):
    def test_expired_sessions_forgotten(self) -> None:
        """Storing a session forgets expired ones, so the table does not grow without end."""
        database = temporary_database(self)
        for _ in range(3):
            session = auth.new_session("hash", START, lifetime=timedelta(hours=1))
            database.write(sessions.save_session, session.id_hash, session.stored, START)
        later = START + timedelta(hours=2)
        session = auth.new_session("hash", later, lifetime=timedelta(hours=1))
        database.write(sessions.save_session, session.id_hash, session.stored, later)
        self.assertEqual(database.read(sessions.session_count), 1)

    def test_session_id_stored_hashed(self) -> None:
        """The database holds a session id's hash, never the id the cookie carries."""
        database = temporary_database(self)
        session = auth.new_session("hash", START)
        database.write(sessions.save_session, session.id_hash, session.stored, START)
        self.assertEqual(database.read(sessions.find_session, session.id, START), None)
        self.assertEqual(
            database.read(sessions.find_session, session.id_hash, START), session.stored
        )

    def test_secure_cookie_over_tls(self) -> None:
        """Cookies are marked Secure when the request came over TLS."""
        request = Request(DummyChannel())
        request.setHost(b"seedboard.example", 443, ssl=True)
        requests.set_cookie(request, auth.SESSION_COOKIE, "id", "/", timedelta(hours=1))
        [cookie] = request.cookies
        self.assertIn(b"; Secure", cookie)
        self.assertIn(b"; HttpOnly", cookie)

    def test_safe_next(self) -> None:
        """Only paths on this site are followed after logging in."""
        self.assertEqual(auth.safe_next("/runs/x?limit=3"), "/runs/x?limit=3")
        for unsafe in (None, "", "runs", "//evil", "/\\evil", "https://evil", "/\nx"):
            self.assertEqual(auth.safe_next(unsafe), "/")


class ServeCommandTests(SynchronousTestCase):
    def test_private_and_max_body_options(self) -> None:
        """``seedboard serve --private --max-body N`` guards reads and refuses larger bodies."""
        folder = Path(self.mktemp()).resolve()
        folder.mkdir(parents=True)
        url = f"sqlite:///{folder / 'shared.db'}"
        with (
            contextlib.redirect_stdout(io.StringIO()) as out,
            contextlib.redirect_stderr(io.StringIO()),
        ):
            self.assertEqual(cli.main(["token", "create", "ci", "--db", url]), 0)
        token = out.getvalue().strip()
        base = start_server(
            self, folder, "--db", url, "--port", "0", "--private", "--max-body", "300"
        )

        def fetch(path: str, body: bytes | None = None, **headers: str) -> tuple[int, str]:
            method = "GET" if body is None else "PUT"
            answer = contract.fetch(self, base + path, method, body, headers)
            return answer.status, answer.url if answer.status < 400 else answer.body.decode()

        self.assertEqual(fetch("/api/v1/runs")[0], 401)
        self.assertEqual(fetch("/api/v1/runs", Authorization=f"Bearer {token}")[0], 200)
        self.assertEqual(fetch("/"), (200, f"{base}/login?next=%2F"))
        status, answer = fetch(
            f"/api/v1/runs/{'c' * 32}",
            json.dumps(run_body(command="x" * 400)).encode(),
            Authorization=f"Bearer {token}",
            **{"Content-Type": "application/json"},
        )
        self.assertEqual(status, 413)
        self.assertEqual(json.loads(answer)["error"]["code"], "too_large")

    def test_bodies_in_flight_option(self) -> None:
        """``--max-bodies-in-flight`` smaller than ``--max-body`` is refused at start."""
        with contextlib.redirect_stderr(io.StringIO()) as err:
            status = cli.main(
                ["serve", "--max-body", "1000", "--max-bodies-in-flight", "999", "--db", "x.db"]
            )
        self.assertEqual(status, 2)
        self.assertIn("--max-bodies-in-flight must be at least --max-body", err.getvalue())

    def test_commit_range_options(self) -> None:
        """A repository seedboard cannot link, or a template without ``{to}``, is refused at
        start in one line naming the fix."""
        for option in (
            ["--repository", "https://git.example.org/o/r"],
            ["--commit-range-url", "https://git.example.org/{from}"],
        ):
            with contextlib.redirect_stderr(io.StringIO()) as err:
                status = cli.main(["serve", *option, "--db", "x.db"])
            self.assertEqual(status, 2, option)
            self.assertEqual(err.getvalue().count("\n"), 1, err.getvalue())
            self.assertIn("{from} and {to}", err.getvalue())
