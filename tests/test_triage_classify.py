"""Tests for classifying a test from its results across runs, and ranking the verdicts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from twisted.trial.unittest import SynchronousTestCase

from seedboard.domain import Observation, Outcome
from seedboard.triage.classify import (
    Classification,
    CommitStats,
    SeedStats,
    Verdict,
    classify,
    rank_key,
)

START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
P = Outcome.SUCCESS
F = Outcome.FAILURE


def history(*results: tuple[Outcome, int | None], replays: Sequence[int] = ()) -> list[Observation]:
    """Observations one minute apart, in the order given; ``replays`` are indexes."""
    return [
        Observation(
            run_id=f"run-{i}",
            started_at=START + timedelta(minutes=i),
            outcome=outcome,
            seed=seed,
            fingerprint="f1" if outcome.is_bad else None,
            is_replay=i in replays,
        )
        for i, (outcome, seed) in enumerate(results)
    ]


def at_commits(*results: tuple[str | None, Outcome, int | None]) -> list[Observation]:
    """Observations one minute apart, in the order given, each at its commit."""
    return [
        Observation(
            run_id=f"run-{i}",
            started_at=START + timedelta(minutes=i),
            outcome=outcome,
            seed=seed,
            fingerprint="f1" if outcome.is_bad else None,
            commit=commit,
        )
        for i, (commit, outcome, seed) in enumerate(results)
    ]


def classification(*results: tuple[Outcome, int | None]) -> Classification:
    return classify(history(*results)).classification


def verdict(classification: Classification, failure_rate: float, flip_rate: float) -> Verdict:
    return Verdict(classification, 10, int(failure_rate * 10), failure_rate, flip_rate, ())


class StableTests(SynchronousTestCase):
    def test_no_observations(self) -> None:
        """A test with no results is stable, with zero counts and rates."""
        self.assertEqual(classify([]), Verdict(Classification.STABLE, 0, 0, 0.0, 0.0, ()))

    def test_single_pass(self) -> None:
        """One passing run is stable."""
        self.assertEqual(classification((P, 1)), Classification.STABLE)

    def test_only_passes(self) -> None:
        """Passes with any seeds, or none, are stable."""
        self.assertEqual(classification((P, 1), (P, 2), (P, None)), Classification.STABLE)

    def test_only_skips(self) -> None:
        """A test that was only skipped counts no runs and is stable."""
        found = classify(history((Outcome.SKIP, None), (Outcome.SKIP, 3)))
        self.assertEqual(found, Verdict(Classification.STABLE, 0, 0, 0.0, 0.0, ()))

    def test_expected_failures_are_passes(self) -> None:
        """Expected failures count as passes: only them and passes is stable."""
        found = classify(history((Outcome.EXPECTED_FAILURE, 1), (P, 2)))
        self.assertEqual(found.classification, Classification.STABLE)
        self.assertEqual((found.runs, found.failures), (2, 0))


class BrokenTests(SynchronousTestCase):
    def test_single_failure(self) -> None:
        """One failing run is broken."""
        self.assertEqual(classification((F, 1)), Classification.BROKEN)

    def test_every_bad_outcome(self) -> None:
        """Failures, errors and unexpected successes all count as failing."""
        found = classify(history((F, 1), (Outcome.ERROR, 2), (Outcome.UNEXPECTED_SUCCESS, None)))
        self.assertEqual(found.classification, Classification.BROKEN)
        self.assertEqual(found.failure_rate, 1.0)

    def test_failing_whatever_the_seed(self) -> None:
        """Failing with every seed, including one seed twice, is broken, not seed-dependent."""
        self.assertEqual(classification((F, 1), (F, 1), (F, 2)), Classification.BROKEN)

    def test_failures_and_skips(self) -> None:
        """Skips do not count, so failures and skips alone are broken."""
        found = classify(history((F, 1), (Outcome.SKIP, None), (F, 2), (Outcome.SKIP, 4)))
        self.assertEqual(found.classification, Classification.BROKEN)
        self.assertEqual((found.runs, found.failures, found.failure_rate), (2, 2, 1.0))


class NondeterministicTests(SynchronousTestCase):
    def test_seed_passed_and_failed(self) -> None:
        """A seed that both passed and failed means the seed does not control the failure."""
        self.assertEqual(classification((P, 1), (F, 1)), Classification.NONDETERMINISTIC)

    def test_replay_passing(self) -> None:
        """A failing seed replayed and passing makes the test nondeterministic."""
        found = classify(history((P, 1), (F, 2), (P, 2), replays=[2]))
        self.assertEqual(found.classification, Classification.NONDETERMINISTIC)

    def test_wins_over_a_confirmed_seed(self) -> None:
        """One seed confirmed does not hide another seed that passed and failed."""
        self.assertEqual(
            classification((F, 1), (F, 1), (P, 2), (F, 2)), Classification.NONDETERMINISTIC
        )

    def test_expected_failure_is_a_pass_for_its_seed(self) -> None:
        """An expected failure and a failure with the same seed are a pass and a failure."""
        self.assertEqual(
            classification((Outcome.EXPECTED_FAILURE, 1), (F, 1)),
            Classification.NONDETERMINISTIC,
        )


class FlakyTests(SynchronousTestCase):
    def test_no_seeds_at_all(self) -> None:
        """Passing and failing with no seeds recorded is flaky."""
        self.assertEqual(classification((P, None), (F, None), (P, None)), Classification.FLAKY)

    def test_failures_without_seeds(self) -> None:
        """Passes with seeds do not help when no failure has a seed."""
        self.assertEqual(classification((P, 1), (F, None), (P, 2)), Classification.FLAKY)


class SeedDependentTests(SynchronousTestCase):
    def test_replay_confirms_seed(self) -> None:
        """A failing seed replayed and failing again makes the test seed-dependent."""
        found = classify(history((P, 1), (F, 2), (F, 2), replays=[2]))
        self.assertEqual(found.classification, Classification.SEED_DEPENDENT)

    def test_failing_seeds_run_once_do_not_contradict(self) -> None:
        """Other failing seeds seen once do not undo a confirmed one."""
        self.assertEqual(
            classification((P, 1), (F, 2), (F, 2), (F, 3), (P, 4)),
            Classification.SEED_DEPENDENT,
        )

    def test_failures_without_seed_alongside(self) -> None:
        """A failure without a seed does not undo a confirmed seed."""
        self.assertEqual(
            classification((P, 1), (F, 2), (F, 2), (F, None)), Classification.SEED_DEPENDENT
        )


class UnconfirmedTests(SynchronousTestCase):
    def test_failing_seeds_not_rerun(self) -> None:
        """Passing and failing with different seeds, none re-run, is unconfirmed."""
        self.assertEqual(classification((P, 1), (F, 2), (P, 3), (F, 4)), Classification.UNCONFIRMED)

    def test_passing_seed_rerun_does_not_confirm(self) -> None:
        """Re-running a passing seed says nothing about the failing one."""
        self.assertEqual(classification((P, 1), (P, 1), (F, 2)), Classification.UNCONFIRMED)

    def test_some_failures_without_seed(self) -> None:
        """A failure with a seed plus failures without one is unconfirmed, not flaky."""
        self.assertEqual(classification((P, 1), (F, None), (F, 2)), Classification.UNCONFIRMED)


class HistoryTests(SynchronousTestCase):
    def test_renamed_test(self) -> None:
        """A renamed test is classified from the observations given for its new id alone."""
        old_id = history((F, 1), (F, 2))
        new_id = history((P, 3), (P, 4))
        self.assertEqual(classify(new_id).classification, Classification.STABLE)
        self.assertEqual(classify(old_id).classification, Classification.BROKEN)

    def test_time_order_not_input_order(self) -> None:
        """Observations are put in time order before flips are counted."""
        shuffled = history((P, 1), (P, 2), (F, 3), (F, 4))
        shuffled.reverse()
        self.assertAlmostEqual(classify(shuffled).flip_rate, 1 / 3)

    def test_replays_counted(self) -> None:
        """Replays count in runs and failures like any other run."""
        found = classify(history((P, 1), (F, 2), (F, 2), (F, 2), replays=[2, 3]))
        self.assertEqual((found.runs, found.failures), (4, 3))


class RateTests(SynchronousTestCase):
    def test_alternating(self) -> None:
        """P F P F flips every time: flip rate 1.0, failure rate 0.5."""
        found = classify(history((P, 1), (F, 2), (P, 3), (F, 4)))
        self.assertEqual((found.failure_rate, found.flip_rate), (0.5, 1.0))

    def test_one_switch(self) -> None:
        """P P F F switches once in three chances."""
        found = classify(history((P, 1), (P, 2), (F, 3), (F, 4)))
        self.assertEqual(found.failure_rate, 0.5)
        self.assertAlmostEqual(found.flip_rate, 1 / 3)

    def test_single_run(self) -> None:
        """One run has no flip rate."""
        self.assertEqual(classify(history((F, 1))).flip_rate, 0.0)

    def test_skips_left_out(self) -> None:
        """Skips between runs neither count nor break the sequence."""
        found = classify(history((P, 1), (Outcome.SKIP, 2), (P, 3), (F, 4)))
        self.assertEqual((found.runs, found.failures), (3, 1))
        self.assertAlmostEqual(found.failure_rate, 1 / 3)
        self.assertEqual(found.flip_rate, 0.5)

    def test_bad_outcomes_in_a_row_do_not_flip(self) -> None:
        """A failure followed by an error is no flip: both are failing."""
        found = classify(history((P, 1), (F, 2), (Outcome.ERROR, 3)))
        self.assertEqual(found.flip_rate, 0.5)

    def test_missing_seeds_still_counted(self) -> None:
        """Results without a seed count in runs, failures and rates."""
        found = classify(history((P, None), (F, None), (F, 7)))
        self.assertEqual((found.runs, found.failures, found.flip_rate), (3, 2, 0.5))


class SeedStatsTests(SynchronousTestCase):
    def test_per_seed_counts(self) -> None:
        """Each seed gets its passes, failures and distinct failing fingerprints."""
        observations = [
            *history((P, 5), (F, 9), (P, 1), (F, None)),
            Observation("r", START, F, 9, "f2"),
            Observation("s", START, F, 9, "f1"),
        ]
        self.assertEqual(
            classify(observations).seeds,
            (SeedStats(9, 0, 3, ("f1", "f2")), SeedStats(1, 1, 0, ()), SeedStats(5, 1, 0, ())),
        )

    def test_failing_seeds_first_then_by_seed(self) -> None:
        """Failing seeds come first in seed order, then passing ones in seed order."""
        found = classify(history((P, 2), (F, 30), (P, 1), (F, 4), (P, 30)))
        self.assertEqual([s.seed for s in found.seeds], [4, 30, 1, 2])

    def test_skips_and_missing_seeds_left_out(self) -> None:
        """Skipped results and results without a seed have no seed statistics."""
        found = classify(history((Outcome.SKIP, 3), (F, None), (P, 1)))
        self.assertEqual(found.seeds, (SeedStats(1, 1, 0, ()),))

    def test_failure_without_fingerprint(self) -> None:
        """A failure with no fingerprint counts without adding one."""
        found = classify([Observation("r", START, F, 3, None)])
        self.assertEqual(found.seeds, (SeedStats(3, 0, 1, ()),))


class PerCommitTests(SynchronousTestCase):
    def test_fixed_story(self) -> None:
        """Three seeds failing at aaa, passes at bbb and a passing replay of an old seed
        at bbb are fixed, naming both commits, never nondeterministic."""
        found = classify(
            at_commits(
                ("aaa", F, 1),
                ("aaa", F, 2),
                ("aaa", F, 3),
                ("bbb", P, 4),
                ("bbb", P, 5),
                ("bbb", P, 6),
                ("bbb", P, 1),
            )
        )
        self.assertEqual(found.classification, Classification.FIXED)
        self.assertEqual((found.before_commit, found.since_commit), ("aaa", "bbb"))
        self.assertTrue(found.commits_recorded)
        self.assertEqual(found.commits, (CommitStats("aaa", 0, 3), CommitStats("bbb", 4, 0)))

    def test_regressed(self) -> None:
        """Passing up to one commit and failing in every run since the next is regressed."""
        found = classify(
            at_commits(
                ("c1", P, 1), ("c2", P, 2), ("c2", P, 3), ("c3", F, 4), ("c4", F, 4), ("c4", F, 5)
            )
        )
        self.assertEqual(found.classification, Classification.REGRESSED)
        self.assertEqual((found.before_commit, found.since_commit), ("c2", "c3"))

    def test_same_seed_at_one_commit_is_nondeterministic(self) -> None:
        """A seed that passed and failed at one commit is nondeterministic."""
        found = classify(at_commits(("c1", P, 7), ("c1", F, 7)))
        self.assertEqual(found.classification, Classification.NONDETERMINISTIC)
        self.assertEqual((found.before_commit, found.since_commit), (None, None))

    def test_same_seed_at_two_commits_is_not_nondeterministic(self) -> None:
        """A seed failing at one commit and passing at a later one is a fix, not chance."""
        found = classify(at_commits(("c1", P, 1), ("c1", F, 7), ("c1", F, 7), ("c2", P, 7)))
        self.assertEqual(found.classification, Classification.SEED_DEPENDENT)

    def test_flaky_within_a_commit(self) -> None:
        """Seedless pass and failure at one commit is flaky, whatever other commits did."""
        found = classify(at_commits(("c1", F, None), ("c2", P, None), ("c2", F, None)))
        self.assertEqual(found.classification, Classification.FLAKY)

    def test_seed_confirmed_only_at_its_commit(self) -> None:
        """A failing seed run again at another commit does not confirm it."""
        found = classify(at_commits(("c1", P, 1), ("c1", F, 2), ("c2", P, 3), ("c2", F, 2)))
        self.assertEqual(found.classification, Classification.UNCONFIRMED)

    def test_back_and_forth_between_commits(self) -> None:
        """Passing and failing only at different commits, more than once, is unconfirmed."""
        found = classify(at_commits(("c1", P, 1), ("c2", F, 2), ("c3", P, 3), ("c4", F, 4)))
        self.assertEqual(found.classification, Classification.UNCONFIRMED)

    def test_broken_across_commits(self) -> None:
        """Failing at every commit is broken."""
        found = classify(at_commits(("c1", F, 1), ("c2", F, 2)))
        self.assertEqual(found.classification, Classification.BROKEN)

    def test_order_is_first_seen(self) -> None:
        """Commits are ordered by the first result seen with each, whatever the input order."""
        results = at_commits(("old", F, 1), ("new", P, 2), ("new", P, 3))
        results.reverse()
        found = classify(results)
        self.assertEqual(found.classification, Classification.FIXED)
        self.assertEqual((found.before_commit, found.since_commit), ("old", "new"))

    def test_skips_do_not_make_a_commit(self) -> None:
        """A commit where the test was only skipped is left out."""
        found = classify(at_commits(("c1", P, 1), ("c2", Outcome.SKIP, 1), ("c3", F, 2)))
        self.assertEqual(found.classification, Classification.REGRESSED)
        self.assertEqual((found.before_commit, found.since_commit), ("c1", "c3"))

    def test_no_commit_recorded_is_judged_as_before(self) -> None:
        """Without commits a seed passing and failing is nondeterministic, and the verdict
        says no commit was recorded."""
        found = classify(history((F, 1), (F, 2), (P, 1)))
        self.assertEqual(found.classification, Classification.NONDETERMINISTIC)
        self.assertFalse(found.commits_recorded)
        self.assertEqual(found.commits, (CommitStats(None, 1, 2),))

    def test_some_commits_missing_never_regressed(self) -> None:
        """With some results lacking a commit, no change is named: the code is unknown."""
        found = classify(at_commits((None, P, 1), ("c1", F, 2), ("c1", F, 3)))
        self.assertEqual(found.classification, Classification.UNCONFIRMED)
        self.assertFalse(found.commits_recorded)

    def test_unknown_commit_is_one_version(self) -> None:
        """Results without a commit are one version: a seed passing and failing there is
        nondeterministic."""
        found = classify(at_commits(("c1", P, 1), (None, F, 5), (None, P, 5)))
        self.assertEqual(found.classification, Classification.NONDETERMINISTIC)


def by_rank(verdict: Verdict) -> tuple[bool, bool, float, float, int, str]:
    return rank_key(verdict, "pkg.test")


class RankKeyTests(SynchronousTestCase):
    def test_order(self) -> None:
        """Non-stable first, then higher failure rate, then higher flip rate."""
        stable = verdict(Classification.STABLE, 0.0, 0.0)
        broken = verdict(Classification.BROKEN, 1.0, 0.0)
        flaky_often = verdict(Classification.FLAKY, 0.5, 0.2)
        flaky_flipping = verdict(Classification.FLAKY, 0.2, 0.9)
        flaky_steady = verdict(Classification.SEED_DEPENDENT, 0.2, 0.1)
        ranked = sorted([stable, flaky_steady, flaky_flipping, broken, flaky_often], key=by_rank)
        self.assertEqual(ranked, [broken, flaky_often, flaky_flipping, flaky_steady, stable])

    def test_fixed_last_before_stable(self) -> None:
        """A fixed test ranks after every other non-stable test, whatever its rates."""
        fixed = verdict(Classification.FIXED, 0.9, 0.9)
        flaky = verdict(Classification.FLAKY, 0.1, 0.1)
        stable = verdict(Classification.STABLE, 0.0, 0.0)
        self.assertEqual(sorted([stable, fixed, flaky], key=by_rank), [flaky, fixed, stable])

    def test_more_runs_first_on_ties(self) -> None:
        """With equal rates, the test with more evidence comes first."""
        few = Verdict(Classification.UNCONFIRMED, 4, 2, 0.5, 0.5, ())
        many = Verdict(Classification.UNCONFIRMED, 40, 20, 0.5, 0.5, ())
        self.assertEqual(sorted([few, many], key=by_rank), [many, few])

    def test_ties_by_test_id(self) -> None:
        """Tests tied on every other criterion are ranked by test id."""
        same = Verdict(Classification.FLAKY, 10, 5, 0.5, 0.4, ())
        names = ["pkg.c", "pkg.a", "pkg.b"]
        self.assertEqual(sorted(names, key=lambda name: rank_key(same, name)), sorted(names))
        less = Verdict(Classification.FLAKY, 9, 4, 0.5, 0.4, ())
        self.assertLess(rank_key(same, "pkg.z"), rank_key(less, "pkg.a"))

    def test_classified_verdicts(self) -> None:
        """Verdicts from ``classify`` rank a broken test above a flaky one above a stable one."""
        broken = classify(history((F, 1)))
        flaky = classify(history((P, None), (F, None)))
        stable = classify(history((P, 1)))
        self.assertEqual(sorted([stable, flaky, broken], key=by_rank), [broken, flaky, stable])
