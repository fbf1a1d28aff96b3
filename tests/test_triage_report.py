"""Tests for one test's triage report: groups, seed records, snippets and commands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from twisted.trial.unittest import SynchronousTestCase

from seedboard.domain import Outcome, Sample
from seedboard.triage.classify import Classification
from seedboard.triage.report import failure_groups, triage
from seedboard.triage.seed_life import SeedState

START = datetime(2026, 11, 1, tzinfo=UTC)
TEST = "pkg.test_mod.NetTests.test_partition"


def sample(
    day: int,
    outcome: Outcome,
    seed: int | None,
    fingerprint: str | None = None,
    message: str | None = None,
    order_seed: int | None = None,
    is_replay: bool = False,
    commit: str | None = None,
) -> Sample:
    return Sample(
        run_id=f"run{day}",
        started_at=START + timedelta(days=day),
        outcome=outcome,
        seed=seed,
        fingerprint=fingerprint if outcome.is_bad else None,
        exception_type="twisted.trial.unittest.FailTest" if outcome.is_bad else None,
        message=message,
        is_replay=is_replay,
        order_seed=order_seed,
        commit=commit,
    )


class TriageReportTests(SynchronousTestCase):
    def test_seed_dependent_report(self) -> None:
        """A confirmed failing seed gets its snippet, and a command shuffled like the latest
        run it failed in; passing seeds get neither."""
        samples = [
            sample(3, Outcome.FAILURE, 5, "fp1", "late by 12 ms (random seed: 5)", order_seed=77),
            sample(2, Outcome.FAILURE, 5, "fp1", "late by 9 ms (random seed: 5)", is_replay=True),
            sample(1, Outcome.SUCCESS, 1),
            sample(0, Outcome.SUCCESS, 2),
        ]
        report = triage(TEST, "pkg/test_mod.py", 40, samples)
        self.assertEqual(report.verdict.classification, Classification.SEED_DEPENDENT)
        failing = [s for s in report.seeds if s.failed]
        self.assertEqual([(s.seed, s.failed, s.passed) for s in failing], [(5, 2, 0)])
        self.assertIn("@seed(5)", failing[0].snippet or "")
        self.assertEqual(failing[0].command, f"SEEDBOARD_SEED=5 trial --random=77 {TEST}")
        passing = [s for s in report.seeds if not s.failed]
        self.assertEqual({s.seed for s in passing}, {1, 2})
        self.assertTrue(all(s.snippet is None and s.command is None for s in passing))

    def test_seed_statuses(self) -> None:
        """Each failing seed carries its state and the newest commit it was tried at;
        seeds that only passed carry none."""
        samples = [
            sample(0, Outcome.FAILURE, 5, "fp1", commit="aaa"),
            sample(1, Outcome.FAILURE, 6, "fp1", commit="aaa"),
            sample(2, Outcome.FAILURE, 6, "fp1", commit="aaa", is_replay=True),
            sample(3, Outcome.SUCCESS, 5, commit="bbb", is_replay=True),
            sample(4, Outcome.SUCCESS, 1, commit="bbb"),
        ]
        seeds = {s.seed: s for s in triage(TEST, None, None, samples).seeds}
        self.assertEqual((seeds[5].status, seeds[5].status_commit), (SeedState.FIXED, "bbb"))
        self.assertEqual((seeds[6].status, seeds[6].status_commit), (SeedState.REPRODUCED, "aaa"))
        self.assertEqual((seeds[1].status, seeds[1].status_commit), (None, None))
        life = seeds[5].life
        self.assertEqual(life.describe() if life else None, "fixed at bbb")

    def test_groups(self) -> None:
        """Failures group by fingerprint: count, first and last seen, seeds, a summary."""
        samples = [
            sample(0, Outcome.FAILURE, 5, "fp1", "late by 9 ms (random seed: 5)"),
            sample(1, Outcome.ERROR, 6, "fp2", "connection lost"),
            sample(2, Outcome.FAILURE, 7, "fp1", "late by 12 ms (random seed: 7)"),
            sample(3, Outcome.SUCCESS, 8),
        ]
        [first, second] = failure_groups(samples)
        self.assertEqual((first.fingerprint, first.count, first.seeds), ("fp1", 2, (5, 7)))
        self.assertEqual((first.first_seen, first.last_seen), (START, START + timedelta(2)))
        self.assertEqual(first.summary, "FailTest: late by <n> ms")
        self.assertEqual((second.fingerprint, second.count), ("fp2", 1))

    def test_group_ties_by_fingerprint(self) -> None:
        """Groups alike in count and last time seen come in fingerprint order, whatever
        order their samples came in."""
        for order in (["fpB", "fpA"], ["fpA", "fpB"]):
            samples = [sample(0, Outcome.FAILURE, 5, fp, "boom") for fp in order]
            fingerprints = [group.fingerprint for group in failure_groups(samples)]
            self.assertEqual(fingerprints, ["fpA", "fpB"], order)

    def test_no_results(self) -> None:
        """A test with no results in the window is stable, with nothing to show."""
        report = triage(TEST, None, None, [])
        self.assertEqual(report.verdict.classification, Classification.STABLE)
        self.assertEqual((report.groups, report.seeds), ((), ()))
