"""Trips on the settings a test before it left changed."""

from orderpkg import settings
from seedboard.testing import SynchronousTestCase


class GlobalVictimTests(SynchronousTestCase):
    def test_expects_normal_mode(self):
        self.assertEqual(settings.MODE, "normal")
