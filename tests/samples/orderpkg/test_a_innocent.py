"""Innocent tests, synchronous and asynchronous, that run before every polluter."""

from twisted.internet import defer

from seedboard.testing import SynchronousTestCase, TestCase


class EarlyTests(SynchronousTestCase):
    def test_one(self):
        self.assertEqual(1 + 1, 2)

    def test_two(self):
        self.assertTrue("two")


class EarlyAsyncTests(TestCase):
    def test_waits(self):
        return defer.succeed(None)
