"""Tests for seed triage on the dashboard: the flaky page and its JSON twin, triage on the
test page, whole-run replay on the run page, copy buttons and the script behind them."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import treq

from seedboard.db.pool import SynchronousPool
from seedboard.domain import Outcome, Result
from seedboard.triage.fingerprint import fingerprint
from seedboard.web.app import Dashboard
from seedboard.web.templates import make_environment
from seedboard.web.text import iso_utc
from seedboard.web.urls import commit_ranges, path_to_test
from tests.contract import checked_client, schema_errors
from tests.support import result, run_start
from tests.test_ingest_api import add_token
from tests.test_web import BASE, NOW, SCRIPT, DashboardCase, HTTPClient

PREFIX = "pkg.test_m.MTests."
BROKEN = PREFIX + "test_broken"
SEED_DEPENDENT = PREFIX + "test_seed"
NONDETERMINISTIC = PREFIX + "test_nondeterministic"
UNCONFIRMED = PREFIX + "test_unconfirmed"
FLAKY = PREFIX + "test_flaky"
STABLE = PREFIX + "test_stable"
REGRESSED_LIKE = PREFIX + "test_regressed"
RANKED = [BROKEN, UNCONFIRMED, SEED_DEPENDENT, NONDETERMINISTIC, FLAKY]
"""Most worrying first: by failure rate 100%, 50%, 40%, 33%, 25%."""

COMMIT = run_start().commit
"""The commit every run of these tests records."""

ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"


def passed(test_id: str, seed: int | None) -> Result:
    return result(test_id, Outcome.SUCCESS, seed=seed)


def failed(test_id: str, seed: int | None, **fields: Any) -> Result:
    return result(test_id, Outcome.FAILURE, seed=seed, **fields)


def entries(page: str) -> list[str]:
    """The flaky console's rows, each one test's HTML, in page order (flaky, then broken)."""
    return re.findall(r'(?s)<tr>\s*<td><span class="badge class-.*?</tr>', page)


def listed_tests(page: str) -> list[str]:
    """The test ids the flaky console lists, in page order."""
    found = re.findall(r'<td class="test-id"><a [^>]*><code>([^<]*)</code>', page)
    return [html.unescape(m) for m in found]


def entry_for(page: str, test_id: str) -> str:
    [entry] = [e for e in entries(page) if f"<code>{html.escape(test_id)}</code>" in e]
    return entry


def copy_targets(page: str) -> list[str]:
    """The element ids that the page's copy buttons copy from."""
    return re.findall(
        r'<button type="button" class="copy" data-copy="#([^"]+)">Copy</button>', page
    )


def element_text(page: str, element_id: str) -> str:
    """The unescaped text of the ``<pre>`` or ``<code>`` with this id."""
    [text] = re.findall(
        rf'(?s)<(?:pre|code) id="{re.escape(element_id)}">(.*?)</(?:pre|code)>', page
    )
    return html.unescape(text)


class FlakyCase(DashboardCase):
    """A dashboard over five runs on main giving each class, oldest first."""

    def triage_page(self, test_id: str) -> str:
        """A test's page, which shows its triage: groups, seeds, snippets, commands."""
        return self.page(path_to_test(test_id))

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


FLAKY_THEN_BROKEN = [t for t in RANKED if t != BROKEN] + [BROKEN]
"""The console's order: flaky tests by rank, then the broken ones apart."""


