"""Heavy reads against cheap ones: the p95 of the runs list while many uncached
flaky reads run at once, on a generated history of 300 runs of 1,000 tests.

    .venv/bin/python bench/heavy.py [--heavy 30] [--postgres URL] [-- SERVE OPTIONS]

Each of ``--heavy`` clients asks ``/api/v1/flaky`` once with a window of its own
(so nothing is cached or shared) and ``limit=500``, all at once; meanwhile one
client asks ``/api/v1/runs?limit=5`` every 20 ms until the last heavy answer.
Printed: the cheap read's p50/p95/max, and each heavy answer's status and time.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from contextlib import ExitStack
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlsplit

from common import BIN, environment, fresh_postgres_database
from history import copy_to_postgres, generate

HEAVY = 30
RUNS = 300
TESTS = 1000
CHEAP_PATH = "/api/v1/runs?limit=5"
CHEAP_PAUSE = 0.02
MAX_WINDOW = 500


def heavy_path(window: int) -> str:
    return f"/api/v1/flaky?window={window}&limit=500"


def ask(base: str, path: str, timeout: float = 120) -> tuple[int, float]:
    """One GET on a connection of its own: its status and seconds."""
    parts = urlsplit(base)
    started = time.perf_counter()
    conn = HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        conn.close()


def load(base: str, heavy_paths: list[str]) -> tuple[list[float], list[tuple[int, float]]]:
    """Every heavy path asked at once while the cheap read is polled: the cheap read's
    seconds, and each heavy answer's status and seconds."""
    heavy: list[tuple[int, float]] = []
    cheap: list[float] = []
    done = threading.Event()

    def one(path: str) -> None:
        heavy.append(ask(base, path))

    def poll() -> None:
        while not done.is_set():
            status, seconds = ask(base, CHEAP_PATH)
            assert status == 200, status
            cheap.append(seconds)
            time.sleep(CHEAP_PAUSE)

    threads = [threading.Thread(target=one, args=(path,)) for path in heavy_paths]
    poller = threading.Thread(target=poll)
    poller.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    poller.join()
    return cheap, heavy


def p95(samples: list[float]) -> float:
    return (
        statistics.quantiles(samples, n=20, method="inclusive")[-1]
        if len(samples) > 1
        else samples[0]
    )


def serve(db: str, work: Path, options: list[str], stack: ExitStack) -> str:
    import subprocess

    server = subprocess.Popen(
        [str(BIN / "seedboard"), "serve", "--db", db, "--port", "0", *options],
        cwd=work,
        env=environment(),
        stdout=subprocess.PIPE,
        text=True,
    )
    stack.callback(server.wait)
    stack.callback(server.terminate)
    assert server.stdout is not None
    return server.stdout.readline().strip().rsplit(" at ", 1)[1].rstrip("/")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--heavy", type=int, default=HEAVY)
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server to copy it to")
    parser.add_argument("--keep", type=Path, help="reuse (or make) the SQLite history here")
    parser.add_argument("serve", nargs="*", help="options for seedboard serve")
    args = parser.parse_args()
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="seedboard-heavy-")))
        path = args.keep or work / "history.db"
        if not path.exists():
            made = generate(path, tests=TESTS, runs=RUNS)
            print(f"{made.results:,} results in {made.seconds:.1f} s")
        db = str(path)
        if args.postgres:
            db = stack.enter_context(fresh_postgres_database(args.postgres))
            copy_to_postgres(path, db)
        base = serve(db, work, args.serve, stack)
        ask(base, CHEAP_PATH)
        idle = [ask(base, CHEAP_PATH)[1] for _ in range(20)]
        started = time.perf_counter()
        cheap, heavy = load(base, [heavy_path(MAX_WINDOW - w) for w in range(args.heavy)])
        took = time.perf_counter() - started
    print(f"cheap read idle: p50 {statistics.median(idle) * 1000:.1f} ms")
    print(
        f"cheap read under {args.heavy} heavy reads: {len(cheap)} asked, p50 "
        f"{statistics.median(cheap) * 1000:.1f} ms, p95 {p95(cheap) * 1000:.1f} ms, "
        f"max {max(cheap) * 1000:.1f} ms"
    )
    by_status: dict[int, list[float]] = {}
    for status, seconds in heavy:
        by_status.setdefault(status, []).append(seconds)
    for status, times in sorted(by_status.items()):
        print(f"heavy {status}: {len(times)}, {min(times):.2f}-{max(times):.2f} s")
    print(f"all heavy answered in {took:.1f} s")


if __name__ == "__main__":
    main()
