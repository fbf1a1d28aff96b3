"""Aggregates kept up to date at ingest, so pages read a few summary rows instead of
scanning history: each test's passes and failures per UTC day and branch.

``runs.append_results`` calls ``count_results`` in the same transaction as its insert, so an
aggregate never disagrees with the results it sums.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date

from sqlalchemy import Connection, case, delete, func, insert, select, text

from seedboard.db.bulk import add_to_rows
from seedboard.db.changes import note_change
from seedboard.db.models import Result, Run, TestDay
from seedboard.domain import BAD_OUTCOMES, Outcome

PASSED = frozenset({Outcome.SUCCESS, Outcome.EXPECTED_FAILURE})
"""What trends count as a pass; skips count as neither."""

NO_BRANCH = ""
"""``test_days.branch`` for runs without a branch."""


def count_results(
    conn: Connection, day: date, branch: str | None, results: Iterable[tuple[int, Outcome]]
) -> None:
    """Add new (test key, outcome) results of a run (not a replay: trends leave them out)
    started on ``day`` on ``branch`` to that day's counts."""
    branch = branch or NO_BRANCH
    pairs = list(results)
    # Counted by Counter's own loop, read with get: no call of __missing__ per test.
    passes = Counter(test for test, outcome in pairs if outcome in PASSED)
    failures = Counter(test for test, outcome in pairs if outcome in BAD_OUTCOMES)
    rows = [
        (test, day, branch, passes.get(test, 0), failures.get(test, 0))
        for test in sorted({test for test, _ in pairs})  # one lock order: no deadlocks
    ]
    add_to_rows(conn, TestDay, _DAY_KEY, ("passes", "failures"), rows)


_DAY_KEY = ("test_id", "day", "branch")


def rebuild(conn: Connection) -> None:
    """Recount every test's days from the stored results: for a database filled by
    other means than ``runs.append_results`` (a bulk load, a restore)."""
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
            .join(Run, Run.key == Result.run_key)
            .where(Run.is_replay.is_(False))
            .group_by(Result.test_id, day, branch),
        )
    )
    note_change(conn)
