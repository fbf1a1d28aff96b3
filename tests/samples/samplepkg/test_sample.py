"""A small suite with every outcome trial knows, seeded three ways."""

import random

from twisted.internet import reactor, task
from twisted.trial import unittest

from seedboard.testing import SynchronousTestCase, TestCase, seed


class SeededTests(TestCase):
    def test_passes(self):
        self.assertIsInstance(random.random(), float)

    @seed(1234)
    def test_pinned(self):
        self.assertEqual(random.random(), random.Random(1234).random())

    def test_draw_fails(self):
        self.fail(f"drew {random.random()!r}")

    def test_error(self):
        raise RuntimeError("kaboom")

    def test_skipped(self):
        raise unittest.SkipTest("not on this machine")

    def test_deferred(self):
        return task.deferLater(reactor, 0.05, lambda: None)

    def test_expected_failure(self):
        self.fail("known bug")

    test_expected_failure.todo = "issue 12"


class SynchronousSeededTests(SynchronousTestCase):
    def test_sync(self):
        self.assertLess(random.random(), 1.0)


class ClassicRecipeTests(unittest.TestCase):
    """Tests that predate seedboard: seeds come from the attribute or the message."""

    def test_attribute(self):
        pass

    test_attribute._random_seed = 4242

    def test_message(self):
        self.fail("lost a message (random seed: 777)")
