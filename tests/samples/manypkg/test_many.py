"""Many fast seeded tests, for reporters under load: SEEDBOARD_SAMPLE_TESTS of them."""

import os
import random

from seedboard.testing import SynchronousTestCase


class ManyTests(SynchronousTestCase):
    pass


def _make_test(number):
    def test(self):
        if number % 10 == 0:
            self.fail(f"every tenth test fails, drew {random.random()!r}")

    return test


for _number in range(int(os.environ.get("SEEDBOARD_SAMPLE_TESTS", "100"))):
    setattr(ManyTests, f"test_{_number:05d}", _make_test(_number))
