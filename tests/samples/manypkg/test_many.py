"""Many fast seeded tests, for reporters under load: SEEDBOARD_SAMPLE_TESTS of them.

A mix like a real suite's: most pass; of every 100 tests, 5 fail and 2 raise an
error (each message ends with its random seed), 4 are skipped and 1 is an
expected failure; every tenth has its seed pinned with @seed.  Every test draws
from the seeded ``random``, as simulation tests do.

SEEDBOARD_SAMPLE_PACE makes each take that many seconds, so a run lasts long
enough to be killed half-way.
"""

import os
import random
import time

from twisted.trial.unittest import SkipTest

from seedboard.testing import SynchronousTestCase, seed


class ManyTests(SynchronousTestCase):
    pass


_PACE = float(os.environ.get("SEEDBOARD_SAMPLE_PACE", "0"))


def _make_test(number):
    def test(self):
        if _PACE:
            time.sleep(_PACE)
        drawn = random.random()
        if number % 20 == 3 or number % 100 == 13:
            self.fail(f"test {number} fails, drew {drawn!r}")
        if number % 50 == 7:
            raise ValueError(f"test {number} errs, drew {drawn!r}")
        if number % 25 == 11:
            raise SkipTest(f"test {number} needs what this machine lacks")

    if number % 100 == 13:
        test.todo = "a known bug"
    if number % 10 == 5:
        test = seed(number)(test)
    return test


for _number in range(int(os.environ.get("SEEDBOARD_SAMPLE_TESTS", "100"))):
    setattr(ManyTests, f"test_{_number:05d}", _make_test(_number))
