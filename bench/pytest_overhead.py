"""What the pytest plugin adds to a pytest run: 5,000 fast tests, plain and recorded.

    .venv/bin/python bench/run.py --only pytest [--tests 5000] [--repeat 5]

A generated suite (as many modules of 100 tests as it takes; one test in twenty
fails with a seed, one in fifty is skipped) runs under ``pytest -q -p no:randomly``
and under the same with ``-p seedboard`` recording into a SQLite file (the spool
file during the tests, imported after; the import is waited for, outside the timed
part, before the next round).  The rounds are interleaved, in shuffled order; the
first of each only warms up.  Wall time and the pytest process's CPU time, as
medians and ratios.
"""

from __future__ import annotations

import random
import resource
import subprocess
import time
from pathlib import Path
from typing import Any

from common import BIN, environment, median_spread

PER_MODULE = 100


def suite(folder: Path, tests: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pytest.ini").write_text("[pytest]\n")
    for module in range(0, tests, PER_MODULE):
        lines = ["import random", ""]
        for n in range(module, min(module + PER_MODULE, tests)):
            if n % 20 == 7:
                lines += [f"def test_{n}():", "    assert random.random() < 0", ""]
            elif n % 50 == 3:
                lines += [f"def test_{n}():", "    import pytest", "    pytest.skip('no')", ""]
            else:
                lines += [f"def test_{n}():", "    assert random.random() < 1", ""]
        (folder / f"test_m{module // PER_MODULE:03}.py").write_text("\n".join(lines))
    return folder


def _run(folder: Path, recorded: bool, db: Path) -> tuple[float, float]:
    args = [str(BIN / "pytest"), "-q", "-p", "no:randomly", "-p", "no:cacheprovider"]
    if recorded:
        args[1:1] = ["-p", "seedboard"]
    env = environment(SEEDBOARD_DB=str(db))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(args, cwd=folder, env=env, stdout=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if recorded:  # the background import, out of the timed part
        subprocess.run(
            [str(BIN / "seedboard"), "import", "--wait", "--db", str(db)],
            cwd=folder,
            env=env,
            capture_output=True,
            check=False,
        )
    return wall, cpu


def measure(work: Path, tests: int, repeat: int) -> dict[str, Any]:
    folder = suite(work / "pytest-suite", tests)
    db = work / "pytest-bench.db"
    times: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    ratios_wall: list[float] = []
    ratios_cpu: list[float] = []
    for round_ in range(repeat + 1):
        order = [False, True]
        random.shuffle(order)
        got = {recorded: _run(folder, recorded, db) for recorded in order}
        if round_:
            for recorded, pair in got.items():
                times[recorded].append(pair)
            ratios_wall.append(got[True][0] / got[False][0])
            ratios_cpu.append(got[True][1] / got[False][1])
    plain_wall, plain_spread = median_spread([w for w, _ in times[False]])
    seed_wall, seed_spread = median_spread([w for w, _ in times[True]])
    ratio, ratio_spread = median_spread(ratios_wall)
    cpu_ratio, cpu_spread = median_spread(ratios_cpu)
    return {
        "tests": tests,
        "plain_s": plain_wall,
        "plain_spread": plain_spread,
        "seedboard_s": seed_wall,
        "seedboard_spread": seed_spread,
        "ratio": ratio,
        "ratio_spread": ratio_spread,
        "cpu_ratio": cpu_ratio,
        "cpu_ratio_spread": cpu_spread,
    }


def print_rows(figures: dict[str, Any]) -> None:
    title = f"pytest, {figures['tests']:,} fast tests, wall"
    print(f"{title:<44}{'median':>12}{'spread':>12}")
    print(f"  {'pytest -q':<42}{figures['plain_s']:>11.2f}s{figures['plain_spread']:>11.2f}s")
    print(
        f"  {'pytest -q -p seedboard':<42}{figures['seedboard_s']:>11.2f}s"
        f"{figures['seedboard_spread']:>11.2f}s"
    )
    print(f"  {'ratio, wall':<42}{figures['ratio']:>12.3f}{figures['ratio_spread']:>12.3f}")
    cpu, spread = figures["cpu_ratio"], figures["cpu_ratio_spread"]
    print(f"  {'ratio, CPU time':<42}{cpu:>12.3f}{spread:>12.3f}")
