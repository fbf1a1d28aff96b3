"""Tests for judging replays: the same failure, a different one, a pass, a fix check; and
``seedboard.replay`` driving tries through a fake trial and fake records."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from seedboard.domain import Outcome, Result
from seedboard.replay import (
    KnownSeed,
    Pair,
    RecordedRun,
    ReplayError,
    known_row,
    replay,
    still_open,
)
from seedboard.settings import REPLAY_ENV, RUN_ID_ENV, RUN_SEED_ENV, SEED_ENV
from seedboard.triage.fingerprint import fingerprint
from seedboard.triage.replays import Original, Tried, Try, Verdict, judge_try
from seedboard.triage.seed_life import SeedLife, SeedState

TEST = "pkg.test_x.XTests.test_y"
MESSAGE = "1 != 2"
GROUP = fingerprint("FailTest", MESSAGE, None)


def outcome(kind: Outcome, message: str = MESSAGE, test_id: str = TEST) -> Result:
    """A result as the store reads it back: a failure fingerprinted."""
    exception = "FailTest" if kind in (Outcome.FAILURE, Outcome.ERROR) else None
    text = message if exception else None
    group = fingerprint(exception, text, None) if kind.is_bad else None
    return Result(test_id, kind, 0.1, 5, exception, text, None, fingerprint=group)


def verdict(*kinds: Try, commit: str | None = "aaa", failed_at: str | None = "aaa") -> Verdict:
    tries = tuple(Tried(k, "FailTest: boom" if k is Try.DIFFERENT else None) for k in kinds)
    return Verdict(TEST, 5, tries, commit, Original(GROUP, failed_at))


class JudgeTryTests(SynchronousTestCase):
    def test_same_group_fails_again(self) -> None:
        """A failure of the original's group is the failure again."""
        tried = judge_try([outcome(Outcome.FAILURE, "1 != 3")], Original(GROUP, "aaa"))
        self.assertEqual(tried, Tried(Try.SAME))

    def test_other_group_fails_differently(self) -> None:
        """A failure of another group is a different failure, named by its summary."""
        tried = judge_try([outcome(Outcome.FAILURE, "no such file")], Original(GROUP, "aaa"))
        self.assertEqual(tried, Tried(Try.DIFFERENT, "FailTest: no such file"))

    def test_unexpected_success_is_a_failure(self) -> None:
        """An unexpected success fails, as the dashboard counts it (here differently)."""
        tried = judge_try([outcome(Outcome.UNEXPECTED_SUCCESS)], Original(GROUP, "aaa"))
        self.assertEqual(tried.kind, Try.DIFFERENT)
        again = fingerprint(None, None, None)
        self.assertEqual(
            judge_try([outcome(Outcome.UNEXPECTED_SUCCESS)], Original(again, "a")).kind, Try.SAME
        )

    def test_pass_skip_and_nothing(self) -> None:
        """A success or an expected failure passes; a skip or no result did not run."""
        original = Original(GROUP, "aaa")
        self.assertEqual(judge_try([outcome(Outcome.SUCCESS)], original).kind, Try.PASSED)
        self.assertEqual(judge_try([outcome(Outcome.EXPECTED_FAILURE)], original).kind, Try.PASSED)
        self.assertEqual(judge_try([outcome(Outcome.SKIP)], original).kind, Try.NOT_RUN)
        self.assertEqual(judge_try([], original).kind, Try.NOT_RUN)

    def test_without_original_any_failure_counts(self) -> None:
        """With no recorded failure to compare with, any failure is failing again."""
        self.assertEqual(judge_try([outcome(Outcome.ERROR, "x")], None).kind, Try.SAME)
        self.assertEqual(
            judge_try([outcome(Outcome.ERROR, "x")], Original(None, "a")).kind, Try.SAME
        )


