"""Tests whose outcome depends on the version of the code they run, for the per-commit
triage end-to-end tests: ``COMMITPKG_CODE`` plays the code's version (the tests set
``SEEDBOARD_COMMIT`` to the same name), and ``COMMITPKG_COIN`` plays chance."""

import os

from seedboard.testing import TestCase


def code() -> str:
    return os.environ.get("COMMITPKG_CODE", "")


class VersionTests(TestCase):
    def test_fixed_later(self):
        # The old code ("aaa") has a bug every seed hits; the fix ("bbb") removed it.
        if code() == "aaa":
            self.fail("off by one in the old code")

    def test_regressed_later(self):
        # The new code ("bbb") breaks with even seeds only: a seed-dependent regression.
        if code() == "bbb" and self.seedboard_seed is not None and self.seedboard_seed % 2 == 0:
            self.fail("the new code mishandles an even seed")

    def test_coin(self):
        # Neither code nor seed decides: a race, played by the environment.
        if os.environ.get("COMMITPKG_COIN") == "lose":
            self.fail("lost the race")
