"""End to end: ``seedboard replay`` judging real trial runs, at SEEDBOARD_COMMITs, on a
database and through a server; ``seedboard runs delete`` on a server."""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from seedboard.db.engine import Database, open_database
from seedboard.db.migrate import ensure_schema
from seedboard.db.runs import NO_FILTERS, list_runs
from seedboard.seeds import derived_seed
from seedboard.services.seeds import known_seeds
from seedboard.triage.seed_life import SeedState
from tests.contract import fetch_json
from tests.support import BIN, REPO, database_url, environment, exchange, start_server
from tests.test_trial_runs import trial

SAMPLES = REPO / "tests" / "samples"
PREFIX = "triagepkg.test_triage.TriageTests."
SEED_DEPENDENT = PREFIX + "test_seed_dependent"
FIX = "fixpkg.test_fix.FixTests."

BROKEN_AT_AAA = """
from seedboard.testing import TestCase


class FixTests(TestCase):
    def test_fixed_later(self):
        self.fail("off by one")

    def test_fails_differently_later(self):
        self.fail("off by one")
"""
FIXED_AT_BBB = """
from seedboard.testing import TestCase


class FixTests(TestCase):
    def test_fixed_later(self):
        pass

    def test_fails_differently_later(self):
        raise ValueError("a new bug")
"""


def failing_run_seed() -> int:
    """A run seed under which the seed-dependent sample fails."""
    return next(
        r for r in range(1, 500) if random.Random(derived_seed(r, SEED_DEPENDENT)).random() < 0.5
    )


class ReplayCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.project = Path(self.mktemp()).resolve()
        shutil.copytree(SAMPLES, self.project)
        (self.project / "fixpkg").mkdir()
        (self.project / "fixpkg" / "__init__.py").write_text("")
        (self.project / "fixpkg" / "test_fix.py").write_text(BROKEN_AT_AAA)
        (self.project / "brokenpkg").mkdir()
        (self.project / "brokenpkg" / "__init__.py").write_text("")
        (self.project / "brokenpkg" / "test_broken.py").write_text("import no_such_module\n")
        self.url = database_url(self)
        self.env = {
            "SEEDBOARD_DB": self.url,
            "SEEDBOARD_SAMPLE_COUNTER": str(self.project / "counter"),
        }

    def database(self) -> Database:
        database = open_database(self.url)
        self.addCleanup(database.dispose)
        ensure_schema(database)
        return database

    def seedboard(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """The command in the project, with the case's environment and ``env``; the
        ``cwd`` key, if given, is the directory to run it in instead."""
        cwd = env.pop("cwd", None)
        return subprocess.run(
            [str(BIN / "seedboard"), *args],
            cwd=cwd or self.project,
            env=environment(**{**self.env, **env}),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def record(self, *tests: str, **env: str) -> None:
        trial(self.project, "--reporter=seedboard", *tests, **{**self.env, **env})

    def runs_recorded(self) -> int:
        return len(self.database().read(list_runs, 100, None, NO_FILTERS).runs)


class ReplayJudgesTests(ReplayCase):
    def test_unloadable_tests_fail_clearly(self) -> None:
        """An unknown test, an unknown method, an unimportable module, or a right name
        from a directory where it cannot be imported: one line, exit 1, nothing recorded."""
        cases = [
            (("nosuch.test",), None, "trial cannot load nosuch.test: ObjectNotFound"),
            ((PREFIX + "test_nosuch",), None, "AttributeError"),
            (("brokenpkg.test_broken.T.test_x",), None, "No module named 'no_such_module'"),
            ((PREFIX + "test_passes",), str(self.project / "fixpkg"), "does not name an object"),
            (("triagepkg",), None, "triagepkg names 4 tests, not one"),
        ]
        for test, cwd, said in cases:
            done = self.seedboard("replay", *test, "--seed", "5", **({"cwd": cwd} if cwd else {}))
            self.assertEqual(done.returncode, 1, done)
            self.assertEqual(done.stdout, "")
            self.assertEqual(len(done.stderr.splitlines()), 1, done.stderr)
            self.assertIn(said, done.stderr)
        self.assertEqual(self.runs_recorded(), 0)

    def test_reproduced_and_partial(self) -> None:
        """A seed-controlled failure is reproduced 3/3; one that fails on every second run
        whatever the seed is reproduced 1/3, and the seed does not control it."""
        (self.project / "counter").write_text("1")  # the recorded run fails: count 2
        self.record(
            SEED_DEPENDENT,
            PREFIX + "test_independent_of_seed",
            SEEDBOARD_RUN_SEED=str(failing_run_seed()),
            SEEDBOARD_COMMIT="aaa",
        )
        done = self.seedboard("replay", "--failing", SEEDBOARD_COMMIT="aaa")
        self.assertEqual(done.returncode, 0, done.stderr)
        lines = done.stdout.splitlines()
        self.assertRegex(lines[1], r"^reproduced 1/3 — the seed does not control it: \S+_of_seed")
        self.assertRegex(lines[2], rf"^reproduced 3/3: {SEED_DEPENDENT} with seed \d+$")
        self.assertEqual(self.runs_recorded(), 1 + 6)
        statuses = {k.test_id: k.life.state for k in self.database().read(known_seeds)}
        self.assertEqual(statuses[SEED_DEPENDENT], SeedState.REPRODUCED)
        self.assertEqual(statuses[PREFIX + "test_independent_of_seed"], SeedState.NOT_REPRODUCED)

    def test_known_fixes_and_fix_checks(self) -> None:
        """Failures at aaa, code changed at bbb: a replay there is a fix check naming the
        new failure; replay --known says which still fail and which pass (exit status 1:
        one still fails), the passing seed becomes fixed at bbb, and the next --known
        leaves it out."""
        self.record("fixpkg", SEEDBOARD_COMMIT="aaa")
        (self.project / "fixpkg" / "test_fix.py").write_text(FIXED_AT_BBB)
        seed = {k.test_id: k.seed for k in self.database().read(known_seeds)}[
            FIX + "test_fails_differently_later"
        ]

        check = self.seedboard(
            "replay", FIX + "test_fails_differently_later", "--seed", str(seed), "-k", "1",
            SEEDBOARD_COMMIT="bbb",
        )  # fmt: skip
        self.assertEqual(
            check.stdout,
            f"fix check at bbb (failed at aaa): still fails, 1/1: {FIX}test_fails_differently_later"
            f" with seed {seed}; failed differently 1/1: ValueError: a new bug\n",
        )

        known = self.seedboard("replay", "--known", "fixpkg.*", "-k", "2", SEEDBOARD_COMMIT="bbb")
        self.assertEqual(known.returncode, 1, known.stderr)
        rows = {
            next(word for word in line.split() if word.startswith(FIX)): line
            for line in known.stdout.splitlines()[2:]
        }
        self.assertRegex(rows[FIX + "test_fixed_later"], r"^passes here +\S+ +\d+ +fixed at bbb$")
        self.assertRegex(
            rows[FIX + "test_fails_differently_later"], r"^still failing +\S+ +\d+ +failed 2/2$"
        )
        lives = {k.test_id: k.life for k in self.database().read(known_seeds)}
        self.assertEqual(lives[FIX + "test_fixed_later"].describe(), "fixed at bbb")
        self.assertEqual(lives[FIX + "test_fails_differently_later"].state, SeedState.REPRODUCED)

        again = self.seedboard("replay", "--known", "-k", "1", SEEDBOARD_COMMIT="bbb")
        self.assertEqual(again.returncode, 1, again.stderr)
        self.assertIn("replaying 1 known failing seeds", again.stdout)
        self.assertNotIn("test_fixed_later", again.stdout)


class ServerReplayAndDeleteTests(ReplayCase):
    def test_known_and_delete_through_a_server(self) -> None:
        """Through a server: replay --known reads /api/v1/seeds and records there (exit
        status 0 when every seed replayed passes, 1 when one still fails); runs delete
        needs the token, deletes, and says so of an unknown run."""
        token = self.seedboard("token", "create", "ci", "--db", self.url).stdout.strip()
        base = start_server(self, self.project, "--db", self.url, "--port", "0")
        posting = {"SEEDBOARD_DB": "", "SEEDBOARD_URL": base, "SEEDBOARD_TOKEN": token}
        self.record("fixpkg", SEEDBOARD_COMMIT="aaa", **posting)
        (self.project / "fixpkg" / "test_fix.py").write_text(FIXED_AT_BBB)
        known = self.seedboard(
            "replay", "--known", "*.test_fixed_later", "-k", "1", SEEDBOARD_COMMIT="bbb", **posting
        )
        self.assertEqual(known.returncode, 0, known.stderr)
        self.assertRegex(known.stdout, r"passes here +\S+test_fixed_later +\d+ +fixed at bbb")
        seeds = fetch_json(self, base + "/api/v1/seeds")["seeds"]
        self.assertEqual(
            {s["test_id"].rsplit(".", 1)[1]: s["description"] for s in seeds},
            {"test_fixed_later": "fixed at bbb", "test_fails_differently_later": "failing"},
        )

        [one] = fetch_json(self, f"{base}/api/v1/seeds?test={FIX}test_fixed_later")["seeds"]
        self.assertEqual(
            (one["status"], one["status_commit"], one["commit"]), ("fixed", "bbb", "aaa")
        )
        rest = self.seedboard("replay", "--known", "-k", "1", SEEDBOARD_COMMIT="bbb", **posting)
        self.assertEqual(rest.returncode, 1, rest.stderr)
        self.assertRegex(rest.stdout, r"still failing +\S+test_fails_differently_later ")

        runs = [r["id"] for r in fetch_json(self, base + "/api/v1/runs?replay=include")["runs"]]
        self.assertEqual(len(runs), 3)
        refused = self.seedboard("runs", "delete", runs[0], "--url", base, SEEDBOARD_TOKEN="")
        self.assertEqual(refused.returncode, 1)
        self.assertIn("refused to delete run", refused.stderr)
        self.assertEqual(exchange(self, base, "DELETE", f"/api/v1/runs/{runs[0]}").status, 401)
        done = self.seedboard("runs", "delete", *runs[:2], "--url", base, SEEDBOARD_TOKEN=token)
        self.assertEqual((done.returncode, done.stderr), (0, ""))
        left = [r["id"] for r in fetch_json(self, base + "/api/v1/runs?replay=include")["runs"]]
        self.assertEqual(left, runs[2:])
        missing = self.seedboard("runs", "delete", runs[0], "--url", base, SEEDBOARD_TOKEN=token)
        self.assertEqual(missing.returncode, 1)
        self.assertIn(f"no run with id {runs[0]!r}", missing.stderr)
