"""Seedboard's benchmark: one command, a table on stdout, the figures in bench/results.json.

    .venv/bin/python bench/run.py [--tests 5000] [--repeat 5] [--results 100000]

Each comparison is measured side by side in one run, interleaved, and given as
a ratio, so a noisy machine moves both sides alike.  Each part lives in its own
module here and has a ``measure`` and a ``print_rows``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
from pathlib import Path

import ingest
import overhead
from common import REPO


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
            "reporter_overhead": overhead.measure(work, args.tests, args.repeat),
            "ingest": ingest.measure(work, args.results, args.batch),
        }
    (REPO / "bench" / "results.json").write_text(json.dumps(figures, indent=2) + "\n")
    overhead.print_rows(figures["reporter_overhead"])
    print()
    ingest.print_rows(figures["ingest"])


if __name__ == "__main__":
    main()
