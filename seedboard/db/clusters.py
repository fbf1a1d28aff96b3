"""Store functions for the failure-clusters page: how often each fingerprint failed in
each test over the latest runs, and each fingerprint's newest failure
(``seedboard.services.clusters`` puts them together)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Select, false, func, select

from seedboard.db.bulk import CHUNK
from seedboard.db.models import Result, Run
from seedboard.db.queries import is_bad, newest_first, started_at_of, stored_started_at
from seedboard.db.rows import reading


@dataclass(frozen=True, slots=True)
class FingerprintInTest:
    """One fingerprint's failures in one test over the window."""

    fingerprint: str
    test_key: int
    failures: int
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class NewestFailure:
    """The newest failure with a fingerprint in the window: its example."""

    fingerprint: str
    run_id: str
    test_key: int
    started_at: datetime
    exception_type: str | None
    message: str | None


_IN_TEST = reading(
    FingerprintInTest,
    {
        "fingerprint": Result.fingerprint,
        "test_key": Result.test_id,
        "failures": func.count(),
        "first_seen": func.min(stored_started_at()),
        "last_seen": func.max(stored_started_at()),
    },
    convert={"first_seen": started_at_of, "last_seen": started_at_of},
)

_NEWEST = reading(
    NewestFailure,
    {
        "fingerprint": Result.fingerprint,
        "run_id": Run.id,
        "test_key": Result.test_id,
        "started_at": stored_started_at(),
        "exception_type": Result.exception_type,
        "message": Result.message,
    },
    convert={"started_at": started_at_of},
)


def _window(window: int, branch: str | None) -> Select[int]:
    """The latest ``window`` runs (on ``branch``, if given), replays left out: they re-run
    chosen seeds, and would count one failure again."""
    runs = select(Run.key).where(Run.is_replay == false())
    if branch is not None:
        runs = runs.where(Run.branch == branch)
    return runs.order_by(*newest_first()[:2]).limit(window)


def fingerprints_by_test(
    conn: Connection, window: int, branch: str | None = None
) -> list[FingerprintInTest]:
    """Each fingerprint's failures per test in the latest ``window`` runs, unordered."""
    query = (
        select(*_IN_TEST.columns)
        .select_from(Run.__table__.join(Result.__table__, Run.key == Result.run_key))
        .where(
            Result.run_key.in_(_window(window, branch).scalar_subquery()),
            is_bad(),
            Result.fingerprint.is_not(None),
        )
        .group_by(Result.fingerprint, Result.test_id)
    )
    return _IN_TEST.records(conn.execute(query))


def newest_failures(
    conn: Connection, fingerprints: Sequence[str], window: int, branch: str | None = None
) -> dict[str, NewestFailure]:
    """The newest failure of each of ``fingerprints`` in the latest ``window`` runs, by
    fingerprint (newest run, then the later result)."""
    recent = _window(window, branch).scalar_subquery()
    found: dict[str, NewestFailure] = {}
    for start in range(0, len(fingerprints), CHUNK):
        ranked = (
            select(
                *_NEWEST.columns,
                func.row_number()
                .over(partition_by=Result.fingerprint, order_by=newest_first())
                .label("place"),
            )
            .select_from(Run.__table__.join(Result.__table__, Run.key == Result.run_key))
            .where(
                Result.run_key.in_(recent),
                is_bad(),
                Result.fingerprint.in_(fingerprints[start : start + CHUNK]),
            )
            .subquery()
        )
        query = select(*list(ranked.columns)[:-1]).where(ranked.c.place == 1)
        found.update((row.fingerprint, row) for row in _NEWEST.records(conn.execute(query)))
    return found
