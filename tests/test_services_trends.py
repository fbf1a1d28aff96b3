"""Tests for trends over a real database: the store's counts bucketed and judged."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from seedboard.db import trends as trends_store
from seedboard.domain import Outcome, Result
from seedboard.services.trends import trends
from seedboard.triage.trends import Bucket
from tests.support import record_run, result, run_start, temporary_database

D1, D2, D3, D4 = (date(2026, 11, d) for d in (2, 3, 4, 5))
"""Four days in a row, Monday 2 November to Thursday 5 November 2026."""

NOON = datetime(2026, 11, 3, 12, tzinfo=UTC)


class TrendStoreTests(SynchronousTestCase):
    """Four days, 2 to 5 November: pkg.t fails once on the 3rd, passing around it."""

    def setUp(self) -> None:
        self.db = temporary_database(self)

    def record(self, when: datetime, results: list[Result], **fields: Any) -> None:
        record_run(self.db, results, run_start(when, **fields))

    def crafted(self) -> None:
        day = timedelta(days=1)
        self.record(NOON - day, [result("pkg.t"), result("pkg.u")])
        self.record(NOON, [result("pkg.t"), result("pkg.u", Outcome.SKIP)])
        self.record(NOON + timedelta(hours=11, minutes=59), [result("pkg.t", Outcome.FAILURE)])
        self.record(NOON + day, [result("pkg.t"), result("pkg.u")])
        self.record(NOON + day, [result("pkg.t", Outcome.FAILURE)], is_replay=True)
        self.record(NOON + day, [result("pkg.t", Outcome.FAILURE)], branch="dev")

    def test_day_metrics(self) -> None:
        """Each day's numbers follow the definitions, replays and skips as documented."""
        self.crafted()
        found = self.db.read(trends, 4, D4, "main")
        self.assertEqual(found.bucket, Bucket.DAY)
        self.assertEqual((found.first, found.last), (D1, D4))
        self.assertEqual(
            [(p.start, p.runs, p.results, p.failures) for p in found.points],
            [(D1, 1, 2, 0), (D2, 2, 3, 1), (D3, 1, 2, 0), (D4, 0, 0, 0)],
        )
        self.assertEqual([p.flaky_tests for p in found.points], [0, 1, 0, 0])
        self.assertEqual([p.newly_flaky for p in found.points], [0, 1, 0, 0])
        self.assertEqual([p.fixed for p in found.points], [0, 0, 1, 0])

    def test_every_branch(self) -> None:
        """Without a branch every branch counts: the dev failure makes day 3 flaky too."""
        self.crafted()
        found = self.db.read(trends, 4, D4)
        self.assertEqual([p.runs for p in found.points], [1, 2, 2, 0])
        self.assertEqual([p.flaky_tests for p in found.points], [0, 1, 1, 0])
        self.assertEqual([p.newly_flaky for p in found.points], [0, 1, 0, 0])
        self.assertEqual([p.fixed for p in found.points], [0, 0, 0, 0])

    def test_most_flaky(self) -> None:
        """The most flaky tests are those that failed and passed, with their sparkline."""
        self.crafted()
        [flaky] = self.db.read(trends, 4, D4, "main").most_flaky
        self.assertEqual(flaky.test_id, "pkg.t")
        self.assertEqual((flaky.failures, flaky.runs), (1, 4))
        self.assertEqual(flaky.sparkline, (0, 0, 1, 0))

    def test_range_edges(self) -> None:
        """Runs before the first day or after the last are left out."""
        self.crafted()
        found = self.db.read(trends, 1, D2, "main")
        self.assertEqual([(p.start, p.runs) for p in found.points], [(D2, 2)])
        self.assertEqual(self.db.read(trends, 2, date(2026, 11, 1)).points[-1].runs, 0)

    def test_weekly(self) -> None:
        """Long ranges come per week, with the same definitions."""
        self.crafted()
        found = self.db.read(trends, 90, date(2026, 11, 15), "main")
        self.assertEqual(found.bucket, Bucket.WEEK)
        week = next(p for p in found.points if p.start == D1)
        self.assertEqual((week.runs, week.flaky_tests, week.newly_flaky), (4, 1, 1))

    def test_week_edges(self) -> None:
        """A week runs Monday to Sunday: a Sunday's results count with the Monday before
        it, the next Monday's in a new week, and the days of the range's partial first
        week in its first bucket."""
        sunday, monday = (
            datetime(2026, 11, 15, 9, tzinfo=UTC),
            datetime(2026, 11, 16, 9, tzinfo=UTC),
        )
        early = datetime(2026, 8, 29, 9, tzinfo=UTC)  # the range's first day, a Saturday
        self.record(early, [result("pkg.t", Outcome.FAILURE)])
        self.record(early + timedelta(days=1), [result("pkg.t")])
        self.record(sunday - timedelta(days=6), [result("pkg.t")])
        self.record(sunday, [result("pkg.t", Outcome.FAILURE)])
        self.record(monday, [result("pkg.t", Outcome.FAILURE)])
        found = self.db.read(trends, 90, date(2026, 11, 26))
        self.assertEqual(found.first, early.date())
        flaky = {p.start: p.flaky_tests for p in found.points if p.runs}
        self.assertEqual(flaky, {early.date(): 1, date(2026, 11, 9): 1, date(2026, 11, 16): 0})

    def test_failing_tests_in_parts(self) -> None:
        """Where the failing tests are looked up in parts (PostgreSQL, CHUNK at a time),
        every part's counts are there."""
        self.patch(trends_store, "CHUNK", 1)
        names = ["pkg.a", "pkg.b", "pkg.c"]
        self.record(NOON - timedelta(days=1), [result(name) for name in names])
        self.record(NOON, [result(name, Outcome.FAILURE) for name in names])
        found = self.db.read(trends, 4, D4, "main")
        self.assertEqual([p.flaky_tests for p in found.points], [0, 0, 0, 0])
        self.assertEqual([p.fixed for p in found.points], [0, 0, 0, 0])
        self.assertEqual(sorted(t.test_id for t in found.most_flaky), names)
        self.assertEqual({(t.failures, t.runs) for t in found.most_flaky}, {(1, 2)})

    def test_empty(self) -> None:
        """With nothing recorded every bucket is empty and nothing is flaky."""
        found = self.db.read(trends, 30, D4)
        self.assertEqual(len(found.points), 30)
        self.assertEqual(sum(p.runs for p in found.points), 0)
        self.assertEqual(found.most_flaky, ())
