"""End to end: quarantines and owners through real ``trial --reporter=seedboard`` and
``seedboard`` processes, on the suite's database backend and on a real server."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from seedboard.db.engine import open_database
from seedboard.db.quarantines import add_quarantine, links_of
from seedboard.db.runs import get_run
from seedboard.domain import Quarantine
from seedboard.settings import QUARANTINE_CACHE
from tests.support import (
    BIN,
    database_url,
    environment,
    on_postgres,
    seedboard_command,
    start_server,
)

SUITE = """
from twisted.trial import unittest


class Net(unittest.SynchronousTestCase):
    def test_always_fails(self):
        self.fail("the DNS stub raced")

    def test_errs(self):
        raise RuntimeError("boom")


class Other(unittest.SynchronousTestCase):
    def test_passes(self):
        pass
"""
FAILING = "qpkg.test_q.Net.test_always_fails"
ERRING = "qpkg.test_q.Net.test_errs"


class QuarantinedRunTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.project = Path(self.mktemp()).resolve()
        (self.project / "qpkg").mkdir(parents=True)
        (self.project / "qpkg" / "__init__.py").write_text("")
        (self.project / "qpkg" / "test_q.py").write_text(SUITE)
        self.url = database_url(self)

    def seedboard(self, *args: str) -> subprocess.CompletedProcess[str]:
        return seedboard_command(self.project, self.url, *args)

    def trial(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        env.setdefault("SEEDBOARD_DB", self.url)
        return subprocess.run(
            [str(BIN / "trial"), "--reporter=seedboard", *args],
            cwd=self.project,
            env=environment(PYTHONPATH=str(self.project), **env),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def assert_marked(self, output: str, line: str) -> None:
        """The test's own line is marked where the list is read before the first test (a
        SQLite file); from PostgreSQL it may arrive after, and the end's list is marked."""
        if not on_postgres():
            self.assertRegex(output, line)

    def recorded(self, run_id: str) -> dict[str, str]:
        database = open_database(self.url)
        try:
            detail = database.read(get_run, run_id)
        finally:
            database.dispose()
        assert detail is not None
        return {r.test_id: r.outcome.value for r in detail.results}

    def test_enforced_quarantine_exits_zero(self) -> None:
        """Under SEEDBOARD_QUARANTINE=enforce a quarantined always-failing test gives exit
        code 0, and is still run, printed with [quarantined] and recorded."""
        self.assertEqual(self.seedboard("quarantine", "add", FAILING).returncode, 0)
        run_id = "a" * 32
        done = self.trial(f"{FAILING}", SEEDBOARD_QUARANTINE="enforce", SEEDBOARD_RUN_ID=run_id)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assert_marked(done.stdout, r"test_always_fails \.\.\. +\[FAIL\] \[quarantined\]")
        self.assertIn("[FAIL] [quarantined]\nTraceback", done.stdout)
        self.assertIn("the DNS stub raced", done.stdout)
        self.assertIn("the run's status ignores them", done.stdout)
        self.assertEqual(self.recorded(run_id), {FAILING: "failure"})

    def test_without_enforce_exit_code_unchanged(self) -> None:
        """Without SEEDBOARD_QUARANTINE=enforce the failure is marked and still fails the run."""
        self.seedboard("quarantine", "add", FAILING)
        done = self.trial(FAILING)
        self.assertEqual(done.returncode, 1)
        self.assertIn("[FAIL] [quarantined]", done.stdout)
        self.assertIn("set SEEDBOARD_QUARANTINE=enforce", done.stdout)

    def test_other_failures_still_fail(self) -> None:
        """Enforcing quarantine leaves the failures of other tests failing the run."""
        self.seedboard("quarantine", "add", FAILING)
        done = self.trial("qpkg", SEEDBOARD_QUARANTINE="enforce")
        self.assertEqual(done.returncode, 1)
        self.assertRegex(done.stdout, r"test_errs \.\.\. +\[ERROR\]\n")

    def test_pattern_quarantine(self) -> None:
        """A pattern quarantines every test it matches, and those only."""
        self.seedboard("quarantine", "add", "qpkg.test_q.Net.*")
        done = self.trial("qpkg", SEEDBOARD_QUARANTINE="enforce")
        self.assertEqual(done.returncode, 0, done.stdout)
        self.assert_marked(done.stdout, r"test_errs \.\.\. +\[ERROR\] \[quarantined\]")
        self.assertIn("[ERROR] [quarantined]\nTraceback", done.stdout)
        self.assertRegex(done.stdout, r"test_passes \.\.\. +\[OK\]\n")

    def test_expired_quarantine_stops_applying(self) -> None:
        """Past its expiry a quarantine no longer marks or forgives a failure."""
        database = open_database(self.url)
        self.addCleanup(database.dispose)
        self.seedboard("db", "upgrade")
        now = datetime.now(UTC)
        expired = Quarantine(
            FAILING, None, None, now - timedelta(hours=1), "t", now - timedelta(days=2)
        )
        database.write(add_quarantine, expired)
        done = self.trial(FAILING, SEEDBOARD_QUARANTINE="enforce")
        self.assertEqual(done.returncode, 1)
        self.assertNotIn("[quarantined]", done.stdout)
        listed = self.seedboard("quarantine", "list")
        self.assertNotIn(FAILING, listed.stdout)

    def test_owners_recorded(self) -> None:
        """CODEOWNERS at the repository's root gives each recorded test its owners."""
        (self.project / ".git").mkdir()
        (self.project / "CODEOWNERS").write_text(
            "* @org/everyone\n/qpkg/ @org/team-net @alice  # the network team\n"
        )
        done = self.trial("qpkg")
        self.assertNotIn("cannot record", done.stdout)
        database = open_database(self.url)
        self.addCleanup(database.dispose)
        links = database.read(links_of, [FAILING, "qpkg.test_q.Other.test_passes"])
        self.assertEqual(links[FAILING].owners, ("@org/team-net", "@alice"))

    def test_bad_cli_input(self) -> None:
        """A bad value is one line naming the option, status 2, and nothing stored."""
        for args, option in (
            (("quarantine", "add", FAILING, "--expires", "soon"), "--expires"),
            (("quarantine", "add", FAILING, "--issue", "not a url"), "--issue"),
            (("issue", FAILING, "ftp://x"), "--url"),
        ):
            done = self.seedboard(*args)
            self.assertEqual(done.returncode, 2, done.stderr)
            self.assertEqual(len(done.stderr.strip().splitlines()), 1, done.stderr)
            self.assertIn(option, done.stderr)
        self.assertIn("no test is quarantined", self.seedboard("quarantine", "list").stderr)


