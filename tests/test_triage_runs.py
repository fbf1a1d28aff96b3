"""End to end: real trial runs, ``seedboard replay --failing``, then the triage API."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from seedboard.seeds import derived_seed
from tests.contract import fetch_json
from tests.support import BIN, REPO, database_url, environment, start_server
from tests.test_trial_runs import trial

SAMPLES = REPO / "tests" / "samples"
PREFIX = "triagepkg.test_triage.TriageTests."
SEED_DEPENDENT = PREFIX + "test_seed_dependent"


def fails_with_run_seed(run_seed: int) -> bool:
    """Whether the seed-dependent sample fails when the run seed is ``run_seed``."""
    return random.Random(derived_seed(run_seed, SEED_DEPENDENT)).random() < 0.5


class TriageEndToEndTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.project = Path(self.mktemp()).resolve()
        shutil.copytree(SAMPLES, self.project)
        self.env = {
            "SEEDBOARD_DB": database_url(self),  # PostgreSQL in the suite's second pass
            "SEEDBOARD_SAMPLE_COUNTER": str(self.project / "counter"),
        }

    def flaky(self, base: str) -> dict[str, Any]:
        """The non-stable tests by id, from the server's /api/v1/flaky."""
        return {test["test_id"]: test for test in fetch_json(self, base + "/api/v1/flaky")["tests"]}

    def test_replay_settles_each_class(self) -> None:
        """Four runs leave two tests unconfirmed; replaying their failing seeds makes one
        seed-dependent and the other nondeterministic, and the given command fails again."""
        failing = [r for r in range(1, 500) if fails_with_run_seed(r)][:2]
        passing = [r for r in range(1, 500) if not fails_with_run_seed(r)][:2]
        for run_seed in (failing[0], passing[0], passing[1], failing[1]):
            trial(
                self.project,
                "--reporter=seedboard",
                "triagepkg",
                SEEDBOARD_RUN_SEED=str(run_seed),
                **self.env,
            )
        base = start_server(self, self.project, "--db", self.env["SEEDBOARD_DB"], "--port", "0")
        before = self.flaky(base)
        self.assertEqual(before[SEED_DEPENDENT]["classification"], "unconfirmed")
        self.assertEqual(
            before[PREFIX + "test_independent_of_seed"]["classification"], "unconfirmed"
        )
        self.assertEqual(before[PREFIX + "test_always_fails"]["classification"], "broken")
        self.assertNotIn(PREFIX + "test_passes", before)

        replayed = subprocess.run(
            [str(BIN / "seedboard"), "replay", "--failing"],
            cwd=self.project,
            env=environment(**self.env),
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        lines = replayed.stdout.splitlines()
        self.assertRegex(lines[0], r"^seedboard: replaying 3 failing seeds of run [0-9a-f]{32}$")
        self.assertRegex(replayed.stdout, rf"reproduced 3/3: {SEED_DEPENDENT} with seed \d+")
        self.assertRegex(
            replayed.stdout,
            r"reproduced 1/3 — the seed does not control it: \S+test_independent_of_seed with",
        )
        self.assertRegex(replayed.stdout, r"reproduced 3/3: \S+test_always_fails with")

        after = self.flaky(base)
        self.assertEqual(after[SEED_DEPENDENT]["classification"], "seed-dependent")
        self.assertEqual(
            after[PREFIX + "test_independent_of_seed"]["classification"], "nondeterministic"
        )
        self.assertEqual(after[PREFIX + "test_always_fails"]["classification"], "broken")

        [seed] = [s for s in after[SEED_DEPENDENT]["seeds"] if s["failed"] >= 2]
        self.assertIn(f"@seed({seed['seed']})", seed["snippet"])
        again = subprocess.run(
            seed["command"],
            shell=True,
            cwd=self.project,
            # As in a shell with the virtualenv active: trial on the PATH.
            env=environment(PYTHONPATH=str(self.project), PATH=f"{BIN}:{os.environ['PATH']}"),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        self.assertNotEqual(again.returncode, 0)
        self.assertIn("unlucky draw", again.stdout)

    def test_one_pair(self) -> None:
        """seedboard replay TEST --seed N replays that pair K times and says how it went."""
        done = subprocess.run(
            [
                str(BIN / "seedboard"),
                "replay",
                PREFIX + "test_always_fails",
                "--seed",
                "7",
                "-k",
                "2",
            ],
            cwd=self.project,
            env=environment(**self.env),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        self.assertEqual(done.stdout, f"reproduced 2/2: {PREFIX}test_always_fails with seed 7\n")

    def test_usage(self) -> None:
        """A replay needs either a test and --seed, --failing, or --known."""
        done = subprocess.run(
            [str(BIN / "seedboard"), "replay", PREFIX + "test_passes"],
            cwd=self.project,
            env=environment(**self.env),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        self.assertEqual(done.returncode, 2)
        self.assertIn(
            "replay TEST_ID --seed N, replay --failing [--run RUN_ID], or replay --known",
            done.stderr,
        )
