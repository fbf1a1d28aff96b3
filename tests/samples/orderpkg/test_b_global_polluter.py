"""Leaves the shared settings changed: a test that forgot its cleanup."""

from orderpkg import settings
from seedboard.testing import SynchronousTestCase


class GlobalPolluterTests(SynchronousTestCase):
    def test_switches_mode(self):
        settings.MODE = "maintenance"
        self.assertEqual(settings.MODE, "maintenance")
