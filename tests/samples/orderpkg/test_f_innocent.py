"""More innocent synchronous tests."""

from seedboard.testing import SynchronousTestCase


class LateTests(SynchronousTestCase):
    def test_six(self):
        self.assertEqual(len("sixsix"), 6)

    def test_seven(self):
        self.assertTrue(7)
