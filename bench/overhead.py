"""Reporter overhead: trial --reporter=seedboard ÷ trial --reporter=text on a generated suite.

The suite is tests/samples/manypkg: fast seeded tests, mostly passing, some
failing, erring, skipped or expected to fail.  ``--reporter=verbose`` is timed
too: it is trial's default reporter, whose output seedboard's repeats, so
seedboard ÷ verbose is the cost of recording alone.  Embedded mode records
every round into one database, as a project's ./seedboard.db is (the warm-up
round creates it).  Bytecode caching is left on, as in an installed package.
Each round runs the four in a shuffled order, half a second apart.

Wall time on a shared machine is noisy, so ``--instructions`` also counts the
instructions trial's own process executes (valgrind, child processes such as
the writer not counted), which the machine's load does not change.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import trial_phases
from common import BIN, SAMPLES, environment, median_spread, new_token, start_server, timed

from seedboard.settings import DB_ENV, TOKEN_ENV, URL_ENV

T = TypeVar("T")

Run = tuple[list[str], dict[str, str]]
"""A trial command line (after ``trial``) and its environment."""


def _runs(work: Path, tests: int, url: str, token: str) -> tuple[Path, dict[str, Run]]:
    """The suite's folder and the four trial runs compared: text, verbose, both modes."""
    project = work / "suite"
    shutil.copytree(SAMPLES, project)
    base = environment(PYTHONPATH=str(project), SEEDBOARD_SAMPLE_TESTS=str(tests))
    base.pop("PYTHONDONTWRITEBYTECODE", None)
    seedboard = ["--reporter=seedboard", "manypkg"]
    return project, {
        "text": (["--reporter=text", "manypkg"], base),
        "verbose": (["--reporter=verbose", "manypkg"], base),
        "embedded": (seedboard, {**base, DB_ENV: str(work / "embedded.db")}),
        "server": (seedboard, {**base, URL_ENV: url, TOKEN_ENV: token}),
    }


SETTLE = 0.5
"""Seconds between timed runs: what a run leaves behind (embedded mode's writer
closing its database, the server's checkpoint a quarter second after a batch) is
done before the next run starts, rather than charged to it."""


def _round_order(names: list[str], round_number: int) -> list[str]:
    """The runs of one round in a shuffled order, the same for the same round number:
    no variant always follows the same other one, or starts a round."""
    random.Random(round_number).shuffle(names)
    return names


def _rounds(
    work: Path, tests: int, repeat: int, run: Callable[[list[str], Path, dict[str, str]], T]
) -> dict[str, list[T]]:
    """``run(trial arguments, folder, environment)`` for each of the four trial runs,
    ``repeat`` timed rounds after one that warms caches and creates databases; what
    each call answered, per run."""
    db = work / "server.db"
    server, url = start_server(db, work)
    project, runs = _runs(work, tests, url, new_token(db))
    found: dict[str, list[T]] = {name: [] for name in runs}
    try:
        for i in range(repeat + 1):
            for name in _round_order(list(runs), i):
                args, env = runs[name]
                answer = run(args, project, env)
                if i:
                    found[name].append(answer)
                time.sleep(SETTLE)
    finally:
        server.terminate()
        server.wait()
    return found


def measure(work: Path, tests: int, repeat: int) -> dict[str, object]:
    """trial --reporter=seedboard ÷ trial --reporter=text, on a generated suite."""
    trial = str(BIN / "trial")
    times = _rounds(work, tests, repeat, lambda args, cwd, env: timed([trial, *args], cwd, env))
    text = statistics.median(times["text"])
    verbose = statistics.median(times["verbose"])
    return {
        name: {
            "median_s": median_spread(samples)[0],
            "spread_s": median_spread(samples)[1],
            "ratio_to_text": statistics.median(samples) / text,
            "ratio_to_verbose": statistics.median(samples) / verbose,
        }
        for name, samples in times.items()
    }


