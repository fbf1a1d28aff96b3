"""``seedboard import`` through real processes: files that real runners wrote (pytest's
JUnit XML, trial's subunit v1, python-subunit's v2) and fixtures of the other dialects,
into a database or a server; counts equal to what the runner printed."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from seedboard.db.engine import open_database
from seedboard.db.migrate import ensure_schema
from seedboard.db.runs import ReplayFilter, RunFilters, get_run, list_runs
from seedboard.domain import Outcome
from tests.contract import fetch_json
from tests.support import BIN, PYTHON, database_url, environment, start_server
from tests.test_trial_runs import SAMPLES, summary_counts, trial

JUNIT = Path(__file__).parent / "samples" / "junit"

PYTEST_SUITE = """
import random
import pytest

@pytest.fixture
def broken():
    raise RuntimeError("no database")

def test_passes():
    assert True

@pytest.mark.parametrize("n", [1, 2])
def test_params(n):
    assert n

def test_seeded():
    seed = 4242
    random.seed(seed)
    assert random.random() < 0, f"drew too high (random seed: {seed})"

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
"""

UNITTEST_SUITE = """
import unittest

class T(unittest.TestCase):
    def test_ok(self):
        pass

    def test_fail(self):
        self.assertEqual(1, 2, "lost a message (random seed: 99)")

    def test_error(self):
        raise KeyError("x")

    @unittest.skip("not here")
    def test_skip(self):
        pass

    @unittest.expectedFailure
    def test_known(self):
        self.fail("known")
