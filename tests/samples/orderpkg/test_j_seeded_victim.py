"""Trips on a stale cache that a test before it may have left."""

from orderpkg import settings
from seedboard.testing import SynchronousTestCase


class SeededVictimTests(SynchronousTestCase):
    def test_expects_fresh_cache(self):
        self.assertEqual(settings.CACHE, "fresh")
