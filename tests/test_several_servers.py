"""Several ``seedboard serve`` processes writing one database, as behind a reverse proxy.

Runs on the suite's backend: on PostgreSQL (``SEEDBOARD_TEST_DB=postgresql``)
this is the deployment the README describes; on SQLite, several servers on one
file must be just as correct.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

from twisted.trial.unittest import SynchronousTestCase

from seedboard.db.engine import open_database
from tests.contract import fetch, fetch_json
from tests.support import REPO, database_url, sample_run, seedboard_command, start_server
from tests.test_ingest import run_body

SAMPLES = REPO / "tests" / "samples"
RESULTS_PER_BATCH = 50
BATCHES = 8


def result_body(batch: int) -> bytes:
    results = [
        {
            "test_id": f"pkg.test_shared.SharedTests.test_{batch}_{i}",
            "outcome": "failure" if i % 10 == 0 else "success",
            "duration": 0.01,
            "seed": batch * 1000 + i,
        }
        for i in range(RESULTS_PER_BATCH)
    ]
    return json.dumps({"results": results}).encode()


class SeveralServersTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.project = Path(self.mktemp()).resolve()
        shutil.copytree(SAMPLES, self.project)
        self.url = database_url(self)
        self.token = self.seedboard("token", "create", "ci").stdout.strip()
        self.servers = [
            start_server(self, self.project, "--db", self.url, "--port", "0") for _ in range(2)
        ]

    def seedboard(self, *args: str) -> subprocess.CompletedProcess[str]:
        return seedboard_command(self.project, self.url, *args, check=True)

    def send(self, base: str, method: str, path: str, body: bytes) -> int:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        return fetch(self, base + path, method, body, headers, timeout=60).status

    def on_every_server(self, method: str, path: str, body: bytes) -> list[int]:
        """Send one request to all servers at the same moment, as a retry through a proxy may."""
        with ThreadPoolExecutor(len(self.servers)) as pool:
            return list(pool.map(lambda base: self.send(base, method, path, body), self.servers))

    def counts(self) -> tuple[int, int, int, int]:
        """Runs, results, batches and test names stored, read from the database itself."""
        database = open_database(self.url)
        self.addCleanup(database.dispose)

        def count(conn: object) -> tuple[int, int, int, int]:
            from sqlalchemy import Connection, text

            assert isinstance(conn, Connection)
            return tuple(
                conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
                for table in ("runs", "results", "batches", "tests")
            )

        return database.read(count)

    def test_same_requests_on_every_server(self) -> None:
        """A run created, filled and finished through both servers at once is stored once."""
        run_id = uuid4().hex
        statuses = self.on_every_server(
            "PUT", f"/api/v1/runs/{run_id}", json.dumps(run_body()).encode()
        )
        self.assertEqual(sorted(statuses), [200, 201])
        for number in range(BATCHES):
            statuses = self.on_every_server(
                "PUT", f"/api/v1/runs/{run_id}/batches/{number}", result_body(number)
            )
            self.assertEqual(sorted(statuses), [200, 201], f"batch {number}")
        finish = json.dumps({"finished_at": "2026-11-25T17:00:00+00:00"}).encode()
        self.assertEqual(
            self.on_every_server("POST", f"/api/v1/runs/{run_id}/finish", finish), [200, 200]
        )
        run = fetch_json(self, f"{self.servers[1]}/api/v1/runs/{run_id}")["run"]
        self.assertEqual(run["counts"]["total"], RESULTS_PER_BATCH * BATCHES)
        self.assertEqual(run["counts"]["failure"], RESULTS_PER_BATCH * BATCHES // 10)
        self.assertEqual(
            self.counts(),
            (1, RESULTS_PER_BATCH * BATCHES, BATCHES, RESULTS_PER_BATCH * BATCHES),
        )

    def store_run(self, base: str, failing: bool) -> None:
        """A finished run of five tests, through one server; the first two fail if ``failing``."""
        run_id = uuid4().hex
        started = datetime.now(UTC) - timedelta(hours=1)
        body = json.dumps(run_body(started_at=started.isoformat())).encode()
        self.assertEqual(self.send(base, "PUT", f"/api/v1/runs/{run_id}", body), 201)
        outcomes = ["failure" if failing and i < 2 else "success" for i in range(5)]
        results = [
            {"test_id": f"pkg.T.test_{i}", "outcome": o, "duration": 0.1, "seed": i}
            for i, o in enumerate(outcomes)
        ]
        batch = json.dumps({"results": results}).encode()
        self.assertEqual(self.send(base, "PUT", f"/api/v1/runs/{run_id}/batches/0", batch), 201)
        finish = json.dumps({"finished_at": datetime.now(UTC).isoformat()}).encode()
        self.assertEqual(self.send(base, "POST", f"/api/v1/runs/{run_id}/finish", finish), 200)

    def flaky_and_runs(self, base: str) -> tuple[list[str], int]:
        """The flaky tests' ids, and the runs the trends count."""
        flaky = [test["test_id"] for test in fetch_json(self, f"{base}/api/v1/flaky")["tests"]]
        runs = sum(point["runs"] for point in fetch_json(self, f"{base}/api/v1/trends")["points"])
        return flaky, runs

    def test_kept_pages_follow_other_servers_writes(self) -> None:
        """A server's kept flaky tests and trends are read again once another server has
        stored a run: no worker serves what the database no longer says."""
        reader, writer = self.servers
        self.store_run(writer, failing=False)
        self.assertEqual(self.flaky_and_runs(reader), ([], 1))
        self.assertEqual(self.flaky_and_runs(reader), ([], 1))
        self.store_run(writer, failing=True)
        self.assertEqual(self.flaky_and_runs(reader), (["pkg.T.test_0", "pkg.T.test_1"], 2))

    def test_reporters_spread_over_servers(self) -> None:
        """Real trial runs posting to either server at once all land, complete and once."""
        reporters = [
            sample_run(
                self.project,
                300,
                SEEDBOARD_URL=self.servers[i % 2],
                SEEDBOARD_TOKEN=self.token,
                SEEDBOARD_FLUSH_TIMEOUT="60",
            )
            for i in range(4)
        ]
        outputs = [reporter.communicate(timeout=300)[0] for reporter in reporters]
        for output in outputs:
            self.assertRegex(output.splitlines()[-1], r"recorded run .* \(300 results\)")
        runs = fetch_json(self, f"{self.servers[0]}/api/v1/runs")["runs"]
        self.assertEqual([run["counts"]["total"] for run in runs], [300] * 4)
        stored_runs, results, _, tests = self.counts()
        self.assertEqual((stored_runs, results, tests), (4, 1200, 300))
