"""Tests for trends' pure part: bucketing, and each metric's definition."""

from __future__ import annotations

from datetime import UTC, date, datetime

from twisted.trial.unittest import SynchronousTestCase

from seedboard.domain import DayRuns, DayTest, Observation, Outcome
from seedboard.triage.classify import Classification
from seedboard.triage.trends import (
    Bucket,
    TrendPoint,
    bucket_for,
    bucket_start,
    bucket_starts,
    first_day,
    flaky_trend,
    most_flaky,
    most_flaky_contenders,
    outcome_point,
    trend_points,
)

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
        self.assertEqual(most_flaky_contenders(rows), [(1, 3, 4), (4, 3, 4), (3, 1, 6)])
        # Tests tied with the last one kept stay contenders: their names decide.
        self.assertEqual(most_flaky_contenders(rows, limit=1), [(1, 3, 4), (4, 3, 4)])
        self.assertEqual(most_flaky_contenders(rows, limit=2), [(1, 3, 4), (4, 3, 4)])
        self.assertEqual(most_flaky_contenders(rows, limit=0), [])

    def test_ties_by_name(self) -> None:
        """Tests with as many failures are ranked by test id, whatever their keys: the
        database that numbered the tests in another order shows the same list."""
        rows = [day_test(D1, key, passes=1, failures=2) for key in (7, 3, 5)]
        rows += [day_test(D1, 9, passes=1, failures=4)]
        for names in (
            {7: "pkg.a", 3: "pkg.b", 5: "pkg.c", 9: "pkg.z"},
            {7: "pkg.c", 3: "pkg.a", 5: "pkg.b", 9: "pkg.z"},
        ):
            ranked = most_flaky(most_flaky_contenders(rows, limit=2), names, limit=2)
            self.assertEqual([names[t] for t, _, _ in ranked], ["pkg.z", "pkg.a"])
            ranked = most_flaky(most_flaky_contenders(rows), names)
            self.assertEqual([names[t] for t, _, _ in ranked], ["pkg.z", "pkg.a", "pkg.b", "pkg.c"])

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
