"""Tests for the trends page with its JSON twin (the pure part and the store are tested in
test_triage_trends and test_services_trends)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from seedboard.domain import Outcome
from seedboard.web.chart_views import rate_ceiling
from seedboard.web.urls import path_to_test
from tests.contract import schema_errors
from tests.support import result
from tests.test_auth import PrivateCase
from tests.test_web import NOW, SCRIPT, DashboardCase


class RateCeilingTests(SynchronousTestCase):
    def test_rate_ceiling(self) -> None:
        """The failure-rate chart tops out at the next tenth, at least 10%."""
        self.assertEqual(rate_ceiling(0.0), 0.1)
        self.assertEqual(rate_ceiling(0.1), 0.1)
        self.assertEqual(rate_ceiling(0.23), 0.3)
        self.assertEqual(rate_ceiling(1.0), 1.0)


def chart(page: str, kind: str) -> str:
    svg: str
    [svg] = re.findall(rf'(?s)<svg class="chart {kind}".*?</svg>', page)
    return svg


def point(
    start: str,
    runs: int = 0,
    results: int = 0,
    failures: int = 0,
    flaky: int = 0,
    newly: int = 0,
    fixed: int = 0,
) -> dict[str, Any]:
    """A trend point as the JSON has it."""
    return {
        "start": start,
        "runs": runs,
        "results": results,
        "failures": failures,
        "failure_rate": failures / results if results else 0.0,
        "flaky_tests": flaky,
        "newly_flaky": newly,
        "fixed": fixed,
    }


class TrendsWebTests(DashboardCase):
    """NOW is 2026-11-25 17:00 UTC; pkg.t fails once two days ago, passing around it."""

    def record_history(self) -> None:
        day = 24 * 60
        self.record([result("pkg.t"), result("pkg.u")], minutes_ago=3 * day)
        self.record([result("pkg.t"), result("pkg.u")], minutes_ago=2 * day)
        self.record([result("pkg.t", Outcome.FAILURE, seed=7)], minutes_ago=2 * day - 60)
        self.record([result("pkg.t")], minutes_ago=day)

    def test_api_shape(self) -> None:
        """The JSON has the documented shape, one point per day, and the flaky test."""
        self.record_history()
        body = self.api("/api/v1/trends?days=4")
        self.assertEqual(
            {k: v for k, v in body.items() if k != "points"},
            {
                "branch": None,
                "days": 4,
                "bucket": "day",
                "most_flaky": [
                    {
                        "test_id": "pkg.t",
                        "failures": 1,
                        "runs": 4,
                        "failure_rate": 0.25,
                        "flip_rate": 2 / 3,
                        "classification": "unconfirmed",
                        "sparkline": [0, 0, 1, 0],
                        "url": "/tests/pkg.t",
                        "owners": [],
                    }
                ],
            },
        )
        self.assertEqual(
            body["points"],
            [
                point("2026-11-22", runs=1, results=2),
                point("2026-11-23", runs=2, results=3, failures=1, flaky=1, newly=1),
                point("2026-11-24", runs=1, results=1, fixed=1),
                point("2026-11-25"),
            ],
        )

    def test_schema(self) -> None:
        """The JSON fits the documented Trends schema, daily and weekly."""
        self.record_history()
        document = self.api("/api/v1/openapi.json")
        for days in (4, 30, 120, 365):
            body = self.api(f"/api/v1/trends?days={days}")
            errors = schema_errors(body, {"$ref": "#/components/schemas/Trends"}, document)
            self.assertEqual(errors, [], days)

    def test_defaults(self) -> None:
        """Without arguments: 30 days on every branch, per day."""
        body = self.api("/api/v1/trends")
        self.assertEqual((body["days"], body["branch"], body["bucket"]), (30, None, "day"))
        self.assertEqual(len(body["points"]), 30)
        self.assertEqual(body["points"][-1]["start"], NOW.date().isoformat())

    def test_weeks(self) -> None:
        """Over 60 days the points are weeks starting on Mondays, the first one clipped."""
        body = self.api("/api/v1/trends?days=61")
        self.assertEqual(body["bucket"], "week")
        starts = [date.fromisoformat(p["start"]) for p in body["points"]]
        self.assertEqual(starts[0], NOW.date() - timedelta(days=60))
        self.assertTrue(all(day.weekday() == 0 for day in starts[1:]))

    def test_branch(self) -> None:
        """``branch=`` counts that branch's runs only."""
        self.record_history()
        self.record([result("pkg.t", Outcome.FAILURE)], minutes_ago=5, branch="dev")
        body = self.api("/api/v1/trends?days=4&branch=dev")
        self.assertEqual(body["branch"], "dev")
        self.assertEqual([p["runs"] for p in body["points"]], [0, 0, 0, 1])
        self.assertEqual(body["most_flaky"], [])

    def test_bad_days(self) -> None:
        """Days outside 1..365, or no integer, are a 400 naming ``days``."""
        for days in ("0", "366", "-1", "ten", "1.5"):
            body = self.api(f"/api/v1/trends?days={days}", status=400)
            self.assertEqual(
                body["error"],
                {
                    "code": "bad_request",
                    "message": "days must be an integer between 1 and 365",
                    "field": "days",
                },
            )
        self.assertIn("days must be an integer", self.page("/trends?days=0", status=400))

    def test_page_charts(self) -> None:
        """The page draws runs, failure rate and flakiness as inline SVG, no script."""
        self.record_history()
        page = self.page("/trends?days=4")
        runs = chart(page, "bars")
        self.assertIn("<title>2026-11-23: 2 runs</title>", runs)
        self.assertIn("<title>2026-11-22: 1 run</title>", runs)
        line = chart(page, "line")
        self.assertIn("<title>2026-11-23: 33% of 3 results failed</title>", line)
        self.assertIn("<title>2026-11-22: 0% of 2 results failed</title>", line)
        self.assertIn("<title>2026-11-24: 0% of 1 result failed</title>", line)
        self.assertEqual(line.count("<circle "), 3, "no dot where nothing ran")
        grouped = chart(page, "bars grouped")
        self.assertIn("<title>2026-11-23: 1 newly flaky</title>", grouped)
        self.assertIn("<title>2026-11-24: 1 fixed</title>", grouped)
        self.assertNotIn("<script", page)

    def test_page_numbers(self) -> None:
        """The numbers behind the charts are in a table, for screen readers too."""
        self.record_history()
        page = self.page("/trends?days=4")
        table = page.partition('<details class="numbers">')[2].partition("</details>")[0]
        rows = re.findall(r"(?s)<tr>\s*<th scope=\"row\"[^>]*>([^<]+)</th>(.*?)</tr>", table)
        cells = {day: re.findall(r'<td class="num">([^<]*)</td>', rest) for day, rest in rows}
        self.assertEqual(cells["2026-11-23"], ["2", "3", "1", "33%", "1", "1", "0"])
        self.assertEqual(cells["2026-11-24"], ["1", "1", "0", "0%", "0", "0", "1"])
        self.assertEqual(cells["2026-11-25"], ["0", "0", "0", "—", "0", "0", "0"])

    def test_page_definitions(self) -> None:
        """The page says what each number means."""
        self.record_history()
        page = self.page("/trends?days=4")
        for text in (
            "runs started in the day, replays left out",
            "failures ÷ results",
            "tests with both a pass and a failure in the day",
            "flaky in this day, and in no earlier day of the range",
            "tests that failed in the previous day and only passed in this one",
        ):
            self.assertIn(text, page)

    def test_most_flaky_table(self) -> None:
        """Each most flaky test is linked, with its sparkline and class."""
        self.record_history()
        page = self.page("/trends?days=4")
        table = page.partition('<table class="most-flaky">')[2].partition("</table>")[0]
        self.assertIn(f'<a href="{path_to_test("pkg.t")}"><code>pkg.t</code></a>', table)
        spark = chart(table, "sparkline")
        self.assertIn('aria-label="pkg.t: 1 of its last 4 results failed, oldest first"', spark)
        self.assertEqual(len(re.findall(r"<rect ", spark)), 4)
        self.assertIn("class-unconfirmed", table)

    def test_escaped(self) -> None:
        """A test id with markup is escaped in the sparkline's title and the table."""
        self.record([result(SCRIPT), result(SCRIPT, Outcome.FAILURE)], minutes_ago=10)
        page = self.page("/trends?days=1")
        self.assertNotIn(SCRIPT, page)
        self.assertIn("<title>&lt;script&gt;alert(1)&lt;/script&gt;: 1 of its last 2", page)

    def test_week_page(self) -> None:
        """Weekly trends say so, and label each bucket as a week."""
        self.record_history()
        page = self.page("/trends?days=90")
        self.assertIn("per week", page)
        self.assertIn("week of 2026-11-23", page)

    def test_empty(self) -> None:
        """With no runs in the range the page explains how to record some."""
        page = self.page("/trends")
        self.assertIn("No runs in these 30 days.", page)
        self.assertIn("trial --reporter=seedboard yourpackage", page)
        self.assertNotIn('<svg class="chart', page)

    def test_form(self) -> None:
        """The page has a GET form holding the range, escaped."""
        page = self.page(f"/trends?days=7&branch={SCRIPT}")
        self.assertIn('<form method="get" action="/trends" class="filters"', page)
        self.assertIn('name="days" min="1" max="365" value="7"', page)
        self.assertNotIn(SCRIPT, page)

    def test_nav(self) -> None:
        """Every page links to the trends."""
        for path in ("/", "/flaky", "/trends", "/compare"):
            self.assertIn('<a href="/trends">Trends</a>', self.page(path))


class PrivateTrendsTests(PrivateCase):
    """The new pages and their JSON twins are guarded like every other read."""

    def test_guarded(self) -> None:
        """Without a token the new routes refuse; with one they answer."""
        run = self.run_id
        for path in ("/trends", f"/compare?a={run}&b={run}"):
            answer = self.request("GET", path)
            self.assertEqual(answer.status, 303, path)
            self.assertTrue((answer.header("location") or [""])[0].startswith("/login?"), path)
            self.assertEqual(self.request("GET", path, self.bearer()).status, 200, path)
        for path in ("/api/v1/trends", f"/api/v1/compare?a={run}&b={run}"):
            answer = self.request("GET", path)
            self.assertEqual(answer.status, 401, path)
            self.assertEqual(answer.body["error"]["code"], "unauthorized")
            self.assertEqual(self.request("GET", path, self.bearer()).status, 200, path)

    def test_guarded_before_arguments(self) -> None:
        """Bad arguments are refused only after the reader is checked: no 400 for strangers."""
        for path in ("/api/v1/trends?days=0", "/api/v1/compare", "/api/v1/runs?before=x"):
            self.assertEqual(self.request("GET", path).status, 401, path)
