"""Tests for seed triage on the dashboard: the flaky tests' JSON, each test's triage and each
run's replay command in JSON, and the copy buttons' script."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

import treq
from treq.testing import StubTreq

from seedboard.db.pool import SynchronousPool
from seedboard.domain import Outcome, Result
from seedboard.triage.fingerprint import fingerprint
from seedboard.web.app import Dashboard
from seedboard.web.render import make_environment, path_to_test
from tests.support import result
from tests.test_web import BASE, DashboardCase, HTTPClient, schema_errors

PREFIX = "pkg.test_m.MTests."
BROKEN = PREFIX + "test_broken"
SEED_DEPENDENT = PREFIX + "test_seed"
NONDETERMINISTIC = PREFIX + "test_nondeterministic"
UNCONFIRMED = PREFIX + "test_unconfirmed"
FLAKY = PREFIX + "test_flaky"
STABLE = PREFIX + "test_stable"
RANKED = [BROKEN, UNCONFIRMED, SEED_DEPENDENT, NONDETERMINISTIC, FLAKY]
"""Most worrying first: by failure rate 100%, 50%, 40%, 33%, 25%."""


def passed(test_id: str, seed: int | None) -> Result:
    return result(test_id, Outcome.SUCCESS, seed=seed)


def failed(test_id: str, seed: int | None, **fields: Any) -> Result:
    return result(test_id, Outcome.FAILURE, seed=seed, **fields)


class FlakyCase(DashboardCase):
    """A dashboard over five runs on main giving each class, oldest first."""

    def record_history(self) -> list[str]:
        runs = [
            [
                failed(BROKEN, 11),
                passed(SEED_DEPENDENT, 1),
                passed(NONDETERMINISTIC, 7),
                failed(UNCONFIRMED, 9),
                passed(FLAKY, None),
            ],
            [
                failed(BROKEN, 12),
                failed(SEED_DEPENDENT, 5),
                failed(NONDETERMINISTIC, 7),
                passed(UNCONFIRMED, 10),
                failed(FLAKY, None),
            ],
            [
                failed(BROKEN, 13),
                passed(SEED_DEPENDENT, 2),
                passed(NONDETERMINISTIC, 8),
                passed(FLAKY, None),
            ],
            [failed(BROKEN, 14), failed(SEED_DEPENDENT, 5), passed(FLAKY, None)],
            [failed(BROKEN, 15), passed(SEED_DEPENDENT, 3)],
        ]
        order_seeds = [None, 41, None, 99, None]
        return [
            self.record(
                [*results, passed(STABLE, 100 + i)],
                minutes_ago=50 - 10 * i,
                order_seed=order_seeds[i],
            )
            for i, results in enumerate(runs)
        ]


class FlakyAPITests(FlakyCase):
    def test_shape(self) -> None:
        """Each flaky test's JSON has exactly the contract's fields and values."""
        test_id = "pkg.test_s.STests.test_x"
        message = "1 != 2 (random seed: 5)"
        self.record([failed(test_id, 5)], minutes_ago=30, order_seed=3)
        self.record([passed(test_id, 1)], minutes_ago=20)
        self.record([failed(test_id, 5)], minutes_ago=10, order_seed=4)
        traceback = failed(test_id, 5).traceback
        self.assertEqual(
            self.api("/api/v1/flaky"),
            {
                "window": 50,
                "branch": None,
                "tests": [
                    {
                        "test_id": test_id,
                        "file": "mypkg/test_a.py",
                        "line": 10,
                        "classification": "seed-dependent",
                        "failure_rate": 2 / 3,
                        "flip_rate": 1.0,
                        "runs": 3,
                        "failures": 2,
                        "groups": [
                            {
                                "fingerprint": fingerprint(
                                    "twisted.trial.unittest.FailTest", message, traceback
                                ),
                                "summary": "FailTest: <n> != <n>",
                                "count": 2,
                                "first_seen": "2026-11-25T16:30:00.000000Z",
                                "last_seen": "2026-11-25T16:50:00.000000Z",
                                "seeds": [5],
                            }
                        ],
                        "seeds": [
                            {
                                "seed": 5,
                                "passed": 0,
                                "failed": 2,
                                "snippet": (
                                    "from seedboard.testing import seed\n\n"
                                    "class STests(...):\n"
                                    "    @seed(5)\n"
                                    "    def test_x(self):"
                                ),
                                "command": f"SEEDBOARD_SEED=5 trial --random=4 {test_id}",
                            },
                            {"seed": 1, "passed": 1, "failed": 0, "snippet": None, "command": None},
                        ],
                        "url": "/tests/pkg.test_s.STests.test_x",
                    }
                ],
            },
        )

    def test_ranked_like_page(self) -> None:
        """The API lists the same tests as the page, in the same order, with their classes."""
        self.record_history()
        tests = self.api("/api/v1/flaky")["tests"]
        self.assertEqual([t["test_id"] for t in tests], RANKED)
        self.assertEqual(
            [t["classification"] for t in tests],
            ["broken", "unconfirmed", "seed-dependent", "nondeterministic", "flaky"],
        )

    def test_arguments_echoed(self) -> None:
        """The answer says which window and branch it was judged on."""
        body = self.api("/api/v1/flaky?window=7&branch=dev")
        self.assertEqual((body["window"], body["branch"]), (7, "dev"))
        self.assertEqual(self.api("/api/v1/flaky?branch=")["branch"], None)

    def test_limit(self) -> None:
        """``?limit=`` keeps the most worrying tests."""
        self.record_history()
        tests = self.api("/api/v1/flaky?limit=2")["tests"]
        self.assertEqual([t["test_id"] for t in tests], RANKED[:2])

    def test_test_triage(self) -> None:
        """A test's JSON carries its triage: the flaky list's object, or stable."""
        self.record_history()
        [listed] = [t for t in self.api("/api/v1/flaky")["tests"] if t["test_id"] == FLAKY]
        self.assertEqual(self.api("/api/v1" + path_to_test(FLAKY))["triage"], listed)
        stable = self.api("/api/v1" + path_to_test(STABLE))["triage"]
        self.assertEqual(stable["classification"], "stable")
        self.assertEqual((stable["runs"], stable["failures"], stable["groups"]), (5, 0, []))

    def test_answers_fit_schemas(self) -> None:
        """The flaky list, a test's triage and a replayable run fit the documented schemas."""
        run_ids = self.record_history()
        replayable = self.record([passed(STABLE, 1)], run_seed=8, is_replay=True)
        document = self.api("/api/v1/openapi.json")
        for path, schema in [
            ("/api/v1/flaky", "FlakyPage"),
            ("/api/v1/flaky?window=3&branch=main&limit=2", "FlakyPage"),
            ("/api/v1" + path_to_test(SEED_DEPENDENT), "TestHistory"),
            ("/api/v1" + path_to_test(STABLE), "TestHistory"),
            (f"/api/v1/runs/{replayable}", "RunDetail"),
            (f"/api/v1/runs/{run_ids[0]}", "RunDetail"),
            ("/api/v1/flaky?window=0", "Error"),
        ]:
            body = self.api(path, status=400 if "window=0" in path else 200)
            reference = {"$ref": f"#/components/schemas/{schema}"}
            self.assertEqual(schema_errors(body, reference, document), [], path)

    def test_documented(self) -> None:
        """OpenAPI documents the flaky list's parameters and the classes it can answer."""
        document = self.api("/api/v1/openapi.json")
        operation = document["paths"]["/api/v1/flaky"]["get"]
        parameters = {p["name"]: p["schema"] for p in operation["parameters"]}
        self.assertEqual(
            parameters["window"], {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}
        )
        self.assertEqual(parameters["limit"]["default"], 200)
        self.assertIn("branch", parameters)
        classes = document["components"]["schemas"]["Triage"]["properties"]["classification"]
        self.assertEqual(
            classes["enum"],
            ["stable", "broken", "seed-dependent", "nondeterministic", "unconfirmed", "flaky"],
        )


