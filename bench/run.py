"""Seedboard's benchmark: one command, a table on stdout, the figures in bench/results.json.

    .venv/bin/python bench/run.py [--tests 5000] [--repeat 5] [--results 100000]

Each comparison is measured side by side in one run, interleaved, and given as
a ratio, so a noisy machine moves both sides alike.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from http.client import HTTPConnection
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SAMPLES = REPO / "tests" / "samples"


def median_spread(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), max(samples) - min(samples)


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEEDBOARD_")}
    env.update(extra)
    return env


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def start_server(db: Path, work: Path) -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [str(BIN / "seedboard"), "serve", "--db", str(db), "--port", "0"],
        cwd=work,
        env=environment(),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    line = server.stdout.readline().strip()
    return server, line.rsplit(" at ", 1)[1].rstrip("/")


def new_token(db: Path) -> str:
    return subprocess.run(
        [
            str(BIN / "seedboard"),
            "token",
            "create",
            f"bench-{uuid.uuid4().hex[:8]}",
            "--db",
            str(db),
        ],
        env=environment(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def reporter_overhead(work: Path, tests: int, repeat: int) -> dict[str, object]:
    """trial --reporter=seedboard ÷ trial --reporter=text, on a generated suite."""
    project = work / "suite"
    shutil.copytree(SAMPLES, project)
    base = environment(PYTHONPATH=str(project), SEEDBOARD_SAMPLE_TESTS=str(tests))
    db = work / "server.db"
    server, url = start_server(db, work)
    token = new_token(db)
    trial = [str(BIN / "trial")]
    variants: dict[str, Callable[[int], float]] = {
        "text": lambda i: timed([*trial, "--reporter=text", "manypkg"], project, base),
        "embedded": lambda i: timed(
            [*trial, "--reporter=seedboard", "manypkg"],
            project,
            {**base, "SEEDBOARD_DB": str(work / f"embedded-{i}.db")},
        ),
        "server": lambda i: timed(
            [*trial, "--reporter=seedboard", "manypkg"],
            project,
            {**base, "SEEDBOARD_URL": url, "SEEDBOARD_TOKEN": token},
        ),
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    try:
        for i in range(repeat + 1):
            for name, run in variants.items():
                elapsed = run(i)
                if i:  # the first round warms caches and creates databases
                    times[name].append(elapsed)
    finally:
        server.terminate()
        server.wait()
    text = statistics.median(times["text"])
    return {
        name: {
            "median_s": median_spread(samples)[0],
            "spread_s": median_spread(samples)[1],
            "ratio_to_text": statistics.median(samples) / text,
        }
        for name, samples in times.items()
    }


def result_rows(count: int) -> list[dict[str, object]]:
    return [
        {
            "test_id": f"pkg.test_mod.Tests.test_{i % 2000:05d}",
            "outcome": "failure" if i % 50 == 0 else "success",
            "duration": 0.001 * (i % 7),
            "seed": i * 7919 % 2**32,
            "message": "1 != 2 (random seed: 5)" if i % 50 == 0 else None,
            "traceback": "Traceback (most recent call last):\n  File ...\n"
            if i % 50 == 0
            else None,
            "file": "pkg/test_mod.py",
            "line": 10 + i % 2000,
        }
        for i in range(count)
    ]


def ingest_rate(work: Path, results: int, batch: int) -> dict[str, object]:
    """Results per second through the real HTTP API, against raw sqlite3.executemany."""
    rows = result_rows(results)
    db = work / "ingest.db"
    server, url = start_server(db, work)
    token = new_token(db)
    host, port = url.removeprefix("http://").split(":")
    connection = HTTPConnection(host, int(port), timeout=60)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    run_id = uuid.uuid4().hex
    run = {
        "started_at": "2026-11-25T17:00:00+00:00",
        "host": "bench",
        "python_version": platform.python_version(),
        "twisted_version": "26",
        "command": "bench",
        "order_seed": None,
        "branch": "main",
        "commit": None,
        "build_url": None,
    }
    bodies = [
        json.dumps({"results": rows[start : start + batch]}).encode()
        for start in range(0, results, batch)
    ]
    try:
        connection.request("PUT", f"/api/v1/runs/{run_id}", json.dumps(run), headers)
        connection.getresponse().read()
        started = time.perf_counter()
        for number, body in enumerate(bodies):
            connection.request("PUT", f"/api/v1/runs/{run_id}/batches/{number}", body, headers)
            response = connection.getresponse()
            response.read()
            assert response.status == 201, response.status
        http_seconds = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait()
    raw_seconds = raw_sqlite_insert(work / "raw.db", rows)
    http_rate, raw_rate = results / http_seconds, results / raw_seconds
    return {
        "results": results,
        "batch": batch,
        "http_results_per_s": http_rate,
        "raw_sqlite_results_per_s": raw_rate,
        "ratio_to_raw": http_rate / raw_rate,
    }


def raw_sqlite_insert(path: Path, rows: list[dict[str, object]]) -> float:
    """The floor: the same rows in one executemany, one transaction, WAL as the server."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE results (id INTEGER PRIMARY KEY, run_id TEXT, test TEXT, outcome TEXT,"
        " duration REAL, seed INTEGER, message TEXT, traceback TEXT, file TEXT, line INTEGER)"
    )
    values = [
        (
            "r",
            r["test_id"],
            r["outcome"],
            r["duration"],
            r["seed"],
            r["message"],
            r["traceback"],
            r["file"],
            r["line"],
        )
        for r in rows
    ]
    started = time.perf_counter()
    with conn:
        conn.executemany("INSERT INTO results VALUES (NULL,?,?,?,?,?,?,?,?,?)", values)
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def print_table(figures: dict[str, dict[str, object]]) -> None:
    overhead = figures["reporter_overhead"]
    print(f"{'reporter overhead':<28}{'median':>10}{'spread':>10}{'÷ text':>10}")
    for name, row in overhead.items():
        assert isinstance(row, dict)
        print(
            f"  trial --reporter={'seedboard ' + name if name != 'text' else 'text':<18}"
            f"{row['median_s']:>8.2f} s{row['spread_s']:>8.2f} s{row['ratio_to_text']:>10.3f}"
        )
    ingest = figures["ingest"]
    print(f"\n{'ingest':<28}{'results/s':>12}")
    print(f"  {'HTTP API into SQLite':<26}{ingest['http_results_per_s']:>12,.0f}")
    print(f"  {'raw sqlite3.executemany':<26}{ingest['raw_sqlite_results_per_s']:>12,.0f}")
    print(f"  {'ratio HTTP ÷ raw':<26}{ingest['ratio_to_raw']:>12.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=5000, help="tests in the generated suite")
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds of each trial run")
    parser.add_argument("--results", type=int, default=100_000, help="results posted for ingest")
    parser.add_argument("--batch", type=int, default=1000, help="results per batch")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="seedboard-bench-") as folder:
        work = Path(folder)
        figures = {
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
            "reporter_overhead": reporter_overhead(work, args.tests, args.repeat),
            "ingest": ingest_rate(work, args.results, args.batch),
        }
    (REPO / "bench" / "results.json").write_text(json.dumps(figures, indent=2) + "\n")
    print_table(figures)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
