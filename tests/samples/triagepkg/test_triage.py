"""Three ways to fail, for the triage end-to-end test."""

import os
import random
from pathlib import Path

from twisted.trial.unittest import SkipTest

from seedboard.testing import TestCase


class TriageTests(TestCase):
    def test_seed_dependent(self):
        # The seed decides: it fails exactly when the first draw is small.
        if random.random() < 0.5:
            self.fail("unlucky draw")

    def test_independent_of_seed(self):
        # Fails on every second run whatever the seed, as a race or a clock would.
        counter = os.environ.get("SEEDBOARD_SAMPLE_COUNTER")
        if not counter:
            raise SkipTest("needs SEEDBOARD_SAMPLE_COUNTER")
        path = Path(counter)
        count = int(path.read_text() or "0") + 1 if path.exists() else 1
        path.write_text(str(count))
        if count % 2 == 0:
            self.fail("lost the race")

    def test_always_fails(self):
        self.fail("never works")

    def test_passes(self):
        self.assertLess(random.random(), 1.0)