class FlakyPageTests(FlakyCase):
    def test_ranked(self) -> None:
        """The page lists every test that is not stable, most worrying first."""
        self.record_history()
        self.assertEqual(listed_tests(self.page("/flaky")), FLAKY_THEN_BROKEN)

    def test_stable_absent(self) -> None:
        """A test that never failed is not on the page."""
        self.record_history()
        self.assertNotIn(STABLE, self.page("/flaky"))

    def test_class_labels(self) -> None:
        """Each entry carries its class as a badge with a text label and a symbol."""
        self.record_history()
        page = self.page("/flaky")
        expected = {
            BROKEN: ("broken", "■"),
            UNCONFIRMED: ("unconfirmed", "○"),
            SEED_DEPENDENT: ("seed-dependent", "◆"),
            NONDETERMINISTIC: ("nondeterministic", "≈"),
            FLAKY: ("flaky", "~"),
        }
        for test_id, (label, mark) in expected.items():
            badge = (
                f'<span class="badge class-{label}"><span class="mark" aria-hidden="true">'
                f"{mark}</span>{label}</span>"
            )
            self.assertIn(badge, entry_for(page, test_id), test_id)

    def test_classes_explained(self) -> None:
        """The page explains every class in one line each."""
        page = self.page("/flaky")
        for label in ("broken", "seed-dependent", "nondeterministic", "unconfirmed", "flaky"):
            self.assertRegex(page, rf"<dt><span class=\"badge class-{label}\">.*</dt><dd>\w")

    def test_rates(self) -> None:
        """Failure and flip rates show as percentages, with the counts behind them."""
        self.record_history()
        row = entry_for(self.page("/flaky"), SEED_DEPENDENT)
        self.assertIn('<td class="num">40%</td>\n      <td class="num">100%</td>', row)
        entry = self.triage_page(SEED_DEPENDENT)
        self.assertIn("<dt>Failure rate</dt><dd>40% ", entry)
        self.assertIn("(2 of 5 runs failed)", entry)
        self.assertIn("<dt>Flip rate</dt><dd>100% ", entry)
        nondeterministic = self.triage_page(NONDETERMINISTIC)
        self.assertIn("<dt>Failure rate</dt><dd>33% ", nondeterministic)

    def test_groups(self) -> None:
        """A failure group shows its summary in code, count, first and last seen, and seeds."""
        self.record_history()
        entry = self.triage_page(BROKEN)
        self.assertRegex(entry, r'<code class="message" title="fingerprint [0-9a-f]+">FailTest: ')
        self.assertIn('<td class="num">5</td>', entry)
        first, last = NOW - timedelta(minutes=50), NOW - timedelta(minutes=10)
        self.assertIn(f'<time datetime="{iso_utc(first)}"', entry)
        self.assertIn(f'<time datetime="{iso_utc(last)}"', entry)
        self.assertIn("50 min ago", entry)
        self.assertIn("10 min ago", entry)
        self.assertIn("11, 12, 13, 14, 15", entry)

    def test_seeds(self) -> None:
        """The per-seed table gives each seed's passes and failures; passing seeds fold away."""
        self.record_history()
        entry = self.triage_page(SEED_DEPENDENT)
        self.assertRegex(
            entry,
            r'(?s)<td class="num mono">5</td>\s*<td class="num">0</td>\s*<td class="num">2</td>',
        )
        self.assertIn("3 seeds that only passed", entry)
        for seed in (1, 2, 3):
            self.assertIn(f'<td class="num mono">{seed}</td><td class="num">1</td>', entry)

    def test_snippet_and_command(self) -> None:
        """A failing seed has its @seed snippet in a pre and its replay command, order included."""
        self.record_history()
        page = self.triage_page(SEED_DEPENDENT)
        prefix = "test-seed-5"
        snippet = element_text(page, f"{prefix}-snippet")
        self.assertIn("    @seed(5)\n    def test_seed(self):", snippet)
        self.assertIn('<pre id="' + prefix + '-snippet">', page)
        self.assertEqual(
            element_text(page, f"{prefix}-command"),
            f"SEEDBOARD_SEED=5 trial --random=99 {SEED_DEPENDENT}",
        )

    def test_command_without_order(self) -> None:
        """A seed that failed in an unshuffled run replays without --random."""
        self.record_history()
        page = self.triage_page(BROKEN)
        command = element_text(page, "test-seed-15-command")
        self.assertEqual(command, f"SEEDBOARD_SEED=15 trial {BROKEN}")

    def test_passing_seed_has_no_replay(self) -> None:
        """Seeds that only passed get no snippet and no command."""
        self.record_history()
        page = self.triage_page(SEED_DEPENDENT)
        self.assertNotIn("-seed-1-command", page)
        self.assertNotIn("@seed(1)", page)

    def test_copy_buttons(self) -> None:
        """On each test's page, every copy button points at an element id that exists
        once on the page."""
        self.record_history()
        copied = 0
        for test_id in RANKED:
            page = self.triage_page(test_id)
            targets = copy_targets(page)
            copied += len(targets)
            for target in targets:
                self.assertEqual(page.count(f'id="{target}"'), 1, target)
        # Failing seeds: broken 5, unconfirmed 1, seed-dependent 1, nondeterministic 1, flaky 0.
        self.assertEqual(copied, 2 * 8)

    def test_test_links(self) -> None:
        """Each entry links to its test's page."""
        self.record_history()
        page = self.page("/flaky")
        self.assertIn(f'<a href="{path_to_test(SEED_DEPENDENT)}"><code>', page)

    def test_empty(self) -> None:
        """With no failures, the page says so and how to record runs."""
        self.record([passed(STABLE, 1)])
        page = self.page("/flaky")
        self.assertIn("No test failed in the last 50 runs.", page)
        self.assertIn("<pre>trial --reporter=seedboard yourpackage</pre>", page)
        self.assertEqual(entries(page), [])

    def test_empty_database(self) -> None:
        """Without any run the page shows the same empty state."""
        self.assertIn("trial --reporter=seedboard yourpackage", self.page("/flaky"))

    def test_window(self) -> None:
        """``?window=N`` judges on the latest N runs: older failures drop out, classes change."""
        self.record_history()
        self.assertEqual(listed_tests(self.page("/flaky?window=1")), [BROKEN])
        page = self.page("/flaky?window=2")
        self.assertEqual(listed_tests(page), [SEED_DEPENDENT, BROKEN])
        self.assertIn("class-unconfirmed", entry_for(page, SEED_DEPENDENT))
        self.assertIn("No test failed in the last 2 runs on", self.page("/flaky?window=2&branch=x"))

    def test_branch(self) -> None:
        """``?branch=`` keeps only that branch's runs; without it every branch counts."""
        self.record_history()
        dev_only = "pkg.test_dev.DevTests.test_dev"
        self.record([failed(dev_only, 3)], minutes_ago=1, branch="dev")
        self.assertEqual(listed_tests(self.page("/flaky?branch=dev")), [dev_only])
        self.assertNotIn(dev_only, listed_tests(self.page("/flaky?branch=main")))
        self.assertIn(dev_only, listed_tests(self.page("/flaky")))

    def test_form(self) -> None:
        """The filter form is a GET form keeping the window and branch asked for, escaped."""
        page = self.page("/flaky?window=7&branch=" + SCRIPT)
        self.assertIn('<form method="get" action="/flaky" class="filters"', page)
        self.assertIn('name="window" min="1" max="500" value="7"', page)
        self.assertIn(f'name="branch" value="{ESCAPED_SCRIPT}"', page)
        self.assertNotIn(SCRIPT, page)

    def test_bad_window(self) -> None:
        """A window that is no integer in 1..500 is a 400, on the page and in the API."""
        for window in ("ten", "0", "501", "-1", "2.5"):
            page = self.page(f"/flaky?window={window}", status=400)
            self.assertIn("window must be an integer between 1 and 500", page)
            body = self.api(f"/api/v1/flaky?window={window}", status=400)
            self.assertEqual(body["error"]["code"], "bad_request")

    def test_nav_link(self) -> None:
        """Every page's navigation links to the flaky tests, error pages included."""
        for path, status in (("/", 200), ("/flaky", 200), ("/nowhere", 404)):
            self.assertIn('<a href="/flaky">Flaky tests</a>', self.page(path, status=status))

    def test_escaped(self) -> None:
        """Markup in test ids, messages, snippets and commands is shown as text."""
        test_id = f"pkg.T.{SCRIPT}"
        self.record([failed(test_id, 1, message=SCRIPT), passed(test_id, 2)], minutes_ago=5)
        self.record([failed(test_id, 1, message=SCRIPT)], minutes_ago=4)
        for path in ("/flaky", path_to_test(test_id)):
            page = self.page(path)
            self.assertNotIn(SCRIPT, page)
            self.assertIn(f"<code>pkg.T.{ESCAPED_SCRIPT}</code>", page)
        page = self.page(path_to_test(test_id))
        self.assertIn(f"@seed(1)\n    def {ESCAPED_SCRIPT}(self):", page)
        self.assertIn(f"SEEDBOARD_SEED=1 trial &#39;pkg.T.{ESCAPED_SCRIPT}&#39;", page)
        self.assertIn("FailTest: &lt;script&gt;alert(", page)


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
                                "status": "reproduced",
                                "status_commit": COMMIT,
                            },
                            {
                                "seed": 1,
                                "passed": 1,
                                "failed": 0,
                                "snippet": None,
                                "command": None,
                                "status": None,
                                "status_commit": None,
                            },
                        ],
                        "polluter": None,
                        "order_command": None,
                        "commits_recorded": True,
                        "before_commit": None,
                        "since_commit": None,
                        "commit_range_url": None,
                        "commits": [{"commit": COMMIT, "passed": 1, "failed": 2}],
                        "url": "/tests/pkg.test_s.STests.test_x",
                        "sparkline": [1, 0, 1],
                        "owners": [],
                        "issue_url": None,
                        "quarantine": None,
                        "looks_fixed": False,
                    }
                ],
                "next": None,
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
        self.assertEqual(classes, {"$ref": "#/components/schemas/Classification"})
        self.assertEqual(
            document["components"]["schemas"]["Classification"]["enum"],
            [
                "stable",
                "broken",
                "seed-dependent",
                "nondeterministic",
                "unconfirmed",
                "flaky",
                "order-dependent",
                "regressed",
                "fixed",
            ],
        )