def count_instructions(work: Path, tests: int) -> dict[str, int]:
    """Instructions trial's own process executes in each run (valgrind's cachegrind)."""
    db = work / "server.db"
    server, url = start_server(db, work)
    project, runs = _runs(work, tests, url, new_token(db))
    python, trial = str(BIN / "python"), str(BIN / "trial")
    valgrind = [
        "valgrind",
        "--tool=cachegrind",
        "--cache-sim=no",
        "--cachegrind-out-file=/dev/null",
    ]
    counts: dict[str, int] = {}
    try:
        for name, (args, env) in runs.items():
            timed([trial, *args], project, env)  # warm-up: bytecode, databases
            done = subprocess.run(
                [*valgrind, python, trial, *args],
                cwd=project,
                env=env,
                capture_output=True,
                text=True,
            )
            found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
            assert found is not None, done.stderr[-2000:]
            counts[name] = int(found.group(1).replace(",", ""))
    finally:
        server.terminate()
        server.wait()
    return counts


PHASES = ("to the first test", "the tests", "done()", "to the exit")


def time_phases(work: Path, tests: int, repeat: int) -> dict[str, dict[str, float]]:
    """Each run's wall time split at trial's first test, its last, and its reporter's
    ``done()`` (``trial_phases.py``): medians in seconds, per measure and phase."""
    wrapper = [str(BIN / "python"), str(Path(__file__).parent / "trial_phases.py")]
    found = _rounds(
        work, tests, repeat, lambda args, cwd, env: _phases([*wrapper, *args], cwd, env)
    )
    return {
        name: {
            phase: statistics.median(run[k] for run in samples) for k, phase in enumerate(PHASES)
        }
        for name, samples in found.items()
    }


def _phases(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, ...]:
    started = time.monotonic()
    done = subprocess.run(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    ended = time.monotonic()
    line = next(x for x in done.stderr.splitlines() if x.startswith(trial_phases.MARKER))
    moments = json.loads(line.removeprefix(trial_phases.MARKER))
    return (
        moments["first_test"] - started,
        moments["last_test"] - moments["first_test"],
        moments["done_end"] - moments["done"],
        ended - moments["done_end"],
    )


def print_phases(phases: dict[str, dict[str, float]]) -> None:
    print(f"{'trial process phases (ms)':<28}" + "".join(f"{p:>18}" for p in PHASES))
    for name, row in phases.items():
        cells = "".join(f"{row[p] * 1000:>18.0f}" for p in PHASES)
        print(f"  --reporter={_reporter(name):<16}{cells}")


def _reporter(name: str) -> str:
    """What ``--reporter=`` a measure ran with."""
    return name if name in ("text", "verbose") else f"seedboard {name}"


def print_instructions(counts: dict[str, int]) -> None:
    print(f"{'trial process instructions':<28}{'count':>10}{'÷ text':>10}{'÷ verbose':>11}")
    for name, count in counts.items():
        reporter = _reporter(name)
        print(
            f"  --reporter={reporter:<24}{count / 1e9:>8.3f} G"
            f"{count / counts['text']:>10.3f}{count / counts['verbose']:>11.3f}"
        )


def print_rows(overhead: dict[str, dict[str, float]]) -> None:
    print(f"{'reporter overhead':<28}{'median':>10}{'spread':>10}{'÷ text':>10}{'÷ verbose':>11}")
    for name, row in overhead.items():
        reporter = _reporter(name)
        print(
            f"  trial --reporter={reporter:<18}"
            f"{row['median_s']:>8.2f} s{row['spread_s']:>8.2f} s{row['ratio_to_text']:>10.3f}"
            f"{row['ratio_to_verbose']:>11.3f}"
        )


def main() -> None:
    """This part alone: ``python bench/overhead.py [--tests N] [--repeat N] [--instructions]``."""
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=5000, help="tests in the generated suite")
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds of each trial run")
    parser.add_argument(
        "--phases",
        action="store_true",
        help="also split each run's wall time at trial's first and last test and done()",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count trial's own instructions under valgrind (one run each, slow)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="seedboard-bench-") as folder:
        timed_work, counted_work = Path(folder) / "timed", Path(folder) / "counted"
        timed_work.mkdir()
        print_rows(measure(timed_work, args.tests, args.repeat))  # type: ignore[arg-type]
        if args.phases:
            phased_work = Path(folder) / "phased"
            phased_work.mkdir()
            print_phases(time_phases(phased_work, args.tests, args.repeat))
        if args.instructions:
            counted_work.mkdir()
            print_instructions(count_instructions(counted_work, args.tests))


if __name__ == "__main__":
    main()
