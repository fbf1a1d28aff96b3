"""Store functions for failing seeds: every result of each (test, seed) pair that ever
failed, replays and all commits included, for judging where each seed stands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, tuple_

from seedboard.db.models import BAD_VALUES, Result, Run, Test
from seedboard.db.queries import is_bad, runs_then_results
from seedboard.db.rows import reading
from seedboard.domain import OUTCOME_OF, Outcome


@dataclass(frozen=True, slots=True)
class SeedResult:
    """One result of a seed that failed somewhere: when, how, at which commit."""

    test_id: str
    seed: int
    started_at: datetime
    outcome: Outcome
    commit: str | None
    fingerprint: str | None
    exception_type: str | None
    message: str | None


_SEED_RESULTS = reading(
    SeedResult,
    {
        "test_id": Test.name,
        "seed": Result.seed,
        "started_at": Run.started_at,
        "outcome": Result.outcome,
        "commit": Run.commit,
        "fingerprint": Result.fingerprint,
        "exception_type": Result.exception_type,
        "message": Result.message,
    },
    convert={"outcome": OUTCOME_OF.__getitem__},
)


def failing_seed_results(conn: Connection, test_id: str | None = None) -> list[SeedResult]:
    """Every result of each (test, seed) that failed at least once (of ``test_id`` only, if
    given), oldest first."""
    failed = select(Result.test_id, Result.seed).where(
        Result.outcome.in_(BAD_VALUES), Result.seed.is_not(None)
    )
    query = select(*_SEED_RESULTS.columns).order_by(Run.started_at, Run.id)
    if test_id is None:
        query = query.join(Test, Test.id == Result.test_id).join(Run, Run.key == Result.run_key)
    else:
        # One test's failures alone, not every test's then filtered: its results are
        # read by walking the runs and asking each by the (run_key, test_id) index.
        # Its failures from the partial index of bad results, smaller to walk than all.
        key = select(Test.id).where(Test.name == test_id).scalar_subquery()
        failed = (
            select(Result.test_id, Result.seed)
            .select_from(runs_then_results())
            .where(Result.test_id == key, is_bad(), Result.seed.is_not(None))
        )
        query = (
            query.select_from(runs_then_results())
            .join(Test, Test.id == Result.test_id)
            .where(Result.test_id == key)
        )
    return _SEED_RESULTS.records(
        conn.execute(query.where(tuple_(Result.test_id, Result.seed).in_(failed)))
    )