class FlakySparklineTests(FlakyCase):
    def sparkline(self, entry: str) -> str:
        found = re.findall(r'(?s)<svg class="chart sparkline".*?</svg>', entry)
        self.assertEqual(len(found), 1)
        return str(found[0])

    def test_page(self) -> None:
        """Each flaky test on the page has a sparkline of its recent results, oldest first."""
        self.record_history()
        entry = entry_for(self.page("/flaky"), SEED_DEPENDENT)
        spark = self.sparkline(entry)
        classes = re.findall(r'<rect class="mark o-(\w+)', spark)
        self.assertEqual(classes, ["success", "failure", "success", "failure", "success"])
        self.assertIn(f'aria-label="{SEED_DEPENDENT}: 2 of its last 5 results failed', spark)

    def test_api(self) -> None:
        """The API gives each flaky test's sparkline: 1 failed, 0 passed, oldest first."""
        self.record_history()
        tests = {t["test_id"]: t["sparkline"] for t in self.api("/api/v1/flaky")["tests"]}
        self.assertEqual(tests[SEED_DEPENDENT], [0, 1, 0, 1, 0])
        self.assertEqual(tests[UNCONFIRMED], [1, 0])
        self.assertEqual(tests[BROKEN], [1, 1, 1, 1, 1])

    def test_branch(self) -> None:
        """With a branch the sparkline shows that branch's results only."""
        self.record([failed(FLAKY, None)], minutes_ago=5, branch="dev")
        self.record([passed(FLAKY, None)], minutes_ago=4, branch="dev")
        self.record([failed(FLAKY, None)], minutes_ago=3, branch="main")
        self.record([passed(FLAKY, None)], minutes_ago=2, branch="main")
        self.record([passed(FLAKY, None)], minutes_ago=1, branch="main")
        [test] = self.api("/api/v1/flaky?branch=main")["tests"]
        self.assertEqual(test["sparkline"], [1, 0, 0])
        [test] = self.api("/api/v1/flaky")["tests"]
        self.assertEqual(test["sparkline"], [1, 0, 1, 0, 0])

    def test_at_most_thirty(self) -> None:
        """The sparkline keeps the latest 30 results."""
        for minutes in range(35):
            outcome = failed(FLAKY, None) if minutes % 2 else passed(FLAKY, None)
            self.record([outcome], minutes_ago=100 - minutes)
        [test] = self.api("/api/v1/flaky")["tests"]
        self.assertEqual(len(test["sparkline"]), 30)
        self.assertEqual(test["sparkline"][-1], 0)

    def test_escaped(self) -> None:
        """A test id with markup is escaped in the sparkline's name."""
        self.record([failed(f"pkg.{SCRIPT}", 1)], minutes_ago=2)
        self.record([passed(f"pkg.{SCRIPT}", 2)], minutes_ago=1)
        page = self.page("/flaky")
        self.assertNotIn(SCRIPT, page)
        self.assertIn(f"<title>pkg.{ESCAPED_SCRIPT}: 1 of its last 2 results failed", page)


