"""Tests for the life of a failing seed: failing, reproduced, did not reproduce, fixed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from twisted.trial.unittest import SynchronousTestCase

from seedboard.domain import Outcome
from seedboard.triage.seed_life import SeedLife, SeedState, seed_lives

START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
P = Outcome.SUCCESS
F = Outcome.FAILURE


@dataclass(frozen=True)
class Tried:
    started_at: datetime
    outcome: Outcome
    seed: int | None
    commit: str | None


def tries(*results: tuple[Outcome, int | None, str | None]) -> list[Tried]:
    """Results one minute apart, in the order given."""
    return [
        Tried(START + timedelta(minutes=i), outcome, seed, commit)
        for i, (outcome, seed, commit) in enumerate(results)
    ]


def life(*results: tuple[Outcome, int | None, str | None]) -> SeedLife:
    (only,) = seed_lives(tries(*results)).values()
    return only


class SeedLivesTests(SynchronousTestCase):
    def test_only_failing_seeds(self) -> None:
        """Seeds that only passed, results without a seed and skips get no life."""
        found = seed_lives(tries((P, 1, "a"), (F, 2, "a"), (F, None, "a"), (Outcome.SKIP, 3, "a")))
        self.assertEqual(list(found), [2])

    def test_one_failure_is_failing(self) -> None:
        """A seed that failed once and was not tried again is failing."""
        self.assertEqual(life((F, 5, "aaa")), SeedLife(5, SeedState.FAILING, "aaa"))

    def test_failed_twice_at_one_commit_is_reproduced(self) -> None:
        """Failing again at the same commit reproduces the failure."""
        self.assertEqual(
            life((F, 5, "aaa"), (F, 5, "aaa")), SeedLife(5, SeedState.REPRODUCED, "aaa")
        )

    def test_pass_at_the_same_commit_did_not_reproduce(self) -> None:
        """A pass of the failing seed at the failure's commit: the seed does not control it."""
        self.assertEqual(
            life((F, 5, "aaa"), (P, 5, "aaa")), SeedLife(5, SeedState.NOT_REPRODUCED, "aaa")
        )

    def test_pass_at_a_later_commit_is_fixed(self) -> None:
        """A pass at a commit the seed never failed at is a fix, named by that commit."""
        self.assertEqual(
            life((F, 5, "aaa"), (F, 5, "aaa"), (P, 5, "bbb")), SeedLife(5, SeedState.FIXED, "bbb")
        )

    def test_failing_again_after_a_fix(self) -> None:
        """The newest commit decides: a failure after a fix is failing again."""
        self.assertEqual(
            life((F, 5, "aaa"), (P, 5, "bbb"), (F, 5, "ccc")), SeedLife(5, SeedState.FAILING, "ccc")
        )

    def test_order_given_does_not_matter(self) -> None:
        """Results are judged by when they ran, not the order they are handed in."""
        results = tries((F, 5, "aaa"), (P, 5, "bbb"))
        self.assertEqual(seed_lives(reversed(results)), seed_lives(results))

    def test_no_commit_is_never_fixed(self) -> None:
        """Without commits a seed can be reproduced or not, never fixed."""
        self.assertEqual(life((F, 5, None), (F, 5, None)).state, SeedState.REPRODUCED)
        self.assertEqual(life((F, 5, None), (P, 5, None)).state, SeedState.NOT_REPRODUCED)
        self.assertEqual(
            life((F, 5, "aaa"), (P, 5, None)), SeedLife(5, SeedState.NOT_REPRODUCED, None)
        )


class DescribeTests(SynchronousTestCase):
    def test_words(self) -> None:
        """Each state reads as the issue's words, with the commit it was seen at."""
        self.assertEqual(SeedLife(5, SeedState.FAILING, "aaa").describe(), "failing")
        self.assertEqual(SeedLife(5, SeedState.FIXED, "bbb").describe(), "fixed at bbb")
        self.assertEqual(
            SeedLife(5, SeedState.NOT_REPRODUCED, "a" * 40).describe("aaaaaaa"),
            "did not reproduce at aaaaaaa",
        )
        self.assertEqual(
            SeedLife(5, SeedState.REPRODUCED, None).describe(), "reproduced (no commit recorded)"
        )
