"""Reporter overhead: trial --reporter=seedboard ÷ trial --reporter=text on a generated suite.

The suite is tests/samples/manypkg: fast seeded tests, mostly passing, some
failing, erring, skipped or expected to fail.  ``--reporter=verbose`` is timed
too: it is trial's default reporter, whose output seedboard's repeats, so
seedboard ÷ verbose is the cost of recording alone.  Embedded mode records
every round into one database, as a project's ./seedboard.db is (the warm-up
round creates it).  Bytecode caching is left on, as in an installed package.
Each round runs the five (with seedboard's output alone, recording nothing: the
floor) in a shuffled order, half a second apart.

Wall time on a shared machine is noisy, so ``--instructions`` also counts the
instructions trial's own process executes (valgrind, child processes such as
embedded mode's importer not counted), which the machine's load does not change.

Embedded mode's import runs after trial exits; each run waits for it to end
before the next run starts, so it is charged to no run (its time is shown apart).

``measure_real_suite`` times a real suite the same way, text against seedboard
embedded: Twisted's own ``REAL_SUITE``.
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
from seedboard_reporter.spool_file import SUFFIX

T = TypeVar("T")

Run = tuple[list[str], dict[str, str]]
"""A trial command line (after ``trial``) and its environment."""

OUTPUT = "output alone"
"""seedboard's tree output without recording (``plugins/``): the floor of its cost."""
BENCH_PLUGINS = Path(__file__).parent / "plugins"


def _runs(work: Path, tests: int, url: str, token: str) -> tuple[Path, dict[str, Run]]:
    """The suite's folder and the trial runs compared: text, verbose, seedboard's output
    alone, both modes."""
    project = work / "suite"
    shutil.copytree(SAMPLES, project)
    base = environment(PYTHONPATH=str(project), SEEDBOARD_SAMPLE_TESTS=str(tests))
    base.pop("PYTHONDONTWRITEBYTECODE", None)
    seedboard = ["--reporter=seedboard", "manypkg"]
    return project, {
        "text": (["--reporter=text", "manypkg"], base),
        "verbose": (["--reporter=verbose", "manypkg"], base),
        OUTPUT: (
            ["--reporter=seedboard-output", "manypkg"],
            {**base, "PYTHONPATH": f"{project}:{BENCH_PLUGINS}"},
        ),
        "embedded": (seedboard, {**base, DB_ENV: str(work / "embedded.db")}),
        "server": (seedboard, {**base, URL_ENV: url, TOKEN_ENV: token}),
    }


SETTLE = 0.5
"""Seconds between timed runs: what a run leaves behind (the server's checkpoint a
quarter second after a batch) is done before the next run starts, rather than
charged to it."""
REAL_SUITE = ("twisted.test.test_defer", "twisted.test.test_task", "twisted.trial.test")
"""Twisted's own tests (about 1,000, some slow): the real suite of the issue's target."""


def wait_for_imports(project: Path) -> float:
    """Wait until embedded mode's importer has taken every spool file in ``project``;
    how long that took."""
    started = time.perf_counter()
    spool = project / ".seedboard" / "spool"
    while any(spool.glob(f"*{SUFFIX}")):
        if time.perf_counter() - started > IMPORT_TIMEOUT:  # it failed: the file stays
            raise RuntimeError(f"the import of {sorted(spool.glob('*' + SUFFIX))} did not end")
        time.sleep(0.01)
    return time.perf_counter() - started


IMPORT_TIMEOUT = 300.0


def _round_order(names: list[str], round_number: int) -> list[str]:
    """The runs of one round in a shuffled order, the same for the same round number:
    no variant always follows the same other one, or starts a round."""
    random.Random(round_number).shuffle(names)
    return names


def _rounds(
    work: Path, tests: int, repeat: int, run: Callable[[list[str], Path, dict[str, str]], T]
) -> dict[str, list[T]]:
    """``run(trial arguments, folder, environment)`` for each of the trial runs,
    ``repeat`` timed rounds after one that warms caches and creates databases; what
    each call answered, per run."""
    db = work / "server.db"
    server, url = start_server(db, work)
    project, runs = _runs(work, tests, url, new_token(db))
    try:
        return _interleaved(project, runs, repeat, run)
    finally:
        server.terminate()
        server.wait()


IMPORT = "embedded import after exit"