class TestPageTriageTests(FlakyCase):
    def test_triage_block(self) -> None:
        """The test page shows the test's class, rates, seeds and replay lines above its history."""
        self.record_history()
        page = self.page(path_to_test(SEED_DEPENDENT))
        self.assertIn('<span class="badge class-seed-dependent">', page)
        self.assertIn("<dt>Failure rate</dt><dd>40% ", page)
        self.assertIn("mypkg/test_a.py:10", page)
        self.assertEqual(
            element_text(page, "test-seed-5-command"),
            f"SEEDBOARD_SEED=5 trial --random=99 {SEED_DEPENDENT}",
        )
        self.assertIn("@seed(5)", element_text(page, "test-seed-5-snippet"))
        self.assertEqual(copy_targets(page), ["test-seed-5-command", "test-seed-5-snippet"])
        self.assertLess(
            page.index("Triage over its last 50 runs"), page.index("Runs, newest first")
        )

    def test_stable(self) -> None:
        """A stable test's page says it is stable and offers nothing to replay."""
        self.record_history()
        page = self.page(path_to_test(STABLE))
        self.assertIn('<span class="badge class-stable">', page)
        self.assertIn("never failed in the window", page)
        self.assertEqual(copy_targets(page), [])


class CommitNoteTests(DashboardCase):
    def test_no_commit_recorded(self) -> None:
        """Runs without a commit are judged as before, and the pages say the verdict ignores
        code changes; the JSON says no commit was recorded."""
        self.record([failed(NONDETERMINISTIC, 7)], minutes_ago=20, commit=None)
        self.record([passed(NONDETERMINISTIC, 7)], minutes_ago=10, commit=None)
        found = self.api("/api/v1/flaky")["tests"][0]
        self.assertEqual(found["classification"], "nondeterministic")
        self.assertFalse(found["commits_recorded"])
        self.assertEqual(found["commits"], [{"commit": None, "passed": 1, "failed": 1}])
        test_page = self.page(path_to_test(NONDETERMINISTIC))
        self.assertIn("so this verdict ignores code changes", test_page)
        row = entry_for(self.page("/flaky"), NONDETERMINISTIC)
        self.assertIn('<span class="no-commit muted">no commit recorded: ignores code changes', row)

    def test_some_commits_missing(self) -> None:
        """With a commit on some results only, the page says the others are one unknown
        version, and names no range."""
        self.record([passed(REGRESSED_LIKE, 1)], minutes_ago=20, commit=None)
        self.record([failed(REGRESSED_LIKE, 2)], minutes_ago=10, commit="c" * 40)
        page = self.page(path_to_test(REGRESSED_LIKE))
        self.assertIn("Some of these results have no commit recorded", page)
        self.assertNotIn('class="turn"', page)
        self.assertIn("no commit recorded", entry_for(self.page("/flaky"), REGRESSED_LIKE))

    def test_range_linked_when_known(self) -> None:
        """A regressed test names both commits, linked to their range when the dashboard
        knows the repository; without it, no link."""
        self.record([passed(REGRESSED_LIKE, 1)], minutes_ago=20, commit="a" * 40)
        self.record([failed(REGRESSED_LIKE, 2)], minutes_ago=10, commit="b" * 40)
        page = self.page(path_to_test(REGRESSED_LIKE))
        self.assertIn(f'up to <code title="{"a" * 40}">{"a" * 10}</code>', page)
        self.assertNotIn("/compare/", page)
        ranges = commit_ranges("https://gitlab.com/g/p", None)
        dashboard = Dashboard(
            SynchronousPool(self.database), make_environment(), clock=lambda: NOW, ranges=ranges
        )
        self.client = cast(HTTPClient, checked_client(self, dashboard.app.resource()))
        url = f"https://gitlab.com/g/p/-/compare/{'a' * 40}...{'b' * 40}"
        self.assertIn(f'<a href="{url}">', self.page(path_to_test(REGRESSED_LIKE)))
        self.assertEqual(self.api("/api/v1/flaky")["tests"][0]["commit_range_url"], url)


