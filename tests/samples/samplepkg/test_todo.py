"""An unexpected success, apart: trial -j (Twisted 26) crashes on one in its own summary."""

from seedboard.testing import TestCase


class TodoTests(TestCase):
    def test_unexpected_success(self):
        pass

    test_unexpected_success.todo = "should still fail"
