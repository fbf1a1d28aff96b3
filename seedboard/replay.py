"""``seedboard replay``: run failing (test, seed) pairs again, with the seed forced, and
judge the test, not trial's exit status.

Each try is a real ``trial --reporter=seedboard`` run of the one test with
``SEEDBOARD_SEED`` set and a run id chosen here (``SEEDBOARD_RUN_ID``), recorded like
any run but marked as a replay.  The run is then read back from where it was recorded
(a database or a server) and judged by ``seedboard.triage.replays`` against the
original failure.  Before anything runs, trial's loader is asked whether the test id
names exactly one test: a name it cannot find or import is a mistake of the command,
and nothing is recorded.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from uuid import uuid4

from seedboard.domain import BAD_OUTCOMES, Outcome, Result
from seedboard.remote import get_json
from seedboard.settings import (
    REPLAY_ENV,
    RUN_ID_ENV,
    RUN_SEED_ENV,
    SEED_ENV,
    WAIT_ENV,
    describe_url,
)
from seedboard.triage.replays import Original, Tried, Try, Verdict, judge_try, short
from seedboard.triage.seed_life import SeedLife, SeedState

if TYPE_CHECKING:
    from seedboard.db.engine import Database

DEFAULT_TIMES = 3

RunTrial = Callable[[str, Mapping[str, str], Path], str]
"""Runs trial on one test id in an environment and directory; what it printed last."""


class ReplayError(Exception):
    """A replay that cannot be made or judged; the message is the one line to print."""


@dataclass(frozen=True, slots=True)
class Pair:
    test_id: str
    seed: int


@dataclass(frozen=True, slots=True)
class KnownSeed:
    """A recorded failing seed: its newest failure and where the seed stands."""

    pair: Pair
    original: Original
    life: SeedLife


@dataclass(frozen=True, slots=True)
class RecordedRun:
    """A replay's run read back: the commit it ran at and its results."""

    commit: str | None
    results: list[Result]


class Records(Protocol):
    """Where runs are recorded: the failing seeds known there, and a replay's run."""

    where: str

    def known_seeds(self, test_id: str | None = None) -> list[KnownSeed]: ...

    def failing_pairs(self, run_id: str | None) -> tuple[str, list[Pair]] | None:
        """A run's failing pairs: of ``run_id``, else of the latest run that is not a
        replay; None when there is no such run."""
        ...

    def run(self, run_id: str) -> RecordedRun | None: ...


def run_trial(test_id: str, environ: Mapping[str, str], cwd: Path) -> str:
    """One recorded run of one test; the last line it printed (the reporter's receipt)."""
    done = subprocess.run(
        [sys.executable, "-m", "twisted.trial", "--reporter=seedboard", test_id],
        cwd=cwd,
        env=dict(environ),
        capture_output=True,
        text=True,
        check=False,
    )
    lines = (done.stdout + done.stderr).strip().splitlines()
    return lines[-1] if lines else ""


