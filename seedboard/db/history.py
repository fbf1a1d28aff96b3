"""Store functions for tests' histories across runs."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Select, func, select

from seedboard.db.models import Result, Run, Test
from seedboard.domain import Outcome, TestHistory, TestRun

_CHUNK = 500
"""Names per ``IN (...)``: well under every database's bound-parameter limit."""


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
        .join(Run, Run.id == Result.run_id)
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


def recent_outcomes(
    conn: Connection, names: Sequence[str], limit: int, branch: str | None = None
) -> dict[str, list[Outcome]]:
    """Each named test's latest ``limit`` outcomes (on ``branch``, if given), oldest
    first, in one query per chunk of names; a test never seen is left out."""
    found: dict[str, list[Outcome]] = {}
    for start in range(0, len(names), _CHUNK):
        for name, outcome in conn.execute(_latest(names[start : start + _CHUNK], limit, branch)):
            found.setdefault(name, []).append(Outcome(outcome))
    return found


def _latest(names: Sequence[str], limit: int, branch: str | None) -> Select[str, str]:
    newest_first = func.row_number().over(
        partition_by=Result.test_id,
        order_by=(Run.started_at.desc(), Run.id.desc(), Result.id.desc()),
    )
    ranked = (
        select(Test.name, Result.outcome, newest_first.label("rank"))
        .join(Run, Run.id == Result.run_id)
        .join(Test, Test.id == Result.test_id)
        .where(Test.name.in_(names))
    )
    if branch is not None:
        ranked = ranked.where(Run.branch == branch)
    latest = ranked.subquery()
    return (
        select(latest.c.name, latest.c.outcome)
        .where(latest.c.rank <= limit)
        .order_by(latest.c.name, latest.c.rank.desc())
    )
