"""Store functions for comparing runs: a run's previous run on its branch, and a run's
outcomes by test (``seedboard.services.compare`` diffs them)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from seedboard.db.models import Result, Run
from seedboard.db.runs import listed_after, run_summary, summary_of
from seedboard.domain import OUTCOME_OF, Outcome, RunSummary


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


def compared_run(conn: Connection, run_id: str) -> RunSummary:
    """The summary of a run to compare; ``NoSuchRun`` if there is no such run."""
    summary = run_summary(conn, run_id)
    if summary is None:
        raise NoSuchRun(run_id)
    return summary


def run_outcomes(conn: Connection, run_id: str) -> list[tuple[int, Outcome]]:
    """The run's (test key, outcome) pairs: names are read only for the tests that
    changed (``seedboard.db.queries.test_names``)."""
    key = select(Run.key).where(Run.id == run_id).scalar_subquery()
    query = select(Result.test_id, Result.outcome).where(Result.run_key == key)
    return [(test, OUTCOME_OF[outcome]) for test, outcome in conn.execute(query)]