class StaticTests(DashboardCase):
    def fetch(self, path: str, client: HTTPClient | None = None) -> tuple[int, str, bytes]:
        response = self.successResultOf((client or self.client).request("GET", BASE + path))
        body: bytes = self.successResultOf(treq.content(response))
        content_type = (response.headers.getRawHeaders("content-type") or [""])[0]
        return response.code, content_type, body

    def test_copy_js(self) -> None:
        """/static/copy.js is served as JavaScript, not to be sniffed as anything else."""
        response = self.get("/static/copy.js")
        self.assertEqual(response.code, 200)
        self.assertEqual(
            response.headers.getRawHeaders("content-type"), ["text/javascript; charset=utf-8"]
        )
        self.assertEqual(response.headers.getRawHeaders("x-content-type-options"), ["nosniff"])
        script: bytes = self.successResultOf(treq.content(response))
        for needed in (b"navigator.clipboard.writeText", b'execCommand("copy")', b"Copied"):
            self.assertIn(needed, script)

    def test_no_inline_script(self) -> None:
        """No page has an inline script: every script element names a file of this site."""
        run_id = self.record([result("pkg.T.test_x", Outcome.FAILURE, seed=6)], run_seed=3)
        for path in ("/", f"/runs/{run_id}", "/tests/pkg.T.test_x", "/nowhere"):
            page = self.page(path, status=404 if path == "/nowhere" else 200)
            scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
            for attributes, body in scripts:
                self.assertRegex(attributes, r'^ src="/static/[\w.-]+"')
                self.assertEqual(body, "")

    def test_escapes_refused(self) -> None:
        """Paths leading out of the static folder, however encoded, serve nothing."""
        root = Path(self.mktemp())
        (root / "static").mkdir(parents=True)
        (root / "static" / "ok.js").write_text("ok")
        (root / "static" / ".hidden.js").write_text("hidden")
        (root / "secret.js").write_text("secret")
        dashboard = Dashboard(
            SynchronousPool(self.database), make_environment(), static=root / "static"
        )
        client = cast(HTTPClient, StubTreq(dashboard.app.resource()))
        self.assertEqual(self.fetch("/static/ok.js", client)[::2], (200, b"ok"))
        for path in (
            "/static/../secret.js",
            "/static/%2e%2e/secret.js",
            "/static/%2E%2E%2Fsecret.js",
            "/static/..%2fsecret.js",
            "/static/ok/../../secret.js",
            "/static/..%5csecret.js",
            "/static//secret.js",
            "/static/.hidden.js",
            "/static/%00",
            "/static/",
        ):
            status, content_type, body = self.fetch(path, client)
            self.assertEqual(status, 404, path)
            self.assertEqual(content_type, "text/html; charset=utf-8", path)
            self.assertNotIn(b"secret", body, path)

    def test_templates_not_served(self) -> None:
        """The templates beside the static folder are never served, raw or rendered."""
        for path in (
            "/static/../base.html",
            "/static/%2e%2e/base.html",
            "/static/%2e%2e%2fflaky.html",
        ):
            status, _, body = self.fetch(path)
            self.assertEqual(status, 404, path)
            self.assertNotIn(b"{% block", body, path)

    def test_only_known_types(self) -> None:
        """Files of other types in the static folder are not served."""
        root = Path(self.mktemp())
        root.mkdir()
        (root / "notes.txt").write_text("notes")
        dashboard = Dashboard(SynchronousPool(self.database), make_environment(), static=root)
        client = cast(HTTPClient, StubTreq(dashboard.app.resource()))
        self.assertEqual(self.fetch("/static/notes.txt", client)[0], 404)


class SecurityTests(DashboardCase):
    def test_content_security_policy(self) -> None:
        """Scripts may come from this site only, never inline; all else stays as strict."""
        response = self.get("/")
        [policy] = response.headers.getRawHeaders("content-security-policy")
        directives = {
            name: values
            for name, *values in (part.split() for part in policy.split(";") if part.strip())
        }
        self.assertEqual(
            directives,
            {
                "default-src": ["'none'"],
                "script-src": ["'self'"],
                "style-src": ["'unsafe-inline'"],
                "base-uri": ["'none'"],
                "form-action": ["'self'"],
            },
        )
