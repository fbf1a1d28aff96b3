"""Classify a test from its recent results: stable, broken, or which kind of flaky.

The caller chooses the window (say the last 50 runs that ran the test) and
passes every result in it; ``classify`` counts them as follows.

Which results count: a skip does not (the test did not run).  An expected
failure counts as a pass, since trial expected it.  A failure, an error and an
unexpected success count as failures.  Replays (runs that re-ran a failing
seed) count like any other result: they are how a seed gets confirmed.

The classes, checked in this order:

- **stable**: no failures, including when no result counts at all.
- **broken**: every counted result failed, whatever its seed; a single failing
  result is broken.
- Otherwise the test both passed and failed:

  - **nondeterministic**: some seed both passed and failed, so the seed does
    not control the failure.
  - **flaky**: no failing result has a seed, so nothing can be replayed.
  - **seed-dependent**: at least one failing seed has been run two or more
    times, and every failing seed run two or more times failed each time.
    Failing seeds run only once do not contradict it.
  - **unconfirmed**: the test passed and failed with different seeds, but no
    failing seed has been run a second time yet.

Results without a seed count towards the runs, failures and rates, but are left
out of the per-seed statistics.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from itertools import pairwise
from typing import Protocol

from seedboard.domain import Outcome


class Observed(Protocol):
    """What classifying reads of a result: an ``Observation``, or any record with its
    fields (the triage report's samples), so that none is copied to be judged."""

    @property
    def started_at(self) -> datetime: ...

    @property
    def outcome(self) -> Outcome: ...

    @property
    def seed(self) -> int | None: ...

    @property
    def fingerprint(self) -> str | None: ...


class Classification(StrEnum):
    """What a test's recent results say about it."""

    STABLE = "stable"
    BROKEN = "broken"
    SEED_DEPENDENT = "seed-dependent"
    NONDETERMINISTIC = "nondeterministic"
    UNCONFIRMED = "unconfirmed"
    FLAKY = "flaky"
    ORDER_DEPENDENT = "order-dependent"
    """Fails because a test ran before it: never judged from results here, but set by
    ``seedboard.services.flaky`` when ``seedboard bisect`` found the polluter."""


@dataclass(frozen=True, slots=True)
class SeedStats:
    """How one seed fared: its counted passes and failures, and the failures' fingerprints."""

    seed: int
    passed: int
    failed: int
    fingerprints: tuple[str, ...]
    """The distinct fingerprints of the failures with this seed, sorted."""

    @property
    def runs(self) -> int:
        return self.passed + self.failed


@dataclass(frozen=True, slots=True)
class Verdict:
    """A test's classification and the numbers behind it."""

    classification: Classification
    runs: int
    """Counted results: every result but skips."""
    failures: int
    failure_rate: float
    """``failures / runs``; 0.0 when nothing was counted."""
    flip_rate: float
    """How often consecutive counted results, in time order, switch between passing and
    failing, as a share of the ``runs - 1`` chances to; 0.0 with fewer than two runs."""
    seeds: tuple[SeedStats, ...]
    """One per seed seen in a counted result: failing seeds first, then by seed."""


def classify(observations: Sequence[Observed]) -> Verdict:
    """The verdict on a test from every observation in the caller's window."""
    counted = sorted((o for o in observations if is_counted(o)), key=lambda o: o.started_at)
    failures = sum(1 for o in counted if is_failure(o))
    seeds = seed_stats(counted)
    return Verdict(
        classification=_classification(counted, failures, seeds),
        runs=len(counted),
        failures=failures,
        failure_rate=failures / len(counted) if counted else 0.0,
        flip_rate=flip_rate(counted),
        seeds=seeds,
    )


def is_counted(observation: Observed) -> bool:
    """Whether the test ran: every outcome but a skip."""
    return observation.outcome is not Outcome.SKIP


def is_failure(observation: Observed) -> bool:
    """Whether the result made the run fail; an expected failure is a pass."""
    return observation.outcome.is_bad


def flip_rate(in_time_order: Sequence[Observed]) -> float:
    """The share of consecutive pairs whose pass/fail status differs."""
    if len(in_time_order) < 2:
        return 0.0
    statuses = [is_failure(o) for o in in_time_order]
    flips = sum(1 for before, after in pairwise(statuses) if before != after)
    return flips / (len(statuses) - 1)


def seed_stats(counted: Iterable[Observed]) -> tuple[SeedStats, ...]:
    """Per-seed passes, failures and fingerprints; results without a seed are left out."""
    passed: dict[int, int] = {}
    failed: dict[int, int] = {}
    fingerprints: dict[int, set[str]] = {}
    for observation in counted:
        seed = observation.seed
        if seed is None:
            continue
        passed.setdefault(seed, 0)
        failed.setdefault(seed, 0)
        fingerprints.setdefault(seed, set())
        if is_failure(observation):
            failed[seed] += 1
            if observation.fingerprint is not None:
                fingerprints[seed].add(observation.fingerprint)
        else:
            passed[seed] += 1
    stats = (
        SeedStats(seed, passed[seed], failed[seed], tuple(sorted(fingerprints[seed])))
        for seed in passed
    )
    return tuple(sorted(stats, key=lambda s: (s.failed == 0, s.seed)))


def _classification(
    counted: Sequence[Observed], failures: int, seeds: Sequence[SeedStats]
) -> Classification:
    if failures == 0:
        return Classification.STABLE
    if failures == len(counted):
        return Classification.BROKEN
    if any(s.passed and s.failed for s in seeds):
        return Classification.NONDETERMINISTIC
    if all(o.seed is None for o in counted if is_failure(o)):
        return Classification.FLAKY
    # No seed both passed and failed (checked above), so a failing seed run
    # twice or more failed every time: one is enough to confirm the seed.
    if any(s.failed and s.runs >= 2 for s in seeds):
        return Classification.SEED_DEPENDENT
    return Classification.UNCONFIRMED


def rank_key(verdict: Verdict, test_id: str) -> tuple[bool, float, float, int, str]:
    """Sort key putting the most worrying tests first.

    Anything not stable comes before stable, then the higher failure rate, then
    the higher flip rate, then the test with more counted runs (more evidence), and
    last the test id, so that tests tied on all of these keep one order on every
    database, whatever order it stores them in.
    """
    return (
        verdict.classification is Classification.STABLE,
        -verdict.failure_rate,
        -verdict.flip_rate,
        -verdict.runs,
        test_id,
    )
