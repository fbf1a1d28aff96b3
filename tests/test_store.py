"""Tests for the run and history store functions, on a real SQLite file."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from twisted.trial.unittest import SynchronousTestCase

from seedboard.db import batches, bulk, engine, runs
from seedboard.db.engine import open_database
from seedboard.db.history import test_history as history_of
from seedboard.db.migrate import ensure_schema
from seedboard.db.models import Result as ResultRow
from seedboard.db.models import Test
from seedboard.db.runs import OutcomeFilter, ReplayFilter, RunFilters
from seedboard.domain import RESULT_FIELDS, Outcome, OutcomeCounts, Result, ResultColumns
from seedboard.services.results import add_results
from seedboard.triage.fingerprint import fingerprint
from tests.support import on_postgres, record_run, result, run_start, temporary_database

NOW = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)


class RunStoreTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.db = temporary_database(self)

    def test_round_trip(self) -> None:
        """A stored run reads back equal, with aware UTC times and its results."""
        start = run_start(order_seed=9, build_url="https://ci/1")
        stored = [result("a.T.test_1"), result("a.T.test_2", Outcome.FAILURE, seed=5)]
        record_run(self.db, stored, start, duration=3.0)
        detail = self.db.read(runs.get_run, start.id)
        assert detail is not None
        self.assertEqual(detail.summary.start, start)
        self.assertEqual(detail.summary.duration, 3.0)
        self.assertEqual(detail.summary.counts, OutcomeCounts(success=1, failure=1))
        failed = replace(
            stored[1],
            fingerprint=fingerprint(
                stored[1].exception_type, stored[1].message, stored[1].traceback
            ),
        )
        self.assertEqual(detail.results, [failed, stored[0]])
        self.assertIsNotNone(failed.fingerprint)

    def test_columns_store_as_records(self) -> None:
        """Results given as columns, as the API parses a batch, store as the same records."""
        stored = [
            result("a.T.test_1", line=3),
            result("a.T.test_2", Outcome.FAILURE, seed=5, file="a/t.py", line=9),
        ]
        columns = ResultColumns.of(stored)
        self.assertEqual(columns.records(), stored)
        as_records, as_columns = run_start(), run_start()
        record_run(self.db, stored, as_records)
        self.db.write(runs.create_run, as_columns)
        self.db.write(add_results, as_columns.id, columns)
        by_records = self.db.read(runs.get_run, as_records.id)
        by_columns = self.db.read(runs.get_run, as_columns.id)
        assert by_records is not None and by_columns is not None
        self.assertEqual(by_columns.results, by_records.results)
        self.assertEqual(by_columns.summary.counts, by_records.summary.counts)

    def test_create_is_idempotent(self) -> None:
        """Creating the same run twice stores it once."""
        start = run_start()
        self.assertTrue(self.db.write(runs.create_run, start))
        self.assertFalse(self.db.write(runs.create_run, start))
        self.assertEqual(len(self.db.read(runs.list_runs, 10).runs), 1)

    def test_counts_follow_batches(self) -> None:
        """Counts are kept current batch by batch; an unfinished run has no end."""
        start = run_start()
        self.db.write(runs.create_run, start)
        self.db.write(runs.store_results, start.id, [result("t.a"), result("t.b", Outcome.SKIP)])
        self.db.write(runs.store_results, start.id, [result("t.c", Outcome.ERROR)])
        [summary] = self.db.read(runs.list_runs, 10).runs
        self.assertEqual(summary.counts, OutcomeCounts(success=1, skip=1, error=1))
        self.assertIsNone(summary.finished_at)
        self.assertIsNone(summary.duration)

    def test_unknown_run(self) -> None:
        """Results or an end for a run never created are refused and store nothing."""
        self.assertRaises(runs.UnknownRun, self.db.write, runs.store_results, "nope", [result()])
        self.assertRaises(
            runs.UnknownRun, self.db.write, runs.finish_run, "nope", datetime.now(UTC)
        )
        self.assertIsNone(self.db.read(history_of, "mypkg.test_a.ATests.test_one", 10))

    def test_failures_first(self) -> None:
        """A run's results list errors and failures first, then by test id."""
        outcomes = [
            ("t.a", Outcome.SUCCESS),
            ("t.b", Outcome.SKIP),
            ("t.c", Outcome.FAILURE),
            ("t.d", Outcome.UNEXPECTED_SUCCESS),
            ("t.e", Outcome.ERROR),
        ]
        start = record_run(self.db, [result(name, outcome) for name, outcome in outcomes])
        detail = self.db.read(runs.get_run, start.id)
        assert detail is not None
        self.assertEqual([r.test_id for r in detail.results], ["t.c", "t.e", "t.d", "t.b", "t.a"])

    def test_keyset_pages(self) -> None:
        """Pages follow each other newest first with no repeats, ties broken by id."""
        base = datetime(2026, 1, 1, tzinfo=UTC)
        made = [
            record_run(self.db, [], run_start(base + timedelta(minutes=i // 2))) for i in range(7)
        ]
        expected = [s.id for s in sorted(made, key=lambda s: (s.started_at, s.id), reverse=True)]
        seen: list[str] = []
        cursor = None
        while True:
            page = self.db.read(runs.list_runs, 3, cursor)
            seen += [r.id for r in page.runs]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        self.assertEqual(seen, expected)

    def test_many_tests_in_one_batch(self) -> None:
        """A batch larger than one IN (...) chunk stores every test once."""
        start = record_run(self.db, [result(f"t.T.test_{i}") for i in range(1234)])
        detail = self.db.read(runs.get_run, start.id)
        assert detail is not None
        self.assertEqual(len({r.test_id for r in detail.results}), 1234)


class ResultMappingTests(SynchronousTestCase):
    """Each field of ``seedboard.domain.Result`` is stored in exactly one column."""

    def test_every_field_stored_once(self) -> None:
        """A result's fields are those kept on its test's row and those on its own row."""
        self.assertTrue(set(runs.ON_TEST).isdisjoint(runs.ON_RESULT))
        self.assertEqual(sorted([*runs.ON_TEST, *runs.ON_RESULT]), sorted(RESULT_FIELDS))

    def test_own_fields_are_columns_of_their_name(self) -> None:
        """The results table has a column for each field kept on a result's row, of its
        name, and no other column but its keys."""
        columns = {column.name for column in ResultRow.__table__.columns}
        self.assertEqual(columns - {"id", "run_key", "test_id"}, set(runs.ON_RESULT))

    def test_test_fields_are_columns_of_tests(self) -> None:
        """The fields kept once per test are columns of the tests table."""
        tables = {column.table.name for column in runs.ON_TEST.values()}
        self.assertEqual(tables, {"tests"})

    def test_stored_as_given(self) -> None:
        """The store keeps the fingerprints it is given, and computes none itself."""
        start = run_start()
        given = [
            result("t.a", Outcome.FAILURE, fingerprint="0123456789abcdef"),
            result("t.b", Outcome.FAILURE),
        ]
        db = temporary_database(self)
        db.write(runs.create_run, start)
        db.write(runs.store_results, start.id, given)
        detail = db.read(runs.get_run, start.id)
        assert detail is not None
        self.assertEqual(detail.results, given)


class BulkTests(SynchronousTestCase):
    """The driver-level bulk insert and lookup under the results store."""

    def setUp(self) -> None:
        self.db = temporary_database(self)

    def test_lookup_finds_awkward_names(self) -> None:
        """Names with quotes, backslashes, NUL and non-ASCII are found as stored, others not."""
        names = ['t."quoted"', "t.back\\slash", "t.é☃", "t.[1, 2]", "t.plain"]
        if not on_postgres():  # PostgreSQL's text cannot hold NUL at all
            names.append("t.nul\x00")
        start = record_run(self.db, [result(name) for name in names])
        found = self.db.read(bulk.rows_by_key, Test.name, [*names, "t.absent"], Test.name)
        self.assertEqual(sorted(name for (name,) in found), sorted(names))
        detail = self.db.read(runs.get_run, start.id)
        assert detail is not None
        self.assertEqual(sorted(r.test_id for r in detail.results), sorted(names))

    def test_lookup_beyond_a_chunk(self) -> None:
        """More names than one IN (...) chunk are all found."""
        names = [f"t.T.test_{i}" for i in range(bulk.CHUNK * 2 + 7)]
        self.db.write(bulk.insert_rows, Test, ("name",), [(name,) for name in names])
        found = self.db.read(bulk.rows_by_key, Test.name, names, Test.id, Test.name)
        self.assertEqual(sorted(name for _, name in found), sorted(names))

    def test_insert_keeps_column_order(self) -> None:
        """Values land in the columns they are listed with, whatever the table's order."""
        self.db.write(bulk.insert_rows, Test, ("line", "name", "file"), [(7, "t.a", "a.py")])
        [row] = self.db.read(bulk.rows_by_key, Test.name, ["t.a"], Test.file, Test.line)
        self.assertEqual(tuple(row), ("a.py", 7))

    def test_refused_insert_raises_sqlalchemy_error(self) -> None:
        """A bulk insert the database refuses (COPY on PostgreSQL) raises SQLAlchemy's
        IntegrityError, as any statement would, and stores none of its rows."""
        self.db.write(bulk.insert_rows, Test, ("name",), [("t.a",)])
        self.assertRaises(
            IntegrityError,
            self.db.write,
            bulk.insert_rows,
            Test,
            ("name",),
            [("t.b",), ("t.a",)],
        )
        found = self.db.read(bulk.rows_by_key, Test.name, ["t.a", "t.b"], Test.name)
        self.assertEqual([tuple(row) for row in found], [("t.a",)])

    def test_together_in_order(self) -> None:
        """Statements run together run in order, each giving its rows, converted as
        SQLAlchemy converts them (aware UTC times)."""
        start = record_run(self.db, [result("t.a")])
        calls = [
            runs.locking_run(start.id),
            bulk.Call(update(Test).values(line=bindparam("line")), {"line": 42}),
            bulk.Call(select(Test.line).where(Test.name == bindparam("name")), {"name": "t.a"}),
        ]
        locked, updated, lines = self.db.write(bulk.together, calls)
        self.assertEqual(runs.run_times(start.id, locked).started_at, start.started_at)
        self.assertEqual(updated, [])
        self.assertEqual([tuple(row) for row in lines], [(42,)])

    def test_together_stops_at_a_failure(self) -> None:
        """A statement that fails raises SQLAlchemy's error; those before it have given
        their rows, those after it have not run, and the transaction keeps nothing."""
        self.db.write(bulk.insert_rows, Test, ("name",), [("t.a",)])
        names = select(Test.name).order_by(Test.name)
        calls = [
            bulk.Call(names, {}),
            bulk.Call(insert(Test).values(name=bindparam("name")), {"name": "t.b"}),
            bulk.Call(insert(Test).values(name=bindparam("name")), {"name": "t.a"}),
            bulk.Call(names, {}),
        ]
        done: list[list[bulk.Row]] = []
        self.assertRaises(IntegrityError, self.db.write, bulk.together, calls, done)
        self.assertEqual([[tuple(row) for row in rows] for rows in done], [[("t.a",)], []])
        found = self.db.read(bulk.rows_by_key, Test.name, ["t.a", "t.b"], Test.name)
        self.assertEqual([tuple(row) for row in found], [("t.a",)])


class CheckpointTests(SynchronousTestCase):
    """A server's writer leaves the write-ahead log to a checkpoint of its own."""

    def setUp(self) -> None:
        self.path = Path(self.mktemp()).resolve()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = open_database(f"sqlite:///{self.path}", background_checkpoints=True)
        self.addCleanup(self.db.dispose)
        ensure_schema(self.db)

    def test_rows_reach_the_file_at_checkpoint(self) -> None:
        """Commits leave even a large log uncopied; checkpoint copies it into the file."""
        empty = self.path.stat().st_size
        record_run(self.db, [result(f"t.T.test_{i}", message="x" * 2000) for i in range(3000)])
        # Far more than the 1000 pages after which a commit would checkpoint by itself.
        self.assertGreater(Path(f"{self.path}-wal").stat().st_size, 4000 * 1024)
        self.assertEqual(self.path.stat().st_size, empty)
        self.db.checkpoint()
        self.assertGreater(self.path.stat().st_size, empty + 1000 * 1024)
        with self.db.reader.connect() as conn:
            self.assertEqual(conn.exec_driver_sql("SELECT count(*) FROM results").scalar(), 3000)

    def test_log_stays_bounded(self) -> None:
        """Past LOG_LIMIT_PAGES of log the writer checkpoints as well, so writes that never
        pause for a background checkpoint start the log afresh instead of growing it."""
        self.patch(engine, "LOG_LIMIT_PAGES", 100)
        path = Path(self.mktemp()).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        db = open_database(f"sqlite:///{path}", background_checkpoints=True)
        self.addCleanup(db.dispose)
        ensure_schema(db)
        for _ in range(12):
            record_run(db, [result(f"t.T.test_{i}", message="x" * 2000) for i in range(300)])
        # Each run adds some 200 pages of 4 KiB: unbounded, the log would hold them all.
        self.assertLess(Path(f"{path}-wal").stat().st_size, 4 * 200 * 4096)


class BatchStoreTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.db = temporary_database(self)
        self.start = run_start()
        self.db.write(runs.create_run, self.start)

    def add(self, number: int, names: list[str]) -> bool:
        stored: bool = self.db.write(
            batches.store_batch, self.start.id, number, [result(n) for n in names], NOW
        )
        return stored

    def stored_names(self) -> list[str]:
        detail = self.db.read(runs.get_run, self.start.id)
        assert detail is not None
        return sorted(r.test_id for r in detail.results)

    def test_batches_append(self) -> None:
        """Numbered batches add their results and are recorded by number."""
        self.assertTrue(self.add(0, ["t.a", "t.b"]))
        self.assertTrue(self.add(1, ["t.c"]))
        self.assertEqual(self.stored_names(), ["t.a", "t.b", "t.c"])
        self.assertEqual(self.db.read(batches.batch_numbers, self.start.id), [0, 1])

    def test_retried_batch_stored_once(self) -> None:
        """A batch number seen before stores nothing, and its counts stay as they were."""
        self.assertTrue(self.add(0, ["t.a"]))
        self.assertFalse(self.add(0, ["t.a"]))
        self.assertFalse(self.add(0, ["t.other"]))
        self.assertEqual(self.stored_names(), ["t.a"])
        [summary] = self.db.read(runs.list_runs, 10).runs
        self.assertEqual(summary.counts.total, 1)

    def test_unknown_run(self) -> None:
        """A batch for a run never created is refused and records nothing."""
        self.assertRaises(
            runs.UnknownRun, self.db.write, batches.store_batch, "f" * 32, 0, [result()], NOW
        )
        self.assertEqual(self.db.read(batches.batch_numbers, "f" * 32), [])

    def test_failed_batch_leaves_nothing(self) -> None:
        """When storing results fails, the batch number is not kept either."""
        # An outcome that is no Outcome fails after the batch row was inserted.
        broken = [result("t.a"), result("t.b", outcome="bogus")]  # type: ignore[arg-type]
        self.assertRaises(
            AttributeError, self.db.write, batches.store_batch, self.start.id, 0, broken, NOW
        )
        self.assertEqual(self.db.read(batches.batch_numbers, self.start.id), [])
        self.assertTrue(self.add(0, ["t.a"]))


class LifecycleStoreTests(SynchronousTestCase):
    """A finished run is closed: the store functions check it in the write transaction."""

    def setUp(self) -> None:
        self.db = temporary_database(self)
        self.start = run_start(started_at=NOW)
        self.end = NOW + timedelta(seconds=3)
        self.db.write(runs.create_run, self.start)
        self.db.write(batches.store_batch, self.start.id, 0, [result("t.a")], NOW)
        self.db.write(runs.finish_run, self.start.id, self.end)

    def finished_at(self) -> datetime | None:
        summary = self.db.read(runs.run_summary, self.start.id)
        assert summary is not None
        return summary.finished_at

    def test_new_batch_refused(self) -> None:
        """A new batch for a finished run raises RunFinished naming run_id, and stores nothing."""
        error = self.assertRaises(
            runs.RunFinished,
            self.db.write,
            batches.store_batch,
            self.start.id,
            1,
            [result("t.b")],
            NOW,
        )
        self.assertEqual((error.field, error.finished_at), ("run_id", self.end))
        self.assertEqual(self.db.read(batches.batch_numbers, self.start.id), [0])
        self.assertRaises(
            runs.RunFinished, self.db.write, runs.store_results, self.start.id, [result("t.c")]
        )
        detail = self.db.read(runs.get_run, self.start.id)
        assert detail is not None
        self.assertEqual([r.test_id for r in detail.results], ["t.a"])

    def test_stored_batch_still_a_duplicate(self) -> None:
        """A batch stored before the finish, sent again, is still just a duplicate."""
        stored = self.db.write(batches.store_batch, self.start.id, 0, [result("t.a")], NOW)
        self.assertFalse(stored)

    def test_finish_again(self) -> None:
        """The same finish again changes nothing; another time raises RunFinished."""
        self.db.write(runs.finish_run, self.start.id, self.end)
        later = self.end + timedelta(seconds=1)
        error = self.assertRaises(
            runs.RunFinished, self.db.write, runs.finish_run, self.start.id, later
        )
        self.assertEqual(error.field, "finished_at")
        self.assertEqual(self.finished_at(), self.end)

    def test_finish_before_start(self) -> None:
        """A finish before the start is an ImpossibleTime; a finish at the start is not."""
        start = run_start(started_at=NOW)
        self.db.write(runs.create_run, start)
        early = NOW - timedelta(microseconds=1)
        error = self.assertRaises(
            runs.ImpossibleTime, self.db.write, runs.finish_run, start.id, early
        )
        self.assertEqual(error.field, "finished_at")
        self.db.write(runs.finish_run, start.id, NOW)

    def test_far_ahead_of_the_clock(self) -> None:
        """Given the clock, a start or finish more than MAX_AHEAD after it is refused."""
        ahead = NOW + runs.MAX_AHEAD
        too_far = ahead + timedelta(microseconds=1)
        error = self.assertRaises(
            runs.ImpossibleTime,
            self.db.write,
            runs.create_run,
            run_start(started_at=too_far),
            NOW,
        )
        self.assertEqual(error.field, "started_at")
        start = run_start(started_at=ahead)
        self.assertTrue(self.db.write(runs.create_run, start, NOW))
        error = self.assertRaises(
            runs.ImpossibleTime, self.db.write, runs.finish_run, start.id, too_far, NOW
        )
        self.assertEqual(error.field, "finished_at")
        self.db.write(runs.finish_run, start.id, ahead, NOW)

    def other_process(self) -> engine.Database:
        """The same database opened again, as another server process would."""
        other = open_database(self.db.writer.url.render_as_string(hide_password=False))
        self.addCleanup(other.dispose)
        return other

    def test_finish_waits_for_a_batch_in_flight(self) -> None:
        """A finish arriving while a batch's transaction is open waits for it, so the batch
        is stored whole and the run finished after it; nothing slips past the check."""
        start = run_start(started_at=NOW)
        self.db.write(runs.create_run, start)
        other = self.other_process()
        done = threading.Event()

        def finish() -> None:
            other.write(runs.finish_run, start.id, self.end)
            done.set()

        with self.db.writer.begin() as conn:
            self.assertTrue(batches.store_batch(conn, start.id, 0, [result("t.a")], NOW))
            finisher = threading.Thread(target=finish)
            finisher.start()
            self.assertFalse(done.wait(0.3), "the finish did not wait for the batch")
        finisher.join(30)
        self.assertTrue(done.is_set())
        self.assertEqual(self.db.read(batches.batch_numbers, start.id), [0])
        self.assertRaises(
            runs.RunFinished, self.db.write, batches.store_batch, start.id, 1, [result()], NOW
        )

    def test_batch_waits_for_a_finish_in_flight(self) -> None:
        """A batch arriving while a finish's transaction is open waits for it, then is
        refused: it cannot read the run as open and store after the finish."""
        start = run_start(started_at=NOW)
        self.db.write(runs.create_run, start)
        other = self.other_process()
        outcome: list[BaseException | bool] = []

        def add() -> None:
            try:
                outcome.append(other.write(batches.store_batch, start.id, 0, [result("t.a")], NOW))
            except BaseException as error:
                outcome.append(error)

        with self.db.writer.begin() as conn:
            runs.finish_run(conn, start.id, self.end)
            adder = threading.Thread(target=add)
            adder.start()
            adder.join(0.3)
            self.assertEqual(outcome, [], "the batch did not wait for the finish")
        adder.join(30)
        [refused] = outcome
        self.assertIsInstance(refused, runs.RunFinished, repr(refused))
        self.assertEqual(self.db.read(batches.batch_numbers, start.id), [])


class HistoryStoreTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.db = temporary_database(self)

    def test_history_newest_first(self) -> None:
        """A test's history lists its runs newest first, with seeds and messages."""
        base = datetime(2026, 3, 1, tzinfo=UTC)
        first = record_run(self.db, [result("t.x", seed=1)], run_start(base))
        second = record_run(
            self.db, [result("t.x", Outcome.FAILURE, seed=2)], run_start(base + timedelta(1))
        )
        history = self.db.read(history_of, "t.x", 10)
        assert history is not None
        self.assertEqual([r.run_id for r in history.runs], [second.id, first.id])
        self.assertEqual([r.seed for r in history.runs], [2, 1])
        self.assertEqual(history.runs[0].message, "1 != 2 (random seed: 2)")

    def test_location_follows_latest(self) -> None:
        """A test that moved is shown where it was last seen."""
        record_run(self.db, [result("t.x", line=10)])
        record_run(self.db, [result("t.x", file="moved.py", line=20)])
        history = self.db.read(history_of, "t.x", 10)
        assert history is not None
        self.assertEqual((history.file, history.line), ("moved.py", 20))

    def test_batch_of_known_moved_and_new_tests(self) -> None:
        """A batch whose tests are stored in place, stored elsewhere, placed nowhere or new
        stores each result on its own test, and moves only the tests it places elsewhere."""
        awkward = 't."é☃\\'
        record_run(
            self.db,
            [
                result("t.same", file="a.py", line=1),
                result("t.moved", file="a.py", line=2),
                result("t.nowhere", file="a.py", line=3),
                result(awkward, file="a.py", line=4),
            ],
        )
        start = record_run(
            self.db,
            [
                result("t.new", file="b.py", line=5),
                result(awkward, file="a.py", line=4),
                result("t.nowhere", file=None, line=None),
                result("t.moved", file="c.py", line=6),
                result("t.same", file="a.py", line=1),
            ],
        )
        detail = self.db.read(runs.get_run, start.id)
        assert detail is not None
        places = {r.test_id: (r.file, r.line) for r in detail.results}
        expected = {
            "t.new": ("b.py", 5),
            awkward: ("a.py", 4),
            "t.nowhere": ("a.py", 3),
            "t.moved": ("c.py", 6),
            "t.same": ("a.py", 1),
        }
        self.assertEqual(places, expected)
        self.assertEqual(len(detail.results), 5)
        # Every test known and in place, in another order: each result on its own test.
        again = record_run(self.db, [result(name, seed=i) for i, name in enumerate(expected)])
        detail = self.db.read(runs.get_run, again.id)
        assert detail is not None
        seeds = {r.test_id: r.seed for r in detail.results}
        self.assertEqual(seeds, {name: i for i, name in enumerate(expected)})

    def test_history_limit(self) -> None:
        """The limit keeps only the newest results."""
        for _ in range(5):
            record_run(self.db, [result("t.x")])
        history = self.db.read(history_of, "t.x", 2)
        assert history is not None
        self.assertEqual(len(history.runs), 2)


class RunFilterStoreTests(SynchronousTestCase):
    """Filters of the runs list, over four runs on two days and two branches."""

    def setUp(self) -> None:
        self.db = temporary_database(self)
        day = datetime(2026, 3, 1, tzinfo=UTC)
        self.green_main = self.record(day, [result("pkg.a.test_x")], branch="main")
        self.failing_dev = self.record(
            day + timedelta(hours=23, minutes=59),
            [result("pkg.b.test_y", Outcome.UNEXPECTED_SUCCESS)],
            branch="dev",
        )
        self.replay = self.record(
            day + timedelta(days=1), [result("pkg.a.test_x")], branch="main", is_replay=True
        )
        self.failing_main = self.record(
            day + timedelta(days=1, hours=1),
            [result("pkg.a.test_x", Outcome.ERROR), result("odd%_id")],
            branch="main",
        )

    def record(self, at: datetime, results: list[Result], **fields: object) -> str:
        return record_run(self.db, results, run_start(at, **fields)).id  # type: ignore[arg-type]

    def ids(self, filters: RunFilters, limit: int = 10, before: str | None = None) -> list[str]:
        return [run.id for run in self.db.read(runs.list_runs, limit, before, filters).runs]

    def test_no_filters(self) -> None:
        """Without filters every run is listed, newest first."""
        expected = [self.failing_main, self.replay, self.failing_dev, self.green_main]
        self.assertEqual(self.ids(RunFilters()), expected)

    def test_branch(self) -> None:
        """A branch filter keeps that branch's runs only."""
        self.assertEqual(self.ids(RunFilters(branch="dev")), [self.failing_dev])

    def test_outcome(self) -> None:
        """Failing runs have a bad outcome (an unexpected success too); green ones none."""
        failing = self.ids(RunFilters(outcome=OutcomeFilter.FAILING))
        self.assertEqual(failing, [self.failing_main, self.failing_dev])
        green = self.ids(RunFilters(outcome=OutcomeFilter.GREEN))
        self.assertEqual(green, [self.replay, self.green_main])

    def test_days_inclusive(self) -> None:
        """``since`` and ``until`` are UTC days, both included, to the last microsecond."""
        first, second = date(2026, 3, 1), date(2026, 3, 2)
        self.assertEqual(self.ids(RunFilters(until=first)), [self.failing_dev, self.green_main])
        self.assertEqual(self.ids(RunFilters(since=second)), [self.failing_main, self.replay])
        self.assertEqual(len(self.ids(RunFilters(since=first, until=second))), 4)
        self.assertEqual(self.ids(RunFilters(since=second, until=first)), [])

    def test_replay(self) -> None:
        """Replays can be the only runs listed, or left out."""
        self.assertEqual(self.ids(RunFilters(replay=ReplayFilter.ONLY)), [self.replay])
        self.assertNotIn(self.replay, self.ids(RunFilters(replay=ReplayFilter.EXCLUDE)))
        self.assertEqual(len(self.ids(RunFilters(replay=ReplayFilter.EXCLUDE))), 3)

    def test_test_substring(self) -> None:
        """A test filter keeps runs that ran a test whose id contains the text."""
        self.assertEqual(self.ids(RunFilters(test="b.test_")), [self.failing_dev])
        self.assertEqual(len(self.ids(RunFilters(test="test_"))), 4)

    def test_test_wildcards_literal(self) -> None:
        """``%`` and ``_`` in the test filter match only themselves."""
        self.assertEqual(self.ids(RunFilters(test="%_")), [self.failing_main])
        self.assertEqual(self.ids(RunFilters(test="a_test")), [])
        self.assertEqual(self.ids(RunFilters(test="%")), [self.failing_main])

    def test_combined(self) -> None:
        """Filters combine: every one of them must hold."""
        filters = RunFilters(
            branch="main",
            outcome=OutcomeFilter.GREEN,
            since=date(2026, 3, 2),
            replay=ReplayFilter.EXCLUDE,
        )
        self.assertEqual(self.ids(filters), [])
        both = RunFilters(branch="main", test="test_x", replay=ReplayFilter.EXCLUDE)
        self.assertEqual(self.ids(both), [self.failing_main, self.green_main])

    def test_pages_with_filters(self) -> None:
        """Filtered pages follow each other with no repeats; the cursor may be any run."""
        filters = RunFilters(branch="main")
        first = self.ids(filters, limit=1)
        second = self.ids(filters, limit=1, before=first[0])
        third = self.ids(filters, limit=5, before=second[0])
        self.assertEqual(first + second + third, [self.failing_main, self.replay, self.green_main])
        self.assertEqual(self.ids(filters, before=self.failing_dev), [self.green_main])

    def test_unknown_cursor(self) -> None:
        """A page after a run that does not exist is refused, not silently empty."""
        error = self.assertRaises(runs.UnknownCursor, self.ids, RunFilters(), 10, "f" * 32)
        self.assertEqual(error.run_id, "f" * 32)
