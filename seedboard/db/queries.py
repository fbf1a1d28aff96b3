"""Query pieces the read stores share, shaped so the database can answer from indexes
in time that does not grow with history."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, FromClause, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.selectable import Join

from seedboard.db.models import Result, Run

BAD_VALUES = ("failure", "error", "unexpected_success")
"""Written out, in the order of the partial index's WHERE clause in models.py."""


def is_bad() -> ColumnElement[bool]:
    """Results with a bad outcome, written as the partial index says it.

    The values are literal rather than bound: SQLite uses a partial index only when
    it can see at planning time that the query's WHERE implies the index's.
    """
    return Result.outcome.in_([literal_column(f"'{value}'") for value in BAD_VALUES])


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
    ``(started_at, id)`` index and looking each up in ``(test_id, run_id)`` stops after
    the first ``limit`` hits; starting from the test's results instead reads and sorts
    all of its history.  Other databases plan the join as usual.
    """
    return _RunsFirst(Run.__table__, Result.__table__, Run.id == Result.run_id)
