"""Aggregates kept up to date at ingest, so pages read a few summary rows instead of
scanning history: each test's passes and failures per UTC day and branch.

``runs.append_results`` calls ``count_results`` in the same transaction as its insert, so an
aggregate never disagrees with the results it sums.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Dialect,
    Insert,
    Integer,
    String,
    TextClause,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects import postgresql

from seedboard.db.bulk import Call, dialect_insert
from seedboard.db.changes import note_change
from seedboard.db.models import BAD_ONLY, Result, Run, TestDay
from seedboard.db.rows import Column
from seedboard.domain import BAD_OUTCOMES, Outcome

PASSED = frozenset({Outcome.SUCCESS, Outcome.EXPECTED_FAILURE})
"""What trends count as a pass; skips count as neither."""

NO_BRANCH = ""
"""``test_days.branch`` for runs without a branch."""


@dataclass(frozen=True, slots=True)
class NewResults:
    """A batch of results of one run, about to be inserted, as ``count_results`` finds them."""

    run_key: int
    after_id: int
    """On SQLite, the highest result id before the insert: the new rows have higher ones."""
    tests: Sequence[int]
    outcomes: Sequence[str]
    """Each result's outcome, as stored (``Outcome.value``)."""


def new_results(
    conn: Connection, run_key: int, tests: Sequence[int], outcomes: Sequence[str]
) -> NewResults:
    """Call just before inserting these results of run ``run_key``, in the same transaction."""
    # A run's batches are stored one at a time (its row is locked), and other runs'
    # rows are told apart by their run: the ids above this one are the batch's.
    after_id = conn.execute(_LAST_RESULT_ID).scalar_one() if conn.dialect.name == "sqlite" else 0
    return NewResults(run_key, after_id, tests, outcomes)


def count_results(conn: Connection, day: date, branch: str | None, new: NewResults) -> Call:
    """The statement adding ``new`` results, once inserted, of a run (not a replay: trends
    leave them out) started on ``day`` on ``branch`` to that day's counts, to run in
    the same transaction (``bulk.together``).

    One statement, counted by the database, instead of a Python loop over the results
    and an upsert sent per test (bench/README.md, issue 18): on SQLite from the rows just
    inserted, a range of ids; on PostgreSQL from the batch's tests and outcomes sent as
    two arrays, since its planner, seeing a growing table, may scan it whole for the range.
    """
    values: dict[str, Any] = {"day": day, "branch": branch or NO_BRANCH}
    if conn.dialect.name == "sqlite":
        values.update(run_key=new.run_key, after_id=new.after_id)
    else:
        values.update(tests=_array_text(new.tests), outcomes=_array_text(new.outcomes))
    return Call(_count_statement(conn.dialect), values)


def _array_text(values: Sequence[int] | Sequence[str]) -> str:
    """PostgreSQL's text of an array of numbers or outcomes, none of which needs quoting.

    Written here, not by psycopg: it quotes every element of a list through a regular
    expression, which for a batch of 1,000 made half of the upsert's time (bench/README.md).
    """
    return "{" + ",".join(map(str, values)) + "}"


_LAST_RESULT_ID = select(func.coalesce(func.max(Result.id), 0))


_ZERO: ColumnElement[int] = literal_column("0")
_ONE: ColumnElement[int] = literal_column("1")


def _counted(condition: ColumnElement[bool] | TextClause) -> ColumnElement[int]:
    return func.sum(case((condition, _ONE), else_=_ZERO))


def _one_of(column: Column, values: list[str]) -> ColumnElement[bool]:
    """``column IN ('a', 'b')`` with the values written into the SQL (plain outcome names)."""
    assert not any("'" in value for value in values), values
    return column.in_([literal_column(f"'{value}'") for value in values])


@cache
def _count_statement(dialect: Dialect) -> Insert:
    """``count_results``'s upsert, built once per dialect.

    On SQLite the new rows are a range of ids, which is all it should read: ``+ 0``
    keeps SQLite from reading every entry of the run in the (run_key, test_id) index
    to group them by test.  Ordered by test, so that
    workers adding to the same rows lock them in one order (no deadlocks).
    """
    if dialect.name == "sqlite":
        test: ColumnElement[int] = Result.test_id + _ZERO
        outcome: Column = Result.outcome
        source: Any = Result
        where = [Result.id > bindparam("after_id"), Result.run_key + _ZERO == bindparam("run_key")]
    else:
        source = (
            func.unnest(
                cast(bindparam("tests", type_=String), postgresql.ARRAY(Integer)),
                cast(bindparam("outcomes", type_=String), postgresql.ARRAY(String)),
            )
            .table_valued("test_id", "outcome")
            .render_derived()
        )
        test, outcome, where = source.c.test_id, source.c.outcome, []
    passed = [o.value for o in PASSED]
    bad = [o.value for o in BAD_OUTCOMES]
    passes: ColumnElement[bool]
    failures: ColumnElement[bool] | TextClause
    if dialect.name == "sqlite":
        passes, failures = outcome.in_(passed), BAD_ONLY
    else:
        # Literals, not an IN list of parameters rendered at each run: PostgreSQL's
        # statement is compiled once and sent with others (``bulk.together``).
        passes, failures = _one_of(outcome, passed), _one_of(outcome, bad)
    new = (
        select(
            test,
            bindparam("day", type_=Date),
            bindparam("branch", type_=String),
            _counted(passes),
            _counted(failures),
        )
        .select_from(source)
        .where(*where)
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
