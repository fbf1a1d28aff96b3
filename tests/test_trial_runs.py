"""End to end: a real ``trial --reporter=seedboard`` subprocess on a sample suite."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path
from urllib.error import HTTPError

from twisted.trial.unittest import SynchronousTestCase

from seedboard.triage.snippets import run_replay_command
from tests import contract
from tests.support import BIN, REPO, environment, start_server

SAMPLES = REPO / "tests" / "samples"
TRIAL_COUNTS = {
    "successes": "success",
    "failures": "failure",
    "errors": "error",
    "skips": "skip",
    "expectedFailures": "expected_failure",
    "unexpectedSuccesses": "unexpected_success",
}


def trial(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "trial"), *args],
        cwd=cwd,
        env=environment(PYTHONPATH=str(cwd), **env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def normalized(output: str) -> str:
    """trial's output without what differs from run to run."""
    output = re.sub(r"random seed: \d+", "random seed: N", output)
    output = re.sub(r"drew [0-9.e-]+", "drew X", output)
    return re.sub(r"Ran (\d+) tests in [0-9.]+s", r"Ran \1 tests", output)


def summary_counts(output: str) -> dict[str, int]:
    """Outcome counts from trial's own closing line, e.g. FAILED (failures=2, ...)."""
    line = output.strip().splitlines()[-1]
    return {TRIAL_COUNTS[k]: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}


def rows(db: Path, query: str) -> list[sqlite3.Row]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(query).fetchall()


class RecordedRunTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.project = Path(self.mktemp()).resolve()
        shutil.copytree(SAMPLES, self.project)
        self.db = self.project / "runs.sqlite"

    def recorded_run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """trial with the seedboard reporter, on the whole sample suite unless told."""
        env.setdefault("SEEDBOARD_DB", str(self.db))
        if not any(arg.startswith("samplepkg") for arg in args):
            args = (*args, "samplepkg")
        return trial(self.project, "--reporter=seedboard", *args, **env)

    def results(self) -> dict[str, sqlite3.Row]:
        query = """SELECT t.name, t.file, t.line, r.* FROM results r
                   JOIN tests t ON t.id = r.test_id"""
        return {
            row["name"].rsplit(".", 2)[-2] + "." + row["name"].rsplit(".", 1)[-1]: row
            for row in rows(self.db, query)
        }

    def test_output_and_exit_code_match_trial(self) -> None:
        """The terminal shows trial's default output plus one line, with trial's exit code."""
        plain = trial(self.project, "samplepkg")
        seeded = self.recorded_run()
        self.assertEqual(seeded.returncode, plain.returncode)
        self.assertEqual(seeded.returncode, 1)
        *body, last = seeded.stdout.rstrip("\n").split("\n")
        self.assertEqual(normalized("\n".join(body) + "\n"), normalized(plain.stdout))
        self.assertRegex(
            last, rf"^seedboard: recorded run [0-9a-f]{{32}} \(11 results\) in {self.db}$"
        )

    def test_counts_equal_trials_summary(self) -> None:
        """Stored outcome counts, per run and per result, equal trial's closing line."""
        done = self.recorded_run()
        expected = summary_counts(done.stdout.rsplit("\n", 2)[0])
        [run] = rows(self.db, "SELECT * FROM runs")
        stored = {k: run[k] for k in TRIAL_COUNTS.values() if run[k]}
        self.assertEqual(stored, expected)
        by_outcome = rows(self.db, "SELECT outcome, count(*) AS n FROM results GROUP BY outcome")
        self.assertEqual({r["outcome"]: r["n"] for r in by_outcome}, expected)

    def test_seeds_recorded(self) -> None:
        """Every seedboard test has its seed, the pin is applied, classic seeds are read."""
        done = self.recorded_run()
        results = self.results()
        self.assertEqual(results["SeededTests.test_pinned"]["seed"], 1234)
        self.assertEqual(results["SeededTests.test_pinned"]["outcome"], "success")
        self.assertEqual(results["ClassicRecipeTests.test_attribute"]["seed"], 4242)
        self.assertEqual(results["ClassicRecipeTests.test_message"]["seed"], 777)
        for name, row in results.items():
            if not name.startswith("Classic"):
                self.assertIsNotNone(row["seed"], name)
        failed = results["SeededTests.test_draw_fails"]
        self.assertIn(f"(random seed: {failed['seed']})", failed["message"])
        self.assertIn(f"(random seed: {failed['seed']})", done.stdout)

    def test_failure_details_recorded(self) -> None:
        """Failures keep type, message, traceback, file and line; durations are measured."""
        self.recorded_run()
        results = self.results()
        error = results["SeededTests.test_error"]
        self.assertEqual(error["outcome"], "error")
        self.assertEqual(error["exception_type"], "RuntimeError")
        self.assertTrue(error["message"].startswith("kaboom (random seed: "))
        self.assertIn("raise RuntimeError", error["traceback"])
        self.assertEqual(error["file"], "samplepkg/test_sample.py")
        source = (self.project / "samplepkg" / "test_sample.py").read_text().splitlines()
        self.assertEqual(source[error["line"] - 1].strip(), "def test_error(self):")
        self.assertGreaterEqual(results["SeededTests.test_deferred"]["duration"], 0.05)
        self.assertEqual(results["SeededTests.test_skipped"]["message"], "not on this machine")
        self.assertEqual(
            results["TodoTests.test_unexpected_success"]["message"], "should still fail"
        )

    def test_replay_with_environment_seed(self) -> None:
        """SEEDBOARD_SEED=N replays a recorded failure exactly."""
        self.recorded_run()
        failed = self.results()["SeededTests.test_draw_fails"]
        replay = trial(
            self.project,
            "samplepkg.test_sample.SeededTests.test_draw_fails",
            SEEDBOARD_SEED=str(failed["seed"]),
        )
        self.assertIn(failed["message"], replay.stdout)

    def test_run_metadata(self) -> None:
        """The run keeps order seed, command line, versions and the overridden source."""
        self.recorded_run(
            "--random=5",
            SEEDBOARD_BRANCH="feature/x",
            SEEDBOARD_COMMIT="abc123",
            SEEDBOARD_BUILD_URL="https://ci.example/1",
        )
        [run] = rows(self.db, "SELECT * FROM runs")
        self.assertEqual(run["order_seed"], 5)
        self.assertEqual(run["command"], "trial --reporter=seedboard --random=5 samplepkg")
        self.assertEqual(
            (run["branch"], run["commit"], run["build_url"]),
            ("feature/x", "abc123", "https://ci.example/1"),
        )
        self.assertIsNotNone(run["finished_at"])
        self.assertTrue(run["python_version"].startswith("3."))

    def test_random_zero_order_seed(self) -> None:
        """With --random=0 trial picks the seed itself; the one it printed is recorded."""
        done = self.recorded_run("--random=0")
        printed = int(re.search(r"shuffled with seed (\d+)", done.stdout).group(1))  # type: ignore[union-attr]
        [run] = rows(self.db, "SELECT order_seed FROM runs")
        self.assertEqual(run["order_seed"], printed)

    def test_default_database_in_current_directory(self) -> None:
        """Without SEEDBOARD_DB the run lands in ./seedboard.db, not in _trial_temp."""
        done = trial(self.project, "--reporter=seedboard", "samplepkg")
        default = self.project / "seedboard.db"
        self.assertIn(f"in {default}", done.stdout)
        self.assertEqual(len(rows(default, "SELECT id FROM runs")), 1)

    def test_runs_accumulate(self) -> None:
        """Each run is added next to the earlier ones."""
        self.recorded_run()
        self.recorded_run()
        self.assertEqual(len(rows(self.db, "SELECT id FROM runs")), 2)
        self.assertEqual(len(rows(self.db, "SELECT id FROM results")), 22)
        self.assertEqual(len(rows(self.db, "SELECT id FROM tests")), 11)

    def test_unwritable_database_warns_once(self) -> None:
        """A database that cannot be opened costs one warning line, nothing else."""
        plain = trial(self.project, "samplepkg")
        broken = self.recorded_run(SEEDBOARD_DB=str(self.project / "missing" / "dir" / "x.db"))
        self.assertEqual(broken.returncode, plain.returncode)
        *body, last = broken.stdout.rstrip("\n").split("\n")
        self.assertEqual(normalized("\n".join(body) + "\n"), normalized(plain.stdout))
        self.assertRegex(last, r"^seedboard: warning: this run was not recorded in .*x\.db: ")
        self.assertIn("unable to open database file", last)
        self.assertEqual(broken.stderr, plain.stderr)

    def test_passing_run_exit_code(self) -> None:
        """A passing run exits 0 with the reporter too."""
        done = self.recorded_run("samplepkg.test_sample.SeededTests.test_passes")
        self.assertEqual(done.returncode, 0, done.stdout)

    def test_whole_run_replay(self) -> None:
        """The command a run's page shows to replay it whole gives every test its seed
        again, and is recorded as a replay."""
        self.recorded_run()
        [first] = rows(self.db, "SELECT id, run_seed, command FROM runs")
        self.assertIsNotNone(first["run_seed"])
        command = run_replay_command(first["run_seed"], first["command"])
        assert command is not None
        subprocess.run(
            command,
            shell=True,
            cwd=self.project,
            # As in an activated virtualenv: its trial is the one the command names.
            env=environment(
                PYTHONPATH=str(self.project),
                SEEDBOARD_DB=str(self.db),
                PATH=f"{BIN}:{os.environ.get('PATH', '')}",
            ),
            capture_output=True,
            timeout=120,
            check=False,
        )
        query = f"SELECT id, run_seed, is_replay FROM runs WHERE id != '{first['id']}'"
        [second] = rows(self.db, query)
        self.assertEqual(second["run_seed"], first["run_seed"])
        self.assertTrue(second["is_replay"])
        seeds = rows(
            self.db,
            "SELECT u.id AS run_id, t.name, r.seed FROM results r"
            " JOIN tests t ON t.id = r.test_id JOIN runs u ON u.key = r.run_key",
        )
        by_run: dict[str, dict[str, int]] = {}
        for row in seeds:
            by_run.setdefault(row["run_id"], {})[row["name"]] = row["seed"]
        self.assertEqual(by_run[first["id"]], by_run[second["id"]])

    def test_positions_follow_the_run_order(self) -> None:
        """Each result records where its test started in the run: trial --random's order."""
        done = self.recorded_run("--random", "3")
        printed = re.findall(r"^    (test_\w+) \.\.\.", done.stdout, re.MULTILINE)
        by_position = rows(
            self.db,
            """SELECT t.name, r.position FROM results r JOIN tests t ON t.id = r.test_id
               ORDER BY r.position""",
        )
        self.assertEqual([row["position"] for row in by_position], list(range(len(printed))))
        self.assertEqual([row["name"].rsplit(".", 1)[-1] for row in by_position], printed)

    def test_forced_seed_has_no_run_seed(self) -> None:
        """With SEEDBOARD_SEED forcing every seed, no run seed is recorded."""
        self.recorded_run(SEEDBOARD_SEED="5")
        [run] = rows(self.db, "SELECT run_seed FROM runs")
        self.assertIsNone(run["run_seed"])

    def test_parallel_workers(self) -> None:
        """Under trial -j 2 every seeded test keeps its seed and its real duration."""
        done = self.recorded_run("-j", "2", "samplepkg.test_sample")
        expected = summary_counts(done.stdout.rsplit("\n", 2)[0])
        results = self.results()
        self.assertEqual(len(results), 10)
        for name, row in results.items():
            if not name.startswith("Classic"):
                self.assertIsNotNone(row["seed"], name)
        self.assertEqual(results["SeededTests.test_pinned"]["seed"], 1234)
        self.assertEqual(results["ClassicRecipeTests.test_message"]["seed"], 777)
        self.assertGreaterEqual(results["SeededTests.test_deferred"]["duration"], 0.05)
        failed = results["SeededTests.test_draw_fails"]
        self.assertIn(f"(random seed: {failed['seed']})", failed["message"])
        [run] = rows(self.db, "SELECT * FROM runs")
        self.assertEqual({k: run[k] for k in TRIAL_COUNTS.values() if run[k]}, expected)
        positions = sorted(row["position"] for row in results.values())
        self.assertEqual(positions, list(range(10)))

    def test_parallel_durations_of_plain_tests(self) -> None:
        """Under trial -j 2, plain trial tests (no seedboard TestCase, so no worker note)
        get their real duration too, within 20% of the same tests' serial durations: not
        the zero trial's DistReporter leaves, nor the start-up of the worker that runs
        them first."""
        # Long enough that 20% is more than a loaded machine adds to a worker's first test.
        sleeps = {"test_a": 1.5, "test_b": 1.0, "test_c": 1.2, "test_d": 1.0}
        (self.project / "samplepkg" / "test_slow.py").write_text(
            "import time\n"
            "from twisted.internet import reactor, task\n"
            "from twisted.trial import unittest\n\n"
            "class Slow(unittest.TestCase):\n"
            + "".join(
                f"    def {name}(self):\n        time.sleep({sleep})\n"
                for name, sleep in list(sleeps.items())[:3]
            )
            + f"    def test_d(self):\n"
            f"        return task.deferLater(reactor, {sleeps['test_d']}, lambda: None)\n"
        )
        serial_db = self.db.with_name("serial.db")
        self.recorded_run("samplepkg.test_slow", SEEDBOARD_DB=str(serial_db))
        self.recorded_run("-j", "2", "samplepkg.test_slow")
        serial, parallel = durations_in(serial_db), durations_in(self.db)
        self.assertEqual(parallel.keys(), sleeps.keys())
        for name, sleep in sleeps.items():
            self.assertGreaterEqual(parallel[name], sleep, name)
            self.assertLess(abs(parallel[name] / serial[name] - 1), 0.2, (name, serial, parallel))

    def test_dry_run_records_nothing(self) -> None:
        """trial --dry-run runs no test, so no run is recorded."""
        done = self.recorded_run("--dry-run")
        self.assertEqual(done.returncode, 0)
        self.assertNotIn("seedboard:", done.stdout)
        self.assertFalse(self.db.exists())


