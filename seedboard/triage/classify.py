"""Classify a test from its recent results: stable, broken, regressed, fixed, or which
kind of flaky.

The caller chooses the window (say the last 50 runs that ran the test) and
passes every result in it; ``classify`` counts them as follows.

Which results count: a skip does not (the test did not run).  An expected
failure counts as a pass, since trial expected it.  A failure, an error and an
unexpected success count as failures.  Replays (runs that re-ran a failing
seed) count like any other result: they are how a seed gets confirmed.

A result is judged together with the code it ran: its run's commit.  Commits are
ordered by time, each at the first counted result seen with it.  Results with no
commit recorded are one unknown version of the code among the others; when no
result has one, every rule below reads "at one commit" as "anywhere", which is
how tests were judged before commits were recorded, and the verdict says so
(``commits_recorded`` is false unless every counted result has a commit).

The classes, checked in this order:

- **stable**: no failures, including when no result counts at all.
- **broken**: every counted result failed, whatever its seed or commit; a single
  failing result is broken.
- Otherwise the test both passed and failed:

  - **nondeterministic**: some seed both passed and failed at one commit, so the
    seed does not control the failure.
  - **regressed**: it passed in every result up to commit A and failed in every
    result since commit B, the commit after A (every counted result has a
    commit).
  - **fixed**: it failed in every result up to commit A and passed in every result
    since B.  A replay of an old failing seed that passes at B is a fix check,
    so it counts for fixed, never for nondeterministic.
  - Otherwise judged only from the commits at which it both passed and failed:

    - **flaky**: no failure at such a commit has a seed, so nothing can be
      replayed.
    - **seed-dependent**: at such a commit, a failing seed was run two or more
      times and failed each time.  Failing seeds run only once do not
      contradict it.
    - **unconfirmed**: no failing seed has been run a second time at its commit
      yet, or the test never both passed and failed at one commit (it passed at
      some and failed at others, back and forth): more runs at one commit tell
      the code from chance.

Results without a seed count towards the runs, failures and rates, but are left
out of the per-seed statistics.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from itertools import pairwise
from typing import NamedTuple, Protocol

from seedboard.domain import BAD_OUTCOMES, Outcome


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

    @property
    def commit(self) -> str | None: ...


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
    REGRESSED = "regressed"
    FIXED = "fixed"


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


class CommitStats(NamedTuple):
    """How the test fared at one commit: its counted passes and failures there.

    A named tuple rather than a frozen dataclass, which takes twice as long to make:
    a flaky page makes one per commit of each test's window, thousands."""

    commit: str | None
    """None for the results that recorded no commit."""
    passed: int
    failed: int


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
    commits_recorded: bool = False
    """Whether every counted result has a commit; if not, the verdict may ignore code
    changes (and with no commit at all, it does)."""
    before_commit: str | None = None
    """For regressed, the last commit it passed at; for fixed, the last it failed at."""
    since_commit: str | None = None
    """For regressed, the first commit it failed at; for fixed, the first it passed at."""
    commits: tuple[CommitStats, ...] = ()
    """One per commit of a counted result, oldest first."""


def classify(observations: Sequence[Observed]) -> Verdict:
    """The verdict on a test from every observation in the caller's window."""
    counted = sorted((o for o in observations if is_counted(o)), key=lambda o: o.started_at)
    failures = sum(1 for o in counted if is_failure(o))
    commits = commit_stats(counted)
    recorded = bool(commits) and all(c.commit is not None for c in commits)
    seeds = seed_stats(counted)
    classification, before, since = _classification(counted, failures, seeds, commits, recorded)
    return Verdict(
        classification=classification,
        runs=len(counted),
        failures=failures,
        failure_rate=failures / len(counted) if counted else 0.0,
        flip_rate=flip_rate(counted),
        seeds=seeds,
        commits_recorded=recorded,
        before_commit=before,
        since_commit=since,
        commits=commits,
    )


def is_counted(observation: Observed) -> bool:
    """Whether the test ran: every outcome but a skip."""
    return observation.outcome is not Outcome.SKIP


