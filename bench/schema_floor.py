"""The floor of ingest at the SQL level: how fast SQLite stores a batch of results
under each candidate schema, committing once per 1,000-result batch as the server does.

    .venv/bin/python bench/schema_floor.py [--runs 60] [--instructions] [VARIANT ...]

Raw ``sqlite3``, no seedboard code: what is measured is what the schema costs.  Each
variant is measured with and without the per-test day counts (``test_days``) kept in
the same transaction.  CPU time by default; ``--instructions`` runs each variant in
its own process under valgrind (callgrind) and reports instructions per result,
which a busy machine does not move.
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

_RESULTS = """
    CREATE TABLE results (
        id INTEGER PRIMARY KEY, run REFERENCES runs ({key}) ON DELETE CASCADE,
        test_id INTEGER, outcome VARCHAR(32), duration FLOAT, seed BIGINT,
        exception_type TEXT, message TEXT, traceback TEXT, fingerprint VARCHAR(16),
        position INTEGER
    );
"""
_BAD_IN = "WHERE outcome IN ('failure', 'error', 'unexpected_success')"
_BAD = "WHERE outcome = 'failure' OR outcome = 'error' OR outcome = 'unexpected_success'"
_STRING_RUNS = "CREATE TABLE runs (id VARCHAR(32) PRIMARY KEY, started_at DATETIME);"
_INTEGER_RUNS = (
    "CREATE TABLE runs (key INTEGER PRIMARY KEY, id VARCHAR(32) UNIQUE, started_at DATETIME);"
)
VARIANTS = {
    "0011": (
        "32-hex run ids; (run), (test, run), partial (run, test) on bad outcomes IN (...)",
        _STRING_RUNS
        + _RESULTS.format(key="id")
        + "CREATE INDEX a ON results (run); CREATE INDEX b ON results (test_id, run);"
        + f"CREATE INDEX c ON results (run, test_id) {_BAD_IN};",
    ),
    "int-in": (
        "integer run keys; the same three indexes, the partial one still IN (...)",
        _INTEGER_RUNS
        + _RESULTS.format(key="key")
        + "CREATE INDEX a ON results (run); CREATE INDEX b ON results (test_id, run);"
        + f"CREATE INDEX c ON results (run, test_id) {_BAD_IN};",
    ),
    "0012": (
        "integer run keys; the same three indexes, the partial one's condition ORed",
        _INTEGER_RUNS
        + _RESULTS.format(key="key")
        + "CREATE INDEX a ON results (run); CREATE INDEX b ON results (test_id, run);"
        + f"CREATE INDEX c ON results (run, test_id) {_BAD};",
    ),
    "int-no-run-index": (
        "integer run keys; (test, run) and the partial index, no (run)",
        _INTEGER_RUNS
        + _RESULTS.format(key="key")
        + "CREATE INDEX b ON results (test_id, run);"
        + f"CREATE INDEX c ON results (run, test_id) {_BAD};",
    ),
    "int-one-index": (
        "integer run keys; (test, run) only (the issue's floor)",
        _INTEGER_RUNS + _RESULTS.format(key="key") + "CREATE INDEX b ON results (test_id, run);",
    ),
}
_DAYS = """
    CREATE TABLE test_days (
        test_id INTEGER, day DATE, branch VARCHAR(255), passes INTEGER, failures INTEGER,
        PRIMARY KEY (test_id, day, branch)
    ) WITHOUT ROWID;
"""
BATCH = 1000
TESTS = 2000


def batch_rows(number: int) -> list[tuple[object, ...]]:
    """One batch as the server stores it, one result in fifty failing."""
    rows = []
    for i in range(number * BATCH, (number + 1) * BATCH):
        bad = i % 50 == 0
        rows.append(
            (
                i % TESTS + 1,
                "failure" if bad else "success",
                0.001 * (i % 7),
                i * 7919 % 2**32,
                "twisted.trial.unittest.FailTest" if bad else None,
                "1 != 2 (random seed: 5)" if bad else None,
                "Traceback (most recent call last):\n  File ...\n" if bad else None,
                "0123456789abcdef" if bad else None,
                i % (TESTS * 2),
            )
        )
    return rows


def store(path: Path, variant: str, days: bool, runs: int) -> float:
    """Results per CPU second storing ``runs`` runs of two batches each."""
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("foreign_keys = ON", "journal_mode = WAL", "synchronous = NORMAL"):
        conn.execute(f"PRAGMA {pragma}")
    conn.executescript(VARIANTS[variant][1] + _DAYS)
    batches = [batch_rows(0), batch_rows(1)]
    integer = "key INTEGER" in VARIANTS[variant][1]
    stored, cpu = 0, 0.0
    for _ in range(runs):
        run_id = uuid.uuid4().hex
        conn.execute("INSERT INTO runs (id, started_at) VALUES (?, '2026-11-25')", (run_id,))
        run = conn.execute("SELECT max(rowid) FROM runs").fetchone()[0] if integer else run_id
        for rows in batches:
            began = time.process_time()
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT INTO results (run, test_id, outcome, duration, seed, exception_type,"
                " message, traceback, fingerprint, position) VALUES (?,?,?,?,?,?,?,?,?,?)",
                [(run, *row) for row in rows],
            )
            if days:
                conn.executemany(
                    "INSERT INTO test_days VALUES (?, '2026-11-25', 'main', ?, ?)"
                    " ON CONFLICT DO UPDATE SET passes = passes + excluded.passes,"
                    " failures = failures + excluded.failures",
                    [(row[0], row[1] == "success", row[1] == "failure") for row in rows],
                )
            conn.execute("COMMIT")
            cpu += time.process_time() - began
            stored += len(rows)
    conn.close()
    return stored / cpu if cpu else 0.0


def instructions(variant: str, days: bool, runs: int) -> float:
    """Instructions per result under callgrind: a run of ``runs`` runs less one of none."""

    def counted(n: int) -> int:
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "callgrind.out"
            command = [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                __file__,
                "--one",
                f"{variant},{int(days)},{n},{folder}",
            ]
            subprocess.run(command, check=True, capture_output=True)
            found = re.search(r"^summary: (\d+)", out.read_text(), re.MULTILINE)
            assert found, "callgrind wrote a summary"
            return int(found.group(1))

    return (counted(runs) - counted(0)) / (runs * 2 * BATCH)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="*", default=list(VARIANTS))
    parser.add_argument("--runs", type=int, default=60, help="runs of 2,000 results each")
    parser.add_argument("--instructions", action="store_true", help="count under callgrind")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # one measured store, inside callgrind
        variant, days, runs, folder = args.one.split(",")
        store(Path(folder) / "floor.db", variant, days == "1", int(runs))
        return
    print(f"{'variant':<18}{'plain':>14}{'+ day counts':>16}  schema")
    unit = "instr/result" if args.instructions else "results/s"
    for variant in args.variants:
        if args.instructions:
            figures = [instructions(variant, days, args.runs) for days in (False, True)]
        else:
            with tempfile.TemporaryDirectory() as folder:
                figures = [
                    store(Path(folder) / f"{days}.db", variant, days, args.runs)
                    for days in (False, True)
                ]
        print(
            f"{variant:<18}{figures[0]:>14,.0f}{figures[1]:>16,.0f}  {VARIANTS[variant][0]}"
            f" ({unit})"
        )


if __name__ == "__main__":
    main()
