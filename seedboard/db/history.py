"""Store functions for tests' histories across runs."""

from __future__ import annotations

from sqlalchemy import Connection, select

from seedboard.db.models import Result, Run, Test
from seedboard.db.queries import runs_then_results, started_at_of, stored_started_at
from seedboard.db.rows import reading
from seedboard.domain import OUTCOME_OF, TestHistory, TestRun

_RUNS = reading(
    TestRun,
    {
        "run_id": Run.id,
        "started_at": stored_started_at(),
        "branch": Run.branch,
        "commit": Run.commit,
        "outcome": Result.outcome,
        "duration": Result.duration,
        "seed": Result.seed,
        "message": Result.message,
    },
    convert={"started_at": started_at_of, "outcome": OUTCOME_OF.__getitem__},
)


def test_history(conn: Connection, name: str, limit: int) -> TestHistory | None:
    """The test's latest ``limit`` results, newest run first; None if never seen."""
    test = conn.execute(select(Test.id, Test.file, Test.line).where(Test.name == name)).first()
    if test is None:
        return None
    query = (
        select(*_RUNS.columns)
        .select_from(runs_then_results())
        .where(Result.test_id == test.id)
        .order_by(Run.started_at.desc(), Run.id.desc(), Result.id.desc())
        .limit(limit)
    )
    runs = _RUNS.records(conn.execute(query))
    return TestHistory(test_id=name, file=test.file, line=test.line, runs=runs)