def _interleaved(
    project: Path,
    runs: dict[str, Run],
    repeat: int,
    run: Callable[[list[str], Path, dict[str, str]], T],
) -> dict[str, list[T]]:
    found: dict[str, list[T]] = {name: [] for name in runs}
    imports: list[float] = []
    for i in range(repeat + 1):
        for name in _round_order(list(runs), i):
            args, env = runs[name]
            answer = run(args, project, env)
            imported = wait_for_imports(project)
            if i:
                found[name].append(answer)
                if name == "embedded":
                    imports.append(imported)
            time.sleep(SETTLE)
    if imports and all(isinstance(x, float) for x in found["embedded"]):
        found[IMPORT] = imports  # type: ignore[assignment]
    return found


def measure_real_suite(work: Path, repeat: int) -> dict[str, object]:
    """trial --reporter=seedboard (embedded) ÷ --reporter=text on ``REAL_SUITE``."""
    trial = str(BIN / "trial")
    base = environment()
    base.pop("PYTHONDONTWRITEBYTECODE", None)
    runs: dict[str, Run] = {
        "text": (["--reporter=text", *REAL_SUITE], base),
        "embedded": (
            ["--reporter=seedboard", *REAL_SUITE],
            {**base, DB_ENV: str(work / "real.db")},
        ),
    }
    times = _interleaved(work, runs, repeat, lambda args, cwd, env: timed([trial, *args], cwd, env))
    return _ratios(times)


def measure(work: Path, tests: int, repeat: int) -> dict[str, object]:
    """trial --reporter=seedboard ÷ trial --reporter=text, on a generated suite."""
    trial = str(BIN / "trial")
    times = _rounds(work, tests, repeat, lambda args, cwd, env: timed([trial, *args], cwd, env))
    return _ratios(times)


def _ratios(times: dict[str, list[float]]) -> dict[str, object]:
    """Each run's median and spread, and its median ÷ text's (and ÷ verbose's, if timed).

    The ratio of medians, and the median of each round's own ratio (runs of one round
    are seconds apart, so the machine's load moves both alike)."""
    text = times["text"]
    verbose = times.get("verbose", text)
    return {
        name: {
            "median_s": median_spread(samples)[0],
            "spread_s": median_spread(samples)[1],
            "ratio_to_text": statistics.median(samples) / statistics.median(text),
            "ratio_to_verbose": statistics.median(samples) / statistics.median(verbose),
            "round_ratio_to_text": statistics.median(
                a / b for a, b in zip(samples, text, strict=True)
            ),
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
                # One hash seed for every run: string hashes move dict probes, and so
                # the count, by a few tenths of a percent from one process to the next.
                env={**env, "PYTHONHASHSEED": "0"},
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
    if name == OUTPUT:
        return "seedboard-output"
    return name if name in ("text", "verbose") else f"seedboard {name}"


def print_instructions(counts: dict[str, int]) -> None:
    print(f"{'trial process instructions':<28}{'count':>10}{'÷ text':>10}{'÷ verbose':>11}")
    for name, count in counts.items():
        reporter = _reporter(name)
        print(
            f"  --reporter={reporter:<24}{count / 1e9:>8.3f} G"
            f"{count / counts['text']:>10.3f}{count / counts['verbose']:>11.3f}"
        )


def print_rows(overhead: dict[str, dict[str, float]], title: str = "reporter overhead") -> None:
    print(
        f"{title:<38}{'median':>10}{'spread':>10}{'÷ text':>10}{'÷ verbose':>11}"
        f"{'round ÷ text':>14}"
    )
    for name, row in overhead.items():
        label = name if name == IMPORT else f"trial --reporter={_reporter(name)}"
        print(
            f"  {label:<36}"
            f"{row['median_s']:>8.2f} s{row['spread_s']:>8.2f} s{row['ratio_to_text']:>10.3f}"
            f"{row['ratio_to_verbose']:>11.3f}{row['round_ratio_to_text']:>14.3f}"
        )


def print_real_suite(overhead: dict[str, dict[str, float]]) -> None:
    print_rows(overhead, f"real suite ({' '.join(REAL_SUITE)})")


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
        "--real-suite",
        action="store_true",
        help=f"also time the real suite ({', '.join(REAL_SUITE)}), text against embedded",
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
        if args.real_suite:
            real_work = Path(folder) / "real"
            real_work.mkdir()
            print_real_suite(measure_real_suite(real_work, args.repeat))  # type: ignore[arg-type]
        if args.instructions:
            counted_work.mkdir()
            print_instructions(count_instructions(counted_work, args.tests))


if __name__ == "__main__":
    main()
