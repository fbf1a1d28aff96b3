"""How a suite and its tests change over time: trends per day or week, and slowdowns.

Pure: ``seedboard.services.trends`` hands in the store's counts per UTC day, this buckets
and judges them.

Definitions, per bucket (a UTC day, or an ISO week starting on Monday for ranges
over ``MAX_DAILY_DAYS`` days; the first week starts where the range does):

- **runs**: runs started in it; replays (``seedboard replay``) are left out
  everywhere in trends, since they re-run chosen seeds rather than the suite.
- **results**, **failures**: those runs' results, and how many of them were bad
  (a failure, an error or an unexpected success);
  **failure rate** = failures / results (0 without results).
- **flaky tests**: tests with both a pass and a failure in the bucket.  A pass is a
  success or an expected failure; skips count as neither.
- **newly flaky**: flaky in this bucket, and in no earlier bucket of the range.
- **fixed**: tests that failed in the previous bucket and only passed in this one
  (so never in the first bucket: the one before it is outside the range).

**Most flaky**: the tests with the most failures over the range that also passed
at least once in it, at most ``MOST_FLAKY``, tied ones in test id order; each with
its failures, runs (passes and failures) and failure rate over the range, and,
judged on its latest ``SAMPLE_LIMIT`` results in the range, its flip rate (like the
flaky page's) and class (replays do count for the class: they are what confirms a
seed); and a sparkline of its latest ``SPARKLINE`` results: 1 failed, 0 passed, None
skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from statistics import median

from seedboard.domain import DayRuns, DayTest, Observation, Outcome, TestRun
from seedboard.triage.classify import Classification, classify, flip_rate, is_counted

DEFAULT_DAYS = 30
MAX_DAYS = 365
MAX_DAILY_DAYS = 60
"""Longer ranges are bucketed by week."""
MOST_FLAKY = 20
SPARKLINE = 30
SAMPLE_LIMIT = 50
"""Results per most-flaky test read to judge its flip rate and class: as many as the
flaky page judges a test on, and bounded work."""


class Bucket(StrEnum):
    DAY = "day"
    WEEK = "week"


def bucket_for(days: int) -> Bucket:
    return Bucket.DAY if days <= MAX_DAILY_DAYS else Bucket.WEEK


def first_day(last: date, days: int) -> date:
    """The first day of a range of ``days`` days ending with ``last``."""
    return last - timedelta(days=days - 1)


def bucket_starts(first: date, last: date, bucket: Bucket) -> list[date]:
    """The first day of each bucket from ``first`` to ``last``, both included."""
    starts = []
    day = first
    while day <= last:
        starts.append(day)
        step = 1 if bucket is Bucket.DAY else 7 - day.weekday()
        day += timedelta(days=step)
    return starts


def bucket_start(day: date, first: date, bucket: Bucket) -> date:
    """The first day of the bucket holding ``day``."""
    if bucket is Bucket.DAY:
        return day
    return max(day - timedelta(days=day.weekday()), first)


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One bucket of a trend; see the module's docstring for each number's meaning."""

    start: date
    runs: int = 0
    results: int = 0
    failures: int = 0
    flaky_tests: int = 0
    newly_flaky: int = 0
    fixed: int = 0

    @property
    def failure_rate(self) -> float:
        return self.failures / self.results if self.results else 0.0


@dataclass(frozen=True, slots=True)
class FlakyTrend:
    """One of the most flaky tests of a range."""

    test_id: str
    failures: int
    runs: int
    failure_rate: float
    flip_rate: float
    classification: Classification
    sparkline: tuple[int | None, ...]
    """Its latest results in the range, oldest first: 1 failed, 0 passed, None skipped."""


@dataclass(frozen=True, slots=True)
class Trends:
    """A range of days, bucketed, and its most flaky tests."""

    branch: str | None
    days: int
    first: date
    last: date
    bucket: Bucket
    points: tuple[TrendPoint, ...]
    most_flaky: tuple[FlakyTrend, ...]


def trend_points(
    first: date,
    last: date,
    bucket: Bucket,
    day_runs: Iterable[DayRuns],
    day_tests: Iterable[DayTest],
) -> tuple[TrendPoint, ...]:
    """Every bucket of the range, empty ones too, with its numbers."""
    starts = bucket_starts(first, last, bucket)
    totals = _run_totals(starts, first, bucket, day_runs)
    passed, failed = _tests_by_bucket(starts, first, bucket, day_tests)
    points = []
    seen_flaky: set[int] = set()
    failed_before: set[int] = set()
    for start in starts:
        flaky = passed[start] & failed[start]
        runs, results, failures = totals[start]
        points.append(
            TrendPoint(
                start=start,
                runs=runs,
                results=results,
                failures=failures,
                flaky_tests=len(flaky),
                newly_flaky=len(flaky - seen_flaky),
                fixed=len((failed_before & passed[start]) - failed[start]),
            )
        )
        seen_flaky |= flaky
        failed_before = failed[start]
    return tuple(points)


