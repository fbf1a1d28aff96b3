"""Many fast seeded tests, for reporters under load: SEEDBOARD_SAMPLE_TESTS of them.

SEEDBOARD_SAMPLE_PACE makes each take that many seconds, so a run lasts long
enough to be killed half-way.
"""

import os
import random
import time

from seedboard.testing import SynchronousTestCase


class ManyTests(SynchronousTestCase):
    pass


_PACE = float(os.environ.get("SEEDBOARD_SAMPLE_PACE", "0"))


def _make_test(number):
    def test(self):
        if _PACE:
            time.sleep(_PACE)
        if number % 10 == 0:
            self.fail(f"every tenth test fails, drew {random.random()!r}")

    return test


for _number in range(int(os.environ.get("SEEDBOARD_SAMPLE_TESTS", "100"))):
    setattr(ManyTests, f"test_{_number:05d}", _make_test(_number))
