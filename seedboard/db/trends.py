"""Store functions for trends: counts per UTC day (or week) from SQL, and the most flaky
tests' latest results; ``seedboard.services.trends`` buckets and judges them with
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
from seedboard.db.models import Result, Run, TestDay
from seedboard.db.queries import (
    is_bad,
    latest_results,
    runs_then_results,
    started_at_of,
    stored_started_at,
)
from seedboard.db.rows import reading
from seedboard.db.runs import ReplayFilter, RunFilters, run_conditions
from seedboard.domain import BAD_OUTCOMES, OUTCOME_OF, DayRuns, DayTest, Observation, Outcome


def _suite(first: date, last: date, branch: str | None) -> list[ColumnElement[bool]]:
    """The runs of the suite in the range: replays re-run chosen seeds, not the suite."""
    return run_conditions(
        RunFilters(branch=branch, since=first, until=last, replay=ReplayFilter.EXCLUDE)
    )


def day_runs(conn: Connection, first: date, last: date, branch: str | None) -> list[DayRuns]:
    """Per UTC day from ``first`` to ``last`` (on ``branch``, if given): the suite's runs,
    and from their kept counts, their results and failures."""
    day = _day()
    results = reduce(operator.add, [getattr(Run, o.value) for o in Outcome])
    failures = reduce(operator.add, [getattr(Run, o.value) for o in BAD_OUTCOMES])
    read = reading(
        DayRuns,
        {
            "day": day,
            "runs": func.count(Run.id),
            "results": func.sum(results),
            "failures": func.sum(failures),
        },
        convert={"day": _as_date, "results": _or_zero, "failures": _or_zero},
    )
    query = select(*read.columns).where(*_suite(first, last, branch)).group_by(day)
    return read.records(conn.execute(query))


def day_tests(
    conn: Connection, first: date, last: date, branch: str | None, weekly: bool
) -> list[DayTest]:
    """Per UTC day (or ``weekly``, per week under its Monday) and test: passes and
    failures, for the tests that failed in the suite's runs of the range (only they can
    be flaky, fixed or among the most flaky), from the counts kept at ingest; the
    failing tests come from the partial index on failures.  Weeks are summed here, so a
    year is read as 53 rows per test rather than 365."""
    failing = (
        select(Result.test_id)
        .select_from(runs_then_results())
        .where(*_suite(first, last, branch), is_bad())
    )
    if conn.dialect.name != "postgresql":
        return _counts(conn, failing, first, last, branch, weekly)
    # Given the subquery, PostgreSQL plans for thousands of tests where there are
    # dozens, and scans every day row; given the tests, it looks up theirs.
    tests = sorted(set(conn.scalars(failing)))
    return [
        row
        for start in range(0, len(tests), CHUNK)
        for row in _counts(conn, tests[start : start + CHUNK], first, last, branch, weekly)
    ]


_OBSERVATIONS = reading(
    Observation,
    {
        "run_id": Run.id,
        "started_at": stored_started_at(),
        "outcome": Result.outcome,
        "seed": Result.seed,
        "fingerprint": Result.fingerprint,
        "is_replay": Run.is_replay,
        "commit": Run.commit,
    },
    convert={"started_at": started_at_of, "outcome": OUTCOME_OF.__getitem__},
)


def observations(
    conn: Connection,
    tests: Sequence[int],
    first: date,
    last: date,
    branch: str | None,
    limit: int,
) -> dict[int, list[Observation]]:
    """Each test's latest ``limit`` results from ``first`` to ``last`` (on ``branch``, if
    given), newest first, replays included: they count towards a test's class."""
    every_run = run_conditions(RunFilters(branch=branch, since=first, until=last))
    latest = latest_results(conn, _OBSERVATIONS.columns, tests, limit, runs_where=every_run)
    return {test: _OBSERVATIONS.records(rows) for test, rows in latest.items()}


def _day() -> ColumnElement[str]:
    """The UTC day a run started on: times are stored in UTC."""
    return func.date(Run.started_at)


def _counts(
    conn: Connection,
    tests: Select[int] | Sequence[int],
    first: date,
    last: date,
    branch: str | None,
    weekly: bool,
) -> list[DayTest]:
    """``day_tests`` for the given tests."""
    # Read as the stored text: thousands of rows parse faster with fromisoformat.
    day = type_coerce(_WeekStart(TestDay.day) if weekly else TestDay.day, String)
    read = reading(
        DayTest,
        {
            "day": day,
            "test": TestDay.test_id,
            "passes": func.sum(TestDay.passes),
            "failures": func.sum(TestDay.failures),
        },
        convert={"day": _as_date},
    )
    query = (
        select(*read.columns)
        .where(TestDay.test_id.in_(tests), TestDay.day >= first, TestDay.day <= last)
        .group_by(TestDay.test_id, day)
    )
    if branch is not None:
        query = query.where(TestDay.branch == branch)
    return read.records(conn.execute(query))


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


def _as_date(value: date | str) -> date:
    """SQLite's ``date()`` answers text; other databases a date."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def _or_zero(total: int | None) -> int:
    """A sum over no rows: SQL's NULL, counted as nothing."""
    return total or 0
