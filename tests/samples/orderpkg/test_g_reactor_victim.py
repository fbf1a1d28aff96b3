"""An asynchronous test: the first to run the reactor after the delayed call was left."""

from twisted.internet import defer, reactor, task

from seedboard.testing import TestCase


class ReactorVictimTests(TestCase):
    def test_waits_a_moment(self):
        return task.deferLater(reactor, 0, defer.succeed, None)
