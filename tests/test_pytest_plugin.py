"""The pytest plugin through real pytest runs: what it records, the seeds it chooses or
finds, and that the replay command the triage prints reproduces a failure."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from seedboard.db.engine import open_database
from seedboard.db.runs import ReplayFilter, RunFilters, get_run, list_runs
from seedboard.domain import Outcome, Result
from seedboard.services.flaky import test_triage
from tests.contract import fetch_json
from tests.support import BIN, PYTHON, environment, start_server

SUITE = """
import random
import pytest
from seedboard.testing import seed

@pytest.fixture
def broken():
    raise RuntimeError("no database")

def test_passes():
    assert random.random() < 1

def test_draws():
    drawn = random.random()
    assert drawn < 0.0, f"drew {drawn}"

@seed(1234)
def test_pinned():
    assert random.random() == 0.9664535356921388

@pytest.mark.seed(77)
def test_marked():
    assert random.random() != 0.799115369116727

def test_setup_error(broken):
    pass

@pytest.mark.skip(reason="not here")
def test_skipped():
    pass

@pytest.mark.xfail(reason="known")
def test_known():
    assert False

@pytest.mark.xfail(reason="fixed already?")
def test_surprise():
    pass

class TestGroup:
    @pytest.mark.parametrize("n", [1, 2])
    def test_param(self, n):
        assert n
