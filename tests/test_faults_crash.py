"""Crashes and load: SIGKILLed servers and reporters, and many reporters at once, lose nothing.

Everything here is real: ``seedboard serve`` processes, ``trial
--reporter=seedboard`` subprocesses posting over loopback, SQLite files.  The
sizes come from ``by_mode``: small by default, the figures in README
"Reliability" with SEEDBOARD_FAULTS=long.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from twisted.python import log
from twisted.trial.unittest import SynchronousTestCase

from seedboard.db.engine import open_database
from seedboard.db.pool import SynchronousPool
from seedboard.web.app import Dashboard
from seedboard.web.templates import make_environment
from seedboard_reporter.spool_file import SENDER, SUFFIX, read_spool
from tests.contract import checked_client
from tests.support import (
    BIN,
    REPO,
    ServerProcess,
    by_mode,
    environment,
    exchange,
    integrity,
    sample_run,
)
from tests.test_ingest_api import HTTPClient
from tests.test_server_mode import free_port
from tests.test_trial_runs import trial

SAMPLES = REPO / "tests" / "samples"
UNFINISHED = '<span class="badge unfinished">unfinished</span>'
"""How a run page says its run never finished."""
SEED = int(os.environ.get("SEEDBOARD_FAULTS_SEED", "0")) or random.randrange(1, 2**32)
"""The seed of the kill timings; printed with every failure, set it to repeat a run."""


@dataclass(frozen=True)
class StoredRun:
    """What the database holds for one run, straight from the file."""

    results: int
    distinct_tests: int
    counted: int
    finished: bool


def stored_runs(db: Path) -> dict[str, StoredRun]:
    """Every run in the database file with its result rows, distinct tests and counts."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT runs.id, count(results.id), count(DISTINCT results.test_id),"
            " success + failure + error + skip + expected_failure + unexpected_success,"
            " finished_at IS NOT NULL"
            " FROM runs LEFT JOIN results ON results.run_key = runs.key GROUP BY runs.id"
        ).fetchall()
    conn.close()
    return {row[0]: StoredRun(row[1], row[2], row[3], bool(row[4])) for row in rows}


def result_names(db: Path, run_id: str) -> set[str]:
    """The test ids of a run's stored results."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT tests.name FROM results JOIN tests ON tests.id = results.test_id"
            " JOIN runs ON runs.key = results.run_key WHERE runs.id = ?",
            (run_id,),
        ).fetchall()
    conn.close()
    return {row[0] for row in rows}


def spooled_requests(project: Path) -> list[Path]:
    return sorted((project / ".seedboard" / "spool").glob("*/*.json"))


def spooled_rows(project: Path) -> dict[str, int]:
    """Embedded mode's spool files, by run id: how many whole results each holds."""
    return {
        path.stem: len(read_spool(path.read_bytes()).rows)
        for path in (project / ".seedboard" / "spool").glob(f"*{SUFFIX}")
    }


