"""``seedboard bisect RUN_ID TEST_ID``: find the test whose presence before a failing test
makes it fail.

The run's results, in the order they ran, name the tests that ran before the
victim.  The victim runs alone, then after all of them, then after halves of them
(``seedboard.triage.order.narrow``), each a real trial run in a process of its own
(``seedboard.in_order``), every test with the seed it had in the run, recording
nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import quote

from seedboard.domain import OUTCOME_OF, Outcome, Result
from seedboard.errors import one_line
from seedboard.in_order import VICTIM_FAILED, VICTIM_PASSED, ordered_line
from seedboard.remote import get_json, post_json
from seedboard.settings import REPLAY_ENV, RUN_SEED_ENV, SEED_ENV
from seedboard.triage.order import narrow
from seedboard.triage.snippets import order_command


class BisectError(Exception):
    """Why a bisection cannot start or go on, in one line for the user."""


@dataclass(frozen=True, slots=True)
class Placed:
    """What a bisection reads of a result: the test, how it ended, and where it ran."""

    test_id: str
    outcome: Outcome
    seed: int | None
    position: int | None


@dataclass(frozen=True, slots=True)
class Hunt:
    """A failing test of a run and the tests that ran before it, in their order."""

    run_id: str
    victim: str
    predecessors: list[str]
    seed: int | None
    """The failing result's seed; None when it had none."""
    run_seed: int | None
    seeds: dict[str, int]
    """The seed each test had in the run (the first result's, for a test that ran twice)."""

    def command(self, polluter: str) -> str:
        return order_command(polluter, self.victim, self.seed, self.run_seed)


def hunt_of(run_id: str, run_seed: int | None, results: Sequence[Placed], victim: str) -> Hunt:
    """The hunt for ``victim``'s polluter in a run's ``results``; ``BisectError`` when the
    test did not run or did not fail there, or the run did not record positions."""
    own = [result for result in results if result.test_id == victim]
    if not own:
        raise BisectError(f"test {victim} did not run in run {run_id}")
    failed = [result for result in own if result.outcome.is_bad]
    if not failed:
        raise BisectError(f"test {victim} did not fail in run {run_id}: nothing to bisect")
    where = [result.position for result in failed if result.position is not None]
    if not where:
        raise BisectError(
            f"run {run_id} did not record the order its tests ran in (its reporter is older "
            "than positions); record a new run"
        )
    first_failure = min(where)
    before: dict[str, int] = {}
    for result in results:
        if result.position is not None and result.position < first_failure:
            before.setdefault(result.test_id, result.position)
    predecessors = sorted(before, key=before.__getitem__)
    seeds: dict[str, int] = {}
    for result in (failed[0], *results):  # the victim's failure first: its seed wins
        if result.seed is not None:
            seeds.setdefault(result.test_id, result.seed)
    return Hunt(run_id, victim, predecessors, failed[0].seed, run_seed, seeds)


class Verdict(StrEnum):
    FAILS_ALONE = "fails alone, not order-dependent"
    DID_NOT_REPRODUCE = "did not reproduce"
    ORDER_DEPENDENT = "order-dependent"
    NO_SINGLE_POLLUTER = "order-dependent, but no single test before it makes it fail"


@dataclass(frozen=True, slots=True)
class Found:
    verdict: Verdict
    polluter: str | None
    runs: int
    """Trial runs the bisection took."""


FailsAfter = Callable[[Sequence[str]], bool]
"""Whether the victim fails when these tests run before it (a trial run)."""


def bisect(hunt: Hunt, fails_after: FailsAfter, say: Callable[[str], None]) -> Found:
    """Run the victim alone, after every test before it, then narrow; ``say`` each step."""
    runs = 0

    def fails(before: Sequence[str]) -> bool:
        nonlocal runs
        runs += 1
        failed = fails_after(before)
        say(f"run {runs}: {_described(before)}: {'fails' if failed else 'passes'}")
        return failed

    if fails([]):
        return Found(Verdict.FAILS_ALONE, None, runs)
    if not hunt.predecessors or not fails(hunt.predecessors):
        return Found(Verdict.DID_NOT_REPRODUCE, None, runs)
    polluter = narrow(hunt.predecessors, fails)
    if polluter is None:
        return Found(Verdict.NO_SINGLE_POLLUTER, None, runs)
    return Found(Verdict.ORDER_DEPENDENT, polluter, runs)


