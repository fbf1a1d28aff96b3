"""Store functions for tests' histories across runs."""

from __future__ import annotations

from sqlalchemy import Connection, select

from seedboard.db.flaky import test_triage
from seedboard.db.models import Result, Run, Test
from seedboard.db.queries import runs_then_results, started_at_of, stored_started_at
from seedboard.domain import OUTCOME_OF, TestHistory, TestRun
from seedboard.triage.report import TestTriage


def test_history(conn: Connection, name: str, limit: int) -> TestHistory | None:
    """The test's latest ``limit`` results, newest run first; None if never seen."""
    test = conn.execute(select(Test.id, Test.file, Test.line).where(Test.name == name)).first()
    if test is None:
        return None
    query = (
        select(
            Run.id,
            stored_started_at(),
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
        TestRun(run, started_at_of(started), branch, commit, OUTCOME_OF[outcome], *rest)
        for run, started, branch, commit, outcome, *rest in conn.execute(query)
    ]
    return TestHistory(test_id=name, file=test.file, line=test.line, runs=runs)


def history_and_triage(
    conn: Connection, name: str, limit: int
) -> tuple[TestHistory, TestTriage] | None:
    """A test's page in one read: its latest ``limit`` results and its triage over
    the default window; None if never seen."""
    history = test_history(conn, name, limit)
    triage = None if history is None else test_triage(conn, name)
    return None if history is None or triage is None else (history, triage)