class FaultCase(SynchronousTestCase):
    """A copy of the sample projects, a server database with a token, and a server on a port."""

    def setUp(self) -> None:
        self.project = Path(self.mktemp()).resolve()
        shutil.copytree(SAMPLES, self.project)
        self.db = self.project / "server.db"
        self.token = self.seedboard("token", "create", "ci").stdout.strip()
        self.server = ServerProcess(self, self.project, free_port(), "--db", str(self.db))

    def seedboard(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "seedboard"), *args],
            cwd=self.project,
            env=environment(SEEDBOARD_DB=str(self.db), **env),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def reporter(self, tests: int, pace: float = 0.0, **env: str) -> subprocess.Popen[str]:
        """A ``trial --reporter=seedboard manypkg`` run of ``tests`` tests, in the background."""
        env.setdefault("SEEDBOARD_URL", self.server.base)
        env.setdefault("SEEDBOARD_TOKEN", self.token)
        return sample_run(
            self.project, tests, stderr_too=True, SEEDBOARD_SAMPLE_PACE=str(pace), **env
        )

    def wait_for(self, what: str, check: object, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not callable(check) or not check():
            if time.monotonic() > deadline:
                self.fail(f"timed out waiting for {what}")
            time.sleep(0.05)


class ServerCrashTests(FaultCase):
    def test_server_killed_while_reporters_post(self) -> None:
        """SIGKILLed at random moments and restarted on its port while real reporters post,
        the server ends up with every result of every run exactly once, intact."""
        cycles, reporters, tests = by_mode(2, 20), by_mode(3, 4), by_mode(500, 2000)
        rng = random.Random(SEED)
        kills = 0
        self.server.start()
        for cycle in range(cycles):
            running = [
                self.reporter(tests, pace=0.001, SEEDBOARD_FLUSH_TIMEOUT="60")
                for _ in range(reporters)
            ]
            for _ in range(rng.randint(1, by_mode(1, 2))):
                time.sleep(rng.uniform(0.2, 2.5))
                self.server.kill()
                kills += 1
                verdict = integrity(self.db)
                self.assertEqual(verdict, "ok", f"cycle {cycle}, seed {SEED}")
                time.sleep(rng.uniform(0.0, 1.0))
                self.server.start()
            outputs = [process.communicate(timeout=600)[0] for process in running]
            uploaded = self.seedboard(
                "upload", "--url", self.server.base, SEEDBOARD_TOKEN=self.token
            )
            self.assertEqual(uploaded.returncode, 0, f"seed {SEED}: {uploaded.stdout}")
            for output in outputs:
                self.assertNotIn("locked", output, f"seed {SEED}")
        self.server.stop()
        self.assertEqual(integrity(self.db), "ok", f"seed {SEED}")
        found = stored_runs(self.db)
        self.assertEqual(len(found), cycles * reporters, f"seed {SEED}")
        whole = StoredRun(results=tests, distinct_tests=tests, counted=tests, finished=True)
        self.assertEqual({run_id: whole for run_id in found}, found, f"seed {SEED}, {kills} kills")
        self.assertEqual(spooled_requests(self.project), [])
        log.msg(
            f"faults: {cycles} cycles, {kills} SIGKILLs of the server, "
            f"{len(found)} runs and {len(found) * tests} results checked (seed {SEED})"
        )


class ReporterCrashTests(FaultCase):
    """A ``trial`` run SIGKILLed half-way, in both modes."""

    def killed_run(self, is_done: object, **env: str) -> None:
        """Start a slow run and SIGKILL it once ``is_done()`` says enough has been kept."""
        process = self.reporter(by_mode(3000, 10000), pace=0.002, **env)
        self.addCleanup(process.wait, 10)
        self.addCleanup(process.kill)
        self.wait_for("the run to keep some results", is_done)
        process.kill()
        process.wait(10)
        self.assertEqual(process.returncode, -9)

    def run_page(self, db: Path, run_id: str) -> str:
        """The run's page, from a dashboard over ``db``."""
        database = open_database(f"sqlite:///{db}")
        self.addCleanup(database.dispose)
        dashboard = Dashboard(SynchronousPool(database), make_environment())
        client = cast(HTTPClient, checked_client(self, dashboard.app.resource()))
        response = self.successResultOf(
            client.request("GET", f"http://seedboard.test/runs/{run_id}")
        )
        self.assertEqual(response.code, 200)
        page: bytes = self.successResultOf(response.content())
        return page.decode("utf-8")

    def test_embedded(self) -> None:
        """Killed mid-way in embedded mode, the results it flushed to its spool file are
        imported by the next command that reads (here ``seedboard import``), the run shows
        as unfinished, and the next run is recorded whole."""
        local = self.project / "local.db"

        def some_results() -> bool:
            return any(rows > 0 for rows in spooled_rows(self.project).values())

        self.killed_run(some_results, SEEDBOARD_DB=str(local), SEEDBOARD_URL="")
        [(run_id, flushed)] = spooled_rows(self.project).items()
        imported = self.seedboard("import", "--db", str(local))
        self.assertEqual(imported.returncode, 0, imported.stderr)
        self.assertIn(f"imported run {run_id} ({flushed} results, unfinished", imported.stdout)
        self.assertEqual(spooled_rows(self.project), {})
        self.assertEqual(integrity(local), "ok")
        killed = stored_runs(local)[run_id]
        self.assertEqual(killed, StoredRun(flushed, flushed, flushed, finished=False))
        self.assertIn(UNFINISHED, self.run_page(local, run_id))

        done = trial(self.project, "--reporter=seedboard", "manypkg", SEEDBOARD_DB=str(local))
        self.assertRegex(done.stdout.splitlines()[-1], r"recorded run .* \(100 results\)")
        after = stored_runs(local)
        self.assertEqual(after[run_id], killed)
        [new] = [run for other, run in after.items() if other != run_id]
        self.assertEqual(new, StoredRun(100, 100, 100, finished=True))

    def test_server_mode(self) -> None:
        """Killed mid-way in server mode, what the server acknowledged stays, the rest waits
        in the spool, the run shows as unfinished, and the next run sends the spooled part."""
        self.server.start()

        def some_acknowledged() -> bool:
            return any(run.results for run in _quiet_runs(self.db).values())

        self.killed_run(some_acknowledged, SEEDBOARD_FLUSH_TIMEOUT="60")
        # The sender outlives trial: it sends or spools what trial had flushed, then stops.
        self.wait_for("the run's sender to stop", lambda: not senders_in(self.project))
        [(run_id, acknowledged)] = stored_runs(self.db).items()
        self.assertFalse(acknowledged.finished)
        acknowledged_names = result_names(self.db, run_id)
        spooled_names = {
            result["test_id"]
            for request in spooled_requests(self.project)
            if "-batch-" in request.name
            for result in json.loads(request.read_bytes())["results"]
        }
        self.assertIn(UNFINISHED, self.run_page(self.db, run_id))

        done = trial(
            self.project,
            "--reporter=seedboard",
            "manypkg",
            SEEDBOARD_URL=self.server.base,
            SEEDBOARD_TOKEN=self.token,
        )
        self.assertRegex(done.stdout.splitlines()[-1], r"recorded run .* \(100 results\)")
        after = stored_runs(self.db)
        kept = after[run_id]
        self.assertFalse(kept.finished)
        self.assertEqual(result_names(self.db, run_id), acknowledged_names | spooled_names)
        self.assertEqual((kept.distinct_tests, kept.counted), (kept.results, kept.results))
        self.assertEqual(spooled_requests(self.project), [])
        [new] = [run for other, run in after.items() if other != run_id]
        self.assertEqual(new, StoredRun(100, 100, 100, finished=True))
        self.assertEqual(integrity(self.db), "ok")


def senders_in(project: Path) -> list[int]:
    """The pids of the sender processes sending a spool file of ``project``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # not a process, or gone
            continue
        if SENDER.encode() in words and any(str(project).encode() in w for w in words):
            found.append(int(entry.name))
    return found


def _quiet_runs(db: Path) -> dict[str, StoredRun]:
    """``stored_runs``, or nothing while the file is still being created."""
    try:
        return stored_runs(db)
    except sqlite3.Error:
        return {}


class PagePoller(threading.Thread):
    """Asks for pages and the read API over and over until stopped; keeps every status."""

    PATHS = ("/", "/api/v1/runs", "/flaky", "/api/v1/trends")

    def __init__(self, case: SynchronousTestCase, base: str) -> None:
        super().__init__(daemon=True)
        self._case = case
        self._base = base
        self._halt = threading.Event()
        self.statuses: list[int] = []
        self.slowest = 0.0

    def run(self) -> None:
        while not self._halt.is_set():
            for path in self.PATHS:
                began = time.monotonic()
                self.statuses.append(
                    exchange(self._case, self._base, "GET", path, timeout=60).status
                )
                self.slowest = max(self.slowest, time.monotonic() - began)

    def stop(self) -> None:
        self._halt.set()
        self.join(120)


class LoadTests(FaultCase):
    def test_many_reporters_at_once(self) -> None:
        """Many real reporters posting at once: every result stored, no error, nothing
        locked, and pages asked for meanwhile all answer 200."""
        reporters, tests = by_mode(4, 16), by_mode(1000, 10000)
        self.server.start()
        poller = PagePoller(self, self.server.base)
        poller.start()
        self.addCleanup(poller.stop)
        running = [self.reporter(tests, SEEDBOARD_FLUSH_TIMEOUT="300") for _ in range(reporters)]
        outputs = [process.communicate(timeout=1200)[0] for process in running]
        poller.stop()
        for output in outputs:
            self.assertRegex(output.splitlines()[-1], rf"recorded run .* \({tests} results\)")
            self.assertNotIn("locked", output)
            self.assertNotIn("kept in", output)
        found = stored_runs(self.db)
        whole = StoredRun(results=tests, distinct_tests=tests, counted=tests, finished=True)
        self.assertEqual(list(found.values()), [whole] * reporters)
        self.assertGreater(len(poller.statuses), 0)
        self.assertEqual(set(poller.statuses), {200}, f"slowest page {poller.slowest:.1f} s")
        self.assertEqual(spooled_requests(self.project), [])
        log.msg(
            f"faults: {reporters} reporters x {tests} results stored, {len(poller.statuses)} "
            f"page requests meanwhile, all 200, slowest {poller.slowest:.2f} s"
        )
