"""Tests for seedboard.testing: seeding before setUp, precedence, seeds in messages."""

from __future__ import annotations

import os
import random
from typing import Any

from twisted.python.failure import Failure
from twisted.trial import reporter, unittest

from seedboard.seeds import SeedError, derived_seed
from seedboard.testing import seed
from tests import seeded_cases


def run_case(case: unittest.SynchronousTestCase) -> reporter.TestResult:
    result = reporter.TestResult()
    case.run(result)
    return result


def only_failure(reported: list[Any]) -> Failure:
    """The one Failure trial reported in ``result.failures`` or ``result.errors``."""
    [(_, failure)] = reported
    assert isinstance(failure, Failure)
    return failure


class SeedingTests(unittest.SynchronousTestCase):
    def setUp(self) -> None:
        self.patch(
            os, "environ", {k: v for k, v in os.environ.items() if not k.startswith("SEEDBOARD_")}
        )

    def test_seeded_before_setup(self) -> None:
        """random is seeded before setUp, so setUp's draws replay with the seed."""
        case = seeded_cases.Sampler("test_draw")
        run_case(case)
        assert case.seedboard_seed is not None
        replay = random.Random(case.seedboard_seed)
        self.assertEqual(case.drawn, [replay.random(), replay.random()])

    def test_pinned_seed_wins(self) -> None:
        """@seed(N) beats SEEDBOARD_SEED."""
        os.environ["SEEDBOARD_SEED"] = "5"
        case = seeded_cases.Sampler("test_pinned")
        run_case(case)
        self.assertEqual(case.seedboard_seed, 99)
        self.assertEqual(case.drawn[0], random.Random(99).random())

    def test_environment_forces_seed(self) -> None:
        """SEEDBOARD_SEED seeds every unpinned test."""
        os.environ["SEEDBOARD_SEED"] = "31337"
        cases = [seeded_cases.Sampler("test_draw"), seeded_cases.Sampler("test_draw")]
        for case in cases:
            run_case(case)
        self.assertEqual([c.seedboard_seed for c in cases], [31337, 31337])
        self.assertEqual(cases[0].drawn, cases[1].drawn)

    def test_run_seed_derives_each_test_seed(self) -> None:
        """SEEDBOARD_RUN_SEED gives each test a seed of its own, the same every time."""
        os.environ["SEEDBOARD_RUN_SEED"] = "99"
        cases = [seeded_cases.Sampler(name) for name in ("test_draw", "test_fail", "test_draw")]
        for case in cases:
            run_case(case)
        seeds = [case.seedboard_seed for case in cases]
        self.assertEqual(seeds[0], derived_seed(99, "tests.seeded_cases.Sampler.test_draw"))
        self.assertEqual(seeds[0], seeds[2])
        self.assertNotEqual(seeds[0], seeds[1])

    def test_derived_seeds_never_change(self) -> None:
        """A run seed gives every test the seed it gave in earlier versions: recorded runs'
        replay commands and ``seedboard bisect`` depend on it (whatever the run did first)."""
        derived = [
            derived_seed(99, "tests.seeded_cases.Sampler.test_draw"),
            derived_seed(7, "tests.seeded_cases.Sampler.test_draw"),
            derived_seed(99, "x"),
            derived_seed(99, "tests.seeded_cases.Sampler.test_draw"),
        ]
        self.assertEqual(derived, [1346711149, 1697200720, 3200896667, 1346711149])

    def test_forced_seed_beats_run_seed(self) -> None:
        """SEEDBOARD_SEED beats SEEDBOARD_RUN_SEED, and @seed beats both."""
        os.environ.update({"SEEDBOARD_RUN_SEED": "99", "SEEDBOARD_SEED": "4"})
        forced, pinned = seeded_cases.Sampler("test_draw"), seeded_cases.Sampler("test_pinned")
        run_case(forced)
        run_case(pinned)
        self.assertEqual((forced.seedboard_seed, pinned.seedboard_seed), (4, 99))

    def test_fresh_seeds_differ(self) -> None:
        """Without a pin or SEEDBOARD_SEED, each test gets its own 32-bit seed."""
        seeds = set()
        for _ in range(20):
            case = seeded_cases.Sampler("test_draw")
            run_case(case)
            assert case.seedboard_seed is not None
            self.assertTrue(0 <= case.seedboard_seed < 2**32)
            seeds.add(case.seedboard_seed)
        self.assertGreater(len(seeds), 15)

    def test_fresh_seed_ignores_clock_and_global_state(self) -> None:
        """Fresh seeds come from os.urandom, not from random's state or the time."""
        self.patch(os, "urandom", lambda n: b"\x00\x00\x01\x00"[:n])
        random.seed(1)
        case = seeded_cases.Sampler("test_draw")
        run_case(case)
        self.assertEqual(case.seedboard_seed, 256)

    def test_failure_message_carries_seed(self) -> None:
        """A failure's message ends with (random seed: N)."""
        case = seeded_cases.Sampler("test_fail")
        result = run_case(case)
        failure = only_failure(result.failures)
        self.assertEqual(
            failure.getErrorMessage(), f"values differ (random seed: {case.seedboard_seed})"
        )

    def test_error_message_carries_seed(self) -> None:
        """An error's message carries the seed too."""
        case = seeded_cases.Sampler("test_error")
        failure = only_failure(run_case(case).errors)
        self.assertIn(f"(random seed: {case.seedboard_seed})", failure.getTraceback())

    def test_errno_keeps_its_arguments(self) -> None:
        """An OSError keeps errno and strerror; its seed goes into a note instead."""
        case = seeded_cases.Sampler("test_errno")
        failure = only_failure(run_case(case).errors)
        assert failure.value is not None
        self.assertEqual(failure.value.args, (2, "No such file"))
        self.assertEqual(failure.value.__notes__, [f"(random seed: {case.seedboard_seed})"])

    def test_bad_environment_seed_is_an_error(self) -> None:
        """A non-integer SEEDBOARD_SEED fails each test clearly instead of crashing trial."""
        os.environ["SEEDBOARD_SEED"] = "abc"
        result = run_case(seeded_cases.Sampler("test_draw"))
        failure = only_failure(result.errors)
        self.assertIsInstance(failure.value, SeedError)
        self.assertIn("SEEDBOARD_SEED must be an integer, got 'abc'", failure.getErrorMessage())
        self.assertEqual(result.testsRun, 1)

    def test_success_is_reported(self) -> None:
        """A passing seeded test is a success and nothing else."""
        result = run_case(seeded_cases.Sampler("test_draw"))
        self.assertEqual((result.successes, result.failures, result.errors), (1, [], []))

    def test_plain_unittest_result(self) -> None:
        """A standard library TestResult works, as with trial's own TestCase."""
        import unittest as pyunit

        result = pyunit.TestResult()
        seeded_cases.Sampler("test_fail").run(result)
        self.assertEqual(len(result.failures), 1)
        self.assertIn("(random seed: ", result.failures[0][1])


