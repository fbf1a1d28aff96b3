"""Store functions for tests' histories across runs."""

from __future__ import annotations

from sqlalchemy import Connection, select

from seedboard.db.models import Result, Run, Test
from seedboard.db.queries import runs_then_results
from seedboard.domain import Outcome, TestHistory, TestRun


def test_history(conn: Connection, name: str, limit: int) -> TestHistory | None:
    """The test's latest ``limit`` results, newest run first; None if never seen."""
    test = conn.execute(select(Test.id, Test.file, Test.line).where(Test.name == name)).first()
    if test is None:
        return None
    query = (
        select(
            Run.id,
            Run.started_at,
            Run.branch,
            Run.commit,
            Result.outcome,
            Result.duration,
            Result.seed,
            Result.message,
        )
        .select_from(runs_then_results())
        .where(Result.test_id == test.id)
        .order_by(Run.started_at.desc(), Run.id.desc(), Result.id.desc())
        .limit(limit)
    )
    runs = [
        TestRun(
            run_id=row.id,
            started_at=row.started_at,
            branch=row.branch,
            commit=row.commit,
            outcome=Outcome(row.outcome),
            duration=row.duration,
            seed=row.seed,
            message=row.message,
        )
        for row in conn.execute(query)
    ]
    return TestHistory(test_id=name, file=test.file, line=test.line, runs=runs)
