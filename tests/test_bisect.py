"""``seedboard bisect`` end to end: a real recorded trial run of planted polluters, then
real bisections, on the suite's database (SQLite or PostgreSQL)."""

from __future__ import annotations

import html
import itertools
import json
import random
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import func, select
from twisted.trial.unittest import SynchronousTestCase

from seedboard.bisect import BisectError, Hunt, Placed, Verdict, bisect, hunt_of
from seedboard.db.engine import open_database
from seedboard.db.models import OrderDependency as FoundRow
from seedboard.db.order import UnknownTest, record_order_dependency
from seedboard.db.runs import UnknownRun
from seedboard.domain import OrderDependency, Outcome
from seedboard.seeds import derived_seed
from seedboard.services.flaky import flaky_tests, test_triage
from seedboard.triage.classify import Classification
from tests.contract import fetch, fetch_json
from tests.support import (
    BIN,
    REPO,
    database_url,
    environment,
    record_run,
    result,
    seedboard_command,
    start_server,
    temporary_database,
)

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
SEEDED_POLLUTER = (
    "orderpkg.test_i_seeded_polluter.SeededPolluterTests.test_maybe_leaves_cache_stale"
)
SEEDED_VICTIM = "orderpkg.test_j_seeded_victim.SeededVictimTests.test_expects_fresh_cache"


def draws_low(test_id: str, seed: int) -> bool:
    """Whether a seedboard test seeded with ``seed`` draws below a half first, as the
    seeded polluter must to leave the cache stale."""
    return random.Random(seed).random() < 0.5


def polluting_run_seed() -> int:
    """A run seed under which the seeded polluter's own seed makes it pollute, and its
    victim's seed would not."""
    return next(
        run_seed
        for run_seed in itertools.count(1)
        if draws_low(SEEDED_POLLUTER, derived_seed(run_seed, SEEDED_POLLUTER))
        and not draws_low(SEEDED_POLLUTER, derived_seed(run_seed, SEEDED_VICTIM))
    )