class RunPageReplayTests(DashboardCase):
    def test_replay_command(self) -> None:
        """A run with a run seed shows that seed and the one command replaying the whole run."""
        run_id = self.record([passed("pkg.t", 1)], run_seed=77, order_seed=5, command="trial pkg")
        page = self.page(f"/runs/{run_id}")
        self.assertIn("<h2>Replay this whole run</h2>", page)
        self.assertEqual(
            element_text(page, "run-replay"),
            "SEEDBOARD_RUN_SEED=77 SEEDBOARD_REPLAY=1 trial --random=5 pkg",
        )
        self.assertIn("run-replay", copy_targets(page))
        self.assertIn('<dt>Run seed</dt><dd class="mono">77</dd>', page)
        replay = self.api(f"/api/v1/runs/{run_id}")["run"]["replay_command"]
        self.assertEqual(replay, "SEEDBOARD_RUN_SEED=77 SEEDBOARD_REPLAY=1 trial --random=5 pkg")

    def test_no_run_seed(self) -> None:
        """Without a run seed there is no whole-run replay, on the page or in JSON."""
        run_id = self.record([passed("pkg.t", 1)])
        page = self.page(f"/runs/{run_id}")
        self.assertNotIn("Replay this whole run", page)
        self.assertNotIn('id="run-replay"', page)
        self.assertIsNone(self.api(f"/api/v1/runs/{run_id}")["run"]["replay_command"])
        self.assertIsNone(self.api("/api/v1/runs")["runs"][0]["replay_command"])

    def test_replay_label(self) -> None:
        """Replay runs carry a visible "replay" label on their page and in the runs list."""
        replay = self.record([passed("pkg.t", 1)], minutes_ago=1, is_replay=True)
        plain = self.record([passed("pkg.t", 1)], minutes_ago=2)
        label = '<span class="mark" aria-hidden="true">↻</span>replay</span>'
        self.assertIn(label, self.page(f"/runs/{replay}"))
        self.assertNotIn(label, self.page(f"/runs/{plain}"))
        listing = self.page("/?replay=include")
        rows = re.findall(r"(?s)<tr>\s*<td><a href=\"/runs/(\w+)\">.*?</tr>", listing)
        self.assertEqual(rows, [replay, plain])
        self.assertEqual(listing.count(label), 1)
        self.assertLess(listing.index(label), listing.index(plain))

    def test_result_replay_command(self) -> None:
        """A failing result's replay command keeps its run's order, with a copy button."""
        run_id = self.record([failed("pkg.T.test_x", 6)], order_seed=12)
        page = self.page(f"/runs/{run_id}")
        self.assertEqual(
            element_text(page, "result-1-command"),
            "SEEDBOARD_SEED=6 trial --random=12 pkg.T.test_x",
        )
        self.assertEqual(copy_targets(page), ["result-1-command"])


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

    def test_pages_load_it(self) -> None:
        """Pages with copy buttons load the script by address, deferred."""
        run_id = self.record([failed("pkg.T.test_x", 6)])
        for path in (f"/runs/{run_id}", "/tests/pkg.T.test_x"):
            self.assertIn('<script src="/static/copy.js" defer></script>', self.page(path))

    def test_no_inline_script(self) -> None:
        """No page has an inline script: every script element names a file of this site."""
        run_id = self.record([failed("pkg.T.test_x", 6)], run_seed=3)
        for path in ("/", "/flaky", f"/runs/{run_id}", "/tests/pkg.T.test_x", "/nowhere"):
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
        client = cast(HTTPClient, checked_client(self, dashboard.app.resource()))
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
        client = cast(HTTPClient, checked_client(self, dashboard.app.resource()))
        self.assertEqual(self.fetch("/static/notes.txt", client)[0], 404)


