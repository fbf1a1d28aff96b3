"""Tests for embedded mode's writer process: a real child writing a real SQLite file."""

from __future__ import annotations

import io
import json
import pickle
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from seedboard.domain import Outcome
from seedboard_reporter.recorder import Unrecorded
from seedboard_reporter.writer import (
    FINISHED,
    DatabaseSpec,
    ServerSpec,
    WriterProcess,
    apply_calls,
    columns_of,
    rows_of,
)
from tests.support import PYTHON, environment, result
from tests.test_recorder import ListTarget, row_of, run_facts
from tests.test_trial_runs import SAMPLES


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
        start = run_facts()
        writer = WriterProcess(DatabaseSpec(f"sqlite:///{path}"))
        writer.create_run(start)
        writer.add_results(start.run_id, [row_of(result(f"t.{n}")) for n in range(3)])
        writer.add_results(start.run_id, [row_of(result("t.bad", Outcome.FAILURE))])
        writer.finish_run(start.run_id, datetime.now(UTC))
        writer.close()
        runs, results = stored(path)
        self.assertEqual(
            [(r[0], r[1] is not None, r[2], r[3]) for r in runs], [(start.run_id, True, 3, 1)]
        )
        self.assertEqual(results, 4)

    def test_run_that_stops_early_keeps_its_results(self) -> None:
        """If trial stops before finishing, the child still writes what it was handed."""
        path = database_file(self)
        start = run_facts()
        writer = WriterProcess(DatabaseSpec(f"sqlite:///{path}"))
        writer.create_run(start)
        writer.add_results(start.run_id, [row_of(result(f"t.{n}")) for n in range(5)])
        writer.close()  # no finish: as when trial is interrupted
        writer._process.wait(30)
        self.assertEqual(stored(path), ([(start.run_id, None, 5, 0)], 5))

    def test_failure_is_one_line(self) -> None:
        """A database the child cannot open is reported in its own words, in one line."""
        writer = WriterProcess(
            DatabaseSpec(f"sqlite:///{database_file(self).parent / 'no' / 'x.db'}")
        )
        start = run_facts()
        with self.assertRaises(Unrecorded) as raised:
            writer.create_run(start)
            writer.add_results(start.run_id, [row_of(result())])
            writer.finish_run(start.run_id, datetime.now(UTC))
        message = str(raised.exception)
        self.assertIn("unable to open database file", message)
        self.assertNotIn("\n", message)

    def test_server_unreachable_keeps_the_spool(self) -> None:
        """With a server, the child spools every request, and when the server does not
        answer in time says so in one line naming the spool, which keeps the run."""
        spool = Path(self.mktemp()).resolve()
        start = run_facts()
        writer = WriterProcess(ServerSpec("http://127.0.0.1:9", "token", spool, start.run_id, 0.2))
        writer.create_run(start)
        writer.add_results(start.run_id, [row_of(result(f"t.{n}")) for n in range(3)])
        with self.assertRaises(Unrecorded) as raised:
            writer.finish_run(start.run_id, datetime.now(UTC))
        self.assertIn(f"kept in {spool / start.run_id}", str(raised.exception))
        self.assertNotIn("\n", str(raised.exception))
        writer._process.wait(30)
        kept = sorted(path.name for path in (spool / start.run_id).glob("*.json"))
        self.assertEqual(kept, ["0-run.json", "1-batch-00000000.json", "2-finish.json"])


TRIAL_MODULES = """
import atexit, json, sys
from twisted.scripts.trial import run
watched = {"seedboard.domain", "seedboard_reporter.embedded", "seedboard_reporter.uploader"}
watched.add("sqlalchemy")
atexit.register(lambda: print(json.dumps(sorted(set(watched) & set(sys.modules)))))
sys.argv[0] = "trial"
run()
"""
"""Runs trial, then prints which of the writer process's modules trial's process loaded."""


def trial_with_module_probe(
    project: Path, *args: str, **env: str
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """A real trial run in ``project``, and the writer modules its own process loaded."""
    done = subprocess.run(
        [PYTHON, "-c", TRIAL_MODULES, *args],
        cwd=project,
        env=environment(PYTHONPATH=str(project), **env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    *output, loaded = done.stdout.rstrip("\n").split("\n")
    done.stdout = "\n".join(output) + "\n"
    return done, json.loads(loaded)


class ApplyCallsTests(SynchronousTestCase):
    def test_columns_round_trip(self) -> None:
        """Rows crossing the pipe as columns come back as the same rows, names and all."""
        rows = [row_of(result(f"t.{n}", seed=n)) for n in range(3)]
        self.assertEqual(rows_of(pickle.loads(pickle.dumps(columns_of(rows)))), rows)
        self.assertEqual(rows_of(columns_of([])), [])

    def test_calls_in_order(self) -> None:
        """Pickled calls reach the target in order, results rebuilt as records."""
        start = run_facts()
        end = datetime.now(UTC)
        stream = io.BytesIO()
        for call in [
            ("create_run", start),
            ("add_results", start.run_id, columns_of([row_of(result("t.a"))])),
            ("finish_run", start.run_id, end),
        ]:
            pickle.dump(call, stream)
        stream.seek(0)
        target = ListTarget()
        answer = io.BytesIO()
        apply_calls(stream, target, answer)
        self.assertEqual(
            target.calls, [("create_run", start.run_id), ("add_results", 1), ("finish_run", end)]
        )
        self.assertEqual(answer.getvalue(), FINISHED)

    def test_finished_answered_before_close(self) -> None:
        """The child answers once the finish is stored, before it closes its target: trial
        waits for the last commit, not for the database to close and the process to exit."""
        start = run_facts()
        stream = io.BytesIO()
        pickle.dump(("finish_run", start.run_id, datetime.now(UTC)), stream)
        stream.seek(0)
        target = ListTarget()
        answer = io.BytesIO()
        apply_calls(stream, target, answer)
        self.assertEqual((answer.getvalue(), target.closed), (FINISHED, False))


class EmbeddedRunTests(SynchronousTestCase):
    def test_writer_process_writes(self) -> None:
        """A real trial run is recorded whole while trial's own process never loads
        SQLAlchemy, the store or even the domain's records: the writer process does
        that work."""
        project = Path(self.mktemp()).resolve()
        shutil.copytree(SAMPLES, project)
        db = project / "runs.db"
        done, loaded = trial_with_module_probe(
            project, "--reporter=seedboard", "manypkg", SEEDBOARD_DB=str(db)
        )
        self.assertRegex(done.stdout.splitlines()[-1], r"recorded run .* \(100 results\)")
        self.assertEqual(loaded, [])
        runs, results = stored(db)
        self.assertEqual((len(runs), runs[0][1] is not None, results), (1, True, 100))
