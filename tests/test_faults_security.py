"""Security probes that the older tests left open, and the map of which test covers which.

Already covered elsewhere (not repeated here):

- writing without a token, with an unknown or a revoked one: 401
  (test_ingest_api.TokenTests.test_missing_token / test_bad_token / test_revoked_token,
  test_auth.PrivateReadTests.test_bad_or_revoked_bearer for reading a private server);
- a token in the query string is ignored (TokenTests.test_token_in_query,
  PrivateReadTests.test_token_in_query_ignored, LoginTests.test_token_in_login_query_ignored);
- tokens stored hashed (test_tokens.TokenStoreTests.test_only_hash_stored,
  TokenTests.test_token_not_stored: the token appears nowhere in the database files);
- markup in test ids and messages escaped (test_web.TestPageTests.test_escaped,
  test_browse_web, test_charts) and inert in Chromium (test_browser.test_hostile_text_stays_text);
- the login and logout forms refuse a missing or wrong CSRF token
  (test_auth.LoginTests.test_login_without_csrf / test_logout_without_csrf);
- oversize bodies refused with 413 before the body is read, chunked ones as they pass the
  limit (test_ingest_api.RealServerTests.test_content_length_over_limit / ..._chunked_...);
- /static/ cannot leave its folder, plain or percent-encoded
  (test_flaky_web, the test listing /static/../secret.js, %2e%2e, %5c, %00 ...).

Here: markup in branches and every piece of run metadata, on every page and in Chromium;
SQL metacharacters stored and matched verbatim, filters included; every POST form any page
shows, found by reading the pages, refuses a request without its CSRF token.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from markupsafe import escape
from twisted.trial.unittest import SynchronousTestCase

from seedboard.domain import Outcome
from seedboard.web import auth
from seedboard.web.urls import path_to_test
from tests.browser_support import Browser, require_chromium
from tests.support import record_run, result, run_start, start_server, temporary_database
from tests.test_auth import PrivateCase
from tests.test_ingest import result_body, run_body
from tests.test_ingest_api import APICase, row_counts

SCRIPT = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
SHORT_SCRIPT = "<script>window.__pwned=1</script>"
"""For the columns limited to 64 characters (commit, versions)."""
SQL = "x'; DROP TABLE runs; -- \" OR 1=1 /* %_ \\ \u00e9"

RUN_TEXT = ("host", "command", "branch", "build_url")
SHORT_TEXT = ("python_version", "twisted_version", "commit")
RESULT_TEXT = ("exception_type", "message", "traceback", "file")


def hostile_run(text: str, short: str) -> dict[str, Any]:
    return run_body(**dict.fromkeys(RUN_TEXT, text), **dict.fromkeys(SHORT_TEXT, short))


def hostile_result(test_id: str, text: str) -> dict[str, Any]:
    return result_body(test_id=test_id, outcome="failure", **dict.fromkeys(RESULT_TEXT, text))


class HostileTextTests(APICase):
    """A run whose every text field is markup, stored through the API."""

    def setUp(self) -> None:
        super().setUp()
        self.test_id = f"pkg.T.test_{SCRIPT}"
        self.run_id = self.create(**hostile_run(SCRIPT, SHORT_SCRIPT))
        answer = self.batch(self.run_id, 0, [hostile_result(self.test_id, SCRIPT)])
        self.assertEqual(answer.status, 201, answer.body)
        self.other = self.create(**hostile_run(SCRIPT, SHORT_SCRIPT))
        self.batch(self.other, 0, [hostile_result(self.test_id, SCRIPT)])

    def page(self, path: str) -> str:
        answer = self.send("GET", path, token=None)
        self.assertEqual(answer.status, 200, path)
        return str(answer.body.decode("utf-8"))

    def test_every_page_escapes(self) -> None:
        """Markup in the branch, host, command, versions, commit, build URL, test id and
        failure text is shown escaped on every page, never as markup."""
        branch = quote(SCRIPT, safe="")
        pages = [
            "/",
            f"/?branch={branch}",
            f"/?test={quote('pkg.T', safe='')}",
            f"/runs/{self.run_id}",
            f"/tests/{quote(self.test_id, safe='')}",
            "/flaky",
            f"/flaky?branch={branch}",
            f"/compare?a={self.other}&b={self.run_id}",
            f"/trends?branch={branch}",
        ]
        for path in pages:
            page = self.page(path)
            for raw in ("<script>window", "<img src=x"):
                self.assertNotIn(raw, page, path)
        run_page = self.page(f"/runs/{self.run_id}")
        for shown in (SCRIPT, SHORT_SCRIPT):
            self.assertIn(str(escape(shown)), run_page)

    def test_stored_verbatim(self) -> None:
        """The API gives back every hostile text exactly as it was sent."""
        detail = self.run_json(self.run_id)
        for name in RUN_TEXT:
            self.assertEqual(detail["run"][name], SCRIPT, name)
        for name in SHORT_TEXT:
            self.assertEqual(detail["run"][name], SHORT_SCRIPT, name)
        [stored] = detail["results"]
        self.assertEqual(stored["test_id"], self.test_id)
        for name in RESULT_TEXT:
            self.assertEqual(stored[name], SCRIPT, name)


class SQLTextTests(APICase):
    def test_stored_verbatim(self) -> None:
        """SQL metacharacters in every text field and in the ids of tests are stored and
        given back exactly, and the tables are all still there."""
        run_id = self.create(**hostile_run(SQL, SQL[:64]))
        test_id = f"pkg.T.test_{SQL}"
        self.assertEqual(self.batch(run_id, 0, [hostile_result(test_id, SQL)]).status, 201)
        detail = self.run_json(run_id)
        for name in RUN_TEXT:
            self.assertEqual(detail["run"][name], SQL, name)
        [stored] = detail["results"]
        self.assertEqual(stored["test_id"], test_id)
        for name in RESULT_TEXT:
            self.assertEqual(stored[name], SQL, name)
        self.assertEqual(row_counts(self.database)["runs"], 1)
        history = self.send("GET", f"/api/v1/tests/{quote(test_id, safe='')}", token=None)
        self.assertEqual(history.body["test_id"], test_id)

    def test_filters_match_literally(self) -> None:
        """Filter values are matched as text: quotes find their own branch, and % or _ in
        ?test= match those characters, not anything (as SQL LIKE wildcards would)."""
        plain = self.create(branch="main")
        self.batch(plain, 0, [result_body(test_id="pkg.T.testplain")])
        odd = self.create(branch=SQL)
        self.batch(odd, 0, [result_body(test_id="pkg.T.test100%_sure")])
        cases = {
            "branch": {SQL: [odd], "main": [plain], "%": [], "' OR '1'='1": []},
            "test": {"%": [odd], "_": [odd], "100%_": [odd], "%plain": [], "test": [plain, odd]},
        }
        for name, expected in cases.items():
            for value, run_ids in expected.items():
                answer = self.send("GET", "/api/v1/runs?" + urlencode({name: value}), token=None)
                self.assertEqual(answer.status, 200, (name, value))
                found = sorted(run["id"] for run in answer.body["runs"])
                self.assertEqual(found, sorted(run_ids), (name, value))


POST_FORM = re.compile(r'<form\b[^>]*\bmethod="post"[^>]*>(.*?)</form>', re.S | re.I)
ACTION = re.compile(r'\baction="([^"]+)"')
FIELD = re.compile(r'<input\b[^>]*\bname="([^"]+)"[^>]*?(?:\bvalue="([^"]*)")?[^>]*>')


class EveryFormTests(PrivateCase):
    def test_every_post_form_needs_csrf(self) -> None:
        """Every POST form on any page, logged in or not, carries a CSRF field, and its
        action refuses the form without it or with a forged one (403), changing nothing."""
        session = self.session_cookie()
        pages = ["/login", "/", f"/runs/{self.run_id}", "/tests/pkg.T.test_a", "/flaky"]
        pages += ["/trends", f"/compare?a={self.run_id}&b={self.run_id}"]
        forms: dict[str, dict[str, str]] = {}
        for path in pages:
            answer = self.request("GET", path, self.with_session(session))
            self.assertEqual(answer.status, 200, path)
            for match in POST_FORM.finditer(answer.body.decode("utf-8")):
                [action] = ACTION.findall(match.group(0))
                fields = {
                    name: html.unescape(value) for name, value in FIELD.findall(match.group(1))
                }
                forms[html.unescape(action)] = fields
        self.assertGreaterEqual(set(forms), {"/login", "/logout"})
        before = row_counts(self.database)
        for action, fields in forms.items():
            self.assertIn("csrf", fields, action)
            for forged in (
                {k: v for k, v in fields.items() if k != "csrf"},
                {**fields, "csrf": "x"},
            ):
                forged.setdefault("token", self.token)
                answer = self.post_form(action, forged, {auth.SESSION_COOKIE: session})
                self.assertEqual(answer.status, 403, (action, forged))
                self.assertNotIn(auth.SESSION_COOKIE, _cleared(answer))
        self.assertEqual(row_counts(self.database), before)
        still = self.request("GET", "/", self.with_session(session))
        self.assertEqual(still.status, 200)


def _cleared(answer: Any) -> set[str]:
    """The names of the cookies an answer sets or clears."""
    return {header.split("=", 1)[0] for header in answer.header("set-cookie") or []}


class BrowserMetadataTests(SynchronousTestCase):
    def test_metadata_stays_text(self) -> None:
        """In Chromium, markup in a run's branch, host, command, commit and versions and in a
        failure's text shows as text on the runs list, run and test pages, and never runs."""
        require_chromium()
        database = temporary_database(self)
        test_id = f"pkg.T.test_{SCRIPT}"
        start = run_start(
            branch=SCRIPT,
            host=SCRIPT,
            command=SCRIPT,
            commit=SHORT_SCRIPT,
            python_version=SHORT_SCRIPT,
            twisted_version=SHORT_SCRIPT,
        )
        failing = result(test_id, Outcome.FAILURE, message=SCRIPT, exception_type=SCRIPT)
        record_run(database, [failing], start)
        url = database.writer.url.render_as_string(hide_password=False)
        cwd = Path(self.mktemp())
        cwd.mkdir()
        base = start_server(self, cwd, "--db", url, "--port", "0")
        browser = Browser(self, base)
        for address in ("/", f"/runs/{start.id}", path_to_test(test_id), "/flaky"):
            with browser.context_page() as page:
                response = page.goto(base + address)
                assert response is not None
                self.assertEqual(response.status, 200, address)
                if address == "/flaky":  # its one test is broken: listed apart, folded
                    page.locator("details.broken-tests > summary").click()
                shown = page.locator("body").inner_text()
                self.assertIn(SCRIPT if address != "/flaky" else test_id, shown, address)
                self.assertEqual(page.evaluate("typeof window.__pwned"), "undefined", address)
                self.assertEqual(page.locator("img[src=x]").count(), 0, address)
                self.assertEqual(page.locator("script:not([src])").count(), 0, address)
        browser.assert_quiet(self)
