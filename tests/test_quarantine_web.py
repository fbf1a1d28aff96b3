"""Quarantines, issue links and owners through the JSON API and the test page's forms."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from twisted.trial.unittest import SynchronousTestCase

from seedboard.db.engine import open_database
from seedboard.db.migrate import ensure_schema
from seedboard.db.quarantines import record_owners
from seedboard.domain import Outcome
from seedboard.web import auth
from tests.contract import fetch_json
from tests.support import record_run, result, run_start, start_server
from tests.test_auth import PrivateCase
from tests.test_ingest_api import Answer

NET = "pkg.test_net.NetTests.test_timeout"


class QuarantineAPITests(PrivateCase):
    def post(self, body: object, token: str | None = None) -> Answer:
        headers = {**self.bearer(token), "Content-Type": "application/json"}
        return self.request("POST", "/api/v1/quarantines", headers, json.dumps(body).encode())

    def listing(self) -> dict[str, Any]:
        answer = self.request("GET", "/api/v1/quarantines", self.bearer())
        self.assertEqual(answer.status, 200)
        body: dict[str, Any] = answer.body
        return body

    def test_add_list_remove(self) -> None:
        """A quarantine added with a token is listed, with its token's name, then lifted."""
        added = self.post({"test": "pkg.test_net.*", "reason": "DNS", "expires": "14d"})
        self.assertEqual(added.status, 201)
        self.assertTrue(added.body["created"])
        entry = added.body["quarantine"]
        self.assertEqual((entry["test"], entry["created_by"]), ("pkg.test_net.*", "ci"))
        self.assertEqual(
            entry["expires_at"][:10], (self.now + timedelta(days=14)).date().isoformat()
        )
        self.assertEqual([q["test"] for q in self.listing()["quarantines"]], ["pkg.test_net.*"])
        again = self.post({"test": "pkg.test_net.*", "issue_url": "https://x.example/i/1"})
        self.assertEqual((again.status, again.body["created"]), (200, False))
        path = "/api/v1/quarantines/" + quote("pkg.test_net.*", safe="")
        lifted = self.request("DELETE", path + "?reason=fixed", self.bearer())
        self.assertEqual(lifted.status, 200)
        self.assertEqual(self.request("DELETE", path, self.bearer()).status, 404)
        listing = self.listing()
        self.assertEqual(listing["quarantines"], [])
        history = [(c["action"], c["actor"], c["reason"]) for c in listing["history"]]
        self.assertEqual(
            history, [("remove", "ci", "fixed"), ("update", "ci", None), ("add", "ci", "DNS")]
        )

    def test_writes_need_a_token(self) -> None:
        """Without a valid token nothing is quarantined: 401."""
        answer = self.request(
            "POST", "/api/v1/quarantines", {"Content-Type": "application/json"}, b'{"test":"x"}'
        )
        self.assertEqual(answer.status, 401)
        self.assertEqual(self.post({"test": "x"}, token="not-a-token").status, 401)
        self.assertEqual(self.listing()["quarantines"], [])

    def test_bad_input_names_the_field(self) -> None:
        """Each bad value is a 400 naming its field; nothing is stored."""
        cases = [
            ({"test": ""}, "test"),
            ({"test": "a", "expires": "soon"}, "expires"),
            ({"test": "a", "expires": "2001-01-01"}, "expires"),
            ({"test": "a", "issue_url": "javascript:alert(1)"}, "issue_url"),
            ({"test": "a", "colour": "red"}, "colour"),
            ({"test": 3}, "test"),
        ]
        for body, field in cases:
            answer = self.post(body)
            self.assertEqual(answer.status, 400, body)
            self.assertEqual(answer.body["error"]["field"], field, body)
        self.assertEqual(self.listing()["quarantines"], [])
        self.post({"test": "a"})
        lifted = self.request("DELETE", "/api/v1/quarantines/a?reason=%00", self.bearer())
        self.assertEqual((lifted.status, lifted.body["error"]["field"]), (400, "reason"))

    def test_expiry_lifts_by_itself(self) -> None:
        """Past its expiry a quarantine is no longer listed, and the history says why."""
        self.assertEqual(self.post({"test": NET, "expires": "1h"}).status, 201)
        self.now += timedelta(hours=2)
        self.assertEqual(self.listing()["quarantines"], [])
        self.post({"test": "other"})  # the next write records the expiry
        actions = [(c["test"], c["action"]) for c in self.listing()["history"]]
        self.assertIn((NET, "expire"), actions)

    def test_issue_link(self) -> None:
        """An issue linked through the API shows on the test's JSON and page; null unlinks."""
        record_run(self.database, [result(NET, Outcome.FAILURE)])
        path = "/api/v1/issues/" + quote(NET, safe="")
        headers = {**self.bearer(), "Content-Type": "application/json"}
        body = json.dumps({"issue_url": "https://x.example/issues/9"}).encode()
        self.assertEqual(self.request("PUT", path, headers, body).status, 200)
        test = self.request("GET", "/api/v1/tests/" + NET, self.bearer()).body
        self.assertEqual(test["triage"]["issue_url"], "https://x.example/issues/9")
        bad = self.request("PUT", path, headers, b'{"issue_url": "ftp://x"}')
        self.assertEqual((bad.status, bad.body["error"]["field"]), (400, "issue_url"))
        self.request("PUT", path, headers, b'{"issue_url": null}')
        test = self.request("GET", "/api/v1/tests/" + NET, self.bearer()).body
        self.assertIsNone(test["triage"]["issue_url"])

    def test_owners_shown_and_filtered(self) -> None:
        """Owners recorded with a run are in the flaky JSON; ?owner= keeps that owner's."""
        for outcome in (Outcome.FAILURE, Outcome.SUCCESS, Outcome.FAILURE):
            start = record_run(
                self.database,
                [result(NET, outcome, seed=1), result("pkg.test_b.B.test_b", outcome, seed=1)],
            )
        owners = {NET: ["@org/team-net"], "pkg.test_b.B.test_b": ["@alice"]}
        self.database.write(record_owners, start.id, owners, self.now)
        everyone = self.request("GET", "/api/v1/flaky", self.bearer()).body
        found = {t["test_id"]: t["owners"] for t in everyone["tests"]}
        self.assertEqual(found, owners)
        net = self.request("GET", "/api/v1/flaky?owner=%40org%2Fteam-net", self.bearer()).body
        self.assertEqual([t["test_id"] for t in net["tests"]], [NET])
        headers = {**self.bearer(), "Content-Type": "application/json"}
        unknown_run = self.request(
            "PUT", f"/api/v1/runs/{'d' * 32}/owners", headers, b'{"owners": {}}'
        )
        self.assertEqual(unknown_run.status, 404)

    def test_run_page_shows_failing_owners(self) -> None:
        """A run's page lists its failing tests' owners and whether each is quarantined."""
        start = record_run(self.database, [result(NET, Outcome.FAILURE), result("pkg.ok")])
        self.database.write(record_owners, start.id, {NET: ["@org/team-net"]}, self.now)
        self.post({"test": "pkg.test_net.*"})
        page = self.request("GET", f"/runs/{start.id}", self.bearer()).body
        self.assertIn(b'<a href="/flaky?owner=%40org/team-net">@org/team-net</a>', page)
        self.assertIn(
            b'<span class="badge quarantined">quarantined</span> by <code>pkg.test_net.*', page
        )
        self.assertNotIn(b"pkg.ok</code></a></td>\n      <td>", page)

    def test_history_on_the_test_page(self) -> None:
        """A test's page and JSON list the changes to every quarantine that covered it,
        its own and a pattern's, newest first, and no other quarantine's."""
        record_run(self.database, [result(NET, Outcome.FAILURE)])
        self.post({"test": "pkg.test_net.*", "reason": "DNS"})
        self.post({"test": "pkg.other.*", "reason": "unrelated"})
        self.post({"test": NET, "reason": "its own"})
        self.request("DELETE", "/api/v1/quarantines/" + NET + "?reason=fixed", self.bearer())
        body = self.request("GET", "/api/v1/tests/" + NET, self.bearer()).body
        changes = [(c["test"], c["action"], c["reason"]) for c in body["quarantine_history"]]
        self.assertEqual(
            changes,
            [
                (NET, "remove", "fixed"),
                (NET, "add", "its own"),
                ("pkg.test_net.*", "add", "DNS"),
            ],
        )
        page = self.request("GET", "/tests/" + NET, self.bearer()).body
        self.assertIn(b"Quarantine history", page)
        self.assertIn(b"of the pattern <code>pkg.test_net.*</code> by ci", page)
        self.assertNotIn(b"unrelated", page)


