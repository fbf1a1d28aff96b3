"""The store path in one process: a batch's bytes to committed rows, without HTTP.

What the server's writer does for ``PUT /api/v1/runs/<id>/batches/<n>`` and what
``seedboard import`` does per batch: ``parse_batch`` (on the server it runs on the
reactor), then ``services.results.add_batch`` in one write transaction (fingerprints,
the run's lock, the batch's row, the test lookup, the results, the day counts, the
run's counts).  Each run is a new run of ``--results`` results (2,000 tests, one in
fifty failing, ``ingest.result_rows``) in batches of 1,000, into a database that
already holds the tests (one run first, untimed).

    .venv/bin/python bench/store_path.py [--db URL] [--results 20000] [--runs 3]

prints the best CPU time (and wall time) a result, and on PostgreSQL the best CPU time
its server process (the writer's backend, on this machine) spent a result.  Under
valgrind, the difference between ``--runs 3`` and ``--runs 1`` over the results of the
two extra runs is the instructions a result, start-up left out (bench/README.md)::

    valgrind --tool=callgrind .venv/bin/python bench/store_path.py --db sqlite:///x.db --runs 1
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from datetime import UTC, datetime

from common import cpu_seconds
from ingest import RUN, result_rows
from sqlalchemy import Connection

from seedboard.db.engine import Database, open_database
from seedboard.db.migrate import ensure_schema
from seedboard.db.runs import create_run
from seedboard.ingest import parse_batch, parse_run
from seedboard.services.results import add_batch

BATCH = 1000


def store_run(db: Database, bodies: list[bytes], now: datetime) -> None:
    """One new run, its batches parsed and stored as the server stores them."""
    run_id = uuid.uuid4().hex
    db.write(create_run, parse_run(run_id, json.dumps(RUN).encode()), now)
    for number, body in enumerate(bodies):
        db.write(add_batch, run_id, number, parse_batch(body), now)


def _backend_pid(conn: Connection) -> int:
    return int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--db", default=f"sqlite:////tmp/store-path-{uuid.uuid4().hex[:8]}.db")
    parser.add_argument("--results", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    db = open_database(args.db)
    ensure_schema(db)
    rows = result_rows(args.results)
    bodies = [
        json.dumps({"results": rows[start : start + BATCH]}).encode()
        for start in range(0, len(rows), BATCH)
    ]
    now = datetime.now(UTC)
    store_run(db, bodies, now)  # the tests interned, caches warm
    # The writer is one connection: on PostgreSQL, one server process does its work.
    backend = None if db.is_sqlite else db.write(_backend_pid)
    cpu, wall, server = [], [], []
    for _ in range(args.runs):
        started_server = 0.0 if backend is None else cpu_seconds(backend)
        started_cpu, started = time.process_time(), time.perf_counter()
        store_run(db, bodies, now)
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started)
        if backend is not None:
            server.append(cpu_seconds(backend) - started_server)
    served = f", server {min(server) / args.results * 1e6:.2f} µs CPU a result" if server else ""
    print(
        f"{args.results:,} results a run, best of {args.runs}: "
        f"{min(cpu) / args.results * 1e6:.2f} µs CPU a result ({args.results / min(cpu):,.0f}/s), "
        f"wall {args.results / min(wall):,.0f}/s{served}"
    )
    db.dispose()


if __name__ == "__main__":
    main()
