"""Failing seeds and where each stands (``seedboard.triage.seed_life``), read from the
store (``seedboard.db.seeds``): what ``seedboard replay`` compares with and replays."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby

from sqlalchemy import Connection

from seedboard.db.seeds import SeedResult, failing_seed_results
from seedboard.triage.fingerprint import summary
from seedboard.triage.seed_life import SeedLife, seed_lives


@dataclass(frozen=True, slots=True)
class KnownSeed:
    """A (test, seed) that failed: its newest failure (group, commit, summary) and its life."""

    test_id: str
    seed: int
    fingerprint: str | None
    commit: str | None
    """The commit of its newest failure."""
    failure: str
    life: SeedLife


def known_seeds(conn: Connection, test_id: str | None = None) -> list[KnownSeed]:
    """Every (test, seed) that ever failed (of ``test_id`` only, if given), by test and seed."""
    results = failing_seed_results(conn, test_id)
    results.sort(key=lambda r: (r.test_id, r.seed, r.started_at))
    return [_known(list(tried)) for _, tried in groupby(results, key=lambda r: (r.test_id, r.seed))]


def _known(tried: list[SeedResult]) -> KnownSeed:
    """A pair from its results, oldest first, at least one of them a failure."""
    newest = [r for r in tried if r.outcome.is_bad][-1]
    return KnownSeed(
        test_id=newest.test_id,
        seed=newest.seed,
        fingerprint=newest.fingerprint,
        commit=newest.commit,
        failure=summary(newest.exception_type, newest.message),
        life=seed_lives(tried)[newest.seed],
    )