class SecurityTests(DashboardCase):
    def test_content_security_policy(self) -> None:
        """Scripts and styles come from this site only, never inline; no page may be framed."""
        response = self.get("/flaky")
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
                "style-src": ["'self'"],
                "base-uri": ["'none'"],
                "form-action": ["'self'"],
                "frame-ancestors": ["'none'"],
            },
        )


class PrivateFlakyTests(DashboardCase):
    def setUp(self) -> None:
        super().setUp()
        self.token = add_token(self.database)
        dashboard = Dashboard(
            SynchronousPool(self.database), make_environment(), clock=lambda: NOW, private=True
        )
        self.private = cast(HTTPClient, checked_client(self, dashboard.app.resource()))

    def status(self, path: str, token: str | None = None) -> int:
        headers = {} if token is None else {"Authorization": [f"Bearer {token}"]}
        client = cast(Any, self.private)
        response = self.successResultOf(
            client.request("GET", BASE + path, headers=headers, allow_redirects=False)
        )
        return cast(int, response.code)

    def test_needs_reader(self) -> None:
        """On a private server the flaky page, its API and the script need a token or login."""
        self.assertEqual(self.status("/flaky"), 303)
        self.assertEqual(self.status("/api/v1/flaky"), 401)
        self.assertEqual(self.status("/static/copy.js"), 303)
        for path in ("/flaky", "/api/v1/flaky", "/static/copy.js"):
            self.assertEqual(self.status(path, self.token), 200, path)


