"""Leaves a delayed call in the reactor: a synchronous test never runs the reactor, so
the call waits for the next test that does."""

from twisted.internet import reactor

from seedboard.testing import SynchronousTestCase


def _left_behind():
    raise RuntimeError("a delayed call left behind by an earlier test")


class ReactorPolluterTests(SynchronousTestCase):
    def test_schedules_and_forgets(self):
        reactor.callLater(0, _left_behind)
