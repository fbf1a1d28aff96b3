"""Store functions for seed triage: each test's results in a window, triaged."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, select

from seedboard.db.models import Result, Run, Test
from seedboard.db.queries import is_bad, latest_results
from seedboard.domain import Outcome
from seedboard.triage.classify import Classification, rank_key
from seedboard.triage.report import Sample, TestTriage, triage

WINDOW = 50
"""Runs of a test that its class is judged on, unless told otherwise."""


def test_triage(
    conn: Connection, name: str, window: int = WINDOW, branch: str | None = None
) -> TestTriage | None:
    """One test's triage over its last ``window`` results (on ``branch``, if given)."""
    test = conn.execute(select(Test.id, Test.file, Test.line).where(Test.name == name)).first()
    if test is None:
        return None
    return triage(name, test.file, test.line, _samples(conn, test.id, window, branch))


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
    samples = latest_results(conn, _COLUMNS, [t.id for t in candidates], window, branch)
    triaged = [
        triage(t.name, t.file, t.line, [_sample(row) for row in samples.get(t.id, [])])
        for t in candidates
    ]
    flaky = [t for t in triaged if t.verdict.classification is not Classification.STABLE]
    flaky.sort(key=lambda t: rank_key(t.verdict))
    return flaky[:limit]


_COLUMNS = (
    Run.id.label("run_id"),
    Run.started_at,
    Run.is_replay,
    Run.order_seed,
    Result.outcome,
    Result.seed,
    Result.fingerprint,
    Result.exception_type,
    Result.message,
)


def _samples(conn: Connection, test_pk: int, window: int, branch: str | None) -> list[Sample]:
    rows = latest_results(conn, _COLUMNS, [test_pk], window, branch).get(test_pk, [])
    return [_sample(row) for row in rows]


def _sample(row: Row[*tuple[Any, ...]]) -> Sample:
    return Sample(
        run_id=row.run_id,
        started_at=row.started_at,
        outcome=Outcome(row.outcome),
        seed=row.seed,
        fingerprint=row.fingerprint,
        exception_type=row.exception_type,
        message=row.message,
        is_replay=row.is_replay,
        order_seed=row.order_seed,
    )
