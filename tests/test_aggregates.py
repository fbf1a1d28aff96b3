"""Tests for the aggregates kept at ingest: per test, day and branch, passes and failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, event, select
from twisted.trial.unittest import SynchronousTestCase

from seedboard.db import aggregates, runs
from seedboard.db.models import Test, TestDay
from seedboard.domain import Outcome
from tests.support import record_run, result, run_start, temporary_database

DAY = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)


def stored_days(conn: Connection) -> list[tuple[Any, ...]]:
    query = (
        select(Test.name, TestDay.day, TestDay.branch, TestDay.passes, TestDay.failures)
        .join(Test, Test.id == TestDay.test_id)
        .order_by(Test.name, TestDay.day, TestDay.branch)
    )
    return [tuple(row) for row in conn.execute(query)]


class TestDayTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.db = temporary_database(self)

    def test_batches_add_up(self) -> None:
        """Each batch adds to its run's day: passes (expected failures too), failures
        (errors and unexpected successes too); skips count as neither."""
        start = run_start(started_at=DAY)
        self.db.write(runs.create_run, start)
        self.db.write(
            runs.store_results,
            start.id,
            [result("t.a"), result("t.b", Outcome.FAILURE), result("t.c", Outcome.SKIP)],
        )
        self.db.write(
            runs.store_results,
            start.id,
            [
                result("t.a", Outcome.EXPECTED_FAILURE),
                result("t.b", Outcome.ERROR),
                result("t.b", Outcome.UNEXPECTED_SUCCESS),
            ],
        )
        self.assertEqual(
            self.db.read(stored_days),
            [
                ("t.a", DAY.date(), "main", 2, 0),
                ("t.b", DAY.date(), "main", 0, 3),
                ("t.c", DAY.date(), "main", 0, 0),
            ],
        )

    def test_days_branches_and_replays(self) -> None:
        """Runs count on their own UTC day and branch ("" for none); replays not at all."""
        record_run(self.db, [result("t.a")], run_start(started_at=DAY))
        record_run(
            self.db, [result("t.a")], run_start(started_at=DAY + timedelta(hours=1), branch=None)
        )
        record_run(self.db, [result("t.a", Outcome.FAILURE)], run_start(started_at=DAY))
        record_run(
            self.db, [result("t.a", Outcome.FAILURE)], run_start(started_at=DAY, is_replay=True)
        )
        self.assertEqual(
            self.db.read(stored_days),
            [
                ("t.a", DAY.date(), "main", 1, 1),
                ("t.a", (DAY + timedelta(days=1)).date(), "", 1, 0),
            ],
        )

    def test_rebuild_matches_ingest(self) -> None:
        """Recounting from the results gives exactly what ingest kept."""
        for hours, branch in ((0, "main"), (5, None), (30, "dev"), (31, "main")):
            record_run(
                self.db,
                [result("t.a"), result("t.b", Outcome.FAILURE if hours % 2 else Outcome.SUCCESS)],
                run_start(started_at=DAY + timedelta(hours=hours), branch=branch),
            )
        kept = self.db.read(stored_days)
        self.db.write(aggregates.rebuild)
        self.assertEqual(self.db.read(stored_days), kept)
        self.assertEqual(len(kept), 8)


class CountStatementTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.db = temporary_database(self)

    def test_sqlite_reads_only_the_new_rows(self) -> None:
        """On SQLite a batch's day counts read its new rows by a range of ids, not a
        whole index of the run or of the results."""
        if not self.db.is_sqlite:
            self.skipTest("a SQLite query plan")
        sent: list[tuple[str, Any]] = []

        def note(conn: Any, cursor: Any, sql: str, parameters: Any, *rest: Any) -> None:
            if sql.startswith("INSERT INTO test_days"):
                sent.append((sql, parameters))

        event.listen(self.db.writer, "before_cursor_execute", note)
        record_run(self.db, [result("t.a")], run_start(started_at=DAY))
        event.remove(self.db.writer, "before_cursor_execute", note)
        [(sql, parameters)] = sent
        plan = self.db.read(
            lambda conn: conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters).all()
        )
        self.assertIn("USING INTEGER PRIMARY KEY (rowid>?)", " ".join(str(row) for row in plan))

    def test_other_runs_rows_not_counted(self) -> None:
        """A batch counts its own results only, not those another run stored meanwhile
        with higher ids, and counts a test met several times in it once per result."""
        first, second = run_start(started_at=DAY), run_start(started_at=DAY, branch="dev")
        self.db.write(runs.create_run, first)
        self.db.write(runs.create_run, second)
        self.db.write(runs.store_results, first.id, [result("t.a"), result("t.a")])
        self.db.write(runs.store_results, second.id, [result("t.a", Outcome.FAILURE)])
        self.db.write(runs.store_results, first.id, [result("t.a", Outcome.ERROR)])
        self.assertEqual(
            self.db.read(stored_days),
            [("t.a", DAY.date(), "dev", 0, 1), ("t.a", DAY.date(), "main", 2, 1)],
        )
