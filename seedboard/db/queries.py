"""Query pieces the read stores share, shaped so the database can answer from indexes
in time that does not grow with history."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    Row,
    String,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.selectable import Join

from seedboard.db.bulk import CHUNK, rows_by_key
from seedboard.db.models import BAD_VALUES, Result, Run, Test


def test_names(conn: Connection, tests: Iterable[int]) -> dict[int, str]:
    """The names of the tests with these keys: pages name only the few tests they show."""
    return dict(rows_by_key(conn, Test.id, sorted(tests), Test.id, Test.name))


def is_bad() -> ColumnElement[bool]:
    """Results with a bad outcome, written as the partial index says it.

    The values are literal rather than bound: SQLite uses a partial index only when
    it can see at planning time that the query's WHERE implies the index's.
    """
    return or_(*(Result.outcome == literal_column(f"'{value}'") for value in BAD_VALUES))


class _RunsFirst(Join):
    """An inner join that SQLite loops over left table first."""

    inherit_cache = True


@compiles(_RunsFirst, "sqlite")
def _cross_join(element: _RunsFirst, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite never reorders the two sides of a CROSS JOIN.
    kw["asfrom"] = True
    assert element.onclause is not None, "runs_then_results always joins on the run id"
    left = compiler.process(element.left, **kw)
    right = compiler.process(element.right, **kw)
    on = compiler.process(element.onclause, **kw)
    return f"{left} CROSS JOIN {right} ON {on}"


def runs_then_results() -> FromClause:
    """Runs joined to their results, walked run by run.

    For "a test's latest results, newest run first", walking runs newest first by the
    ``(started_at, id)`` index and looking each up in ``(run_key, test_id)`` stops after
    the first ``limit`` hits, and it is the only way on SQLite, whose results have no
    index by test (alembic 0015: a batch's inserts stay on its run's pages).  Other
    databases plan the join as usual.
    """
    return _RunsFirst(Run.__table__, Result.__table__, Run.key == Result.run_key)


def newest_first() -> tuple[ColumnElement[Any], ...]:
    """The order of a test's results: newest run first, then the later result."""
    return (Run.started_at.desc(), Run.id.desc(), Result.id.desc())


def stored_started_at() -> ColumnElement[Any]:
    """A run's start as the database hands it over, unconverted; ``started_at_of``
    converts it.  For reads of thousands of results from a few dozen runs."""
    return type_coerce(Run.started_at, String)


@lru_cache(maxsize=4096)
def started_at_of(stored: str | datetime) -> datetime:
    """A start read by ``stored_started_at`` (SQLite's text, or PostgreSQL's naive
    datetime), as aware UTC: once per run, rather than once per result as the
    column's own type would (a tenth of reading a flaky page's samples)."""
    moment = stored if isinstance(stored, datetime) else datetime.fromisoformat(stored)
    return moment.replace(tzinfo=UTC)


_NEWEST_FIRST = itemgetter(1, 2, 3)
"""The sort key of ``latest_results``' rows: started at, run and result id, by
position (looking them up by name costs more than the rest of the sort)."""


def latest_results(
    conn: Connection,
    columns: Sequence[ColumnElement[Any] | QueryableAttribute[Any]],
    tests: Sequence[int],
    limit: int,
    branch: str | None = None,
    runs_where: Sequence[ColumnElement[bool]] = (),
) -> dict[int, list[tuple[Any, ...]]]:
    """Each test's latest ``limit`` results (on ``branch``, and in runs that pass
    ``runs_where``, if given), newest first, as tuples of ``columns``' values; a test
    without results is left out.

    One query reads the tests' results in the latest ``limit`` runs and a quarter
    more: a test with ``limit`` results there has its latest ones among them, since
    every result of an older run comes after them.  Only a test with fewer (one that
    did not run in most runs: replays run a few tests) is then asked about alone,
    unless those runs were all there are.
    """
    on_branch = [*runs_where, *([] if branch is None else [Run.branch == branch])]
    runs = limit + limit // 4 + 2
    recent = select(Run.key).where(*on_branch).order_by(*newest_first()[:2]).limit(runs)
    # The same bound as a range on the runs' index, so only those runs are walked.
    oldest = conn.execute(
        select(stored_started_at())
        .where(*on_branch)
        .order_by(*newest_first()[:2])
        .limit(1)
        .offset(runs - 1)
    ).scalar()
    every_run = oldest is None
    picked = (
        Result.test_id,
        # As stored: it only orders the rows, and stored times sort as they read.
        stored_started_at().label("_started_at"),
        Run.id.label("_run_id"),
        Result.id.label("_result_id"),
        *columns,
    )
    found: dict[int, list[Row[Any]]] = {test: [] for test in tests}
    for start in range(0, len(tests), CHUNK):
        # Sorted here, not by SQLite: with the list of tests inside the loop over runs
        # it sorts with a temporary b-tree many times slower than the whole query.
        query = (
            select(*picked)
            .select_from(runs_then_results())
            .where(
                *([] if every_run else [Run.started_at >= started_at_of(oldest)]),
                Result.run_key.in_(recent.scalar_subquery()),
                Result.test_id.in_(tests[start : start + CHUNK]),
            )
        )
        for row in conn.execute(query):
            found[row[0]].append(row)
    for rows in found.values():
        rows.sort(key=_NEWEST_FIRST, reverse=True)
    for test, rows in found.items():
        if len(rows) < limit and not every_run:
            alone = (
                select(*picked)
                .select_from(runs_then_results())
                .where(Result.test_id == test, *on_branch)
                .order_by(*newest_first())
                .limit(limit)
            )
            found[test] = list(conn.execute(alone))
    keys = len(picked) - len(columns)
    return {test: [row[keys:] for row in rows[:limit]] for test, rows in found.items() if rows}