"""

PRINTED = {"failed": 2, "passed": 4, "skipped": 1, "xfailed": 1, "xpassed": 1, "error": 1}
"""What pytest prints for SUITE."""


class PluginCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.project = Path(self.mktemp()).resolve()
        self.project.mkdir(parents=True)
        (self.project / "test_suite.py").write_text(SUITE)
        # Its own root: node ids relative to it, whatever configuration is further up.
        (self.project / "pytest.ini").write_text("[pytest]\n")
        self.db = self.project / "seedboard.db"

    def pytest(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PYTHON, "-m", "pytest", "-p", "no:cacheprovider", *args],
            cwd=self.project,
            env=environment(SEEDBOARD_WAIT="1", **env),
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    def results(self) -> dict[str, Result]:
        database = open_database(f"sqlite:///{self.db}")
        self.addCleanup(database.dispose)
        page = database.read(list_runs, 10, None, RunFilters(replay=ReplayFilter.INCLUDE))
        [run] = page.runs
        detail = database.read(get_run, run.id)
        assert detail is not None
        return {r.test_id: r for r in detail.results}

    def replay_of(self, test_id: str) -> str:
        database = open_database(f"sqlite:///{self.db}")
        self.addCleanup(database.dispose)
        triage = database.read(test_triage, test_id)
        assert triage is not None
        [failing] = [s for s in triage.seeds if s.failed]
        assert failing.command is not None
        return failing.command


def printed_counts(output: str) -> dict[str, int]:
    last = output.strip().splitlines()[-1]
    return {
        word: int(n)
        for n, word in re.findall(r"(\d+) (failed|passed|skipped|xfailed|xpassed|errors?)", last)
    } | ({"error": int(m.group(1))} if (m := re.search(r"(\d+) errors?", last)) else {})


class RecordingTests(PluginCase):
    def test_no_twisted_in_pytests_process(self) -> None:
        """Recording imports neither Twisted nor SQLAlchemy into pytest's process: each
        module a process holds costs its run time (at import, and in every collection
        of the garbage collector after)."""
        (self.project / "test_suite.py").write_text("def test_one():\n    pass\n")
        (self.project / "conftest.py").write_text(
            "import json, sys\n"
            "def pytest_sessionfinish(session):\n"
            "    heavy = ('twisted', 'sqlalchemy')\n"
            "    loaded = [m for m in sys.modules if m.split('.')[0] in heavy]\n"
            "    open('loaded.json', 'w').write(json.dumps(loaded))\n"
        )
        done = self.pytest("-p", "seedboard", "-p", "no:randomly")
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn("seedboard: recorded run", done.stdout)
        self.assertEqual(json.loads((self.project / "loaded.json").read_text()), [])

    def test_every_outcome_and_seed(self) -> None:
        """Every test pytest ran is recorded with its outcome, as pytest counted it, its
        seed (pinned by @seed or the mark, else chosen), where it is, and a failure's
        exception; the last line says where the run went."""
        done = self.pytest("-p", "seedboard", "-p", "no:randomly", "test_suite.py")
        self.assertEqual(done.returncode, 1)
        self.assertIn("seedboard: recorded run", done.stdout)
        counts = printed_counts(done.stdout)
        counts.pop("errors", None)
        self.assertEqual(counts, PRINTED)
        results = self.results()
        outcomes = {test_id.split("::", 1)[1]: r.outcome for test_id, r in results.items()}
        self.assertEqual(
            outcomes,
            {
                "test_passes": Outcome.SUCCESS,
                "test_draws": Outcome.FAILURE,
                "test_pinned": Outcome.SUCCESS,
                "test_marked": Outcome.FAILURE,
                "test_setup_error": Outcome.ERROR,
                "test_skipped": Outcome.SKIP,
                "test_known": Outcome.EXPECTED_FAILURE,
                "test_surprise": Outcome.UNEXPECTED_SUCCESS,
                "TestGroup::test_param[1]": Outcome.SUCCESS,
                "TestGroup::test_param[2]": Outcome.SUCCESS,
            },
        )
        pinned, marked = (
            results["test_suite.py::test_pinned"],
            results["test_suite.py::test_marked"],
        )
        self.assertEqual((pinned.seed, marked.seed), (1234, 77))
        draws = results["test_suite.py::test_draws"]
        assert draws.seed is not None and draws.message is not None
        self.assertEqual(draws.exception_type, "builtins.AssertionError")
        self.assertIn(f"(random seed: {draws.seed})", draws.message)
        self.assertIn(f"(random seed: {draws.seed})", done.stdout)
        self.assertEqual((draws.file, draws.line), ("test_suite.py", 13))
        self.assertEqual(sorted(r.position for r in results.values()), list(range(10)))
        error = results["test_suite.py::test_setup_error"]
        self.assertIn("no database", error.traceback or "")

    def test_replay_reproduces(self) -> None:
        """The replay command the triage prints for a failing seed fails the same way."""
        first = self.pytest("-p", "seedboard", "-p", "no:randomly", "test_suite.py")
        draws = self.results()["test_suite.py::test_draws"]
        command = self.replay_of("test_suite.py::test_draws")
        self.assertEqual(
            command,
            f"SEEDBOARD_SEED={draws.seed} pytest -p seedboard -p no:randomly "
            "test_suite.py::test_draws",
        )
        env, *words = shlex.split(command)
        name, value = env.split("=")
        again = self.pytest(*words[1:], **{name: value})
        drawn = re.search(r"drew ([0-9.]+)", first.stdout)
        assert drawn is not None
        self.assertIn(f"drew {drawn.group(1)}", again.stdout)
        self.assertIn("1 failed", again.stdout)

    def test_not_asked_records_nothing(self) -> None:
        """Installed, the plugin stays idle until -p seedboard or the configuration asks."""
        done = self.pytest("-p", "no:randomly", "test_suite.py")
        self.assertNotIn("seedboard:", done.stdout)
        self.assertFalse(self.db.exists())
        (self.project / "pytest.ini").write_text("[pytest]\nseedboard = true\n")
        asked = self.pytest("-p", "no:randomly", "test_suite.py")
        self.assertIn("seedboard: recorded run", asked.stdout)
        self.assertEqual(len(self.results()), 10)

    def test_xdist_workers(self) -> None:
        """Under pytest-xdist the workers' results reach one run, seeds and all."""
        done = self.pytest("-p", "seedboard", "-p", "no:randomly", "-n", "2", "test_suite.py")
        self.assertIn("seedboard: recorded run", done.stdout)
        results = self.results()
        self.assertEqual(len(results), 10)
        self.assertEqual(results["test_suite.py::test_pinned"].seed, 1234)
        self.assertEqual(results["test_suite.py::test_pinned"].outcome, Outcome.SUCCESS)
        self.assertTrue(all(r.seed is not None for r in results.values()))

    def test_pytest_randomly(self) -> None:
        """With pytest-randomly, its seed is recorded, as the run's order seed too, and the
        replay command hands it back to pytest-randomly."""
        done = self.pytest(
            "-p", "seedboard", "-p", "randomly", "--randomly-seed=4242", "test_suite.py"
        )
        self.assertIn("seedboard: recorded run", done.stdout)
        results = self.results()
        self.assertEqual({r.seed for r in results.values()}, {4242})
        command = self.replay_of("test_suite.py::test_draws")
        self.assertEqual(
            command,
            "pytest -p randomly -p seedboard --randomly-seed=4242 test_suite.py::test_draws",
        )
        first = re.search(r"drew ([0-9.]+)", done.stdout)
        again = self.pytest(*shlex.split(command)[1:])
        assert first is not None
        self.assertIn(f"drew {first.group(1)}", again.stdout)

    def test_to_a_server(self) -> None:
        """With SEEDBOARD_URL the run goes to the server, as the trial reporter's does."""
        served = str(self.project / "server.db")
        token = subprocess.run(
            [str(BIN / "seedboard"), "token", "create", "ci", "--db", served],
            env=environment(),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        base = start_server(self, self.project, "--db", served, "--port", "0")
        done = self.pytest(
            "-p",
            "seedboard",
            "-p",
            "no:randomly",
            "test_suite.py",
            SEEDBOARD_URL=base,
            SEEDBOARD_TOKEN=token,
        )
        self.assertIn("seedboard: recorded run", done.stdout, done.stdout + done.stderr)
        [run] = fetch_json(self, base + "/api/v1/runs")["runs"]
        self.assertEqual(run["counts"]["total"], 10)
        self.assertEqual(
            run["command"], "pytest -p no:cacheprovider -p seedboard -p no:randomly test_suite.py"
        )
