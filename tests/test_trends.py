"""Tests for trends: bucketing and each metric's definition (pure), the store over a real
SQLite file, and the trends page with its JSON twin."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from seedboard.db import trends as trends_store
from seedboard.db.trends import trends
from seedboard.domain import Outcome, Result
from seedboard.triage.classify import Classification, Observation
from seedboard.triage.trends import (
    Bucket,
    DayRuns,
    DayTest,
    TrendPoint,
    bucket_for,
    bucket_start,
    bucket_starts,
    first_day,
    flaky_trend,
    most_flaky_candidates,
    outcome_point,
    trend_points,
)
from seedboard.web.chart_views import rate_ceiling
from seedboard.web.urls import path_to_test
from tests.contract import schema_errors
from tests.support import record_run, result, run_start, temporary_database
from tests.test_auth import PrivateCase
from tests.test_web import NOW, SCRIPT, DashboardCase

D1, D2, D3, D4 = (date(2026, 11, d) for d in (2, 3, 4, 5))
"""Four days in a row, Monday 2 November to Thursday 5 November 2026."""


def day_test(day: date, test: int, passes: int = 0, failures: int = 0) -> DayTest:
    return DayTest(day=day, test=test, passes=passes, failures=failures)


class BucketTests(SynchronousTestCase):
    def test_day_or_week(self) -> None:
        """Up to 60 days are counted per day, longer ranges per week."""
        self.assertEqual(bucket_for(1), Bucket.DAY)
        self.assertEqual(bucket_for(60), Bucket.DAY)
        self.assertEqual(bucket_for(61), Bucket.WEEK)
        self.assertEqual(bucket_for(365), Bucket.WEEK)

    def test_first_day(self) -> None:
        """A range of N days ends with the last day and holds N days."""
        self.assertEqual(first_day(D4, 1), D4)
        self.assertEqual(first_day(D4, 4), D1)

    def test_days(self) -> None:
        """Daily buckets are every day of the range, both ends included."""
        self.assertEqual(bucket_starts(D1, D4, Bucket.DAY), [D1, D2, D3, D4])

    def test_weeks(self) -> None:
        """Weekly buckets start on Mondays; the first starts where the range does."""
        first, last = date(2026, 11, 4), date(2026, 11, 24)  # a Wednesday, a Tuesday
        starts = bucket_starts(first, last, Bucket.WEEK)
        self.assertEqual(starts, [first, date(2026, 11, 9), date(2026, 11, 16), date(2026, 11, 23)])
        self.assertEqual(bucket_start(date(2026, 11, 8), first, Bucket.WEEK), first)
        self.assertEqual(bucket_start(date(2026, 11, 15), first, Bucket.WEEK), date(2026, 11, 9))
        self.assertEqual(bucket_start(date(2026, 11, 16), first, Bucket.WEEK), date(2026, 11, 16))


class TrendPointTests(SynchronousTestCase):
    def points(self, rows: list[DayTest], runs: list[DayRuns] | None = None) -> list[TrendPoint]:
        return list(trend_points(D1, D4, Bucket.DAY, runs or [], rows))

    def test_runs_results_failures(self) -> None:
        """Runs, results and failures add up per bucket; empty buckets are still there."""
        runs = [DayRuns(D1, 2, 10, 1), DayRuns(D3, 1, 5, 0)]
        points = self.points([], runs)
        self.assertEqual([p.start for p in points], [D1, D2, D3, D4])
        self.assertEqual([p.runs for p in points], [2, 0, 1, 0])
        self.assertEqual([p.results for p in points], [10, 0, 5, 0])
        self.assertEqual([p.failure_rate for p in points], [0.1, 0.0, 0.0, 0.0])

    def test_failing_on_day_two_only(self) -> None:
        """A test that failed only on day 2, passing too that day, is flaky then,
        newly flaky once, and fixed the next day."""
        rows = [day_test(D1, 1, passes=1), day_test(D2, 1, passes=1, failures=1)]
        rows += [day_test(D3, 1, passes=2), day_test(D4, 1, passes=1)]
        points = self.points(rows)
        self.assertEqual([p.flaky_tests for p in points], [0, 1, 0, 0])
        self.assertEqual([p.newly_flaky for p in points], [0, 1, 0, 0])
        self.assertEqual([p.fixed for p in points], [0, 0, 1, 0])

    def test_newly_flaky_once(self) -> None:
        """A test flaky on days 1 and 3 is newly flaky on day 1 only."""
        rows = [day_test(D1, 2, passes=1, failures=1), day_test(D3, 2, passes=1, failures=2)]
        points = self.points(rows)
        self.assertEqual([p.flaky_tests for p in points], [1, 0, 1, 0])
        self.assertEqual([p.newly_flaky for p in points], [1, 0, 0, 0])

    def test_fixed_needs_only_passes(self) -> None:
        """Fixed means it failed the bucket before and only passed in this one."""
        rows = [day_test(D1, 3, failures=1), day_test(D2, 3, passes=1)]  # fixed on day 2
        rows += [day_test(D1, 4, failures=1), day_test(D2, 4, passes=1, failures=1)]  # not
        rows += [day_test(D1, 5, failures=1), day_test(D3, 5, passes=1)]  # a gap: not
        points = self.points(rows)
        self.assertEqual([p.fixed for p in points], [0, 1, 0, 0])
        self.assertEqual([p.flaky_tests for p in points], [0, 1, 0, 0])

    def test_failing_only_not_flaky(self) -> None:
        """A test that only failed in a bucket is not flaky there."""
        self.assertEqual(
            [p.flaky_tests for p in self.points([day_test(D1, 6, failures=3)])], [0] * 4
        )

    def test_weeks_merge_days(self) -> None:
        """In weekly buckets a pass on Monday and a failure on Friday make a flaky week."""
        first, last = date(2026, 11, 2), date(2026, 11, 15)
        rows = [
            day_test(date(2026, 11, 2), 1, passes=1),
            day_test(date(2026, 11, 6), 1, failures=1),
        ]
        rows += [day_test(date(2026, 11, 10), 1, passes=1)]
        runs = [DayRuns(date(2026, 11, 2), 1, 3, 0), DayRuns(date(2026, 11, 6), 2, 6, 1)]
        points = trend_points(first, last, Bucket.WEEK, runs, rows)
        self.assertEqual([p.start for p in points], [first, date(2026, 11, 9)])
        self.assertEqual([(p.runs, p.results, p.failures) for p in points], [(3, 9, 1), (0, 0, 0)])
        self.assertEqual([p.flaky_tests for p in points], [1, 0])
        self.assertEqual([p.fixed for p in points], [0, 1])


def observation(
    hour: int, outcome: Outcome, seed: int | None = 1, replay: bool = False
) -> Observation:
    return Observation(
        run_id=f"r{hour}",
        started_at=datetime(2026, 11, 2, hour, tzinfo=UTC),
        outcome=outcome,
        seed=seed,
        fingerprint="f" if outcome.is_bad else None,
        is_replay=replay,
    )


class MostFlakyTests(SynchronousTestCase):
    def test_candidates(self) -> None:
        """Tests with the most failures come first, but only those that also passed."""
        rows = [day_test(D1, 1, passes=1, failures=2), day_test(D2, 1, failures=1)]
        rows += [day_test(D1, 2, failures=9)]  # never passed: broken, not flaky
        rows += [day_test(D1, 3, passes=5, failures=1), day_test(D1, 4, passes=1, failures=3)]
        self.assertEqual(most_flaky_candidates(rows), [(1, 3, 4), (4, 3, 4), (3, 1, 6)])
        self.assertEqual(most_flaky_candidates(rows, limit=1), [(1, 3, 4)])

    def test_sparkline_and_rates(self) -> None:
        """The sparkline shows the latest results oldest first, skips as null, no replays."""
        samples = [
            observation(1, Outcome.SUCCESS),
            observation(2, Outcome.FAILURE, seed=2),
            observation(3, Outcome.SKIP),
            observation(4, Outcome.FAILURE, seed=2, replay=True),
            observation(5, Outcome.EXPECTED_FAILURE),
        ]
        trend = flaky_trend("pkg.t", failures=1, runs=3, samples=list(reversed(samples)))
        self.assertEqual(trend.sparkline, (0, 1, None, 0))
        self.assertEqual(trend.failure_rate, 1 / 3)
        self.assertEqual(trend.flip_rate, 1.0)
        # The replay failed seed 2 again: confirmed, so seed-dependent.
        self.assertEqual(trend.classification, Classification.SEED_DEPENDENT)

    def test_sparkline_length(self) -> None:
        """Only the latest 30 results make the sparkline."""
        samples = [observation(h % 24, Outcome.SUCCESS) for h in range(24)]
        samples += [observation(23, Outcome.FAILURE, seed=None) for _ in range(10)]
        trend = flaky_trend("pkg.t", 10, 34, samples)
        self.assertEqual(len(trend.sparkline), 30)

    def test_outcome_point(self) -> None:
        """Bad outcomes are 1, passes 0, skips null."""
        points = {o: outcome_point(o) for o in Outcome}
        self.assertEqual(
            points,
            {
                Outcome.SUCCESS: 0,
                Outcome.EXPECTED_FAILURE: 0,
                Outcome.FAILURE: 1,
                Outcome.ERROR: 1,
                Outcome.UNEXPECTED_SUCCESS: 1,
                Outcome.SKIP: None,
            },
        )

    def test_rate_ceiling(self) -> None:
        """The failure-rate chart tops out at the next tenth, at least 10%."""
        self.assertEqual(rate_ceiling(0.0), 0.1)
        self.assertEqual(rate_ceiling(0.1), 0.1)
        self.assertEqual(rate_ceiling(0.23), 0.3)
        self.assertEqual(rate_ceiling(1.0), 1.0)


NOON = datetime(2026, 11, 3, 12, tzinfo=UTC)


class TrendStoreTests(SynchronousTestCase):
    """Four days, 2 to 5 November: pkg.t fails once on the 3rd, passing around it."""

    def setUp(self) -> None:
        self.db = temporary_database(self)

    def record(self, when: datetime, results: list[Result], **fields: Any) -> None:
        record_run(self.db, results, run_start(when, **fields))

    def crafted(self) -> None:
        day = timedelta(days=1)
        self.record(NOON - day, [result("pkg.t"), result("pkg.u")])
        self.record(NOON, [result("pkg.t"), result("pkg.u", Outcome.SKIP)])
        self.record(NOON + timedelta(hours=11, minutes=59), [result("pkg.t", Outcome.FAILURE)])
        self.record(NOON + day, [result("pkg.t"), result("pkg.u")])
        self.record(NOON + day, [result("pkg.t", Outcome.FAILURE)], is_replay=True)
        self.record(NOON + day, [result("pkg.t", Outcome.FAILURE)], branch="dev")

    def test_day_metrics(self) -> None:
        """Each day's numbers follow the definitions, replays and skips as documented."""
        self.crafted()
        found = self.db.read(trends, 4, D4, "main")
        self.assertEqual(found.bucket, Bucket.DAY)
        self.assertEqual((found.first, found.last), (D1, D4))
        self.assertEqual(
            [(p.start, p.runs, p.results, p.failures) for p in found.points],
            [(D1, 1, 2, 0), (D2, 2, 3, 1), (D3, 1, 2, 0), (D4, 0, 0, 0)],
        )
        self.assertEqual([p.flaky_tests for p in found.points], [0, 1, 0, 0])
        self.assertEqual([p.newly_flaky for p in found.points], [0, 1, 0, 0])
        self.assertEqual([p.fixed for p in found.points], [0, 0, 1, 0])

    def test_every_branch(self) -> None:
        """Without a branch every branch counts: the dev failure makes day 3 flaky too."""
        self.crafted()
        found = self.db.read(trends, 4, D4)
        self.assertEqual([p.runs for p in found.points], [1, 2, 2, 0])
        self.assertEqual([p.flaky_tests for p in found.points], [0, 1, 1, 0])
        self.assertEqual([p.newly_flaky for p in found.points], [0, 1, 0, 0])
        self.assertEqual([p.fixed for p in found.points], [0, 0, 0, 0])

    def test_most_flaky(self) -> None:
        """The most flaky tests are those that failed and passed, with their sparkline."""
        self.crafted()
        [flaky] = self.db.read(trends, 4, D4, "main").most_flaky
        self.assertEqual(flaky.test_id, "pkg.t")
        self.assertEqual((flaky.failures, flaky.runs), (1, 4))
        self.assertEqual(flaky.sparkline, (0, 0, 1, 0))

    def test_range_edges(self) -> None:
        """Runs before the first day or after the last are left out."""
        self.crafted()
        found = self.db.read(trends, 1, D2, "main")
        self.assertEqual([(p.start, p.runs) for p in found.points], [(D2, 2)])
        self.assertEqual(self.db.read(trends, 2, date(2026, 11, 1)).points[-1].runs, 0)

    def test_weekly(self) -> None:
        """Long ranges come per week, with the same definitions."""
        self.crafted()
        found = self.db.read(trends, 90, date(2026, 11, 15), "main")
        self.assertEqual(found.bucket, Bucket.WEEK)
        week = next(p for p in found.points if p.start == D1)
        self.assertEqual((week.runs, week.flaky_tests, week.newly_flaky), (4, 1, 1))

    def test_week_edges(self) -> None:
        """A week runs Monday to Sunday: a Sunday's results count with the Monday before
        it, the next Monday's in a new week, and the days of the range's partial first
        week in its first bucket."""
        sunday, monday = (
            datetime(2026, 11, 15, 9, tzinfo=UTC),
            datetime(2026, 11, 16, 9, tzinfo=UTC),
        )
        early = datetime(2026, 8, 29, 9, tzinfo=UTC)  # the range's first day, a Saturday
        self.record(early, [result("pkg.t", Outcome.FAILURE)])
        self.record(early + timedelta(days=1), [result("pkg.t")])
        self.record(sunday - timedelta(days=6), [result("pkg.t")])
        self.record(sunday, [result("pkg.t", Outcome.FAILURE)])
        self.record(monday, [result("pkg.t", Outcome.FAILURE)])
        found = self.db.read(trends, 90, date(2026, 11, 26))
        self.assertEqual(found.first, early.date())
        flaky = {p.start: p.flaky_tests for p in found.points if p.runs}
        self.assertEqual(flaky, {early.date(): 1, date(2026, 11, 9): 1, date(2026, 11, 16): 0})

    def test_failing_tests_in_parts(self) -> None:
        """Where the failing tests are looked up in parts (PostgreSQL, CHUNK at a time),
        every part's counts are there."""
        self.patch(trends_store, "CHUNK", 1)
        names = ["pkg.a", "pkg.b", "pkg.c"]
        self.record(NOON - timedelta(days=1), [result(name) for name in names])
        self.record(NOON, [result(name, Outcome.FAILURE) for name in names])
        found = self.db.read(trends, 4, D4, "main")
        self.assertEqual([p.flaky_tests for p in found.points], [0, 0, 0, 0])
        self.assertEqual([p.fixed for p in found.points], [0, 0, 0, 0])
        self.assertEqual(sorted(t.test_id for t in found.most_flaky), names)
        self.assertEqual({(t.failures, t.runs) for t in found.most_flaky}, {(1, 2)})

    def test_empty(self) -> None:
        """With nothing recorded every bucket is empty and nothing is flaky."""
        found = self.db.read(trends, 30, D4)
        self.assertEqual(len(found.points), 30)
        self.assertEqual(sum(p.runs for p in found.points), 0)
        self.assertEqual(found.most_flaky, ())


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
