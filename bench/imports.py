"""``seedboard import`` of a large JUnit file: its rate, against reading the file alone,
and its memory.

    .venv/bin/python bench/run.py --only import [--import-results 1000000]

A JUnit file of ``results`` test cases (1,000 tests, one case in fifty failing with
a message, a seed and a traceback) is written once; each round imports it into a
new SQLite database with ``seedboard import`` (a process of its own, timed in wall
and CPU time, with its peak resident memory), and, interleaved, reads it without
storing anything (``seedboard.imports.junit.read_junit`` in this process, CPU time),
the floor the store adds to.
"""

from __future__ import annotations

import resource
import subprocess
import time
from pathlib import Path
from typing import Any

from common import BIN, environment, median_spread

from seedboard.imports.common import Facts
from seedboard.imports.junit import read_junit

TESTS = 1000
FAIL_EVERY = 50


def junit_file(path: Path, results: int) -> Path:
    with path.open("wb") as out:
        out.write(b"<?xml version='1.0'?>\n<testsuites>\n")
        out.write(b"<testsuite name='bench' timestamp='2026-12-07T10:00:00' hostname='ci'>\n")
        for n in range(results):
            test = n % TESTS
            name = b"classname='pkg.test_mod%d.NetTests' name='test_%d' time='0.0012'" % (
                test // 20,
                test,
            )
            if n % FAIL_EVERY:
                out.write(b"<testcase %s/>\n" % name)
            else:
                out.write(
                    b"<testcase %s><failure type='twisted.trial.unittest.FailTest' "
                    b"message='[1, 2] != [2, 1] (random seed: %d)'>Traceback (most recent "
                    b'call last):\n  File "pkg/test_mod.py", line 41, in test_%d\n'
                    b"    self.assertEqual(got, want)\ntwisted.trial.unittest.FailTest: "
                    b"[1, 2] != [2, 1]</failure></testcase>\n" % (name, n, test)
                )
        out.write(b"</testsuite>\n</testsuites>\n")
    return path


def measure(work: Path, results: int, repeat: int) -> dict[str, Any]:
    source = junit_file(work / "bench-junit.xml", results)
    walls: list[float] = []
    cpus: list[float] = []
    reads: list[float] = []
    peak_mb = 0.0
    for round_ in range(repeat + 1):
        db = work / f"import-{round_}.db"
        subprocess.run(
            [str(BIN / "seedboard"), "db", "upgrade", "--db", str(db)],
            env=environment(),
            capture_output=True,
            check=True,
        )
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(
            [str(BIN / "seedboard"), "import", str(source), "--db", str(db)],
            env=environment(),
            capture_output=True,
            check=True,
        )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        peak_mb = max(peak_mb, after.ru_maxrss / 1024)
        read_started = time.process_time()
        with source.open("rb") as file:
            read_junit(file, lambda result: None, Facts())
        read_cpu = time.process_time() - read_started
        db.unlink()
        if round_:  # the first round only warms up
            walls.append(results / wall)
            cpus.append(results / cpu)
            reads.append(results / read_cpu)
    wall_rate, wall_spread = median_spread(walls)
    cpu_rate, cpu_spread = median_spread(cpus)
    read_rate, read_spread = median_spread(reads)
    return {
        "results": results,
        "file_mb": source.stat().st_size / 2**20,
        "import_results_per_s": wall_rate,
        "import_spread": wall_spread,
        "import_cpu_results_per_s": cpu_rate,
        "import_cpu_spread": cpu_spread,
        "read_only_results_per_s": read_rate,
        "read_only_spread": read_spread,
        "peak_rss_mb": peak_mb,
    }


def print_rows(figures: dict[str, Any]) -> None:
    title = f"import, {figures['results']:,} JUnit results ({figures['file_mb']:.0f} MB)"
    print(f"{title:<44}{'median':>12}{'spread':>12}")
    for label, rate, spread in [
        ("seedboard import into SQLite, wall", "import_results_per_s", "import_spread"),
        ("seedboard import into SQLite, CPU", "import_cpu_results_per_s", "import_cpu_spread"),
        ("reading the file alone, CPU", "read_only_results_per_s", "read_only_spread"),
    ]:
        print(f"  {label:<42}{figures[rate]:>10,.0f}/s{figures[spread]:>10,.0f}/s")
    print(f"  {'peak resident memory of the import':<42}{figures['peak_rss_mb']:>10,.0f} MB")
