"""Aggregates kept up to date at ingest, so pages read a few summary rows instead of
scanning history: each test's passes and failures per UTC day and branch.

``add_results`` calls ``count_results`` in the same transaction as its insert, so an
aggregate never disagrees with the results it sums.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sqlalchemy import Connection, Insert, case, delete, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from seedboard.db.models import Result, Run, TestDay
from seedboard.domain import BAD_OUTCOMES, Outcome

PASSED = frozenset({Outcome.SUCCESS, Outcome.EXPECTED_FAILURE})
"""What trends count as a pass; skips count as neither."""

NO_BRANCH = ""
"""``test_days.branch`` for runs without a branch."""


def count_results(conn: Connection, run_id: str, results: Iterable[tuple[int, Outcome]]) -> None:
    """Add a run's new (test key, outcome) results to its day's counts; replays are not
    counted (trends leave them out)."""
    run = conn.execute(
        select(Run.started_at, Run.branch, Run.is_replay).where(Run.id == run_id)
    ).one()
    if run.is_replay:
        return
    day = run.started_at.date()
    passes: Counter[int] = Counter()
    failures: Counter[int] = Counter()
    for test, outcome in results:
        passes[test] += outcome in PASSED
        failures[test] += outcome in BAD_OUTCOMES
    rows = [
        {
            "test_id": test,
            "day": day,
            "branch": run.branch or NO_BRANCH,
            "passes": passes[test],
            "failures": failures[test],
        }
        for test in sorted(passes)  # one lock order for every worker: no deadlocks
    ]
    _add_counts(conn, rows)


def _add_counts(conn: Connection, rows: list[dict[str, object]]) -> None:
    if not rows:
        return
    dialect = conn.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        _add_counts_one_by_one(conn, rows)
        return
    upsert = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(TestDay)
    statement: Insert = upsert.on_conflict_do_update(
        index_elements=[TestDay.test_id, TestDay.day, TestDay.branch],
        set_={
            "passes": TestDay.passes + upsert.excluded.passes,
            "failures": TestDay.failures + upsert.excluded.failures,
        },
    )
    conn.execute(statement, rows)


def _add_counts_one_by_one(conn: Connection, rows: list[dict[str, object]]) -> None:
    """Databases without an upsert: update, else insert (the writer is single)."""
    for row in rows:
        key = (
            (TestDay.test_id == row["test_id"])
            & (TestDay.day == row["day"])
            & (TestDay.branch == row["branch"])
        )
        updated = conn.execute(
            update(TestDay)
            .where(key)
            .values(
                passes=TestDay.passes + row["passes"], failures=TestDay.failures + row["failures"]
            )
        )
        if updated.rowcount == 0:
            conn.execute(insert(TestDay).values(**row))


def rebuild(conn: Connection) -> None:
    """Recount every test's days from the stored results: for a database filled by
    other means than ``add_results`` (a bulk load, a restore)."""
    conn.execute(delete(TestDay))
    day = func.date(Run.started_at)
    branch = func.coalesce(Run.branch, text(f"'{NO_BRANCH}'"))
    passed = [o.value for o in PASSED]
    bad = [o.value for o in BAD_OUTCOMES]
    conn.execute(
        insert(TestDay).from_select(
            ["test_id", "day", "branch", "passes", "failures"],
            select(
                Result.test_id,
                day,
                branch,
                func.sum(case((Result.outcome.in_(passed), 1), else_=0)),
                func.sum(case((Result.outcome.in_(bad), 1), else_=0)),
            )
            .join(Run, Run.id == Result.run_id)
            .where(Run.is_replay.is_(False))
            .group_by(Result.test_id, day, branch),
        )
    )
