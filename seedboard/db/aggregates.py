"""Aggregates kept up to date at ingest, so pages read a few summary rows instead of
scanning history: each test's passes and failures per UTC day and branch.

``runs.append_results`` calls ``count_results`` in the same transaction as its insert, so an
aggregate never disagrees with the results it sums.
"""

from __future__ import annotations

from datetime import date
from functools import cache

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Dialect,
    Insert,
    String,
    TextClause,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal_column,
    select,
    text,
)

from seedboard.db.bulk import dialect_insert
from seedboard.db.changes import note_change
from seedboard.db.models import BAD_ONLY, Result, Run, TestDay
from seedboard.domain import BAD_OUTCOMES, Outcome

PASSED = frozenset({Outcome.SUCCESS, Outcome.EXPECTED_FAILURE})
"""What trends count as a pass; skips count as neither."""

NO_BRANCH = ""
"""``test_days.branch`` for runs without a branch."""


def count_results(
    conn: Connection, day: date, branch: str | None, run_key: int, after_id: int
) -> None:
    """Add the results of run ``run_key`` (not a replay: trends leave them out) with an
    id above ``after_id``, just inserted, to the counts of ``day`` (the run's start) on
    ``branch``.

    Counted by the database from the rows it holds: one statement, instead of a Python
    loop over the results and an upsert sent per test (bench/README.md, issue 18).
    """
    conn.execute(
        _count_statement(conn.dialect),
        {"day": day, "branch": branch or NO_BRANCH, "run_key": run_key, "after_id": after_id},
    )


def last_result_id(conn: Connection) -> int:
    """The highest id a result has (0 if none): the results inserted next have higher ones."""
    return conn.execute(_LAST_RESULT_ID).scalar_one()


_LAST_RESULT_ID = select(func.coalesce(func.max(Result.id), 0))


_ZERO: ColumnElement[int] = literal_column("0")
_ONE: ColumnElement[int] = literal_column("1")


def _counted(condition: ColumnElement[bool] | TextClause) -> ColumnElement[int]:
    return func.sum(case((condition, _ONE), else_=_ZERO))


@cache
def _count_statement(dialect: Dialect) -> Insert:
    """``count_results``'s upsert, built once per dialect.

    The new rows are a range of ids, which is all the database should read: ``+ 0``
    keeps SQLite from reading every entry of the run in the (run_key) index, or every
    result in the (test_id, run_key) one to group them.  Ordered by test, so that
    workers adding to the same rows lock them in one order (no deadlocks).
    """
    test = Result.test_id + _ZERO
    new = (
        select(
            test,
            bindparam("day", type_=Date),
            bindparam("branch", type_=String),
            _counted(Result.outcome.in_([o.value for o in PASSED])),
            _counted(BAD_ONLY),
        )
        .where(Result.id > bindparam("after_id"), Result.run_key + _ZERO == bindparam("run_key"))
        .group_by(test)
        .order_by(test)
    )
    upsert = dialect_insert(dialect, TestDay).from_select(list(_COLUMNS), new)
    table = TestDay.__table__
    return upsert.on_conflict_do_update(
        index_elements=[table.c[name] for name in _DAY_KEY],
        set_={name: table.c[name] + upsert.excluded[name] for name in _COUNTERS},
    )


_DAY_KEY = ("test_id", "day", "branch")
_COUNTERS = ("passes", "failures")
_COLUMNS = (*_DAY_KEY, *_COUNTERS)


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
