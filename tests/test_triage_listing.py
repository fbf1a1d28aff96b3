"""The flaky console's order and keyset pages, without a database."""

from __future__ import annotations

import random

from twisted.trial.unittest import SynchronousTestCase

from seedboard.domain import Outcome
from seedboard.triage.classify import Classification
from seedboard.triage.listing import FlakySort, chosen, console, page, sort_key
from seedboard.triage.report import TestTriage, triage
from tests.test_triage_report import sample


def judged(test_id: str, outcomes: str, seed: int = 1) -> TestTriage:
    """A test judged on ``outcomes``, newest first: ``F`` failed, ``.`` passed."""
    samples = [
        sample(day, Outcome.FAILURE if o == "F" else Outcome.SUCCESS, seed + day, "fp")
        for day, o in enumerate(reversed(outcomes))
    ]
    return triage(test_id, None, None, list(reversed(samples)))


def suite(size: int) -> list[TestTriage]:
    pick = random.Random(size)
    return [
        judged(f"pkg.T.test_{n:03}", "".join(pick.choice("F..") for _ in range(8)) + "F", n)
        for n in range(size)
    ]


class PagingTests(SynchronousTestCase):
    def walk(self, rows: list[TestTriage], sort: FlakySort, limit: int) -> list[list[str]]:
        pages, after = [], None
        while True:
            found = page(rows, sort, limit, after)
            pages.append([t.test_id for t in found.rows])
            self.assertEqual(found.total, len(rows))
            if found.more_after is None:
                return pages
            after = found.more_after

    def test_pages_cover_the_order_once(self) -> None:
        """Following each page's key visits every row once, in order, for every sort."""
        tests = suite(23)
        for sort in FlakySort:
            rows = chosen(tests, sort=sort)
            pages = self.walk(rows, sort, 5)
            self.assertEqual([len(p) for p in pages], [5, 5, 5, 5, 3], sort)
            self.assertEqual([t for p in pages for t in p], [t.test_id for t in rows], sort)

    def test_an_exact_fit_has_no_next_page(self) -> None:
        rows = chosen(suite(10))
        self.assertIsNone(page(rows, FlakySort.RANK, 10, None).more_after)
        self.assertEqual(self.walk(rows, FlakySort.RANK, 5)[-1], [t.test_id for t in rows[5:]])

    def test_a_row_gone_moves_no_other(self) -> None:
        """A test that leaves the list between two pages (it turned stable) neither
        skips nor repeats another: the next page starts after the key, not at an index."""
        rows = chosen(suite(12), sort=FlakySort.FAILURE_RATE)
        first = page(rows, FlakySort.FAILURE_RATE, 4, None)
        assert first.more_after is not None
        without = [t for t in rows if t.test_id not in {first.rows[-1].test_id, rows[1].test_id}]
        second = page(without, FlakySort.FAILURE_RATE, 4, first.more_after)
        self.assertEqual(second.rows, rows[4:8])

    def test_keys_are_unique(self) -> None:
        """Every order is total: no two tests share a key, so a page boundary is exact."""
        tests = suite(40)
        for sort in FlakySort:
            keys = [sort_key(sort)(t) for t in tests]
            self.assertEqual(len(set(keys)), len(keys), sort)

    def test_broken_apart_unless_asked_for(self) -> None:
        broken = judged("pkg.T.test_broken", "FFFF")
        flaky = judged("pkg.T.test_flaky", "F.F.")
        self.assertEqual(broken.verdict.classification, Classification.BROKEN)
        rows = chosen([broken, flaky])
        apart = console(rows, (), FlakySort.RANK, 10, None)
        self.assertEqual((apart.flaky.rows, apart.broken), ([flaky], [broken]))
        asked = console(rows, [Classification.BROKEN], FlakySort.RANK, 10, None)
        self.assertEqual((asked.flaky.rows, asked.broken), (rows, []))