def _run_totals(
    starts: Sequence[date], first: date, bucket: Bucket, day_runs: Iterable[DayRuns]
) -> dict[date, tuple[int, int, int]]:
    """Runs, results and failures per bucket."""
    totals = dict.fromkeys(starts, (0, 0, 0))
    for day in day_runs:
        start = bucket_start(day.day, first, bucket)
        runs, results, failures = totals[start]
        totals[start] = (runs + day.runs, results + day.results, failures + day.failures)
    return totals


def _tests_by_bucket(
    starts: Sequence[date], first: date, bucket: Bucket, day_tests: Iterable[DayTest]
) -> tuple[dict[date, set[int]], dict[date, set[int]]]:
    """The tests that passed, and those that failed, per bucket."""
    passed: dict[date, set[int]] = {start: set() for start in starts}
    failed: dict[date, set[int]] = {start: set() for start in starts}
    for row in day_tests:
        start = bucket_start(row.day, first, bucket)
        if row.passes:
            passed[start].add(row.test)
        if row.failures:
            failed[start].add(row.test)
    return passed, failed


def most_flaky_contenders(
    day_tests: Iterable[DayTest], limit: int = MOST_FLAKY
) -> list[tuple[int, int, int]]:
    """(test, failures, passes + failures) of the tests with the most failures that
    also passed, most failures first: the first ``limit``, and every test tied with the
    last of them, whose names decide which are shown (``most_flaky``)."""
    passes: dict[int, int] = {}
    failures: dict[int, int] = {}
    for row in day_tests:
        passes[row.test] = passes.get(row.test, 0) + row.passes
        failures[row.test] = failures.get(row.test, 0) + row.failures
    both = [t for t in failures if failures[t] and passes[t]]
    both.sort(key=lambda t: -failures[t])
    if limit <= 0:
        return []
    if len(both) > limit:
        least = failures[both[limit - 1]]
        both = [t for t in both if failures[t] >= least]
    return [(t, failures[t], failures[t] + passes[t]) for t in both]


def most_flaky(
    contenders: Sequence[tuple[int, int, int]], names: Mapping[int, str], limit: int = MOST_FLAKY
) -> list[tuple[int, int, int]]:
    """The ``limit`` most flaky of ``most_flaky_contenders``: most failures first, then by
    test id, so that the order follows names, never the keys a database happened to
    give (a migrated database and a fresh one agree)."""
    ranked = sorted(contenders, key=lambda c: (-c[1], names[c[0]]))
    return ranked[:limit]


def flaky_trend(
    test_id: str, failures: int, runs: int, samples: Sequence[Observation]
) -> FlakyTrend:
    """A most-flaky test: counts over the range, the rest judged on ``samples``, its
    latest results in the range (replays included; they count for the class only)."""
    in_order = sorted(samples, key=lambda o: o.started_at)
    suite = [o for o in in_order if not o.is_replay]
    return FlakyTrend(
        test_id=test_id,
        failures=failures,
        runs=runs,
        failure_rate=failures / runs if runs else 0.0,
        flip_rate=flip_rate([o for o in suite if is_counted(o)]),
        classification=classify(in_order).classification,
        sparkline=tuple(outcome_point(o.outcome) for o in suite[-SPARKLINE:]),
    )


def outcome_point(outcome: Outcome) -> int | None:
    """A result as a sparkline point: 1 failed, 0 passed, None skipped."""
    if outcome is Outcome.SKIP:
        return None
    return 1 if outcome.is_bad else 0


SLOWDOWN_FACTOR = 2.0
"""A result is a slowdown when it took more than this many times the median."""
MIN_SLOWDOWN_SECONDS = 0.01
"""...and at least this much longer than the median, so that the jitter of a test
taking a millisecond or two is not reported."""


@dataclass(frozen=True, slots=True)
class Slowdown:
    """A run in which the test took notably longer than it usually does."""

    run: TestRun
    ratio: float
    """The run's duration / the median duration."""


@dataclass(frozen=True, slots=True)
class Durations:
    """A test's typical duration, and the runs where it was notably slower."""

    median: float | None
    """Over its results that ran (skips left out); None when there are none."""
    slowdowns: tuple[Slowdown, ...]
    """In the order the runs were given."""


def durations(runs: Sequence[TestRun]) -> Durations:
    """The median duration of the runs that ran the test, and the ones far above it."""
    ran = [run for run in runs if run.outcome is not Outcome.SKIP]
    if not ran:
        return Durations(median=None, slowdowns=())
    middle = median(run.duration for run in ran)
    return Durations(
        median=middle,
        slowdowns=tuple(
            Slowdown(run, run.duration / middle) for run in ran if is_slowdown(run.duration, middle)
        ),
    )


def is_slowdown(duration: float, typical: float) -> bool:
    return (
        typical > 0
        and duration > SLOWDOWN_FACTOR * typical
        and duration - typical >= MIN_SLOWDOWN_SECONDS
    )
