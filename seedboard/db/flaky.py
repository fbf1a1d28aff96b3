"""Store functions for the flaky page and a test's triage: the tests that failed lately,
and each test's latest results as ``Sample`` records (``seedboard.services.flaky``
judges them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select

from seedboard.db.models import Result, Run, Test
from seedboard.db.queries import is_bad, latest_results, started_at_of, stored_started_at
from seedboard.db.rows import reading
from seedboard.domain import OUTCOME_OF, Sample


@dataclass(frozen=True, slots=True)
class StoredTest:
    """A test as stored: its key, which its results refer to, its name and its place."""

    key: int
    name: str
    file: str | None
    line: int | None


_TESTS = reading(
    StoredTest, {"key": Test.id, "name": Test.name, "file": Test.file, "line": Test.line}
)

_SAMPLES = reading(
    Sample,
    {
        "run_id": Run.id,
        "started_at": stored_started_at(),
        "outcome": Result.outcome,
        "seed": Result.seed,
        "fingerprint": Result.fingerprint,
        "exception_type": Result.exception_type,
        "message": Result.message,
        "is_replay": Run.is_replay,
        "commit": Run.commit,
        "order_seed": Run.order_seed,
    },
    convert={"started_at": started_at_of, "outcome": OUTCOME_OF.__getitem__},
)

SAMPLES = _SAMPLES
"""How a result is read as a ``Sample``, for the stores that read samples of their own."""


def find_test(conn: Connection, name: str) -> StoredTest | None:
    """The test called ``name``; None if it was never seen."""
    rows = conn.execute(select(*_TESTS.columns).where(Test.name == name)).all()
    return next(iter(_TESTS.records(rows)), None)


def failing_tests(conn: Connection, runs: int, branch: str | None = None) -> list[StoredTest]:
    """The tests with a bad result in the latest ``runs`` runs (on ``branch``, if given),
    by name."""
    recent = select(Run.key).order_by(Run.started_at.desc(), Run.id.desc()).limit(runs)
    if branch is not None:
        recent = recent.where(Run.branch == branch)
    failed = select(Result.test_id).where(Result.run_key.in_(recent.scalar_subquery()), is_bad())
    query = select(*_TESTS.columns).where(Test.id.in_(failed)).order_by(Test.name)
    return _TESTS.records(conn.execute(query))


def latest_samples(
    conn: Connection, tests: Sequence[int], limit: int, branch: str | None = None
) -> dict[int, list[Sample]]:
    """Each test's latest ``limit`` results (on ``branch``, if given), newest first, by
    test key; a test without results is left out."""
    latest = latest_results(conn, _SAMPLES.columns, tests, limit, branch)
    return {test: _SAMPLES.records(rows) for test, rows in latest.items()}
