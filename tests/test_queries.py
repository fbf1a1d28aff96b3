"""Tests for the shared query pieces: a batch of tests' latest results, and bad results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, select
from twisted.trial.unittest import SynchronousTestCase

from seedboard.db.models import Result, Run, Test
from seedboard.db.queries import is_bad, latest_results, started_at_of, stored_started_at
from seedboard.domain import Outcome
from tests.support import record_run, result, run_start, temporary_database

START = datetime(2026, 5, 1, tzinfo=UTC)


def keys(conn: Connection) -> dict[str, int]:
    return {name: test for test, name in conn.execute(select(Test.id, Test.name)).tuples()}


class LatestResultsTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.db = temporary_database(self)
        self.runs: list[str] = []
        for hour in range(8):
            names = ["t.a", "t.b"] if hour < 2 else ["t.a"]
            outcome = Outcome.FAILURE if hour % 3 == 0 else Outcome.SUCCESS
            start = run_start(
                started_at=START + timedelta(hours=hour), branch="main" if hour % 2 else "dev"
            )
            record_run(self.db, [result(name, outcome) for name in names], start)
            self.runs.append(start.id)
        # A replay: the same test twice in one run, the later result listed first.
        replay = run_start(started_at=START + timedelta(hours=9), branch="dev", is_replay=True)
        record_run(self.db, [result("t.a", Outcome.FAILURE), result("t.a")], replay)
        self.replay = replay.id

    def latest(self, limit: int, branch: str | None = None) -> dict[str, list[tuple[str, str]]]:
        def read(conn: Connection) -> dict[str, list[tuple[str, str]]]:
            named = keys(conn)
            found = latest_results(
                conn, [Run.id, Result.outcome], list(named.values()), limit, branch
            )
            return {
                name: [(run_id, outcome) for run_id, outcome in found.get(test, [])]
                for name, test in named.items()
                if test in found
            }

        return self.db.read(read)

    def test_newest_first_with_replays(self) -> None:
        """Results come newest run first, the later result of a run first."""
        found = self.latest(3)
        self.assertEqual(
            found["t.a"],
            [(self.replay, "success"), (self.replay, "failure"), (self.runs[7], "success")],
        )

    def test_test_missing_from_recent_runs(self) -> None:
        """A test that ran only long ago still gets its latest results."""
        self.assertEqual(
            self.latest(3)["t.b"], [(self.runs[1], "success"), (self.runs[0], "failure")]
        )

    def test_fewer_runs_than_asked_for(self) -> None:
        """With fewer runs than the results asked for, every test gets all it has."""
        found = self.latest(20)
        self.assertEqual(found["t.b"], [(self.runs[1], "success"), (self.runs[0], "failure")])
        self.assertEqual(len(found["t.a"]), 10)
        self.assertEqual(
            found["t.a"][2:],
            [
                (run, "success" if hour % 3 else "failure")
                for hour, run in reversed(list(enumerate(self.runs)))
            ],
        )
        on_main = self.latest(20, branch="main")
        self.assertEqual(on_main["t.b"], [(self.runs[1], "success")])
        self.assertEqual([run for run, _ in on_main["t.a"]], self.runs[7::-2])

    def test_branch(self) -> None:
        """On a branch, only that branch's runs count."""
        found = self.latest(2, branch="main")
        self.assertEqual(found["t.a"], [(self.runs[7], "success"), (self.runs[5], "success")])
        self.assertEqual(found["t.b"], [(self.runs[1], "success")])

    def test_stored_start(self) -> None:
        """A run's start read as stored converts to the aware UTC time it was recorded at."""

        def read(conn: Connection) -> list[datetime]:
            test = keys(conn)["t.b"]
            found = latest_results(conn, [stored_started_at()], [test], 2)
            return [started_at_of(stored) for (stored,) in found[test]]

        self.assertEqual(self.db.read(read), [START + timedelta(hours=1), START])

    def test_unknown_tests_left_out(self) -> None:
        """A key with no results is not in the answer."""
        found = self.db.read(lambda conn: latest_results(conn, [Result.outcome], [999], 5))
        self.assertEqual(found, {})


class IsBadTests(SynchronousTestCase):
    def test_bad_outcomes(self) -> None:
        """is_bad selects failures, errors and unexpected successes, nothing else."""
        db = temporary_database(self)
        record_run(db, [result(f"t.{o.value}", o) for o in Outcome])
        found = db.read(
            lambda conn: set(
                conn.scalars(
                    select(Test.name).join(Result, Result.test_id == Test.id).where(is_bad())
                )
            )
        )
        self.assertEqual(found, {"t.failure", "t.error", "t.unexpected_success"})

    def test_partial_index_used(self) -> None:
        """SQLite sees that is_bad implies the partial index's condition, and finds a
        run's failing tests in that index."""
        db = temporary_database(self)
        if not db.is_sqlite:
            self.skipTest("a SQLite query plan")
        # The message too: a query the partial index does not cover, where SQLite weighs it
        # against the full (run_key, test_id) index as equals.
        query = select(Result.test_id, Result.message).where(Result.run_key == 1, is_bad())
        compiled = query.compile(dialect=db.reader.dialect, compile_kwargs={"literal_binds": True})
        plan = db.read(lambda conn: conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all())
        self.assertIn("INDEX ix_results_run_key_test_id (", " ".join(str(row) for row in plan))
