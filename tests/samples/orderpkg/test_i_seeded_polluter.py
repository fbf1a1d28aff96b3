"""Leaves the cache stale, but only when its own seed makes it draw low: what it leaves
behind depends on the seed it runs with, as a simulated node's random delays would."""

import random

from orderpkg import settings
from seedboard.testing import SynchronousTestCase


class SeededPolluterTests(SynchronousTestCase):
    def test_maybe_leaves_cache_stale(self):
        if random.random() < 0.5:
            settings.CACHE = "stale"
