"""Tests for the store finding a run's previous run on its branch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from twisted.trial.unittest import SynchronousTestCase

from seedboard.db.compare import NoSuchRun, previous_run
from tests.support import record_run, result, run_start, temporary_database

BASE = datetime(2026, 3, 1, 12, tzinfo=UTC)


class PreviousRunTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.db = temporary_database(self)

    def record(self, hours: float, branch: str | None = "main", **fields: object) -> str:
        start = run_start(BASE + timedelta(hours=hours), branch=branch, **fields)
        return record_run(self.db, [result("t")], start).id

    def previous(self, run_id: str) -> str | None:
        found = self.db.read(previous_run, run_id)
        return None if found is None else found.id

    def test_latest_earlier_same_branch(self) -> None:
        """The previous run is the latest earlier one on the same branch."""
        first = self.record(0)
        second = self.record(1)
        self.record(2, branch="dev")
        third = self.record(3)
        self.record(4)
        self.assertEqual(self.previous(third), second)
        self.assertEqual(self.previous(second), first)
        self.assertIsNone(self.previous(first))

    def test_replays_skipped(self) -> None:
        """Replays are never a previous run, though a replay has one."""
        first = self.record(0)
        replay = self.record(1, is_replay=True)
        later = self.record(2)
        self.assertEqual(self.previous(later), first)
        self.assertEqual(self.previous(replay), first)

    def test_no_branch(self) -> None:
        """Runs without a branch follow the earlier runs without one."""
        first = self.record(0, branch=None)
        self.record(1)
        second = self.record(2, branch=None)
        self.assertEqual(self.previous(second), first)

    def test_same_start_time(self) -> None:
        """Runs started at the same moment are ordered by id, as the runs list is."""
        ids = sorted(self.record(0) for _ in range(3))
        self.assertEqual(self.previous(ids[2]), ids[1])
        self.assertEqual(self.previous(ids[1]), ids[0])
        self.assertIsNone(self.previous(ids[0]))

    def test_unknown(self) -> None:
        """Asking for the previous run of no run raises NoSuchRun."""
        self.assertRaises(NoSuchRun, self.db.read, previous_run, "nope")
