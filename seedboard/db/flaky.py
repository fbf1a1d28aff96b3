"""Store functions for seed triage: each test's results in a window, triaged."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, select

from seedboard.db.models import Result, Run, Test
from seedboard.db.queries import is_bad, latest_results, started_at_of, stored_started_at
from seedboard.domain import OUTCOME_OF
from seedboard.triage.classify import Classification, rank_key
from seedboard.triage.report import Sample, TestTriage, triage
from seedboard.triage.trends import SPARKLINE

WINDOW = 50
"""Runs of a test that its class is judged on, unless told otherwise."""


def test_triage(
    conn: Connection, name: str, window: int = WINDOW, branch: str | None = None
) -> TestTriage | None:
    """One test's triage over its last ``window`` results (on ``branch``, if given)."""
    test = conn.execute(
        select(Test.id, Test.name, Test.file, Test.line).where(Test.name == name)
    ).first()
    if test is None:
        return None
    latest = latest_results(conn, _COLUMNS, [test.id], _wanted(window), branch)
    return _triaged(test, latest.get(test.id, []), window)


def flaky_tests(
    conn: Connection, window: int = WINDOW, branch: str | None = None, limit: int = 200
) -> list[TestTriage]:
    """Tests that are not stable, most worrying first.

    Candidates are the tests that failed in the latest ``window`` runs; each is then
    judged on its own latest ``window`` results.
    """
    recent = select(Run.id).order_by(Run.started_at.desc(), Run.id.desc()).limit(window)
    if branch is not None:
        recent = recent.where(Run.branch == branch)
    candidates = conn.execute(
        select(Test.id, Test.name, Test.file, Test.line)
        .where(
            Test.id.in_(
                select(Result.test_id).where(Result.run_id.in_(recent.scalar_subquery()), is_bad())
            )
        )
        .order_by(Test.name)
    ).all()
    latest = latest_results(conn, _COLUMNS, [t.id for t in candidates], _wanted(window), branch)
    triaged = [_triaged(t, latest.get(t.id, []), window) for t in candidates]
    flaky = [t for t in triaged if t.verdict.classification is not Classification.STABLE]
    flaky.sort(key=lambda t: rank_key(t.verdict))
    return flaky[:limit]


_TestRow = Row[int, str, str | None, int | None]
"""A test's key, name, file and line."""

_COLUMNS = (
    # In the order of Sample's fields.
    Run.id,
    stored_started_at(),
    Result.outcome,
    Result.seed,
    Result.fingerprint,
    Result.exception_type,
    Result.message,
    Run.is_replay,
    Run.order_seed,
)


def _wanted(window: int) -> int:
    """Results to read: the window, and enough more for the sparkline."""
    return max(window, SPARKLINE)


def _triaged(test: _TestRow, rows: list[tuple[Any, ...]], window: int) -> TestTriage:
    """A test judged on its latest ``window`` of ``rows`` (newest first), with a sparkline."""
    latest = [_sample(row) for row in rows]
    recent = [sample.outcome for sample in reversed(latest[:SPARKLINE])]
    return triage(test.name, test.file, test.line, latest[:window], recent)


def _sample(row: tuple[Any, ...]) -> Sample:
    run_id, started_at, outcome, *rest = row
    return Sample(run_id, started_at_of(started_at), OUTCOME_OF[outcome], *rest)
