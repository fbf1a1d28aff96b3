"""Tests for embedded mode's writer process: a real child writing a real SQLite file."""

from __future__ import annotations

import io
import pickle
import sqlite3
from dataclasses import astuple
from datetime import UTC, datetime
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from seedboard.domain import Outcome
from seedboard_reporter.recorder import Unrecorded
from seedboard_reporter.writer import WriterProcess, apply_calls
from tests.support import result, run_start
from tests.test_recorder import ListTarget


def database_file(case: SynchronousTestCase) -> Path:
    folder = Path(case.mktemp()).resolve()
    folder.mkdir()
    return folder / "seedboard.db"


def stored(path: Path) -> tuple[list[tuple[object, ...]], int]:
    with sqlite3.connect(path) as conn:
        runs = conn.execute("SELECT id, finished_at, success, failure FROM runs").fetchall()
        (results,) = conn.execute("SELECT count(*) FROM results").fetchone()
    return runs, results


class WriterProcessTests(SynchronousTestCase):
    def test_writes_a_run(self) -> None:
        """A run handed to the child is in the database, finished, once finish_run returns."""
        path = database_file(self)
        start = run_start()
        writer = WriterProcess(f"sqlite:///{path}")
        writer.create_run(start)
        writer.add_results(start.id, [result(f"t.{n}") for n in range(3)])
        writer.add_results(start.id, [result("t.bad", Outcome.FAILURE)])
        writer.finish_run(start.id, datetime.now(UTC))
        writer.close()
        runs, results = stored(path)
        self.assertEqual(
            [(r[0], r[1] is not None, r[2], r[3]) for r in runs], [(start.id, True, 3, 1)]
        )
        self.assertEqual(results, 4)

    def test_run_that_stops_early_keeps_its_results(self) -> None:
        """If trial stops before finishing, the child still writes what it was handed."""
        path = database_file(self)
        start = run_start()
        writer = WriterProcess(f"sqlite:///{path}")
        writer.create_run(start)
        writer.add_results(start.id, [result(f"t.{n}") for n in range(5)])
        writer.close()  # no finish: as when trial is interrupted
        writer._process.wait(30)
        self.assertEqual(stored(path), ([(start.id, None, 5, 0)], 5))

    def test_failure_is_one_line(self) -> None:
        """A database the child cannot open is reported in its own words, in one line."""
        writer = WriterProcess(f"sqlite:///{database_file(self).parent / 'no' / 'x.db'}")
        start = run_start()
        with self.assertRaises(Unrecorded) as raised:
            writer.create_run(start)
            writer.add_results(start.id, [result()])
            writer.finish_run(start.id, datetime.now(UTC))
        message = str(raised.exception)
        self.assertIn("unable to open database file", message)
        self.assertNotIn("\n", message)


class ApplyCallsTests(SynchronousTestCase):
    def test_calls_in_order(self) -> None:
        """Pickled calls reach the target in order, results rebuilt as records."""
        start = run_start()
        end = datetime.now(UTC)
        stream = io.BytesIO()
        for call in [
            ("create_run", start),
            ("add_results", start.id, [astuple(result("t.a"))]),
            ("finish_run", start.id, end),
        ]:
            pickle.dump(call, stream)
        stream.seek(0)
        target = ListTarget()
        apply_calls(stream, target)
        self.assertEqual(
            target.calls, [("create_run", start.id), ("add_results", 1), ("finish_run", end)]
        )
