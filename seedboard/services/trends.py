"""Trends: per-day counts and the most flaky tests' results (``seedboard.db.trends``),
bucketed and judged by ``seedboard.triage.trends``."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection

from seedboard.db.queries import test_names
from seedboard.db.trends import day_runs, day_tests, observations
from seedboard.triage.trends import (
    SAMPLE_LIMIT,
    Bucket,
    Trends,
    bucket_for,
    first_day,
    flaky_trend,
    most_flaky,
    most_flaky_contenders,
    trend_points,
)


def trends(conn: Connection, days: int, last: date, branch: str | None = None) -> Trends:
    """The ``days`` UTC days ending with ``last`` (on ``branch``, if given)."""
    first = first_day(last, days)
    bucket = bucket_for(days)
    by_test = day_tests(conn, first, last, branch, weekly=bucket is Bucket.WEEK)
    contenders = most_flaky_contenders(by_test)
    names = test_names(conn, [test for test, _, _ in contenders])
    candidates = most_flaky(contenders, names)
    keys = [test for test, _, _ in candidates]
    samples = observations(conn, keys, first, last, branch, SAMPLE_LIMIT)
    ranked = tuple(
        flaky_trend(names[test], failures, runs, samples.get(test, []))
        for test, failures, runs in candidates
    )
    return Trends(
        branch=branch,
        days=days,
        first=first,
        last=last,
        bucket=bucket,
        points=trend_points(first, last, bucket, day_runs(conn, first, last, branch), by_test),
        most_flaky=ranked,
    )
