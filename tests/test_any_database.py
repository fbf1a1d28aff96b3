"""The embedded reporter and the command line on the suite's database, SQLite or PostgreSQL.

In the PostgreSQL pass (``SEEDBOARD_TEST_DB=postgresql``) these are the paths
a team on PostgreSQL uses without a server: ``trial --reporter=seedboard``
with ``SEEDBOARD_DB`` naming the database, and every ``seedboard`` verb.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from seedboard.db import runs
from seedboard.db.engine import open_database
from seedboard.db.migrate import HEAD
from seedboard.settings import describe_url
from tests.support import REPO, database_url, on_postgres, seedboard_command
from tests.test_server_mode import free_port
from tests.test_trial_runs import summary_counts, trial


class AnyDatabaseTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.project = Path(self.mktemp()).resolve()
        shutil.copytree(REPO / "tests" / "samples", self.project)
        self.url = database_url(self)

    def seedboard(self, *args: str) -> subprocess.CompletedProcess[str]:
        return seedboard_command(self.project, self.url, *args)

    def test_embedded_reporter(self) -> None:
        """trial --reporter=seedboard records the whole run straight into the database."""
        done = trial(self.project, "--reporter=seedboard", "samplepkg", SEEDBOARD_DB=self.url)
        last = done.stdout.rstrip("\n").rsplit("\n", 1)[-1]
        self.assertRegex(last, r"^seedboard: recorded run [0-9a-f]{32} \(11 results\) in ")
        if on_postgres():
            self.assertIn("postgresql", last)
        database = open_database(self.url)
        self.addCleanup(database.dispose)
        [run] = database.read(runs.list_runs, 10).runs
        expected = summary_counts(done.stdout.rsplit("\n", 2)[0])
        stored = {k: v for k, v in run.counts.as_dict().items() if v and k != "total"}
        self.assertEqual(stored, expected)
        self.assertIsNotNone(run.finished_at)

    def test_command_line_verbs(self) -> None:
        """db upgrade, token create, list and revoke all work on the database."""
        upgraded = self.seedboard("db", "upgrade")
        self.assertEqual(
            upgraded.stdout, f"seedboard: {describe_url(self.url)} is at revision {HEAD}\n"
        )
        token = self.seedboard("token", "create", "ci").stdout.strip()
        self.assertGreaterEqual(len(token), 43)
        self.assertIn("ci", self.seedboard("token", "list").stdout)
        self.assertEqual(self.seedboard("token", "revoke", "ci").returncode, 0)
        self.assertIn("revoked", self.seedboard("token", "list").stdout)

    def test_serve_without_its_database(self) -> None:
        """seedboard serve on a database it cannot reach says so in one line and exits 1."""
        self.url = f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"
        done = self.seedboard("serve", "--port", "0")
        self.assertEqual(done.returncode, 1)
        self.assertEqual(done.stdout, "")
        [line] = done.stderr.splitlines()
        self.assertRegex(line, r"^seedboard: cannot serve postgresql://.*: OperationalError: ")