class VerdictLineTests(SynchronousTestCase):
    def test_reproduced(self) -> None:
        """Every try failing the same way at the failure's commit is reproduced."""
        self.assertEqual(
            verdict(Try.SAME, Try.SAME, Try.SAME).line(), f"reproduced 3/3: {TEST} with seed 5"
        )

    def test_partial(self) -> None:
        """One of three is reproduced, but the seed does not control it."""
        self.assertEqual(
            verdict(Try.SAME, Try.PASSED, Try.PASSED).line(),
            f"reproduced 1/3 — the seed does not control it: {TEST} with seed 5",
        )

    def test_did_not_reproduce(self) -> None:
        """No failure at all is did not reproduce."""
        self.assertEqual(
            verdict(Try.PASSED, Try.PASSED).line(), f"did not reproduce 0/2: {TEST} with seed 5"
        )

    def test_failed_differently(self) -> None:
        """A different failure is said as such, with its summary, never as reproduced."""
        self.assertEqual(
            verdict(Try.DIFFERENT, Try.DIFFERENT).line(),
            f"did not reproduce 0/2: {TEST} with seed 5; failed differently 2/2: FailTest: boom",
        )

    def test_not_run(self) -> None:
        """Tries that recorded nothing of the test are counted apart and say nothing of
        the seed; when none ran, that is all the line says."""
        self.assertEqual(
            verdict(Try.SAME, Try.NOT_RUN).line(),
            f"reproduced 1/2: {TEST} with seed 5; did not run 1/2",
        )
        self.assertEqual(
            verdict(Try.NOT_RUN, Try.NOT_RUN, commit="bbb").line(),
            f"did not run 2/2: {TEST} with seed 5 (skipped, or no result recorded)",
        )

    def test_fix_check(self) -> None:
        """At another commit a replay is a fix check: passes here, or still fails."""
        passes = verdict(Try.PASSED, Try.PASSED, commit="bbb")
        self.assertTrue(passes.is_fix_check)
        self.assertEqual(
            passes.line(), f"fix check at bbb (failed at aaa): passes here, 2/2: {TEST} with seed 5"
        )
        fails = verdict(Try.SAME, Try.PASSED, commit="bbb")
        self.assertEqual(
            fails.line(), f"fix check at bbb (failed at aaa): still fails, 1/2: {TEST} with seed 5"
        )

    def test_unknown_commits_are_no_fix_check(self) -> None:
        """Without both commits recorded, a replay cannot be told to be a fix check."""
        self.assertFalse(verdict(Try.PASSED, commit=None).is_fix_check)
        self.assertFalse(verdict(Try.PASSED, failed_at=None).is_fix_check)

    def test_known_rows(self) -> None:
        """``--known``'s status: still failing, or passes here (fixed at the new commit)."""
        self.assertEqual(
            known_row(verdict(Try.SAME, Try.PASSED)),
            ("still failing", "failed 1/2 — the seed does not control it"),
        )
        self.assertEqual(
            known_row(verdict(Try.SAME, Try.PASSED, commit="bbb")), ("still failing", "failed 1/2")
        )
        self.assertEqual(
            known_row(verdict(Try.PASSED, commit="bbbbbbbbbbbbbbbbbbbb")),
            ("passes here", "fixed at bbbbbbbbbbbb"),
        )
        self.assertEqual(known_row(verdict(Try.PASSED))[0], "passes here")
        self.assertEqual(known_row(verdict(Try.NOT_RUN))[0], "did not run")


class FakeRecords:
    """Records that hand back, for each run id, the result the fake trial made."""

    where = "fake"

    def __init__(self) -> None:
        self.runs: dict[str, RecordedRun] = {}

    def known_seeds(self, test_id: str | None = None) -> list[KnownSeed]:
        return []

    def failing_pairs(self, run_id: str | None) -> tuple[str, list[Pair]] | None:
        return None

    def run(self, run_id: str) -> RecordedRun | None:
        return self.runs.get(run_id)


class ReplayTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.records = FakeRecords()
        self.environments: list[Mapping[str, str]] = []
        self.outcomes = [Outcome.FAILURE, Outcome.SUCCESS, Outcome.FAILURE]

    def fake_trial(self, test_id: str, environ: Mapping[str, str], cwd: Path) -> str:
        self.environments.append(environ)
        result = outcome(self.outcomes[len(self.environments) - 1], test_id=test_id)
        self.records.runs[environ[RUN_ID_ENV]] = RecordedRun("aaa", [result])
        return "seedboard: recorded run"

    def test_each_try_read_back_by_its_run_id(self) -> None:
        """Each try runs with the seed forced, as a replay, under a run id of its own, and
        is judged from what was recorded under that id."""
        found = replay(
            Pair(TEST, 5),
            3,
            {RUN_SEED_ENV: "9", "PATH": "/bin"},
            Path("."),
            self.records,
            Original(GROUP, "aaa"),
            run=self.fake_trial,
        )
        self.assertEqual([t.kind for t in found.tries], [Try.SAME, Try.PASSED, Try.SAME])
        self.assertEqual(found.commit, "aaa")
        ids = {env[RUN_ID_ENV] for env in self.environments}
        self.assertEqual(len(ids), 3)
        for env in self.environments:
            self.assertEqual((env[SEED_ENV], env[REPLAY_ENV], env["PATH"]), ("5", "1", "/bin"))
            self.assertNotIn(RUN_SEED_ENV, env)

    def test_unrecorded_try_is_an_error(self) -> None:
        """A try whose run cannot be read back stops the command, saying what trial said."""

        def unrecorded(test_id: str, environ: Mapping[str, str], cwd: Path) -> str:
            return "seedboard: could not record the run: disk full"

        with self.assertRaises(ReplayError) as raised:
            replay(Pair(TEST, 5), 3, {}, Path("."), self.records, None, run=unrecorded)
        self.assertIn("not recorded in fake: seedboard: could not record", str(raised.exception))

    def test_still_open(self) -> None:
        """``--known`` replays the seeds not fixed whose test matches."""
        seeds = [
            KnownSeed(Pair("a.t", 1), Original(None, "x"), SeedLife(1, SeedState.FAILING, "x")),
            KnownSeed(Pair("a.t", 2), Original(None, "x"), SeedLife(2, SeedState.FIXED, "y")),
            KnownSeed(Pair("b.t", 3), Original(None, "x"), SeedLife(3, SeedState.REPRODUCED, "x")),
        ]
        self.assertEqual(
            [s.pair.seed for s in still_open(seeds, lambda t: t.startswith("a."))], [1]
        )
        self.assertEqual([s.pair.seed for s in still_open(seeds, lambda t: True)], [1, 3])
