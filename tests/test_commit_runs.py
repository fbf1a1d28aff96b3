"""End to end: real ``trial --reporter=seedboard`` runs at named commits
(``SEEDBOARD_COMMIT``), then the triage a real server gives, as JSON and as pages."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote
from urllib.request import urlopen

from twisted.trial.unittest import SynchronousTestCase

from tests.contract import fetch_json
from tests.support import REPO, database_url, start_server
from tests.test_trial_runs import trial

SAMPLES = REPO / "tests" / "samples"
PREFIX = "commitpkg.test_versions.VersionTests."
FIXED = PREFIX + "test_fixed_later"
REGRESSED = PREFIX + "test_regressed_later"
COIN = PREFIX + "test_coin"
REPOSITORY = "https://github.com/example/proj"


def verdicts(page: str) -> list[str]:
    """The classes of the verdicts a page shows, in page order (the legend left out)."""
    return re.findall(r'<p class="verdict">\s*<span class="badge class-([\w-]+)"', page)


def console_classes(page: str) -> list[str]:
    """The classes of the flaky console's rows, in page order."""
    return re.findall(r'<tr>\s*<td><span class="badge class-([\w-]+)"', page)


class CommitTriageTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.project = Path(self.mktemp()).resolve()
        shutil.copytree(SAMPLES, self.project)
        self.db = database_url(self)  # PostgreSQL in the suite's second pass

    def run_test(
        self, test_id: str, commit: str, seed: int, replay: bool = False, **env: str
    ) -> None:
        """One real trial run of ``test_id`` with ``seed``, on the code (and commit) named."""
        extra = {"SEEDBOARD_REPLAY": "1"} if replay else {}
        done = trial(
            self.project,
            "--reporter=seedboard",
            test_id,
            SEEDBOARD_DB=self.db,
            SEEDBOARD_COMMIT=commit,
            SEEDBOARD_SEED=str(seed),
            COMMITPKG_CODE=commit,
            **extra,
            **env,
        )
        self.assertIn(done.returncode, (0, 1), done.stdout + done.stderr)

    def serve(self) -> str:
        return start_server(
            self, self.project, "--db", self.db, "--port", "0", "--repository", REPOSITORY
        )

    def triage(self, base: str, test_id: str) -> dict[str, Any]:
        """The test's triage from its JSON, checked to match its entry on /api/v1/flaky."""
        found: dict[str, Any] = fetch_json(self, f"{base}/api/v1/tests/{test_id}")["triage"]
        listed = {t["test_id"]: t for t in fetch_json(self, f"{base}/api/v1/flaky")["tests"]}
        self.assertEqual(listed[test_id], found)
        return found

    def page(self, base: str, path: str) -> str:
        with urlopen(base + path, timeout=30) as response:
            return html.unescape(response.read().decode("utf-8"))

    def test_fixed_story(self) -> None:
        """Three seeds failing at aaa, three passing at bbb, and a replay of an old failing
        seed passing at bbb: fixed from aaa to bbb, never nondeterministic; the replayed
        seed is fixed at bbb, the others still failing at aaa."""
        for seed in (1, 2, 3):
            self.run_test(FIXED, "aaa", seed)
        for seed in (4, 5, 6):
            self.run_test(FIXED, "bbb", seed)
        self.run_test(FIXED, "bbb", 1, replay=True)
        base = self.serve()
        found = self.triage(base, FIXED)
        self.assertEqual(found["classification"], "fixed")
        self.assertEqual((found["before_commit"], found["since_commit"]), ("aaa", "bbb"))
        self.assertEqual(found["commit_range_url"], f"{REPOSITORY}/compare/aaa...bbb")
        self.assertTrue(found["commits_recorded"])
        self.assertEqual(
            found["commits"],
            [
                {"commit": "aaa", "passed": 0, "failed": 3},
                {"commit": "bbb", "passed": 4, "failed": 0},
            ],
        )
        statuses = {s["seed"]: (s["status"], s["status_commit"]) for s in found["seeds"]}
        self.assertEqual(statuses[1], ("fixed", "bbb"))
        self.assertEqual((statuses[2], statuses[3]), (("failing", "aaa"), ("failing", "aaa")))
        self.assertEqual(statuses[4], (None, None))
        page = self.page(base, f"/tests/{quote(FIXED)}")
        self.assertEqual(verdicts(page), ["fixed"])
        self.assertIn(f'<a href="{REPOSITORY}/compare/aaa...bbb">', page)
        self.assertIn("Failed in every run up to", page)
        self.assertIn("fixed at bbb", page)
        console = self.page(base, "/flaky")
        self.assertEqual(console_classes(console), ["fixed"])
        self.assertIn(f'<a href="{REPOSITORY}/compare/aaa...bbb">', console)
        self.assertIn("fixed at bbb", console)

    def test_seed_dependent_regression(self) -> None:
        """A test passing at aaa that fails with even seeds at bbb, run there with even
        seeds, is regressed, naming aaa and bbb; odd seeds still pass at bbb elsewhere."""
        for seed in (2, 3):
            self.run_test(REGRESSED, "aaa", seed)
        for seed in (4, 6, 4):
            self.run_test(REGRESSED, "bbb", seed)
        base = self.serve()
        found = self.triage(base, REGRESSED)
        self.assertEqual(found["classification"], "regressed")
        self.assertEqual((found["before_commit"], found["since_commit"]), ("aaa", "bbb"))
        self.assertEqual(found["commit_range_url"], f"{REPOSITORY}/compare/aaa...bbb")
        statuses = {s["seed"]: (s["status"], s["status_commit"]) for s in found["seeds"]}
        self.assertEqual(statuses[4], ("reproduced", "bbb"))
        self.assertEqual(statuses[6], ("failing", "bbb"))
        page = self.page(base, f"/tests/{quote(REGRESSED)}")
        self.assertEqual(verdicts(page), ["regressed"])
        self.assertIn("Passed in every run up to", page)
        self.assertIn('<code title="aaa">aaa</code>', page)
        self.assertIn('<code title="bbb">bbb</code>', page)
        self.assertIn("reproduced at bbb", page)
        # Grouped by commit: one band for aaa's two runs, one for bbb's three.
        self.assertEqual(
            re.findall(r'class="band[^"]*"[^>]*><title>([^<]*)</title>', page),
            ["commit aaa: 2 runs", "commit bbb: 3 runs"],
        )

    def test_same_seed_at_one_commit(self) -> None:
        """One seed passing and failing at one commit is nondeterministic, the seed's
        status did not reproduce there."""
        self.run_test(COIN, "ccc", 7)
        self.run_test(COIN, "ccc", 7, COMMITPKG_COIN="lose")
        base = self.serve()
        found = self.triage(base, COIN)
        self.assertEqual(found["classification"], "nondeterministic")
        self.assertEqual((found["before_commit"], found["since_commit"]), (None, None))
        self.assertEqual(
            [(s["seed"], s["status"], s["status_commit"]) for s in found["seeds"]],
            [(7, "did-not-reproduce", "ccc")],
        )
        page = self.page(base, "/flaky")
        self.assertEqual(console_classes(page), ["nondeterministic"])
        self.assertIn("did not reproduce at ccc", page)
