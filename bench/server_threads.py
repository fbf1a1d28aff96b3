"""Where a ``seedboard serve`` process spends its CPU on ingest, thread by thread.

Starts a server on a new SQLite file, posts ``--runs`` runs of ``--results``
results in batches of 1,000 (``ingest.Poster``), and prints each run's server CPU
a result, split by thread: the reactor (``MainThread``), the writer, the readers
(the write's token check), the checkpointer.  Each thread's CPU is read from
``/proc/PID/task/TID/stat``; Python does not name its threads for the system, so
their names come from ``py-spy dump`` (``--py-spy``, installed apart: ``python3 -m
venv /tmp/pyspy && /tmp/pyspy/bin/pip install py-spy``), else threads are told by
their system id alone.  The first run, which interns the tests, is left out of
the mean.

    .venv/bin/python bench/server_threads.py [--runs 4] [--py-spy /tmp/pyspy/bin/py-spy]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

from common import cpu_seconds, new_token, start_server
from ingest import Poster, batch_bodies, result_rows

_THREAD = re.compile(r'Thread (\d+) \([^)]*\): "([^"]+)"')


def thread_names(pid: int, py_spy: str | None) -> dict[str, str]:
    """System thread id to Python thread name, the pool's prefix left out."""
    if py_spy is None:
        return {}
    dump = subprocess.run(
        [py_spy, "dump", "--pid", str(pid)], capture_output=True, text=True, check=False
    ).stdout
    return {
        tid: name.replace("PoolThread-seedboard-db-", "").rstrip("0123456789-")
        for tid, name in _THREAD.findall(dump)
    }


def thread_cpu(pid: int) -> Counter[str]:
    """CPU seconds each thread has used, by system thread id."""
    ticks = os.sysconf("SC_CLK_TCK")
    used: Counter[str] = Counter()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # the thread ended meanwhile
        used[task.name] = (int(fields[11]) + int(fields[12])) / ticks
    return used


def by_name(used: Counter[str], names: dict[str, str]) -> Counter[str]:
    """``used`` summed by thread name (the readers together)."""
    named: Counter[str] = Counter()
    for tid, seconds in used.items():
        named[names.get(tid, tid)] += seconds
    return named


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--results", type=int, default=100_000)
    parser.add_argument("--py-spy", default=None, help="py-spy's path, to name the threads")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="seedboard-threads-"))
    server, url = start_server(work / "ingest.db", work)
    poster = Poster(url, new_token(work / "ingest.db"))
    bodies = batch_bodies(result_rows(args.results), 1000)
    total: Counter[str] = Counter()
    try:
        for run in range(args.runs):
            started, before = cpu_seconds(server.pid), thread_cpu(server.pid)
            poster.post_run(bodies)
            used = (cpu_seconds(server.pid) - started) / args.results * 1e6
            after = thread_cpu(server.pid)
            names = thread_names(server.pid, args.py_spy)
            after.subtract(before)
            split = {k: v / args.results * 1e6 for k, v in by_name(after, names).items()}
            shown = " ".join(f"{k}={v:.2f}" for k, v in sorted(split.items()) if v)
            print(f"run {run}: {used:.2f} µs CPU a result: {shown}", flush=True)
            if run:
                total.update({**split, "all": used})
        if args.runs > 1:
            mean = {k: v / (args.runs - 1) for k, v in total.items() if v}
            print("mean of runs 1 on: " + " ".join(f"{k}={v:.2f}" for k, v in sorted(mean.items())))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
