"""Retention: ``seedboard prune --older-than AGE`` deletes old runs, a run at a time,
keeping the aggregates right, in a database or on a server with a token."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from seedboard.db.runs import ReplayFilter, RunFilters, list_runs
from seedboard.domain import Outcome
from tests.contract import fetch_json
from tests.support import (
    BIN,
    environment,
    record_run,
    result,
    run_start,
    start_server,
    temporary_database,
)
from tests.test_aggregates import stored_days
from tests.test_deletes import orphan_results, rebuilt_days, stored_test_names

AGES = (400, 200, 100, 10)
"""Days ago the runs began; a replay also ran 300 days ago."""


class PruneTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.db = temporary_database(self)
        self.url = self.db.writer.url.render_as_string(hide_password=False)
        self.cwd = Path(self.mktemp()).resolve()
        self.cwd.mkdir()
        now = datetime.now(UTC)
        self.runs = {
            age: record_run(
                self.db,
                [result("t.kept"), result(f"t.only_{age}", Outcome.FAILURE)],
                run_start(started_at=now - timedelta(days=age)),
            ).id
            for age in AGES
        }
        self.replay = record_run(
            self.db,
            [result("t.kept")],
            run_start(started_at=now - timedelta(days=300), is_replay=True),
        ).id

    def seedboard(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "seedboard"), *args],
            cwd=self.cwd,
            env=environment(**env),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def listed(self) -> list[str]:
        page = self.db.read(list_runs, 100, None, RunFilters(replay=ReplayFilter.INCLUDE))
        return [run.id for run in page.runs]

    def test_prune_a_database(self) -> None:
        """Runs (replays too) started before the day 180 days ago go, with the tests only
        they ran; the per-day counts equal a recount of what is left."""
        done = self.seedboard("prune", "--older-than", "180d", "--db", self.url)
        self.assertEqual((done.returncode, done.stderr), (0, ""))
        self.assertIn("deleted 3 runs started before", done.stdout)
        self.assertEqual(self.listed(), [self.runs[10], self.runs[100]])
        self.assertEqual(self.db.read(stored_test_names), ["t.kept", "t.only_10", "t.only_100"])
        self.assertEqual(self.db.read(stored_days), self.db.read(rebuilt_days))
        self.assertEqual(self.db.read(orphan_results), 0)
        again = self.seedboard("prune", "--older-than", "26w", "--db", self.url)
        self.assertIn("deleted 0 runs", again.stdout)

    def test_a_date(self) -> None:
        """A date names the first day kept."""
        first_kept = (datetime.now(UTC) - timedelta(days=50)).date().isoformat()
        done = self.seedboard("prune", "--older-than", first_kept, "--db", self.url)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(self.listed(), [self.runs[10]])

    def test_bad_age(self) -> None:
        """An age that is not days, weeks or a date is refused with prune's usage, and
        nothing is deleted."""
        done = self.seedboard("prune", "--older-than", "soon", "--db", self.url)
        self.assertEqual(done.returncode, 2)
        self.assertIn("usage: seedboard prune", done.stderr)
        self.assertIn("give days (180d), weeks (26w) or a date", done.stderr)
        self.assertEqual(len(self.listed()), len(AGES) + 1)

    def test_prune_a_server(self) -> None:
        """On a server, prune lists the old runs and deletes each with the token; without
        one it stops at the first refusal, in one line."""
        token = self.seedboard("token", "create", "ops", "--db", self.url).stdout.strip()
        base = start_server(self, self.cwd, "--db", self.url, "--port", "0")
        refused = self.seedboard("prune", "--older-than", "180d", "--url", base)
        self.assertEqual(refused.returncode, 1)
        self.assertIn("refused to delete run", refused.stderr)
        done = self.seedboard("prune", "--older-than", "180d", "--url", base, SEEDBOARD_TOKEN=token)
        self.assertEqual((done.returncode, done.stderr), (0, ""))
        self.assertIn("deleted 3 runs started before", done.stdout)
        left = fetch_json(self, base + "/api/v1/runs?replay=include")["runs"]
        self.assertEqual([run["id"] for run in left], [self.runs[10], self.runs[100]])
