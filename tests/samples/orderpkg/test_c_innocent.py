"""Innocent synchronous tests between the polluters and their victims."""

from seedboard.testing import SynchronousTestCase


class MiddleTests(SynchronousTestCase):
    def test_three(self):
        self.assertEqual(3 * 1, 3)

    def test_four(self):
        self.assertIn(4, [4])

    def test_five(self):
        self.assertNotEqual(5, 6)