class QuarantineFormTests(PrivateCase):
    def test_page_form_quarantines_and_lifts(self) -> None:
        """A logged-in user quarantines from the test page, sees it, then lifts it."""
        record_run(self.database, [result(NET, Outcome.FAILURE)])
        session = self.session_cookie()
        page = self.request("GET", "/tests/" + NET, self.with_session(session))
        [csrf] = set(re.findall(rb'name="csrf" value="([^"]+)"', page.body))
        fields = {
            "csrf": csrf.decode(),
            "action": "add",
            "test": NET,
            "back": NET,
            "reason": "flaky on CI",
            "issue": "https://x.example/issues/3",
            "expires": "7d",
        }
        cookies = {auth.SESSION_COOKIE: session}
        answer = self.post_form("/quarantine", fields, cookies)
        self.assertEqual(answer.status, 303)
        page = self.request("GET", "/tests/" + NET, self.with_session(session))
        self.assertIn(b"<strong>quarantined</strong>", page.body)
        self.assertIn(b"flaky on CI", page.body)
        self.assertIn(b'href="https://x.example/issues/3"', page.body)
        lift = {"csrf": csrf.decode(), "action": "remove", "test": NET, "back": NET}
        self.assertEqual(self.post_form("/quarantine", lift, cookies).status, 303)
        page = self.request("GET", "/tests/" + NET, self.with_session(session))
        self.assertIn(b"not quarantined", page.body)

    def test_forms_need_session_and_csrf(self) -> None:
        """Without a session, or with a wrong CSRF secret, the form is refused: 403."""
        record_run(self.database, [result(NET, Outcome.FAILURE)])
        fields = {"csrf": "x", "action": "add", "test": NET}
        self.assertEqual(self.post_form("/quarantine", fields, {}).status, 403)
        session = self.session_cookie()
        cookies = {auth.SESSION_COOKIE: session}
        self.assertEqual(self.post_form("/quarantine", fields, cookies).status, 403)
        bearer_only = self.request(
            "POST",
            "/quarantine",
            {**self.bearer(), "Content-Type": "application/x-www-form-urlencoded"},
            b"action=add&test=x",
        )
        self.assertEqual(bearer_only.status, 403)
        listing = self.request("GET", "/api/v1/quarantines", self.bearer()).body
        self.assertEqual(listing["quarantines"], [])

    def test_looks_fixed(self) -> None:
        """A quarantined test that passed its last 20 runs offers to lift it."""
        record_run(self.database, [result(NET, Outcome.FAILURE)])
        headers = {**self.bearer(), "Content-Type": "application/json"}
        self.request("POST", "/api/v1/quarantines", headers, json.dumps({"test": NET}).encode())
        for _ in range(19):
            record_run(self.database, [result(NET)])
        body = self.request("GET", "/api/v1/tests/" + NET, self.bearer()).body
        self.assertFalse(body["triage"]["looks_fixed"])
        record_run(self.database, [result(NET)])
        body = self.request("GET", "/api/v1/tests/" + NET, self.bearer()).body
        self.assertTrue(body["triage"]["looks_fixed"])
        self.assertEqual(body["triage"]["quarantine"]["test"], NET)
        page = self.request("GET", "/tests/" + NET, self.bearer())
        self.assertIn(b"Looks fixed: lift it?", page.body)
        flaky = self.request("GET", "/api/v1/flaky", self.bearer()).body
        self.assertEqual([t["looks_fixed"] for t in flaky["tests"]], [True])
        console = self.request("GET", "/flaky", self.bearer()).body
        self.assertIn(b"looks fixed: lift it?", console)