class DeferredSeedingTests(unittest.TestCase):
    def setUp(self) -> None:
        self.patch(os, "environ", {k: v for k, v in os.environ.items() if k != "SEEDBOARD_SEED"})

    def test_deferred_test_is_seeded(self) -> None:
        """A test returning a Deferred is seeded before it starts."""
        case = seeded_cases.AsyncSampler("test_deferred")
        result = run_case(case)
        self.assertTrue(result.wasSuccessful())
        assert case.seedboard_seed is not None
        self.assertEqual(case.drawn, [random.Random(case.seedboard_seed).random()])

    def test_deferred_failure_carries_seed(self) -> None:
        """A Deferred that fails later still reports the pinned seed."""
        case = seeded_cases.AsyncSampler("test_deferred_fails")
        result = run_case(case)
        failure = only_failure(result.failures)
        self.assertEqual(failure.getErrorMessage(), "late failure (random seed: 7)")


class SeedDecoratorTests(unittest.SynchronousTestCase):
    def test_rejects_non_integers(self) -> None:
        """@seed refuses what random.seed would take but seedboard cannot store."""
        for bad in ("12", 1.5, True, -1, 2**63):
            self.assertRaises(SeedError, seed, bad)

    def test_marks_method_like_the_classic_recipe(self) -> None:
        """@seed(N) sets _random_seed, the attribute the classic recipe used."""

        @seed(3)
        def test_x() -> None:
            pass

        self.assertEqual(test_x._random_seed, 3)  # type: ignore[attr-defined]