def run_shown(command: str, project: Path) -> list[tuple[str, str]]:
    """The command a bisection printed, run in a shell: each test it ran and its verdict."""
    path = f"{BIN}:{environment().get('PATH', '')}"
    shown = subprocess.run(
        ["sh", "-c", command],
        cwd=project,
        env=environment(PYTHONPATH=str(project), PATH=path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return re.findall(r"^    (test_\w+) \.\.\. +\[(\w+)\]$", shown.stdout, re.MULTILINE)


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

    def recorded(self) -> int:
        """How many order dependencies the database holds."""
        database = open_database(self.db)
        try:
            count: int = database.read(
                lambda conn: conn.execute(select(func.count()).select_from(FoundRow)).scalar_one()
            )
        finally:
            database.dispose()
        return count

    def test_finds_global_polluter(self) -> None:
        """A test that leaves a module global set is found as its victim's polluter, and the
        command to see it names both with the failure's seed."""
        done = self.bisect(GLOBAL_VICTIM)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn(
            f"order-dependent: {GLOBAL_VICTIM} fails after {GLOBAL_POLLUTER}", done.stdout
        )
        self.assertRegex(
            done.stdout, rf"SEEDBOARD_RUN_SEED=\d+ trial {GLOBAL_POLLUTER} {GLOBAL_VICTIM}\n"
        )
        self.assertIn("run 1: alone: passes", done.stdout)
        self.assertIn("run 2: after 7 tests", done.stdout)
        self.assertIn(f"recorded in {self.db.removeprefix('sqlite:///')}", done.stdout)
        self.assertEqual(self.recorded(), 1)

    def test_command_shows_the_failure(self) -> None:
        """The command printed, run in a shell, runs the polluter then the victim (trial
        keeps the order of the names it is given), and the victim fails."""
        done = self.bisect(REACTOR_VICTIM)
        command = done.stdout.split("to see it: ", 1)[1].splitlines()[0]
        self.assertEqual(
            run_shown(command, self.project),
            [("test_schedules_and_forgets", "OK"), ("test_waits_a_moment", "ERROR")],
        )

    def test_test_page_names_polluter(self) -> None:
        """Once bisected, the test's page and JSON class it order-dependent and name the
        polluter and the command that shows the failure."""
        done = self.bisect(GLOBAL_VICTIM)
        command = done.stdout.split("to see it: ", 1)[1].splitlines()[0]
        base = start_server(self, self.project, "--db", self.db, "--port", "0")
        triage = fetch_json(self, f"{base}/api/v1/tests/{quote(GLOBAL_VICTIM)}")["triage"]
        self.assertEqual(triage["classification"], "order-dependent")
        self.assertEqual(triage["polluter"], GLOBAL_POLLUTER)
        self.assertEqual(triage["order_command"], command)
        page = fetch(self, f"{base}/tests/{quote(GLOBAL_VICTIM)}").body.decode()
        self.assertIn("order-dependent", page)
        self.assertIn(f"<code>{GLOBAL_POLLUTER}</code>", page)
        self.assertIn(html.escape(command), page)
        flaky = fetch_json(self, f"{base}/api/v1/flaky")["tests"]
        classes = {test["test_id"]: test["classification"] for test in flaky}
        self.assertEqual(classes[GLOBAL_VICTIM], "order-dependent")
        self.assertEqual(classes[ALWAYS_FAILS], "broken")

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


class SeededPollutionTests(SynchronousTestCase):
    def test_each_test_keeps_its_seed(self) -> None:
        """A polluter whose pollution depends on its own seed is found: every test of the
        bisection runs with the seed it had in the run, not the victim's; the command
        printed gives each its seed again, and shows the failure."""
        project = sample_project(self)
        db = database_url(self)
        run_seed = polluting_run_seed()
        run_id = record_orderpkg(project, db, SEEDBOARD_RUN_SEED=str(run_seed))
        done = seedboard_command(project, db, "bisect", run_id, SEEDED_VICTIM)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn(
            f"order-dependent: {SEEDED_VICTIM} fails after {SEEDED_POLLUTER}", done.stdout
        )
        command = done.stdout.split("to see it: ", 1)[1].splitlines()[0]
        self.assertEqual(
            command, f"SEEDBOARD_RUN_SEED={run_seed} trial {SEEDED_POLLUTER} {SEEDED_VICTIM}"
        )
        self.assertEqual(
            run_shown(command, project),
            [("test_maybe_leaves_cache_stale", "OK"), ("test_expects_fresh_cache", "FAIL")],
        )


class BisectServerTests(SynchronousTestCase):
    """A run recorded on a server, bisected from it, the verdict recorded there."""

    def setUp(self) -> None:
        self.project = sample_project(self)
        db = database_url(self)
        token = seedboard_command(self.project, db, "token", "create", "ci", check=True)
        self.token = token.stdout.strip()
        self.base = start_server(self, self.project, "--db", db, "--port", "0")
        self.run_id = record_orderpkg(
            self.project, db, SEEDBOARD_URL=self.base, SEEDBOARD_TOKEN=self.token
        )

    def bisect(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "seedboard"), "bisect", "--url", self.base, *args],
            cwd=self.project,
            env=environment(**env),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def test_found_and_recorded_on_server(self) -> None:
        """The delayed-call polluter is found from the server's run and recorded there."""
        done = self.bisect(self.run_id, REACTOR_VICTIM, SEEDBOARD_TOKEN=self.token)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn(f"fails after {REACTOR_POLLUTER}", done.stdout)
        self.assertIn(f"recorded in {self.base}", done.stdout)
        triage = fetch_json(self, f"{self.base}/api/v1/tests/{quote(REACTOR_VICTIM)}")["triage"]
        self.assertEqual(triage["classification"], "order-dependent")
        self.assertEqual(triage["polluter"], REACTOR_POLLUTER)

    def test_without_token(self) -> None:
        """Without a token the verdict is printed, then one line says it was not recorded."""
        done = self.bisect(self.run_id, GLOBAL_VICTIM)
        self.assertEqual(done.returncode, 1)
        self.assertIn(f"fails after {GLOBAL_POLLUTER}", done.stdout)
        self.assertRegex(done.stderr, r"^seedboard: http://\S+ did not record the verdict: 401 ")
        self.assertEqual(done.stderr.count("\n"), 1)

    def test_unknown_run(self) -> None:
        """An unknown run on the server is one clear line and a non-zero exit."""
        done = self.bisect("e" * 32, GLOBAL_VICTIM)
        self.assertEqual(done.returncode, 1)
        self.assertEqual(done.stderr, f"seedboard: no run {'e' * 32} on {self.base}\n")

    def post(self, run_id: str, body: object, token: str | None = None) -> tuple[int, object]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        answer = fetch(
            self,
            f"{self.base}/api/v1/runs/{run_id}/order-dependencies",
            "POST",
            json.dumps(body).encode(),
            headers,
        )
        return answer.status, answer.json()

    def test_refusals_name_the_field(self) -> None:
        """Bad verdicts are refused with a 4xx naming the field, never stored."""
        good = {"victim": GLOBAL_VICTIM, "polluter": GLOBAL_POLLUTER, "seed": 5}
        cases: list[tuple[str, object, str | None, int, str | None]] = [
            (self.run_id, good, None, 401, None),
            (self.run_id, {**good, "victim": "no.such.Test.test_x"}, self.token, 400, "victim"),
            (self.run_id, {**good, "polluter": ""}, self.token, 400, "polluter"),
            (self.run_id, {**good, "seed": -1}, self.token, 400, "seed"),
            (self.run_id, {**good, "colour": "red"}, self.token, 400, "colour"),
            ("a" * 32, good, self.token, 400, "run_id"),
            ("nothex", good, self.token, 400, "run_id"),
        ]
        for run_id, body, token, status, field in cases:
            got, answer = self.post(run_id, body, token)
            self.assertEqual(got, status, (body, answer))
            if field is not None:
                assert isinstance(answer, dict)
                self.assertEqual(answer["error"]["field"], field, body)
        got, answer = self.post(self.run_id, good, self.token)
        self.assertEqual(got, 201, answer)


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

    def test_seeds_of_the_run(self) -> None:
        """Each test keeps the seed it had in the run (none for a test without one); the
        victim, its failure's."""
        results = [
            Placed("a", Outcome.SUCCESS, 11, 0),
            Placed("b", Outcome.SUCCESS, None, 1),
            Placed("v", Outcome.FAILURE, 9, 2),
        ]
        self.assertEqual(hunt_of("r", 5, results, "v").seeds, {"a": 11, "v": 9})

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
        found = bisect(Hunt("r", "v", [], 1, None, {"v": 1}), lambda before: False, said.append)
        self.assertEqual((found.verdict, found.runs), (Verdict.DID_NOT_REPRODUCE, 1))
        self.assertEqual(said, ["run 1: alone: passes"])


class RecordedVerdictTests(SynchronousTestCase):
    """The stored verdict and the class it gives, on the suite's database."""

    def setUp(self) -> None:
        self.db = temporary_database(self)
        failing = [result("pkg.T.test_victim", Outcome.FAILURE, seed=3), result("pkg.T.test_p")]
        passing = [result("pkg.T.test_victim", seed=4), result("pkg.T.test_p")]
        self.failed_run = record_run(self.db, failing)
        record_run(self.db, passing)

    def found(self, victim: str = "pkg.T.test_victim", **fields: object) -> OrderDependency:
        values: dict[str, object] = {
            "run_id": self.failed_run.id,
            "victim": victim,
            "polluter": "pkg.T.test_p",
            "seed": 3,
            "found_at": datetime.now(UTC),
        }
        values.update(fields)
        return OrderDependency(**values)  # type: ignore[arg-type]

    def test_order_dependent_class(self) -> None:
        """A failing test with a recorded polluter is order-dependent, on its own triage
        and on the flaky list, with the command that shows it."""
        self.db.write(record_order_dependency, self.found())
        triage = self.db.read(test_triage, "pkg.T.test_victim")
        assert triage is not None
        self.assertIs(triage.verdict.classification, Classification.ORDER_DEPENDENT)
        self.assertEqual(
            triage.order_command, "SEEDBOARD_SEED=3 trial pkg.T.test_p pkg.T.test_victim"
        )
        [listed] = self.db.read(flaky_tests)
        self.assertIs(listed.verdict.classification, Classification.ORDER_DEPENDENT)

    def test_stable_test_keeps_its_class(self) -> None:
        """A test that no longer fails in its window is stable, finding or not."""
        self.db.write(
            record_order_dependency, self.found("pkg.T.test_p", polluter="pkg.T.test_victim")
        )
        triage = self.db.read(test_triage, "pkg.T.test_p")
        assert triage is not None
        self.assertIs(triage.verdict.classification, Classification.STABLE)
        self.assertIsNone(triage.order_dependency)

    def test_latest_finding_counts(self) -> None:
        """Bisected twice, the latest polluter found is the one named."""
        self.db.write(record_order_dependency, self.found(polluter="pkg.T.test_victim"))
        self.db.write(record_order_dependency, self.found())
        triage = self.db.read(test_triage, "pkg.T.test_victim")
        assert triage is not None and triage.order_dependency is not None
        self.assertEqual(triage.order_dependency.polluter, "pkg.T.test_p")

    def test_unknown_names(self) -> None:
        """A verdict naming an unknown run or test is refused, naming what is unknown."""
        self.assertRaises(
            UnknownRun, self.db.write, record_order_dependency, self.found(run_id="b" * 32)
        )
        error = self.assertRaises(
            UnknownTest, self.db.write, record_order_dependency, self.found(polluter="pkg.nope")
        )
        self.assertEqual(error.field, "polluter")