"""


class ImportCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.url = database_url(self)
        self.cwd = Path(self.mktemp()).resolve()
        self.cwd.mkdir(parents=True)
        database = open_database(self.url)
        self.addCleanup(database.dispose)
        ensure_schema(database)
        self.database = database

    def seedboard(
        self, *args: str, stdin: bytes | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(BIN / "seedboard"), *args],
            cwd=self.cwd,
            env=environment(**env),
            input=stdin.decode() if stdin is not None else None,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return done

    def imported(self, *files: str) -> subprocess.CompletedProcess[str]:
        done = self.seedboard("import", *files, "--db", self.url)
        self.assertEqual(done.returncode, 0, done.stderr)
        return done

    def runs(self) -> list[str]:
        page = self.database.read(list_runs, 100, None, RunFilters(replay=ReplayFilter.INCLUDE))
        return [run.id for run in page.runs]

    def stored(self, run_id: str) -> dict[str, int]:
        detail = self.database.read(get_run, run_id)
        assert detail is not None
        return {k: v for k, v in detail.summary.counts.as_dict().items() if v}

    def only_run(self) -> str:
        [run_id] = self.runs()
        return run_id


class RealRunnerTests(ImportCase):
    def test_pytest_junit(self) -> None:
        """pytest's own --junitxml of a real run: every outcome pytest printed, and the
        seeded failure's seed."""
        (self.cwd / "test_suite.py").write_text(PYTEST_SUITE)
        ran = subprocess.run(
            [
                PYTHON,
                "-m",
                "pytest",
                "-p",
                "no:cacheprovider",
                "-p",
                "no:randomly",
                "--junitxml=report.xml",
                "test_suite.py",
            ],
            cwd=self.cwd,
            env=environment(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        printed = dict(
            (word, int(n)) for n, word in re.findall(r"(\d+) (\w+)", ran.stdout.splitlines()[-1])
        )
        self.assertEqual(
            printed,
            {"failed": 1, "passed": 3, "skipped": 1, "xfailed": 1, "xpassed": 1, "error": 1},
        )
        done = self.imported("report.xml", "--branch", "main", "--commit", "abc123")
        run_id = self.only_run()
        self.assertIn(f"imported run {run_id} (8 results)", done.stdout)
        self.assertEqual(
            self.stored(run_id),
            {
                "success": printed["passed"] + printed["xpassed"],
                "failure": printed["failed"],
                "error": printed["error"],
                "skip": printed["skipped"],
                "expected_failure": printed["xfailed"],
            },
        )
        detail = self.database.read(get_run, run_id)
        assert detail is not None
        self.assertEqual(
            (detail.summary.start.branch, detail.summary.start.commit), ("main", "abc123")
        )
        [seeded] = [r for r in detail.results if r.test_id.endswith("test_seeded")]
        self.assertEqual((seeded.outcome, seeded.seed), (Outcome.FAILURE, 4242))
        self.assertIn("test_params[1]", " ".join(r.test_id for r in detail.results))

    def test_trial_subunit_v1(self) -> None:
        """trial --reporter=subunit (v1): the counts trial prints with its own reporter."""
        project = self.cwd / "project"
        shutil.copytree(SAMPLES, project)
        printed = summary_counts(trial(project, "samplepkg").stdout)
        stream = trial(project, "--reporter=subunit", "samplepkg").stdout
        (self.cwd / "trial.subunit").write_text(stream)
        self.imported("trial.subunit")
        # trial's subunit reporter writes an unexpected success as ``successful:``: the
        # stream cannot tell them apart, so neither can the import.
        printed["success"] += printed.pop("unexpected_success")
        self.assertEqual(self.stored(self.only_run()), printed)

    def test_python_subunit_v2(self) -> None:
        """python -m subunit.run (v2): the counts unittest prints of the same tests."""
        (self.cwd / "test_plain.py").write_text(UNITTEST_SUITE)
        plain = subprocess.run(
            [PYTHON, "-m", "unittest", "test_plain"],
            cwd=self.cwd,
            env=environment(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        said = unittest_counts(plain.stderr)
        stream = subprocess.run(
            [PYTHON, "-m", "subunit.run", "test_plain"],
            cwd=self.cwd,
            env=environment(),
            capture_output=True,
            timeout=60,
            check=True,
        ).stdout
        (self.cwd / "plain.subunit").write_bytes(stream)
        self.imported("plain.subunit")
        self.assertEqual(
            self.stored(self.only_run()),
            {
                "success": said["ran"]
                - said["failures"]
                - said["errors"]
                - said["skipped"]
                - said["expected failures"],
                "failure": said["failures"],
                "error": said["errors"],
                "skip": said["skipped"],
                "expected_failure": said["expected failures"],
            },
        )


def unittest_counts(output: str) -> dict[str, int]:
    """What unittest's closing lines say: ``Ran 5 tests`` and ``FAILED (failures=1, ...)``."""
    ran = re.search(r"^Ran (\d+) tests?", output, re.MULTILINE)
    assert ran is not None, output
    found = re.search(r"^FAILED \((.*)\)$", output, re.MULTILINE)
    pairs = [part.split("=") for part in found.group(1).split(", ")] if found else []
    return {"ran": int(ran.group(1)), **{name: int(value) for name, value in pairs}}


class ImportCommandTests(ImportCase):
    def test_dialects_and_triage(self) -> None:
        """Each dialect's fixture is a run; Surefire's flaky test, which failed with a seed
        and then passed, is judged flaky with that seed to replay."""
        for name in ("surefire.xml", "gotestsum.xml", "gradle.xml", "jest.xml", "mocha.xml"):
            shutil.copy(JUNIT / name, self.cwd / name)
        done = self.imported(*sorted(p.name for p in self.cwd.glob("*.xml")))
        self.assertEqual(len(self.runs()), 5)
        self.assertEqual(done.stdout.count("imported run"), 5)
        from seedboard.services.flaky import flaky_tests

        by_id = {t.test_id: t for t in self.database.read(flaky_tests)}
        retried = by_id["com.example.NetTest.retriesAfterTimeout"]
        self.assertEqual(retried.verdict.classification.value, "unconfirmed")
        self.assertEqual([s.seed for s in retried.failing_seeds], [31337])

    def test_twice_is_one_run(self) -> None:
        """The same file again, under any name or from standard input, stores nothing."""
        shutil.copy(JUNIT / "gradle.xml", self.cwd / "a.xml")
        shutil.copy(JUNIT / "gradle.xml", self.cwd / "b.xml")
        first = self.imported("a.xml")
        run_id = self.only_run()
        again = self.imported("b.xml")
        piped = self.seedboard(
            "import", "-", "--db", self.url, stdin=(JUNIT / "gradle.xml").read_bytes()
        )
        self.assertEqual(self.runs(), [run_id])
        self.assertIn(f"imported run {run_id} (2 results)", first.stdout)
        self.assertIn(f"already imported as run {run_id}", again.stdout)
        self.assertIn(f"standard input: already imported as run {run_id}", piped.stdout)
        self.assertEqual(self.stored(run_id), {"success": 1, "failure": 1})

    def test_malformed_stores_nothing(self) -> None:
        """A file broken part-way: one line naming it and the line, exit 1, nothing of it
        stored; the other files named still go in."""
        good = (JUNIT / "gotestsum.xml").read_text()
        (self.cwd / "cut.xml").write_text(good[: good.index("<testsuite", 100)] + "<testcase>")
        shutil.copy(JUNIT / "gradle.xml", self.cwd / "fine.xml")
        done = self.seedboard("import", "cut.xml", "fine.xml", "--db", self.url)
        self.assertEqual(done.returncode, 1)
        [line] = done.stderr.splitlines()
        self.assertRegex(line, r"^seedboard: cut\.xml, line \d+: .*; nothing of it was stored$")
        [run_id] = self.runs()
        self.assertEqual(self.stored(run_id), {"success": 1, "failure": 1})

    def test_not_a_test_report(self) -> None:
        (self.cwd / "notes.txt").write_text("PASS ok example.com/net 0.1s\n")
        done = self.seedboard("import", "notes.txt", "missing.xml", "--db", self.url)
        self.assertEqual(done.returncode, 1)
        self.assertEqual(
            done.stderr.splitlines(),
            [
                "seedboard: notes.txt is neither JUnit XML nor subunit; say which with --format",
                "seedboard: cannot read missing.xml: No such file or directory",
            ],
        )
        self.assertEqual(self.runs(), [])

    def test_to_a_server(self) -> None:
        """With --url and a token the run goes to the server; again, nothing new; without
        a token, one line saying what to set."""
        token = self.seedboard("token", "create", "ci", "--db", self.url).stdout.strip()
        base = start_server(self, self.cwd, "--db", self.url, "--port", "0")
        shutil.copy(JUNIT / "surefire.xml", self.cwd / "surefire.xml")
        refused = self.seedboard("import", "surefire.xml", "--url", base)
        self.assertEqual(refused.returncode, 1)
        self.assertIn("set SEEDBOARD_TOKEN to a valid token", refused.stderr)
        done = self.seedboard("import", "surefire.xml", "--url", base, SEEDBOARD_TOKEN=token)
        self.assertEqual(done.returncode, 0, done.stderr)
        again = self.seedboard("import", "surefire.xml", SEEDBOARD_URL=base, SEEDBOARD_TOKEN=token)
        self.assertIn("already imported as run", again.stdout)
        [run] = fetch_json(self, base + "/api/v1/runs")["runs"]
        self.assertIn(f"imported run {run['id']} (8 results)", done.stdout)
        counts = Counter(
            r["outcome"] for r in fetch_json(self, f"{base}/api/v1/runs/{run['id']}")["results"]
        )
        self.assertEqual(counts, {"failure": 4, "success": 2, "error": 1, "skip": 1})
