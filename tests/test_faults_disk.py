"""Disk trouble: a full disk or a read-only database is a 503 to retry, and nothing is lost.

The full disk is real: the database lives on a tmpfs mounted here with a few
MiB, filled up with a filler file while the server runs (this needs root, as
CI and the development machines have; elsewhere the test is skipped).  The
read-only database is SQLite's read-only open (``mode=ro``), which is what a
server gets from a file it may not write: as root, permissions do not stop
writes, and Linux refuses to remount a file system read-only while the
server holds the file open for writing.
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import cast
from uuid import uuid4

from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError
from twisted.trial.unittest import SkipTest, SynchronousTestCase

from seedboard.db.engine import open_database
from seedboard.db.pool import SynchronousPool
from seedboard.db.trouble import storage_trouble
from seedboard.web.app import Dashboard
from seedboard.web.templates import make_environment
from tests.contract import checked_client
from tests.support import (
    BIN,
    REPO,
    ServerProcess,
    environment,
    exchange,
    integrity,
    on_postgres,
    postgres_admin,
    postgres_server_url,
)
from tests.test_ingest import result_body, run_body
from tests.test_ingest_api import APICase, HTTPClient, row_counts
from tests.test_server_mode import free_port
from tests.test_trial_runs import trial

SAMPLES = REPO / "tests" / "samples"


def mount_small_disk(case: SynchronousTestCase, folder: Path, size: str) -> None:
    """A tmpfs of ``size`` at ``folder`` until the test ends; skips the test where one cannot
    be mounted (not root)."""
    folder.mkdir(parents=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        raise SkipTest(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    case.addCleanup(subprocess.run, ["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> Path:
    """Write a file in ``folder`` until its disk is full; the file, to delete later."""
    filler = folder / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError as error:
            if error.errno != errno.ENOSPC:
                raise
    return filler


def big_batch(count: int) -> dict[str, object]:
    """Results with long messages: far more pages than any free space the WAL still has."""
    return {
        "results": [result_body(test_id=f"pkg.T.test_{n}", message="m" * 500) for n in range(count)]
    }


class DiskFullTests(SynchronousTestCase):
    """A real server whose database's disk fills up, then is freed again."""

    def setUp(self) -> None:
        self.project = Path(self.mktemp()).resolve()
        shutil.copytree(SAMPLES, self.project)
        self.disk = self.project / "disk"
        mount_small_disk(self, self.disk, "6m")
        self.db = self.disk / "server.db"
        self.token = subprocess.run(
            [str(BIN / "seedboard"), "token", "create", "ci", "--db", str(self.db)],
            env=environment(),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        self.server = ServerProcess(self, self.project, free_port(), "--db", str(self.db))
        self.server.start()

    def test_disk_full(self) -> None:
        """A full disk is a JSON 503 with Retry-After, reads still answer, the reporter keeps
        its run in the spool, and once there is room again everything is stored."""
        base = self.server.base
        probe = uuid4().hex
        self.assertEqual(
            exchange(self, base, "PUT", f"/api/v1/runs/{probe}", run_body(), self.token).status, 201
        )
        filler = fill(self.disk)

        refused = exchange(
            self, base, "PUT", f"/api/v1/runs/{probe}/batches/0", big_batch(1000), self.token
        )
        self.assertEqual(refused.status, 503, refused)
        self.assertEqual(refused.headers.get("Retry-After"), "5")
        error = cast(dict[str, dict[str, str]], refused.body)["error"]
        self.assertEqual(error["code"], "unavailable")
        self.assertIn("disk is full", error["message"])
        self.assertEqual(exchange(self, base, "GET", "/api/v1/runs").status, 200)
        self.assertEqual(exchange(self, base, "GET", "/").status, 200)

        done = trial(
            self.project,
            "--reporter=seedboard",
            "manypkg",
            SEEDBOARD_URL=base,
            SEEDBOARD_TOKEN=self.token,
            SEEDBOARD_SAMPLE_TESTS="1500",
            SEEDBOARD_FLUSH_TIMEOUT="1",
        )
        self.assertIn("seedboard:", done.stdout.splitlines()[-1] + done.stderr)
        spooled = list((self.project / ".seedboard" / "spool").glob("*/*.json"))
        self.assertNotEqual(spooled, [], done.stdout[-500:])

        filler.unlink()
        uploaded = subprocess.run(
            [str(BIN / "seedboard"), "upload", "--url", base],
            cwd=self.project,
            env=environment(SEEDBOARD_TOKEN=self.token),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        self.assertEqual(uploaded.returncode, 0, uploaded.stdout + uploaded.stderr)
        again = exchange(
            self, base, "PUT", f"/api/v1/runs/{probe}/batches/0", big_batch(1000), self.token
        )
        self.assertEqual((again.status, again.body), (201, {"stored": 1000, "duplicate": False}))
        runs = cast(
            dict[str, list[dict[str, object]]], exchange(self, base, "GET", "/api/v1/runs").body
        )
        reported = [run for run in runs["runs"] if run["id"] != probe]
        self.assertEqual(len(reported), 1)
        self.assertIsNotNone(reported[0]["finished_at"])
        self.assertEqual(cast(dict[str, int], reported[0]["counts"])["total"], 1500)
        self.server.stop()
        self.assertEqual(integrity(self.db), "ok")


class ReadOnlyDatabaseTests(APICase):
    """The API over the same file opened read-only by SQLite, then writable again."""

    def setUp(self) -> None:
        if on_postgres():
            raise SkipTest("SQLite's read-only open; PostgresTroubleTests covers PostgreSQL's")
        super().setUp()

    def read_only_client(self) -> HTTPClient:
        path = self.database.writer.url.database
        database = open_database(f"sqlite:///file:{path}?mode=ro&uri=true")
        self.addCleanup(database.dispose)
        dashboard = Dashboard(SynchronousPool(database), make_environment())
        return cast(HTTPClient, checked_client(self, dashboard.app.resource()))

    def test_read_only(self) -> None:
        """Writing to a read-only database is a JSON 503 with Retry-After, reading still
        works, and the same request stores everything once the file is writable."""
        run_id = self.create()
        before = row_counts(self.database)
        writable = self.client
        self.client = self.read_only_client()
        path = f"/api/v1/runs/{run_id}/batches/0"
        refused = self.send("PUT", path, big_batch(10))
        self.assertEqual(refused.status, 503, refused.body)
        self.assertEqual(refused.header("retry-after"), ["5"])
        self.assertEqual(refused.body["error"]["code"], "unavailable")
        self.assertIn("read-only", refused.body["error"]["message"])
        self.assertEqual(self.send("PUT", f"/api/v1/runs/{uuid4().hex}", run_body()).status, 503)
        self.assertEqual(self.send("GET", f"/api/v1/runs/{run_id}").status, 200)
        page = self.send("GET", "/", token=None)
        self.assertEqual(page.status, 200)
        self.assertEqual(row_counts(self.database), before)
        self.client = writable
        self.assertEqual(self.send("PUT", path, big_batch(10)).status, 201)
        self.assertEqual(self.run_json(run_id)["run"]["counts"]["total"], 10)


class StorageTroubleTests(SynchronousTestCase):
    """Which database errors are storage trouble, from errors SQLite really raises."""

    def error_from(self, url: str, statement: str) -> BaseException:
        engine = create_engine(url, connect_args={"timeout": 0})
        self.addCleanup(engine.dispose)
        with engine.connect() as conn:
            try:
                conn.exec_driver_sql(statement)
            except OperationalError as error:
                return error
        raise AssertionError(f"{statement} did not fail")

    def test_locked(self) -> None:
        """A write lock held elsewhere past the busy timeout is "busy", to retry."""
        path = Path(self.mktemp()).resolve()
        holder = sqlite3.connect(path, isolation_level=None)
        self.addCleanup(holder.close)
        holder.execute("CREATE TABLE t (x)")
        holder.execute("BEGIN EXCLUSIVE")
        error = self.error_from(f"sqlite:///{path}", "INSERT INTO t VALUES (1)")
        self.assertIn("busy", storage_trouble(error) or "")

    def test_not_trouble(self) -> None:
        """A mistake in the statement, or any other error, is not storage trouble."""
        path = Path(self.mktemp()).resolve()
        error = self.error_from(f"sqlite:///{path}", "SELECT * FROM missing")
        self.assertIsNone(storage_trouble(error))
        self.assertIsNone(storage_trouble(ValueError("database is locked")))
        self.assertIsNone(storage_trouble(None))


class PostgresTroubleTests(APICase):
    """PostgreSQL's trouble is a 503 too: a read-only database, an unreachable server."""

    def setUp(self) -> None:
        if not on_postgres():
            raise SkipTest("runs in the PostgreSQL pass (SEEDBOARD_TEST_DB=postgresql)")
        super().setUp()

    def test_read_only_database(self) -> None:
        """Writes to a database switched read-only answer 503 naming it; reads go on."""
        name = self.database.writer.url.database
        postgres_admin(
            postgres_server_url(), f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'
        )
        self.database.dispose()  # new connections take the setting
        before = row_counts(self.database)
        answer = self.send("PUT", f"/api/v1/runs/{uuid4().hex}", run_body())
        self.assertEqual(answer.status, 503)
        self.assertEqual(
            cast(dict[str, dict[str, str]], answer.body)["error"]["code"], "unavailable"
        )
        self.assertIn("read-only", cast(dict[str, dict[str, str]], answer.body)["error"]["message"])
        self.assertEqual(row_counts(self.database), before)
        self.assertEqual(self.send("GET", "/api/v1/runs").status, 200)

    def test_unreachable_server(self) -> None:
        """A PostgreSQL server that does not answer is trouble to retry, not a bad request."""
        engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test")
        self.addCleanup(engine.dispose)
        with self.assertRaises(OperationalError) as raised:
            engine.connect()
        self.assertIn("cannot reach", storage_trouble(raised.exception) or "")