def durations_in(db: Path) -> dict[str, float]:
    """Each recorded test's duration, by its method's name."""
    found = rows(db, "SELECT t.name, r.duration FROM results r JOIN tests t ON t.id = r.test_id")
    return {row["name"].rsplit(".", 1)[-1]: row["duration"] for row in found}


class HelpTests(SynchronousTestCase):
    def test_reporter_listed(self) -> None:
        """trial --help-reporters lists the seedboard reporter."""
        done = trial(REPO, "--help-reporters")
        self.assertRegex(done.stdout, r"\n\s+seedboard\s")


class ServeTests(SynchronousTestCase):
    """The whole path: trial records runs, ``seedboard serve`` shows them over HTTP."""

    def setUp(self) -> None:
        self.project = Path(self.mktemp()).resolve()
        shutil.copytree(SAMPLES, self.project)

    def serve(self) -> str:
        return start_server(self, self.project, "--port", "0") + "/"

    def test_dashboard_shows_recorded_runs(self) -> None:
        """Runs recorded into ./seedboard.db are listed, with their tests, seeds and failures."""
        for _ in range(2):
            trial(self.project, "--reporter=seedboard", "samplepkg")
        base = self.serve()

        listing = json.loads(self.fetch(base + "api/v1/runs"))
        self.assertEqual(len(listing["runs"]), 2)
        newest = listing["runs"][0]
        self.assertEqual(newest["counts"]["total"], 11)
        self.assertIn(newest["id"], self.fetch(base))

        detail = json.loads(self.fetch(base + f"api/v1/runs/{newest['id']}"))
        by_name = {r["test_id"].rsplit(".", 1)[-1]: r for r in detail["results"]}
        self.assertEqual(by_name["test_pinned"]["seed"], 1234)
        page = self.fetch(base + f"runs/{newest['id']}")
        self.assertIn("kaboom (random seed: ", page)

        test_id = "samplepkg.test_sample.SeededTests.test_pinned"
        history = json.loads(self.fetch(base + f"api/v1/tests/{test_id}"))
        self.assertEqual([r["seed"] for r in history["runs"]], [1234, 1234])
        self.assertIn(test_id, self.fetch(base + f"tests/{test_id}"))

    def test_unknown_run_is_404(self) -> None:
        """An unknown run id is a 404 page from the real server, not a traceback."""
        base = self.serve()
        with self.assertRaises(HTTPError) as raised:
            self.fetch(base + "runs/nope")
        self.assertEqual(raised.exception.code, 404)
        self.assertNotIn("Traceback", raised.exception.read().decode())

    def fetch(self, url: str) -> str:
        """The page or API answer at ``url`` as text (the API's checked); errors raise."""
        body: bytes = contract.fetch(self, url).or_raise().body
        return body.decode("utf-8")