class ServerQuarantineTests(SynchronousTestCase):
    def test_server_quarantine_and_cache(self) -> None:
        """Quarantined on a server with the command, a run enforces it; a later run with
        the server gone goes by the list cached in the spool folder."""
        project = Path(self.mktemp()).resolve()
        (project / "qpkg").mkdir(parents=True)
        (project / "qpkg" / "__init__.py").write_text("")
        (project / "qpkg" / "test_q.py").write_text(SUITE)
        url = database_url(self)
        token = seedboard_command(project, url, "token", "create", "ci").stdout.strip()
        base = start_server(self, project, "--db", url, "--port", "0")
        env = environment(SEEDBOARD_URL=base, SEEDBOARD_TOKEN=token, PYTHONPATH=str(project))
        added = subprocess.run(
            [str(BIN / "seedboard"), "quarantine", "add", FAILING, "--reason", "flaky"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        self.assertEqual(added.returncode, 0, added.stderr)
        refused = subprocess.run(
            [str(BIN / "seedboard"), "quarantine", "add", FAILING, "--url", base],
            cwd=project,
            env={**env, "SEEDBOARD_TOKEN": "wrong"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        self.assertEqual(refused.returncode, 1)
        self.assertIn("SEEDBOARD_TOKEN", refused.stderr)

        def run(server: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [str(BIN / "trial"), "--reporter=seedboard", FAILING],
                cwd=project,
                env={
                    **env,
                    "SEEDBOARD_URL": server,
                    "SEEDBOARD_QUARANTINE": "enforce",
                    "SEEDBOARD_FLUSH_TIMEOUT": "0.5",
                },
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )

        done = run(base)
        self.assertEqual(done.returncode, 0, done.stdout)
        cache = project / ".seedboard" / "spool" / QUARANTINE_CACHE
        self.assertEqual(json.loads(cache.read_text())[0]["test"], FAILING)
        down = run("http://127.0.0.1:9")  # nothing listens on the discard port
        self.assertEqual(down.returncode, 0, down.stdout)
        self.assertIn("[FAIL] [quarantined]", down.stdout)
        self.assertIn("cannot read the quarantines from", down.stdout)
