"""``seedboard replay``: run failing (test, seed) pairs again, with the seed forced.

Each replay is a real ``trial --reporter=seedboard`` run of the one test with
``SEEDBOARD_SEED`` set, recorded like any run but marked as a replay, so the
triage sees whether the seed reproduces its failure.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seedboard.domain import BAD_OUTCOMES
from seedboard.settings import REPLAY_ENV, RUN_SEED_ENV, SEED_ENV

DEFAULT_TIMES = 3

RunTrial = Callable[[str, Mapping[str, str], Path], int]


@dataclass(frozen=True)
class Pair:
    test_id: str
    seed: int


@dataclass(frozen=True)
class Replayed:
    pair: Pair
    reproduced: int
    tries: int

    def line(self) -> str:
        verdict = "reproduced" if self.reproduced else "did not reproduce"
        return (
            f"{verdict} {self.reproduced}/{self.tries}: "
            f"{self.pair.test_id} with seed {self.pair.seed}"
        )


def run_trial(test_id: str, environ: Mapping[str, str], cwd: Path) -> int:
    """One recorded run of one test; its exit status (non-zero: the test failed)."""
    done = subprocess.run(
        [sys.executable, "-m", "twisted.trial", "--reporter=seedboard", test_id],
        cwd=cwd,
        env=dict(environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return done.returncode


def replay(
    pair: Pair,
    times: int,
    environ: Mapping[str, str],
    cwd: Path,
    run: RunTrial = run_trial,
) -> Replayed:
    forced = {k: v for k, v in environ.items() if k != RUN_SEED_ENV}
    forced.update({SEED_ENV: str(pair.seed), REPLAY_ENV: "1"})
    reproduced = sum(1 for _ in range(times) if run(pair.test_id, forced, cwd) != 0)
    return Replayed(pair, reproduced, times)


def failing_pairs_from_server(
    server: str, token: str | None, run_id: str | None
) -> tuple[str, list[Pair]] | None:
    """The failing pairs of a run on a server: ``run_id``, else its latest non-replay run."""
    base = server.rstrip("/")
    if run_id is None:
        listing = _get_json(f"{base}/api/v1/runs?limit=100", token)
        originals = [run for run in listing["runs"] if not run.get("is_replay")]
        if not originals:
            return None
        run_id = str(originals[0]["id"])
    detail = _get_json(f"{base}/api/v1/runs/{run_id}", token)
    bad = {outcome.value for outcome in BAD_OUTCOMES}
    pairs = {
        Pair(result["test_id"], result["seed"])
        for result in detail["results"]
        if result["outcome"] in bad and result["seed"] is not None
    }
    return run_id, sorted(pairs, key=lambda p: (p.test_id, p.seed))


def _get_json(url: str, token: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as got:
        return json.load(got)
