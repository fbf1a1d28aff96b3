"""Seedboard's benchmark: one command, a table on stdout, the figures in bench/results.json.

    .venv/bin/python bench/run.py [--tests 5000] [--repeat 5] [--results 100000]
                                  [--peer-results 2000] [--peer-repeat 3]
                                  [--no-peer] [--only PART]

Each comparison is measured side by side in one run, interleaved, and given as
a ratio, so a noisy machine moves both sides alike.  Each part lives in its own
module here and has a ``measure`` and a ``print_rows``.  The peer comparison
installs subunit2sql into bench/.peer-venv the first time, which needs PyPI:
``--no-peer`` leaves it out.
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
import peer
from common import REPO

PARTS = ("overhead", "ingest", "peer")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=5000, help="tests in the generated suite")
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds of each measure")
    parser.add_argument("--results", type=int, default=100_000, help="results posted for ingest")
    parser.add_argument("--batch", type=int, default=1000, help="results per batch")
    parser.add_argument(
        "--peer-results", type=int, default=2000, help="results ingested by each side of the peer"
    )
    parser.add_argument(
        "--peer-repeat", type=int, default=3, help="timed rounds of the peer comparison"
    )
    parser.add_argument("--no-peer", action="store_true", help="skip the subunit2sql comparison")
    parser.add_argument("--only", choices=PARTS, action="append", help="run only this part")
    args = parser.parse_args()
    parts = set(args.only or PARTS) - ({"peer"} if args.no_peer else set())
    figures: dict[str, object] = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()}
    }
    with tempfile.TemporaryDirectory(prefix="seedboard-bench-") as folder:
        work = Path(folder)
        if "overhead" in parts:
            figures["reporter_overhead"] = overhead.measure(work, args.tests, args.repeat)
        if "ingest" in parts:
            figures["ingest"] = ingest.measure(work, args.results, args.batch, args.repeat)
        if "peer" in parts:
            figures["peer"] = peer.measure(work, args.peer_results, args.batch, args.peer_repeat)
    (REPO / "bench" / "results.json").write_text(json.dumps(figures, indent=2) + "\n")
    printers = {
        "reporter_overhead": overhead.print_rows,
        "ingest": ingest.print_rows,
        "peer": peer.print_rows,
    }
    for name, printer in printers.items():
        if name in figures:
            printer(figures[name])  # type: ignore[operator]
            print()


if __name__ == "__main__":
    main()