def is_failure(observation: Observed) -> bool:
    """Whether the result made the run fail; an expected failure is a pass."""
    # ``Outcome.is_bad`` itself, without a property call: this runs for every result
    # of every test on the flaky page, several times.
    return observation.outcome in BAD_OUTCOMES


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


def commit_stats(in_time_order: Iterable[Observed]) -> tuple[CommitStats, ...]:
    """Per-commit passes and failures, commits in the order they were first seen."""
    counts: dict[str | None, list[int]] = {}
    for observation in in_time_order:
        found = counts.get(observation.commit)
        if found is None:
            found = counts[observation.commit] = [0, 0]
        found[observation.outcome in BAD_OUTCOMES] += 1  # is_failure, inlined: hot
    return tuple(
        [CommitStats(commit, passed, failed) for commit, (passed, failed) in counts.items()]
    )


_Judged = tuple[Classification, str | None, str | None]


def _classification(
    counted: Sequence[Observed],
    failures: int,
    seeds: Sequence[SeedStats],
    commits: Sequence[CommitStats],
    recorded: bool,
) -> _Judged:
    if failures == 0:
        return Classification.STABLE, None, None
    if failures == len(counted):
        return Classification.BROKEN, None, None
    # Only a seed that passed and failed somewhere can have done both at one commit.
    if any(s.passed and s.failed for s in seeds) and _seed_passed_and_failed_at_one_commit(counted):
        return Classification.NONDETERMINISTIC, None, None
    if recorded:
        turned = _turn(commits)
        if turned is not None:
            return turned
    return _within_commits(counted, commits), None, None


def _seed_passed_and_failed_at_one_commit(counted: Iterable[Observed]) -> bool:
    passed: set[tuple[str | None, int]] = set()
    failed: set[tuple[str | None, int]] = set()
    for observation in counted:
        if observation.seed is not None:
            key = (observation.commit, observation.seed)
            (failed if is_failure(observation) else passed).add(key)
    return not passed.isdisjoint(failed)


def _turn(commits: Sequence[CommitStats]) -> _Judged | None:
    """Regressed or fixed, with the commits either side of the one change, if the
    test's results changed once between two commits and never within one."""
    if any(c.passed and c.failed for c in commits):
        return None
    failing = [c.failed > 0 for c in commits]
    changes = [i for i in range(1, len(failing)) if failing[i] != failing[i - 1]]
    if len(changes) != 1:
        return None
    before, since = commits[changes[0] - 1], commits[changes[0]]
    kind = Classification.REGRESSED if since.failed else Classification.FIXED
    return kind, before.commit, since.commit


def _within_commits(counted: Iterable[Observed], commits: Sequence[CommitStats]) -> Classification:
    """Flaky, seed-dependent or unconfirmed, from the commits it both passed and failed at."""
    mixed = {c.commit for c in commits if c.passed and c.failed}
    if not mixed:
        return Classification.UNCONFIRMED
    failing = [o for o in counted if o.commit in mixed and is_failure(o)]
    if all(o.seed is None for o in failing):
        return Classification.FLAKY
    # No seed both passed and failed at one commit (checked before), so a failing
    # seed run twice or more at one commit failed every time: one confirms the seed.
    seen: set[tuple[str | None, int]] = set()
    for observation in failing:
        if observation.seed is not None:
            key = (observation.commit, observation.seed)
            if key in seen:
                return Classification.SEED_DEPENDENT
            seen.add(key)
    return Classification.UNCONFIRMED


RankKey = tuple[bool, bool, float, float, int, str]
"""What ``rank_key`` gives: its fields' types, so that a key read back from text can be checked."""


def rank_key(verdict: Verdict, test_id: str) -> RankKey:
    """Sort key putting the most worrying tests first.

    Anything not stable comes before stable, and fixed tests after every other
    (they stay listed, so a team sees a test went green), then the higher failure rate, then
    the higher flip rate, then the test with more counted runs (more evidence), and
    last the test id, so that tests tied on all of these keep one order on every
    database, whatever order it stores them in.
    """
    return (
        verdict.classification is Classification.STABLE,
        verdict.classification is Classification.FIXED,
        -verdict.failure_rate,
        -verdict.flip_rate,
        -verdict.runs,
        test_id,
    )
