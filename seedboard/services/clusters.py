"""Failure clusters: one fingerprint's failures across every test it hits, read from
``seedboard.db.clusters`` and named and ordered here."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from seedboard.db.clusters import (
    FingerprintInTest,
    NewestFailure,
    fingerprints_by_test,
    newest_failures,
)
from seedboard.db.queries import test_names
from seedboard.triage.fingerprint import summary

WINDOW = 200
"""Runs the clusters page looks at, unless told otherwise."""


@dataclass(frozen=True, slots=True)
class ClusterTest:
    """A test a cluster hits, and how often."""

    test_id: str
    failures: int


@dataclass(frozen=True, slots=True)
class Example:
    """The cluster's newest failure."""

    run_id: str
    test_id: str
    started_at: datetime
    exception_type: str | None
    message: str | None


@dataclass(frozen=True, slots=True)
class Cluster:
    """Failures sharing a fingerprint, whichever tests they are in."""

    fingerprint: str
    summary: str
    tests: tuple[ClusterTest, ...]
    """Most failures first, ties by test id."""
    failures: int
    first_seen: datetime
    last_seen: datetime
    example: Example


def failure_clusters(
    conn: Connection, window: int = WINDOW, branch: str | None = None, limit: int = 100
) -> list[Cluster]:
    """The first ``limit`` clusters of the latest ``window`` runs (on ``branch``, if given;
    replays left out), in ``cluster_order``."""
    kept = rank_fingerprints(fingerprints_by_test(conn, window, branch))[:limit]
    newest = newest_failures(conn, [fingerprint for fingerprint, _ in kept], window, branch)
    names = test_names(
        conn,
        {hit.test_key for _, hits in kept for hit in hits} | {n.test_key for n in newest.values()},
    )
    return [_cluster(hits, newest[fingerprint], names) for fingerprint, hits in kept]


def rank_fingerprints(
    hits: Sequence[FingerprintInTest],
) -> list[tuple[str, list[FingerprintInTest]]]:
    """Each fingerprint with its hits, most tests hit first, then most failures, ties by
    fingerprint."""
    by_fingerprint: defaultdict[str, list[FingerprintInTest]] = defaultdict(list)
    for hit in hits:
        by_fingerprint[hit.fingerprint].append(hit)
    return sorted(
        by_fingerprint.items(),
        key=lambda item: (-len(item[1]), -sum(hit.failures for hit in item[1]), item[0]),
    )


def _cluster(
    hits: list[FingerprintInTest], newest: NewestFailure, names: dict[int, str]
) -> Cluster:
    tests = sorted(
        (ClusterTest(names[hit.test_key], hit.failures) for hit in hits),
        key=lambda test: (-test.failures, test.test_id),
    )
    return Cluster(
        fingerprint=newest.fingerprint,
        summary=summary(newest.exception_type, newest.message),
        tests=tuple(tests),
        failures=sum(hit.failures for hit in hits),
        first_seen=min(hit.first_seen for hit in hits),
        last_seen=max(hit.last_seen for hit in hits),
        example=Example(
            run_id=newest.run_id,
            test_id=names[newest.test_key],
            started_at=newest.started_at,
            exception_type=newest.exception_type,
            message=newest.message,
        ),
    )