def _described(before: Sequence[str]) -> str:
    if not before:
        return "alone"
    if len(before) == 1:
        return f"after {before[0]}"
    return f"after {len(before)} tests ({before[0]} … {before[-1]})"


def verdict_lines(hunt: Hunt, found: Found) -> list[str]:
    """What the command prints once the bisection is over."""
    runs = f"{found.runs} trial run{'' if found.runs == 1 else 's'}"
    if found.polluter is None:
        return [f"{found.verdict}: {hunt.victim} ({runs})"]
    return [
        f"order-dependent: {hunt.victim} fails after {found.polluter} ({runs})",
        f"  to see it: {hunt.command(found.polluter)}",
    ]


def placed_in_run(results: Sequence[Result]) -> list[Placed]:
    return [Placed(r.test_id, r.outcome, r.seed, r.position) for r in results]


def placed_from_server(
    server: str, token: str | None, run_id: str
) -> tuple[int | None, list[Placed]]:
    """A run's run seed and results, from a server's ``GET /api/v1/runs/<id>``."""
    try:
        detail = get_json(f"{server.rstrip('/')}/api/v1/runs/{quote(run_id, safe='')}", token)
    except HTTPError as error:
        if error.code == 404:
            raise BisectError(f"no run {run_id} on {server}") from None
        raise BisectError(f"{server} answered {error.code} for run {run_id}") from None
    except OSError as error:
        raise BisectError(f"cannot read run {run_id} from {server}: {one_line(error)}") from None
    results = [
        Placed(r["test_id"], OUTCOME_OF[r["outcome"]], r["seed"], r.get("position"))
        for r in detail["results"]
    ]
    return detail["run"]["run_seed"], results


def record_on_server(server: str, token: str | None, hunt: Hunt, polluter: str) -> None:
    """``POST /api/v1/runs/<id>/order-dependencies``; ``BisectError`` if refused."""
    url = f"{server.rstrip('/')}/api/v1/runs/{quote(hunt.run_id, safe='')}/order-dependencies"
    try:
        post_json(url, token, {"victim": hunt.victim, "polluter": polluter, "seed": hunt.seed})
    except HTTPError as error:
        raise BisectError(
            f"{server} did not record the verdict: {error.code} {_said(error)}"
        ) from None
    except OSError as error:
        raise BisectError(f"cannot record the verdict on {server}: {one_line(error)}") from None


def _said(error: HTTPError) -> str:
    """The message of an API error answer, or its reason."""
    try:
        return str(json.load(error)["error"]["message"])
    except (ValueError, KeyError, TypeError, OSError):
        return str(error.reason)


def trial_in_order(hunt: Hunt, environ: Mapping[str, str], cwd: Path) -> FailsAfter:
    """Real trial runs of the victim after the tests given, each test with its seed in the
    run: forcing the victim's seed on every test would change what the tests before it
    draw, and so what they leave behind."""
    env = {k: v for k, v in environ.items() if k not in (SEED_ENV, RUN_SEED_ENV, REPLAY_ENV)}
    if hunt.run_seed is not None:  # a test with no recorded seed draws as it did then
        env[RUN_SEED_ENV] = str(hunt.run_seed)

    def fails_after(before: Sequence[str]) -> bool:
        tests = [*before, hunt.victim]
        done = subprocess.run(
            [sys.executable, "-m", "seedboard.in_order"],
            input="".join(ordered_line(test, hunt.seeds.get(test)) for test in tests),
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode in (VICTIM_PASSED, VICTIM_FAILED):
            return done.returncode == VICTIM_FAILED
        lines = (done.stderr or done.stdout).strip().splitlines()
        why = lines[-1].removeprefix("seedboard: ") if lines else ""
        raise BisectError(why or f"trial exited with {done.returncode}")

    return fails_after