def check_loadable(test_id: str, environ: Mapping[str, str], cwd: Path) -> None:
    """Raise ``ReplayError`` unless trial, run here, would load exactly this one test."""
    done = subprocess.run(
        [sys.executable, "-m", "seedboard.loading", test_id],
        cwd=cwd,
        env={k: v for k, v in environ.items() if k != RUN_ID_ENV},
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        found = json.loads(done.stdout)
        tests, errors = list(found["tests"]), list(found["errors"])
    except (ValueError, KeyError, TypeError):
        last = (done.stderr.strip().splitlines() or ["no answer"])[-1]
        raise ReplayError(f"cannot ask trial's loader about {test_id}: {last}") from None
    if errors:
        raise ReplayError(
            f"trial cannot load {errors[0]} (check the name, the directory and PYTHONPATH)"
        )
    if tests != [test_id]:
        raise ReplayError(f"{test_id} names {len(tests)} tests, not one: replay a single test id")


def replay(
    pair: Pair,
    times: int,
    environ: Mapping[str, str],
    cwd: Path,
    records: Records,
    original: Original | None,
    run: RunTrial = run_trial,
    new_run_id: Callable[[], str] = lambda: uuid4().hex,
) -> Verdict:
    """Run ``pair`` ``times`` times as recorded replays and judge each try from its record."""
    forced = {k: v for k, v in environ.items() if k != RUN_SEED_ENV}
    # WAIT: each replay is read back from the database as soon as trial exits.
    forced.update({SEED_ENV: str(pair.seed), REPLAY_ENV: "1", WAIT_ENV: "1"})
    tries: list[Tried] = []
    commit: str | None = None
    for _ in range(times):
        run_id = new_run_id()
        said = run(pair.test_id, {**forced, RUN_ID_ENV: run_id}, cwd)
        recorded = records.run(run_id)
        if recorded is None:
            raise ReplayError(
                f"the replay of {pair.test_id} was not recorded in {records.where}: {said}"
            )
        commit = recorded.commit
        mine = [r for r in recorded.results if r.test_id == pair.test_id]
        tries.append(judge_try(mine, original))
    return Verdict(pair.test_id, pair.seed, tuple(tries), commit, original)


def original_of(records: Records, pair: Pair) -> Original | None:
    """The newest recorded failure of ``pair``, None if it never failed here."""
    for known in records.known_seeds(pair.test_id):
        if known.pair == pair:
            return known.original
    return None


def still_open(seeds: Iterable[KnownSeed], matches: Callable[[str], bool]) -> list[KnownSeed]:
    """The seeds not fixed yet whose test ``matches``: what ``replay --known`` replays."""
    return [s for s in seeds if s.life.state is not SeedState.FIXED and matches(s.pair.test_id)]


STILL_FAILING = "still failing"
"""``replay --known``'s status of a seed that failed again here: the command then exits 1."""


def known_row(verdict: Verdict) -> tuple[str, str]:
    """``replay --known``'s status of a replayed seed, and what it adds."""
    tries = len(verdict.tries)
    if verdict.still_fails:
        unsteady = "" if verdict.seed_controls else " — the seed does not control it"
        return STILL_FAILING, f"failed {verdict.failed}/{tries}{unsteady}"
    if verdict.tries and verdict.count(Try.PASSED) == tries:
        if verdict.is_fix_check:
            return "passes here", f"fixed at {short(verdict.commit)}"
        return "passes here", "did not reproduce, at the commit it failed at"
    return "did not run", f"did not run {verdict.count(Try.NOT_RUN)}/{tries}"


def table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    """Rows as aligned columns, the last one left ragged."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    ]


class DatabaseRecords:
    """Replays recorded in a database, read with the store functions."""

    def __init__(self, database: Database, url: str) -> None:
        self.database = database
        self.where = describe_url(url)

    def known_seeds(self, test_id: str | None = None) -> list[KnownSeed]:
        from seedboard.services.seeds import known_seeds

        return [
            KnownSeed(Pair(k.test_id, k.seed), Original(k.fingerprint, k.commit), k.life)
            for k in self.database.read(known_seeds, test_id)
        ]

    def failing_pairs(self, run_id: str | None) -> tuple[str, list[Pair]] | None:
        from seedboard.db.runs import failing_seeds

        found = self.database.read(failing_seeds, run_id)
        if found is None:
            return None
        run, pairs = found
        return run.id, [Pair(test_id, seed) for test_id, seed in pairs]

    def run(self, run_id: str) -> RecordedRun | None:
        from seedboard.db.runs import get_run

        detail = self.database.read(get_run, run_id)
        if detail is None:
            return None
        return RecordedRun(detail.summary.start.commit, detail.results)


class ServerRecords:
    """Replays recorded on a server, read through its JSON API."""

    def __init__(self, server: str, token: str | None) -> None:
        self._base = server.rstrip("/")
        self._token = token
        self.where = self._base

    def known_seeds(self, test_id: str | None = None) -> list[KnownSeed]:
        query = "" if test_id is None else "?" + urllib.parse.urlencode({"test": test_id})
        listing = get_json(f"{self._base}/api/v1/seeds{query}", self._token)
        return [
            KnownSeed(
                Pair(s["test_id"], s["seed"]),
                Original(s["fingerprint"], s["commit"]),
                SeedLife(s["seed"], SeedState(s["status"]), s["status_commit"]),
            )
            for s in listing["seeds"]
        ]

    def failing_pairs(self, run_id: str | None) -> tuple[str, list[Pair]] | None:
        if run_id is None:
            listing = get_json(f"{self._base}/api/v1/runs?limit=1&replay=exclude", self._token)
            if not listing["runs"]:
                return None
            run_id = str(listing["runs"][0]["id"])
        detail = self._run_detail(run_id)
        if detail is None:
            return None
        bad = {outcome.value for outcome in BAD_OUTCOMES}
        pairs = {
            Pair(result["test_id"], result["seed"])
            for result in detail["results"]
            if result["outcome"] in bad and result["seed"] is not None
        }
        return run_id, sorted(pairs, key=lambda p: (p.test_id, p.seed))

    def run(self, run_id: str) -> RecordedRun | None:
        detail = self._run_detail(run_id)
        if detail is None:
            return None
        return RecordedRun(detail["run"]["commit"], [_result(r) for r in detail["results"]])

    def _run_detail(self, run_id: str) -> Any:
        """``GET /api/v1/runs/<run_id>``'s answer; None for a 404."""
        try:
            return get_json(
                f"{self._base}/api/v1/runs/{urllib.parse.quote(run_id, safe='')}", self._token
            )
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise


def _result(answer: Mapping[str, Any]) -> Result:
    return Result(
        test_id=answer["test_id"],
        outcome=Outcome(answer["outcome"]),
        duration=answer["duration"],
        seed=answer["seed"],
        exception_type=answer["exception_type"],
        message=answer["message"],
        fingerprint=answer["fingerprint"],
    )
