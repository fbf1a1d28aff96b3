"""``seedboard bisect`` end to end: a real recorded trial run of planted polluters, then
real bisections, on the suite's database (SQLite or PostgreSQL)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from seedboard.bisect import BisectError, Hunt, Placed, Verdict, bisect, hunt_of
from seedboard.domain import Outcome
from tests.support import BIN, REPO, database_url, environment, seedboard_command

SAMPLES = REPO / "tests" / "samples"
GLOBAL_POLLUTER = "orderpkg.test_b_global_polluter.GlobalPolluterTests.test_switches_mode"
GLOBAL_VICTIM = "orderpkg.test_d_global_victim.GlobalVictimTests.test_expects_normal_mode"
REACTOR_POLLUTER = (
    "orderpkg.test_e_reactor_polluter.ReactorPolluterTests.test_schedules_and_forgets"
)
REACTOR_VICTIM = "orderpkg.test_g_reactor_victim.ReactorVictimTests.test_waits_a_moment"
ALWAYS_FAILS = "orderpkg.test_h_other.OtherTests.test_always_fails"
FAILED_ONCE = "orderpkg.test_h_other.OtherTests.test_failed_once"
PASSES = "orderpkg.test_h_other.OtherTests.test_passes"


def record_orderpkg(project: Path, db_url: str, **env: str) -> str:
    """A real trial run of orderpkg recorded into ``db_url``; its run id."""
    done = subprocess.run(
        [str(BIN / "trial"), "--reporter=seedboard", "orderpkg"],
        cwd=project,
        env=environment(PYTHONPATH=str(project), SEEDBOARD_DB=db_url, **env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    found = re.search(r"recorded run ([0-9a-f]{32})", done.stdout)
    assert found is not None, done.stdout + done.stderr
    return found.group(1)


def sample_project(case: SynchronousTestCase) -> Path:
    project = Path(case.mktemp()).resolve()
    shutil.copytree(SAMPLES, project)
    return project


class BisectRunTests(SynchronousTestCase):
    """One recorded run (the glitch on), bisected for each kind of failure."""

    def setUp(self) -> None:
        self.project = sample_project(self)
        self.db = database_url(self)
        self.run_id = record_orderpkg(self.project, self.db, ORDERPKG_GLITCH="1")

    def bisect(self, test_id: str, run_id: str | None = None) -> subprocess.CompletedProcess[str]:
        return seedboard_command(self.project, self.db, "bisect", run_id or self.run_id, test_id)

    def test_finds_global_polluter(self) -> None:
        """A test that leaves a module global set is found as its victim's polluter, and the
        command to see it names both with the failure's seed."""
        done = self.bisect(GLOBAL_VICTIM)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn(
            f"order-dependent: {GLOBAL_VICTIM} fails after {GLOBAL_POLLUTER}", done.stdout
        )
        self.assertRegex(
            done.stdout, rf"SEEDBOARD_SEED=\d+ trial {GLOBAL_POLLUTER} {GLOBAL_VICTIM}\n"
        )
        self.assertIn("run 1: alone: passes", done.stdout)
        self.assertIn("run 2: after 7 tests", done.stdout)

    def test_finds_delayed_call_polluter(self) -> None:
        """A synchronous test that leaves a delayed call in the reactor is found as the
        polluter of the next asynchronous test, past innocent tests and another polluter."""
        done = self.bisect(REACTOR_VICTIM)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn(
            f"order-dependent: {REACTOR_VICTIM} fails after {REACTOR_POLLUTER}", done.stdout
        )
        runs = re.findall(r"^run \d+: ", done.stdout, re.MULTILINE)
        self.assertLessEqual(len(runs), 2 + 4 + 1)  # alone, all 11, log2(11), a confirmation

    def test_fails_alone(self) -> None:
        """A test that fails without any test before it is not order-dependent."""
        done = self.bisect(ALWAYS_FAILS)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn(
            f"fails alone, not order-dependent: {ALWAYS_FAILS} (1 trial run)", done.stdout
        )

    def test_did_not_reproduce(self) -> None:
        """A test that passes alone and after every test before it did not reproduce."""
        done = self.bisect(FAILED_ONCE)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn(f"did not reproduce: {FAILED_ONCE} (2 trial runs)", done.stdout)

    def test_unknown_run(self) -> None:
        """An unknown run is one clear line and a non-zero exit."""
        done = self.bisect(GLOBAL_VICTIM, "f" * 32)
        self.assertEqual(done.returncode, 1)
        self.assertEqual(done.stderr.count("\n"), 1)
        self.assertIn(f"seedboard: no run {'f' * 32} in ", done.stderr)

    def test_unknown_test(self) -> None:
        """A test that did not run in the run is one clear line and a non-zero exit."""
        done = self.bisect("orderpkg.nosuch.Tests.test_x")
        self.assertEqual(done.returncode, 1)
        self.assertEqual(
            done.stderr,
            f"seedboard: test orderpkg.nosuch.Tests.test_x did not run in run {self.run_id}\n",
        )

    def test_passing_test(self) -> None:
        """A test that passed in the run has nothing to bisect: one line, non-zero exit."""
        done = self.bisect(PASSES)
        self.assertEqual(done.returncode, 1)
        self.assertIn("did not fail in run", done.stderr)
        self.assertEqual(done.stdout, "")


def placed(test_id: str, position: int | None, outcome: Outcome = Outcome.SUCCESS) -> Placed:
    return Placed(test_id, outcome, 7, position)


class HuntTests(SynchronousTestCase):
    def test_predecessors_in_run_order(self) -> None:
        """The tests before the victim come in the order they ran, once each, whatever
        order the results were listed in; tests after it are left out."""
        results = [
            placed("v", 3, Outcome.FAILURE),
            placed("b", 1),
            placed("a", 0),
            placed("c", 2, Outcome.FAILURE),
            placed("c", 2, Outcome.ERROR),  # a failure and an error in tearDown
            placed("after", 4),
        ]
        hunt = hunt_of("r", None, results, "v")
        self.assertEqual(hunt.predecessors, ["a", "b", "c"])
        self.assertEqual(hunt.seed, 7)

    def test_without_positions(self) -> None:
        """A run recorded by a reporter without positions cannot be bisected."""
        error = self.assertRaises(
            BisectError, hunt_of, "r", None, [placed("v", None, Outcome.FAILURE)], "v"
        )
        self.assertIn("did not record the order", str(error))


class BisectFlowTests(SynchronousTestCase):
    def test_first_test_that_passes_alone(self) -> None:
        """A failing test that ran first and passes alone did not reproduce, in one run."""
        said: list[str] = []
        found = bisect(Hunt("r", "v", [], 1, None), lambda before: False, said.append)
        self.assertEqual((found.verdict, found.runs), (Verdict.DID_NOT_REPRODUCE, 1))
        self.assertEqual(said, ["run 1: alone: passes"])