B_TEST = "pkg.test_b.B.test_b"
OWNERS = {NET: ["@org/team-net"], B_TEST: ["@alice"]}


class OwnersOnEveryPageTests(PrivateCase):
    """Every page listing tests shows their owners, in its JSON too, and keeps one
    owner's with ``?owner=``."""

    def setUp(self) -> None:
        super().setUp()
        self.runs = []
        for hours, outcome in ((3, Outcome.FAILURE), (2, Outcome.SUCCESS), (1, Outcome.FAILURE)):
            failed = {"message": "timed out"} if outcome is Outcome.FAILURE else {}
            results = [
                result(NET, outcome, seed=1, **failed),
                result(B_TEST, outcome, seed=2, **failed),
                result("pkg.ok"),
            ]
            start = run_start(started_at=self.now - timedelta(hours=hours))
            self.runs.append(record_run(self.database, results, start).id)
        self.database.write(record_owners, self.runs[-1], OWNERS, self.now)

    def get(self, path: str) -> Any:
        answer = self.request("GET", path, self.bearer())
        self.assertEqual(answer.status, 200, path)
        return answer.body

    def test_run(self) -> None:
        """A run's JSON gives each result's owners; ?owner= keeps that owner's results,
        on the page too, where each row links its owners."""
        found = self.get(f"/api/v1/runs/{self.runs[-1]}")
        owners = {r["test_id"]: r["owners"] for r in found["results"]}
        self.assertEqual(owners, {**OWNERS, "pkg.ok": []})
        net = self.get(f"/api/v1/runs/{self.runs[-1]}?owner=%40ORG%2Fteam-net")
        self.assertEqual([r["test_id"] for r in net["results"]], [NET])
        page = self.get(f"/runs/{self.runs[-1]}")
        self.assertIn(b'<a class="owner muted" href="/flaky?owner=%40alice">@alice</a>', page)
        only = self.get(f"/runs/{self.runs[-1]}?owner=%40alice")
        self.assertIn(b"1 of 3 results shown.", only)
        self.assertNotIn(f"<code>{NET}</code>".encode(), only)

    def test_compare(self) -> None:
        """A comparison's JSON names the owners of the tests it lists; ?owner= lists only
        that owner's tests."""
        compare = f"/api/v1/compare?a={self.runs[0]}&b={self.runs[1]}"
        found = self.get(compare)
        self.assertEqual((found["fixed"], found["owners"]), (sorted(OWNERS), OWNERS))
        alice = self.get(compare + "&owner=%40alice")
        self.assertEqual((alice["fixed"], alice["owners"]), ([B_TEST], {B_TEST: ["@alice"]}))
        page = self.get(f"/compare?a={self.runs[0]}&b={self.runs[1]}&owner=%40alice")
        self.assertIn(b'<a class="owner muted" href="/flaky?owner=%40alice">@alice</a>', page)
        self.assertNotIn(f"<code>{NET}</code>".encode(), page)

    def test_clusters(self) -> None:
        """A cluster's tests carry their owners; ?owner= keeps the clusters hitting one of
        that owner's tests, and none for an owner of none."""
        found = self.get("/api/v1/clusters")
        tests = {t["test_id"]: t["owners"] for c in found["clusters"] for t in c["tests"]}
        self.assertEqual(tests, OWNERS)
        alice = self.get("/api/v1/clusters?owner=%40alice")
        self.assertEqual(len(alice["clusters"]), 1)
        self.assertEqual(self.get("/api/v1/clusters?owner=%40nobody")["clusters"], [])
        page = self.get("/clusters?owner=%40alice")
        self.assertIn(b'<a class="owner muted" href="/flaky?owner=%40alice">@alice</a>', page)

    def test_trends(self) -> None:
        """The most flaky tests of the trends carry their owners; ?owner= keeps that
        owner's among them."""
        found = self.get("/api/v1/trends?days=2")
        self.assertEqual({t["test_id"]: t["owners"] for t in found["most_flaky"]}, OWNERS)
        alice = self.get("/api/v1/trends?days=2&owner=%40alice")
        self.assertEqual([t["test_id"] for t in alice["most_flaky"]], [B_TEST])
        page = self.get("/trends?days=2&owner=%40alice")
        self.assertIn(b'<a class="owner muted" href="/flaky?owner=%40alice">@alice</a>', page)
        self.assertNotIn(f"<code>{NET}</code>".encode(), page)

    def test_bad_owner(self) -> None:
        """An owner longer than any CODEOWNERS name is a 400 naming the field."""
        for path in ("runs/" + self.runs[0], "clusters", "trends", "flaky"):
            answer = self.request("GET", f"/api/v1/{path}?owner={'x' * 256}", self.bearer())
            self.assertEqual((answer.status, answer.body["error"]["field"]), (400, "owner"))


class OwnersThroughAServerTests(SynchronousTestCase):
    def test_run_owners_from_a_real_server(self) -> None:
        """A real ``seedboard serve`` gives a run's owners in its JSON and keeps an owner's."""
        folder = Path(self.mktemp()).resolve()
        folder.mkdir(parents=True)
        database = open_database(f"sqlite:///{folder / 'owners.db'}")
        self.addCleanup(database.dispose)
        ensure_schema(database)
        run = record_run(database, [result(NET, Outcome.FAILURE), result(B_TEST)]).id
        database.write(record_owners, run, OWNERS, datetime.now(UTC))
        base = start_server(self, folder, "--db", str(folder / "owners.db"), "--port", "0")
        found = fetch_json(self, f"{base}/api/v1/runs/{run}")
        self.assertEqual({r["test_id"]: r["owners"] for r in found["results"]}, OWNERS)
        net = fetch_json(self, f"{base}/api/v1/runs/{run}?owner=%40org%2Fteam-net")
        self.assertEqual([r["test_id"] for r in net["results"]], [NET])
