"""Deleting a run: its results, its batches, what the aggregates counted of it, and the
tests only it ran, in one transaction that also moves the changes count (so no worker
serves a cached page that still shows the run).

Each is deleted here, not by a cascade: on PostgreSQL results have no foreign keys
(revision 0016)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Connection, case, delete, exists, func, insert, select

from seedboard.db.aggregates import NO_BRANCH, PASSED
from seedboard.db.changes import note_change
from seedboard.db.models import BAD_VALUES, Batch, Result, Run, Test, TestDay
from seedboard.db.queries import runs_then_results
from seedboard.db.runs import share_tests, start_of_day


def delete_run(conn: Connection, run_id: str) -> bool:
    """Delete a run and everything recorded of it; False if there is no such run."""
    run = conn.execute(
        select(Run.key, Run.started_at, Run.branch, Run.is_replay)
        .where(Run.id == run_id)
        .with_for_update()
    ).first()
    if run is None:
        return False
    # Taken after the run's row, as storers take them: the two cannot deadlock.
    share_tests(conn, exclusive=True)
    tests = sorted(
        conn.execute(select(Result.test_id).where(Result.run_key == run.key).distinct()).scalars()
    )
    conn.execute(delete(Batch).where(Batch.run_id == run_id))
    conn.execute(delete(Result).where(Result.run_key == run.key))
    conn.execute(delete(Run).where(Run.id == run_id))
    if tests and not run.is_replay:  # replays are not counted in the aggregates
        _recount_day(conn, tests, run.started_at.date(), run.branch or NO_BRANCH)
    _forget_tests_without_results(conn, tests)
    note_change(conn)
    return True


def runs_started_before(conn: Connection, moment: datetime, limit: int) -> list[str]:
    """The ids of up to ``limit`` runs started before ``moment``, oldest first."""
    query = (
        select(Run.id).where(Run.started_at < moment).order_by(Run.started_at, Run.id).limit(limit)
    )
    return list(conn.execute(query).scalars())


def _recount_day(conn: Connection, tests: list[int], day: date, branch: str) -> None:
    """Count ``tests``' results again on the run's day and branch, as ``aggregates.rebuild``
    does for every day: a test the day has no result of left keeps no row."""
    conn.execute(
        delete(TestDay).where(
            TestDay.test_id.in_(tests), TestDay.day == day, TestDay.branch == branch
        )
    )
    start = start_of_day(day)
    passed = [o.value for o in PASSED]
    counted = (
        select(
            Result.test_id,
            func.sum(_one_if(Result.outcome.in_(passed))),
            func.sum(_one_if(Result.outcome.in_(BAD_VALUES))),
        )
        # The day's runs by their start, then each run's results of these tests.
        .select_from(runs_then_results())
        .where(
            Result.test_id.in_(tests),
            Run.is_replay.is_(False),
            Run.started_at >= start,
            Run.started_at < start + timedelta(days=1),
            func.coalesce(Run.branch, NO_BRANCH) == branch,
        )
        .group_by(Result.test_id)
    )
    rows = [
        {"test_id": test, "day": day, "branch": branch, "passes": passes, "failures": failures}
        for test, passes, failures in conn.execute(counted)
    ]
    if rows:
        conn.execute(insert(TestDay), rows)


def _one_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def _forget_tests_without_results(conn: Connection, tests: list[int]) -> None:
    """Drop the tests among ``tests`` that no result refers to any more: a test id that
    only a mistaken run named (an import error replayed) leaves no trace.

    Results are indexed by run, not by test, so they are not asked: a test with a result
    in a run that is not a replay has a day counted (``_recount_day`` ran first), and
    only replays, which are not counted, are looked through for the others."""
    if not tests:
        return
    counted = exists().where(TestDay.test_id == Test.id)
    uncounted = list(conn.scalars(select(Test.id).where(Test.id.in_(tests), ~counted)))
    if not uncounted:
        return
    replayed = (
        select(Result.test_id)
        .select_from(runs_then_results())
        .where(Run.is_replay.is_(True), Result.test_id.in_(uncounted))
        .distinct()
    )
    orphans = sorted(set(uncounted) - set(conn.scalars(replayed)))
    if orphans:
        conn.execute(delete(Test).where(Test.id.in_(orphans)))
