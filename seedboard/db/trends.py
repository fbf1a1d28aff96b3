"""Store functions for trends: counts per UTC day from SQL, bucketed and judged by
``seedboard.triage.trends`` (whose docstring defines every number)."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from datetime import date
from functools import reduce
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Select,
    String,
    func,
    select,
    type_coerce,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from seedboard.db.bulk import CHUNK
from seedboard.db.models import Result, Run, Test, TestDay
from seedboard.db.queries import (
    is_bad,
    latest_results,
    runs_then_results,
    started_at_of,
    stored_started_at,
)
from seedboard.db.runs import ReplayFilter, RunFilters, run_conditions
from seedboard.domain import BAD_OUTCOMES, OUTCOME_OF, Outcome
from seedboard.triage.classify import Observation
from seedboard.triage.trends import (
    SAMPLE_LIMIT,
    Bucket,
    DayRuns,
    DayTest,
    Trends,
    bucket_for,
    first_day,
    flaky_trend,
    most_flaky_candidates,
    trend_points,
)

_BAD = [outcome.value for outcome in BAD_OUTCOMES]
_PASSED = [Outcome.SUCCESS.value, Outcome.EXPECTED_FAILURE.value]


def trends(conn: Connection, days: int, last: date, branch: str | None = None) -> Trends:
    """The ``days`` UTC days ending with ``last`` (on ``branch``, if given)."""
    first = first_day(last, days)
    suite = run_conditions(
        RunFilters(branch=branch, since=first, until=last, replay=ReplayFilter.EXCLUDE)
    )
    bucket = bucket_for(days)
    day_tests = _day_tests(conn, first, last, bucket, branch, suite)
    candidates = most_flaky_candidates(day_tests)
    names = _names(conn, [test for test, _, _ in candidates])
    # Replays count towards a test's class, so its samples keep them.
    every_run = run_conditions(RunFilters(branch=branch, since=first, until=last))
    samples = _samples(conn, [test for test, _, _ in candidates], every_run)
    most_flaky = tuple(
        flaky_trend(names[test], failures, runs, samples.get(test, []))
        for test, failures, runs in candidates
    )
    return Trends(
        branch=branch,
        days=days,
        first=first,
        last=last,
        bucket=bucket,
        points=trend_points(first, last, bucket, _day_runs(conn, suite), day_tests),
        most_flaky=most_flaky,
    )


def _day() -> ColumnElement[str]:
    """The UTC day a run started on: times are stored in UTC."""
    return func.date(Run.started_at)


def _day_runs(conn: Connection, conditions: Sequence[ColumnElement[bool]]) -> list[DayRuns]:
    """Per day: the runs, and from their kept counts, their results and failures."""
    day = _day()
    results = reduce(operator.add, [getattr(Run, o.value) for o in Outcome])
    failures = reduce(operator.add, [getattr(Run, o.value) for o in BAD_OUTCOMES])
    query = (
        select(day, func.count(Run.id), func.sum(results), func.sum(failures))
        .where(*conditions)
        .group_by(day)
    )
    return [
        DayRuns(_as_date(d), runs, results or 0, failures or 0)
        for d, runs, results, failures in conn.execute(query)
    ]


def _day_tests(
    conn: Connection,
    first: date,
    last: date,
    bucket: Bucket,
    branch: str | None,
    conditions: Sequence[ColumnElement[bool]],
) -> list[DayTest]:
    """Per bucket and test: passes and failures, for the tests that failed in the range
    (only they can be flaky, fixed or among the most flaky), from the counts kept at
    ingest; the failing tests come from the partial index on failures.  Weekly buckets
    are summed here, each under its Monday, so a year is read as 53 rows per test
    rather than 365."""
    failing = select(Result.test_id).select_from(runs_then_results()).where(*conditions, is_bad())
    if conn.dialect.name != "postgresql":
        return _counts(conn, failing, first, last, bucket, branch)
    # Given the subquery, PostgreSQL plans for thousands of tests where there are
    # dozens, and scans every day row; given the tests, it looks up theirs.
    tests = sorted(set(conn.scalars(failing)))
    return [
        row
        for start in range(0, len(tests), CHUNK)
        for row in _counts(conn, tests[start : start + CHUNK], first, last, bucket, branch)
    ]


def _counts(
    conn: Connection,
    tests: Select[int] | Sequence[int],
    first: date,
    last: date,
    bucket: Bucket,
    branch: str | None,
) -> list[DayTest]:
    """``_day_tests`` for the given tests."""
    # Read as the stored text: thousands of rows parse faster with fromisoformat.
    day = type_coerce(TestDay.day, String)
    if bucket is Bucket.WEEK:
        day = type_coerce(_WeekStart(TestDay.day), String)
    query = (
        select(day, TestDay.test_id, func.sum(TestDay.passes), func.sum(TestDay.failures))
        .where(TestDay.test_id.in_(tests), TestDay.day >= first, TestDay.day <= last)
        .group_by(TestDay.test_id, day)
    )
    if branch is not None:
        query = query.where(TestDay.branch == branch)
    return [
        DayTest(_as_date(d), test, passes, failures)
        for d, test, passes, failures in conn.execute(query)
    ]


class _WeekStart(FunctionElement[date]):
    """The Monday on or before a date: the first day of its ISO week."""

    type = Date()
    inherit_cache = True
    name = "week_start"


@compiles(_WeekStart, "sqlite")
def _sqlite_week_start(element: _WeekStart, compiler: SQLCompiler, **kw: Any) -> str:
    # Back six days, then forward to the next Monday (or stay on one).
    return f"date({compiler.process(element.clauses, **kw)}, '-6 days', 'weekday 1')"


@compiles(_WeekStart, "postgresql")
def _postgres_week_start(element: _WeekStart, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(date_trunc('week', {compiler.process(element.clauses, **kw)}) AS DATE)"


def _names(conn: Connection, tests: list[int]) -> dict[int, str]:
    if not tests:
        return {}
    rows = conn.execute(select(Test.id, Test.name).where(Test.id.in_(tests)))
    return {test: name for test, name in rows}


def _samples(
    conn: Connection, tests: list[int], conditions: Sequence[ColumnElement[bool]]
) -> dict[int, list[Observation]]:
    """Each test's latest results in the range, at most ``SAMPLE_LIMIT``."""
    columns = (  # in the order of Observation's fields
        Run.id,
        stored_started_at(),
        Result.outcome,
        Result.seed,
        Result.fingerprint,
        Run.is_replay,
    )
    latest = latest_results(conn, columns, tests, SAMPLE_LIMIT, runs_where=conditions)
    return {
        test: [
            Observation(
                run_id, started_at_of(started_at), OUTCOME_OF[outcome], seed, fingerprint, is_replay
            )
            for run_id, started_at, outcome, seed, fingerprint, is_replay in rows
        ]
        for test, rows in latest.items()
    }


def _as_date(value: date | str) -> date:
    """SQLite's ``date()`` answers text; other databases a date."""
    return value if isinstance(value, date) else date.fromisoformat(value)
