"""Embedded mode's spool file and its import: real trial runs, real importers, real SQLite."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from seedboard.domain import Outcome
from seedboard.settings import WAIT_ENV, database_url
from seedboard.spooled import import_file, import_pending
from seedboard_reporter.spool_file import (
    BATCH_SIZE,
    SUFFIX,
    BadSpool,
    SpoolFile,
    frame,
    has_finish,
    read_spool,
    spool_path,
)
from tests.contract import fetch_json
from tests.support import PYTHON, environment, result, sample_run, start_server
from tests.test_recorder import row_of, run_facts
from tests.test_trial_runs import SAMPLES

SPOOL = Path(".seedboard") / "spool"


def stored(path: Path) -> tuple[list[tuple[object, ...]], int]:
    """The runs (id, finished, successes, failures) and the count of results in ``path``."""
    with sqlite3.connect(path) as conn:
        runs = conn.execute(
            "SELECT id, finished_at IS NOT NULL, success, failure FROM runs"
        ).fetchall()
        (results,) = conn.execute("SELECT count(*) FROM results").fetchone()
    conn.close()
    return runs, results


def quietly_stored(path: Path) -> int:
    """How many results ``path`` holds, 0 while it is being made."""
    try:
        return stored(path)[1]
    except sqlite3.Error:
        return 0


def wait_for(case: SynchronousTestCase, what: str, check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 60
    while not check():
        if time.monotonic() > deadline:
            case.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


TRIAL_MODULES = """
import atexit, json, sys
from twisted.scripts.trial import run
watched = {"seedboard.domain", "seedboard.spooled", "seedboard_reporter.spool", "sqlalchemy"}
watched.add("seedboard_reporter.uploader")
watched.add("seedboard.triage.quarantine")  # read only when there are quarantines
atexit.register(lambda: print(json.dumps(sorted(set(watched) & set(sys.modules)))))
sys.argv[0] = "trial"
run()
"""
"""Runs trial, then prints which of the recording's heavier modules trial's process loaded."""


def trial_with_module_probe(
    project: Path, *args: str, **env: str
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """A real trial run in ``project``, and the watched modules its own process loaded."""
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


class ProjectCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.project = Path(self.mktemp()).resolve()
        shutil.copytree(SAMPLES, self.project)
        self.db = self.project / "runs.db"
        self.url = database_url(str(self.db), self.project)
        self.spool = self.project / SPOOL

    def spooled(self) -> list[Path]:
        return sorted(self.spool.glob(f"*{SUFFIX}"))

    def write_spool(self, results: int, finished: bool = True) -> Path:
        """A spool file as a run would leave it, of ``results`` results."""
        facts = run_facts()
        spool = SpoolFile(spool_path(self.spool, facts.run_id), facts, self.url)
        for n in range(results):
            outcome = Outcome.FAILURE if n % 10 == 3 else Outcome.SUCCESS
            spool.add(row_of(result(f"pkg.test_{n}", outcome, seed=n)))
        if finished:
            spool.finish(facts.started_at + timedelta(seconds=1))
        else:
            spool.close()
        return spool.path


class EmbeddedRunTests(ProjectCase):
    def test_recorded_after_trial_exits(self) -> None:
        """trial exits without waiting, naming the run and where it goes; its own process
        never loaded SQLAlchemy, the store or the domain's records, nor, with no
        quarantines, their rules; the run is in the
        database shortly after, whole, and its spool file gone."""
        done, loaded = trial_with_module_probe(
            self.project,
            "--reporter=seedboard",
            "manypkg",
            SEEDBOARD_DB=str(self.db),
            **{WAIT_ENV: ""},
        )
        last = done.stdout.splitlines()[-1]
        self.assertRegex(
            last,
            rf"^seedboard: recording run [0-9a-f]{{32}} \(100 results\) into {self.db} "
            r"\(importing in the background\)$",
        )
        self.assertEqual(loaded, [])
        wait_for(self, "the import", lambda: not self.spooled() and quietly_stored(self.db) > 0)
        runs, results = stored(self.db)
        self.assertEqual((len(runs), runs[0][1], results), (1, 1, 100))
        self.assertEqual(runs[0][0], last.split()[3])

    def test_wait_records_before_exit(self) -> None:
        """With SEEDBOARD_WAIT=1 the run is in the database when trial exits."""
        done, _ = trial_with_module_probe(
            self.project,
            "--reporter=seedboard",
            "manypkg",
            SEEDBOARD_DB=str(self.db),
            **{WAIT_ENV: "1"},
        )
        self.assertRegex(done.stdout.splitlines()[-1], r"recorded run .* \(100 results\) in ")
        runs, results = stored(self.db)
        self.assertEqual((len(runs), runs[0][1], results), (1, 1, 100))
        self.assertEqual(self.spooled(), [])

    def test_parallel_workers(self) -> None:
        """``trial -j 2``: the workers' results reach the manager's spool, with durations."""
        done = subprocess.run(
            [str(Path(PYTHON).parent / "trial"), "-j", "2", "--reporter=seedboard", "manypkg"],
            cwd=self.project,
            env=environment(PYTHONPATH=str(self.project), SEEDBOARD_DB=str(self.db)),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        self.assertRegex(done.stdout.splitlines()[-1], r"recorded run .* \(100 results\) in ")
        with sqlite3.connect(self.db) as conn:
            (timed,) = conn.execute("SELECT count(*) FROM results WHERE duration > 0").fetchone()
        conn.close()
        self.assertEqual(stored(self.db)[1], 100)
        self.assertEqual(timed, 100)

    def test_unwritable_spool_is_one_warning(self) -> None:
        """A spool folder that cannot be made costs the run one warning line, not its outcome."""
        (self.project / "blocker").write_text("a file, not a folder")
        done, _ = trial_with_module_probe(
            self.project, "--reporter=seedboard", "samplepkg", SEEDBOARD_SPOOL="blocker/spool"
        )
        plain = subprocess.run(
            [str(Path(PYTHON).parent / "trial"), "samplepkg"],
            cwd=self.project,
            env=environment(PYTHONPATH=str(self.project)),
            capture_output=True,
            check=False,
        )
        self.assertEqual(done.returncode, plain.returncode)
        last = done.stdout.splitlines()[-1]
        self.assertRegex(last, r"^seedboard: warning: this run was not recorded in .*spool file")

    def test_killed_run_keeps_what_it_flushed(self) -> None:
        """SIGKILLed mid-way, a run leaves whole lines only; importing them stores exactly
        those, as an unfinished run."""
        process = sample_run(
            self.project, 3000, SEEDBOARD_DB=str(self.db), SEEDBOARD_SAMPLE_PACE="0.002"
        )
        self.addCleanup(process.wait, 10)
        self.addCleanup(process.kill)
        wait_for(self, "a flush", lambda: any(p.stat().st_size > 2000 for p in self.spooled()))
        process.kill()
        process.wait(10)
        [path] = self.spooled()
        spooled = read_spool(path.read_bytes())
        self.assertIsNone(spooled.finished_at)
        imported, problems = import_pending(self.spool, self.url)
        self.assertEqual(problems, [])
        [done] = imported
        self.assertEqual((done.results, done.finished), (len(spooled.rows), False))
        runs, results = stored(self.db)
        self.assertEqual((len(runs), runs[0][1], results), (1, 0, len(spooled.rows)))

    def test_sigterm_flushes(self) -> None:
        """SIGTERM writes out what was buffered before trial dies of it."""
        process = sample_run(
            self.project, 3000, SEEDBOARD_DB=str(self.db), SEEDBOARD_SAMPLE_PACE="0.002"
        )
        self.addCleanup(process.wait, 10)
        wait_for(self, "a flush", lambda: any(p.stat().st_size > 2000 for p in self.spooled()))
        process.send_signal(signal.SIGTERM)
        assert process.stdout is not None
        output = process.communicate(timeout=10)[0]
        [path] = self.spooled()
        rows = read_spool(path.read_bytes()).rows
        # The outcomes trial printed before dying, one per test: all of them spooled (but
        # for one whose signal came between its line and its record).
        printed = len(re.findall(r"^ +test_\d+ \.\.\. +\[", output, re.MULTILINE))
        self.assertGreater(len(rows), 0)
        self.assertIn(printed - len(rows), (0, 1))


class SpoolFileTests(ProjectCase):
    def test_rows_round_trip(self) -> None:
        """Rows come back field for field, odd text (newlines, non-ASCII, a lone
        surrogate) included; the finish after them."""
        facts = run_facts()
        spool = SpoolFile(spool_path(self.spool, facts.run_id), facts, self.url)
        odd = row_of(result("pkg.test_odd", Outcome.FAILURE, seed=2**63))._replace(
            message="line one\nline two \u00e9\u2603 \ud800 ],[", duration=1e-7
        )
        rows = [row_of(result("pkg.test_a")), odd]
        for row in rows:
            spool.add(row)
        end = datetime.now(UTC)
        spool.finish(end)
        spooled = read_spool(spool.path.read_bytes())
        self.assertEqual([tuple(row) for row in spooled.rows], [tuple(row) for row in rows])
        self.assertEqual(spooled.finished_at, end.isoformat())
        self.assertEqual(spooled.header["run_id"], facts.run_id)
        self.assertEqual(spool.path.stat().st_mode & 0o777, 0o600)

    def test_cut_short_frame_ends_the_file(self) -> None:
        """A frame half written when the process died is not read, nor anything after;
        the file has no finish."""
        path = self.write_spool(3, finished=False)
        whole = path.read_bytes()
        cut = frame([tuple(row_of(result("pkg.test_half")))])[:-5]
        path.write_bytes(whole + cut)
        self.assertEqual(len(read_spool(path.read_bytes()).rows), 3)
        self.assertFalse(has_finish(path.read_bytes()))
        self.assertTrue(has_finish(self.write_spool(3).read_bytes()))

    def test_garbled_frame_ends_the_file(self) -> None:
        """A whole frame that does not decode ends what is read: nothing after it counts."""
        path = self.write_spool(2, finished=False)
        garbled = (7).to_bytes(4, "little") + b"\xff" * 7
        path.write_bytes(path.read_bytes() + garbled + frame({"finished_at": "2026-01-01"}))
        spooled = read_spool(path.read_bytes())
        self.assertEqual((len(spooled.rows), spooled.finished_at), (2, None))

    def test_not_a_spool_file(self) -> None:
        """Text that is neither format is refused, as no spool file."""
        with self.assertRaises(BadSpool):
            read_spool(b"hello\n")


class ImportTests(ProjectCase):
    def test_import_is_idempotent(self) -> None:
        """An importer killed mid-way, then run again, stores every result exactly once."""
        total = 40 * BATCH_SIZE
        path = self.write_spool(total)
        importer = subprocess.Popen(
            [PYTHON, "-m", "seedboard.spooled", str(path)],
            cwd=self.project,
            env=environment(),
        )
        self.addCleanup(importer.wait, 10)
        self.addCleanup(importer.kill)
        wait_for(self, "a first batch", lambda: quietly_stored(self.db) > 0)
        importer.kill()
        importer.wait(10)
        half_way = quietly_stored(self.db)
        self.assertLess(half_way, total, "the importer finished before it could be killed")
        self.assertEqual(half_way % BATCH_SIZE, 0)
        self.assertTrue(path.exists())
        done = import_file(path)
        assert done is not None
        self.assertEqual((done.results, done.finished), (total, True))
        runs, results = stored(self.db)
        self.assertEqual(runs, [(done.run_id, 1, total - total // 10, total // 10)])
        self.assertEqual(results, total)
        self.assertFalse(path.exists())

    def test_earlier_format_imported(self) -> None:
        """A spool file of format 1 (a JSON line each), left by an earlier version, is
        imported like any other by the next command that reads."""
        facts = run_facts()
        header = {
            "format": 1,
            "database": self.url,
            "batch_size": BATCH_SIZE,
            "run_id": facts.run_id,
            "started_at": facts.started_at.isoformat(),
            "cwd": str(facts.cwd),
            "argv": facts.argv,
            "order_seed": None,
            "run_seed": None,
        }
        rows = [list(row_of(result(f"pkg.test_{n}", seed=n))) for n in range(3)]
        finish = {"finished_at": (facts.started_at + timedelta(seconds=1)).isoformat()}
        lines = [json.dumps(value) for value in (header, *rows, finish)]
        self.spool.mkdir(parents=True)
        (self.spool / f"{facts.run_id}.jsonl").write_text("\n".join(lines) + "\n")
        imported, problems = import_pending(self.spool, self.url)
        self.assertEqual(problems, [])
        self.assertEqual(
            [(i.run_id, i.results, i.finished) for i in imported], [(facts.run_id, 3, True)]
        )
        self.assertEqual(stored(self.db)[1], 3)
        self.assertEqual(list(self.spool.iterdir()), [])

    def test_two_importers_store_once(self) -> None:
        """Two importers started on one spool file at once: one stores it, once."""
        path = self.write_spool(5 * BATCH_SIZE)
        importers = [
            subprocess.Popen(
                [PYTHON, "-m", "seedboard.spooled", str(path)],
                cwd=self.project,
                env=environment(),
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        self.assertEqual([p.wait(60) for p in importers], [0, 0])
        for importer in importers:
            assert importer.stdout is not None
            importer.stdout.close()
        runs, results = stored(self.db)
        self.assertEqual((len(runs), results), (1, 5 * BATCH_SIZE))

    def test_run_going_on_is_left_alone(self) -> None:
        """A spool file whose run still holds it is not imported (its batches are not
        whole yet); once the run lets go, it is."""
        facts = run_facts()
        spool = SpoolFile(spool_path(self.spool, facts.run_id), facts, self.url)
        spool.add(row_of(result("pkg.test_a")))
        spool.flush()
        self.assertEqual(import_pending(self.spool, self.url), ([], []))
        spool.finish(datetime.now(UTC))
        [done], problems = import_pending(self.spool, self.url)
        self.assertEqual((done.run_id, done.results, problems), (facts.run_id, 1, []))

    def test_other_databases_spool_is_left(self) -> None:
        """Only the spool files meant for this database are imported into it."""
        path = self.write_spool(3)
        other = database_url(str(self.project / "other.db"), self.project)
        self.assertEqual(import_pending(self.spool, other), ([], []))
        self.assertTrue(path.exists())

    def test_unusable_database_keeps_the_spool(self) -> None:
        """An importer that cannot write says why in one line and keeps the file."""
        facts = run_facts()
        bad = f"sqlite:///{self.project / 'missing' / 'x.db'}"
        spool = SpoolFile(spool_path(self.spool, facts.run_id), facts, bad)
        spool.finish(datetime.now(UTC))
        done = subprocess.run(
            [PYTHON, "-m", "seedboard.spooled", str(spool.path)],
            cwd=self.project,
            env=environment(),
            capture_output=True,
            text=True,
            check=False,
        )
        self.assertEqual(done.returncode, 1)
        [line] = done.stdout.splitlines()
        self.assertIn("cannot record in", line)
        self.assertIn(f"the run stays in {spool.path}", line)
        self.assertTrue(spool.path.exists())

    def test_reader_imports_first(self) -> None:
        """``seedboard serve`` imports what waits in the spool before it serves a page."""
        path = self.write_spool(25)
        os.utime(path)
        base = start_server(self, self.project, "--db", str(self.db))
        runs = fetch_json(self, base + "/api/v1/runs")["runs"]
        self.assertEqual([run["counts"]["total"] for run in runs], [25])
        self.assertEqual(self.spooled(), [])

    def test_import_command(self) -> None:
        """``seedboard import`` says what it stored, then that nothing is left."""
        path = self.write_spool(7, finished=False)
        command = [str(Path(PYTHON).parent / "seedboard"), "import", "--db", str(self.db)]
        first = subprocess.run(
            command, cwd=self.project, env=environment(), capture_output=True, text=True
        )
        run_id = path.stem
        self.assertEqual(
            first.stdout,
            f"seedboard: imported run {run_id} (7 results, unfinished: its trial was killed)\n",
        )
        again = subprocess.run(
            command, cwd=self.project, env=environment(), capture_output=True, text=True
        )
        self.assertEqual(
            again.stdout, f"seedboard: nothing to import for {self.db} in {self.spool}\n"
        )
