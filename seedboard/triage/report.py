"""One test's triage: its class and rates, its failure groups, and how to replay each seed.

Pure: ``seedboard.services.flaky`` hands in the test's stored results in the window,
newest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from seedboard.domain import OrderDependency, Outcome, Sample
from seedboard.triage.classify import Verdict, classify
from seedboard.triage.fingerprint import summary
from seedboard.triage.seed_life import SeedLife, SeedState, seed_lives
from seedboard.triage.snippets import order_command, replay_command, seed_snippet


@dataclass(frozen=True, slots=True)
class FailureGroup:
    """Alike failures of one test: same exception, masked message and failing code."""

    fingerprint: str
    summary: str
    count: int
    first_seen: datetime
    last_seen: datetime
    seeds: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class SeedReport:
    """A seed's record, and for a failing seed the lines that replay it and where it
    stands (``seedboard.triage.seed_life``)."""

    seed: int
    passed: int
    failed: int
    snippet: str | None
    command: str | None
    status: SeedState | None = None
    """None for a seed that only passed."""
    status_commit: str | None = None
    """The newest commit it was tried at, where its status was seen; None for a seed
    that only passed, or one whose newest run recorded no commit."""

    @property
    def life(self) -> SeedLife | None:
        if self.status is None:
            return None
        return SeedLife(self.seed, self.status, self.status_commit)


@dataclass(frozen=True, slots=True)
class TestTriage:
    test_id: str
    file: str | None
    line: int | None
    verdict: Verdict
    groups: tuple[FailureGroup, ...]
    seeds: tuple[SeedReport, ...]
    recent: tuple[Outcome, ...] = ()
    """Its latest outcomes, oldest first, for a sparkline."""
    order_dependency: OrderDependency | None = None
    """The polluter ``seedboard bisect`` found, when the test is order-dependent."""

    @property
    def order_command(self) -> str | None:
        """The command that shows the order-dependent failure."""
        found = self.order_dependency
        if found is None:
            return None
        return order_command(found.polluter, found.victim, found.seed, found.run_seed)

    @property
    def failing_seeds(self) -> tuple[SeedReport, ...]:
        return tuple(s for s in self.seeds if s.failed)

    @property
    def passing_seeds(self) -> tuple[SeedReport, ...]:
        """Seeds that only passed."""
        return tuple(s for s in self.seeds if not s.failed)


def triage(
    test_id: str,
    file: str | None,
    line: int | None,
    samples: Sequence[Sample],
    recent: Sequence[Outcome] = (),
) -> TestTriage:
    verdict = classify(samples)
    return TestTriage(
        test_id=test_id,
        file=file,
        line=line,
        verdict=verdict,
        groups=failure_groups(samples),
        seeds=seed_reports(test_id, verdict, samples),
        recent=tuple(recent),
    )


def failure_groups(samples: Sequence[Sample]) -> tuple[FailureGroup, ...]:
    """Failures grouped by fingerprint, the most frequent group first."""
    by_print: dict[str, list[Sample]] = {}
    for sample in samples:
        if sample.outcome.is_bad and sample.fingerprint is not None:
            by_print.setdefault(sample.fingerprint, []).append(sample)
    groups = [_group(fingerprint, members) for fingerprint, members in by_print.items()]
    # The fingerprint last, so that groups alike in count and time keep one order.
    return tuple(sorted(groups, key=lambda g: (-g.count, -g.last_seen.timestamp(), g.fingerprint)))


def _group(fingerprint: str, members: list[Sample]) -> FailureGroup:
    latest = max(members, key=lambda s: s.started_at)
    return FailureGroup(
        fingerprint=fingerprint,
        summary=summary(latest.exception_type, latest.message),
        count=len(members),
        first_seen=min(s.started_at for s in members),
        last_seen=latest.started_at,
        seeds=tuple(sorted({s.seed for s in members if s.seed is not None})),
    )


def seed_reports(
    test_id: str, verdict: Verdict, samples: Sequence[Sample]
) -> tuple[SeedReport, ...]:
    """Each seed's record; failing seeds get a snippet and a replay command, replayed
    in the order of the latest run where they failed (it matters with ``--random``),
    and their status (``seedboard.triage.seed_life``)."""
    order_seeds = _order_seed_of_latest_failure(samples)
    failing = {stats.seed for stats in verdict.seeds if stats.failed}
    lives = seed_lives(s for s in samples if s.seed in failing)
    reports = []
    for stats in verdict.seeds:
        life = lives.get(stats.seed)
        reports.append(
            SeedReport(
                seed=stats.seed,
                passed=stats.passed,
                failed=stats.failed,
                snippet=seed_snippet(test_id, stats.seed) if stats.failed else None,
                command=(
                    replay_command(test_id, stats.seed, order_seeds.get(stats.seed))
                    if stats.failed
                    else None
                ),
                status=None if life is None else life.state,
                status_commit=None if life is None else life.commit,
            )
        )
    return tuple(reports)


def _order_seed_of_latest_failure(samples: Sequence[Sample]) -> dict[int, int | None]:
    found: dict[int, int | None] = {}
    for sample in sorted(samples, key=lambda s: s.started_at):
        if sample.outcome.is_bad and sample.seed is not None:
            found[sample.seed] = sample.order_seed
    return found