class ConsoleTests(FlakyCase):
    def test_broken_apart(self) -> None:
        """Broken tests are listed apart, after the flaky ones and folded away: they fail
        every run, so they are not flaky, and would bury the tests that are."""
        self.record_history()
        page = self.page("/flaky")
        flaky, broken = page.split('<details class="broken-tests">')
        self.assertEqual(listed_tests(flaky), [t for t in RANKED if t != BROKEN])
        self.assertEqual(listed_tests(broken), [BROKEN])
        self.assertIn('<h2 id="broken-tests">Broken <span class="count">(1)</span>', broken)

    def test_class_filter(self) -> None:
        """``?class=`` keeps the tests of that class; repeated, of any of them; the page
        and its JSON twin alike, and the form keeps the boxes ticked."""
        self.record_history()
        query = "class=seed-dependent&class=flaky"
        page = self.page("/flaky?" + query)
        self.assertEqual(listed_tests(page), [SEED_DEPENDENT, FLAKY])
        listed = [t["test_id"] for t in self.api("/api/v1/flaky?" + query)["tests"]]
        self.assertEqual(listed, [SEED_DEPENDENT, FLAKY])
        self.assertIn('name="class" value="flaky" checked', page)
        self.assertIn(f'href="/api/v1/flaky?{query}"', page.replace("&amp;", "&"))

    def test_search(self) -> None:
        """``?q=`` keeps the tests whose id holds the text, in any case."""
        self.record_history()
        self.assertEqual(listed_tests(self.page("/flaky?q=TEST_SEED")), [SEED_DEPENDENT])
        self.assertIn("No test matches these filters.", self.page("/flaky?q=nothing"))
        listed = [t["test_id"] for t in self.api("/api/v1/flaky?q=nondet")["tests"]]
        self.assertEqual(listed, [NONDETERMINISTIC])

    def test_sort(self) -> None:
        """A column's header sorts by it, most first, ties in rank order; the current one
        says so to assistive technology."""
        self.record_history()
        page = self.page("/flaky?sort=test")
        flaky = sorted(t for t in RANKED if t != BROKEN)
        self.assertEqual(listed_tests(page), [*flaky, BROKEN])
        self.assertIn('aria-sort="ascending"><a href="/flaky?sort=test">Test</a>', page)
        by_flips = self.api("/api/v1/flaky?sort=flip_rate")["tests"]
        rates = [t["flip_rate"] for t in by_flips]
        self.assertEqual(rates, sorted(rates, reverse=True))
        self.assertEqual(len(by_flips), len(RANKED))

    def test_keyset_pages(self) -> None:
        """``?limit=`` pages the console: each page's next link (and the JSON's ``next``)
        leads on through the same order and filters, every test once, broken ones apart
        on the page and in order in the JSON."""
        self.record_history()
        for sort in ("rank", "test", "failure_rate"):
            self.assertEqual(self.follow_pages(f"/flaky?limit=2&sort={sort}"), self.listed(sort))
            found, url = [], f"/api/v1/flaky?limit=2&sort={sort}"
            while url:
                body = self.api(url)
                found += [t["test_id"] for t in body["tests"]]
                url = body["next"]
            self.assertEqual(
                found, [t["test_id"] for t in self.api(f"/api/v1/flaky?sort={sort}")["tests"]]
            )
        filtered = self.follow_pages("/flaky?limit=1&class=seed-dependent&class=flaky")
        self.assertEqual(filtered, [SEED_DEPENDENT, FLAKY])

    def listed(self, sort: str) -> list[str]:
        return [t for t in listed_tests(self.page(f"/flaky?sort={sort}")) if t != BROKEN]

    def follow_pages(self, url: str) -> list[str]:
        """The tests of every page from ``url`` on, broken ones left out."""
        found: list[str] = []
        while True:
            page = self.page(url)
            found += [t for t in listed_tests(page.split('<details class="broken-tests">')[0])]
            link = re.search(r'<a href="([^"]*)" rel="next">', page)
            if link is None:
                return found
            url = html.unescape(link.group(1))
            self.assertIn("First page", self.page(url))

    def test_bad_cursor(self) -> None:
        """A cursor of another order, or text no page gave, is a 400 naming ``after``."""
        self.record_history()
        body = self.api("/api/v1/flaky?limit=1&sort=test")
        other_order = body["next"].replace("sort=test", "sort=runs")
        for url in (other_order, "/api/v1/flaky?after=bm9wZQ", "/api/v1/flaky?after=%25%25"):
            self.assertEqual(self.api(url, status=400)["error"]["field"], "after", url)
        self.assertIn("after must be", self.page("/flaky?after=nope", status=400))

    def test_bad_choices(self) -> None:
        """An unknown class or sort is a 400 naming the argument, on the page and in the API."""
        for argument, value in (("class", "wobbly"), ("sort", "colour")):
            body = self.api(f"/api/v1/flaky?{argument}={value}", status=400)
            self.assertEqual(body["error"]["field"], argument)
            self.assertIn(
                f"{argument} must be", self.page(f"/flaky?{argument}={value}", status=400)
            )
