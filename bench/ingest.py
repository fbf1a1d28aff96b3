"""Ingest rate: results per second through the real HTTP API, against raw sqlite3."""

from __future__ import annotations

import json
import platform
import sqlite3
import time
import uuid
from http.client import HTTPConnection
from pathlib import Path

from common import new_token, start_server


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


def measure(work: Path, results: int, batch: int) -> dict[str, object]:
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


def print_rows(ingest: dict[str, float]) -> None:
    print(f"{'ingest':<28}{'results/s':>12}")
    print(f"  {'HTTP API into SQLite':<26}{ingest['http_results_per_s']:>12,.0f}")
    print(f"  {'raw sqlite3.executemany':<26}{ingest['raw_sqlite_results_per_s']:>12,.0f}")
    print(f"  {'ratio HTTP ÷ raw':<26}{ingest['ratio_to_raw']:>12.3f}")
