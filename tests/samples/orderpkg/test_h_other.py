"""Failures that are not order-dependent: one fails alone too, one failed only once."""

import os

from seedboard.testing import SynchronousTestCase


class OtherTests(SynchronousTestCase):
    def test_always_fails(self):
        self.fail("fails whatever runs before it")

    def test_failed_once(self):
        # Fails only while the recorded run sets this, as a passing glitch would.
        if os.environ.get("ORDERPKG_GLITCH"):
            self.fail("a glitch")

    def test_passes(self):
        self.assertTrue(True)
