"""Store functions comparing runs: a run's previous run on its branch, and two runs' tests."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from seedboard.db.bulk import rows_by_key
from seedboard.db.models import Result, Run, Test
from seedboard.db.runs import listed_after, run_summary, summary_of
from seedboard.domain import OUTCOME_OF, Outcome, RunSummary
from seedboard.triage.compare import RunDiff, compare_keyed


@dataclass(frozen=True, slots=True)
class Comparison:
    """Run ``b`` set against the older run ``a``."""

    a: RunSummary
    b: RunSummary
    diff: RunDiff


class NoSuchRun(LookupError):
    """A run to compare does not exist."""

    def __init__(self, run_id: str) -> None:
        super().__init__(f"no run with id {run_id!r}")
        self.run_id = run_id


def previous_run(conn: Connection, run_id: str) -> RunSummary | None:
    """The latest run on the same branch (or also without one) started before ``run_id``,
    replays left out: they re-run a few seeds, not the suite.  None if there is none."""
    run = conn.execute(select(Run.started_at, Run.branch).where(Run.id == run_id)).first()
    if run is None:
        raise NoSuchRun(run_id)
    same_branch = Run.branch.is_(None) if run.branch is None else Run.branch == run.branch
    row = conn.execute(
        select(Run.__table__)
        .where(same_branch, Run.is_replay.is_(False), listed_after(run.started_at, run_id))
        .order_by(Run.started_at.desc(), Run.id.desc())
        .limit(1)
    ).first()
    return None if row is None else summary_of(row)


def compare_runs(conn: Connection, a: str, b: str) -> Comparison:
    """Run ``b`` against ``a``; ``NoSuchRun`` names the first of them that does not exist."""
    old, new = _summary(conn, a), _summary(conn, b)
    diff = compare_keyed(_outcomes(conn, a), _outcomes(conn, b), lambda keys: _names(conn, keys))
    return Comparison(a=old, b=new, diff=diff)


def compare_with_previous(conn: Connection, run_id: str) -> Comparison | None:
    """The run against its previous run on its branch; None when it has none."""
    previous = previous_run(conn, run_id)
    if previous is None:
        return None
    return compare_runs(conn, previous.id, run_id)


def _summary(conn: Connection, run_id: str) -> RunSummary:
    summary = run_summary(conn, run_id)
    if summary is None:
        raise NoSuchRun(run_id)
    return summary


def _outcomes(conn: Connection, run_id: str) -> list[tuple[int, Outcome]]:
    """The run's results by test key: names are read only for the tests that changed."""
    query = select(Result.test_id, Result.outcome).where(Result.run_id == run_id)
    return [(test, OUTCOME_OF[outcome]) for test, outcome in conn.execute(query)]


def _names(conn: Connection, tests: set[int]) -> dict[int, str]:
    return dict(rows_by_key(conn, Test.id, sorted(tests), Test.id, Test.name))
