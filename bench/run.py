"""Seedboard's benchmark: one command, a table on stdout, the figures in bench/results.json.

    .venv/bin/python bench/run.py [--tests 5000] [--repeat 5] [--results 100000]
                                  [--peer-results 2000] [--peer-repeat 3] [--no-peer]
                                  [--postgres URL]
                                  [--only overhead,validation,ingest,import,peer,pages,pytest]
                                  [--import-results 1000000]
                                  [--results-scale 1M,100k | 10M,1M-pace]

Each comparison is measured side by side in one run, interleaved, and given as
a ratio, so a noisy machine moves both sides alike.  Each part lives in its own
module here and has a ``measure`` and a ``print_rows``; a part run alone
replaces only its own figures in bench/results.json.  The peer comparison
installs subunit2sql into bench/.peer-venv the first time, which needs PyPI:
``--no-peer`` leaves it out.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import imports
import ingest
import overhead
import pages
import peer
import pytest_overhead
import validation
from common import REPO

PARTS = ("overhead", "validation", "ingest", "import", "peer", "pages", "pytest")
RESULTS = REPO / "bench" / "results.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=5000, help="tests in the generated suite")
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds of each measure")
    parser.add_argument("--results", type=int, default=100_000, help="results posted for ingest")
    parser.add_argument("--batch", type=int, default=1000, help="results per batch")
    parser.add_argument(
        "--import-results", type=int, default=1_000_000, help="results in the imported JUnit file"
    )
    parser.add_argument(
        "--peer-results", type=int, default=2000, help="results ingested by each side of the peer"
    )
    parser.add_argument(
        "--peer-repeat", type=int, default=3, help="timed rounds of the peer comparison"
    )
    parser.add_argument("--no-peer", action="store_true", help="skip the subunit2sql comparison")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="also measure ingest and pages on this PostgreSQL server, in databases of "
        "their own, e.g. postgresql+psycopg://postgres@127.0.0.1/test",
    )
    parser.add_argument(
        "--only", default=",".join(PARTS), help=f"comma-separated parts to run, of {PARTS}"
    )
    parser.add_argument(
        "--results-scale",
        default=",".join(pages.DEFAULT_SCALES),
        help=f"history sizes for the pages part, of {tuple(pages.SCALES)}",
    )
    parser.add_argument("--page-requests", type=int, default=40, help="timed requests per page")
    parser.add_argument(
        "--history-cache",
        type=Path,
        help="keep generated histories in this folder and reuse them (pages part)",
    )
    args = parser.parse_args()
    parts = [p for p in args.only.split(",") if p and not (p == "peer" and args.no_peer)]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts {sorted(unknown)}; choose from {PARTS}")
    scales = [s for s in args.results_scale.split(",") if s]
    if set(scales) - set(pages.SCALES):
        parser.error(f"--results-scale takes {tuple(pages.SCALES)}")
    figures = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    figures["machine"] = {"python": platform.python_version(), "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="seedboard-bench-") as folder:
        work = Path(folder)
        if "overhead" in parts:
            figures["reporter_overhead"] = overhead.measure(work, args.tests, args.repeat)
            (work / "real").mkdir()
            figures["real_suite"] = overhead.measure_real_suite(work / "real", args.repeat)
        if "validation" in parts:
            figures["validation"] = validation.measure(args.repeat)
        if "ingest" in parts:
            figures["ingest"] = ingest.measure(work, args.results, args.batch, args.repeat)
            if args.postgres:
                figures["ingest"]["postgres"] = ingest.measure_postgres(
                    work, args.postgres, args.results, args.batch, args.repeat
                )
        if "import" in parts:
            figures["import"] = imports.measure(work, args.import_results, min(args.repeat, 3))
        if "pytest" in parts:
            figures["pytest_overhead"] = pytest_overhead.measure(work, args.tests, args.repeat)
        if "peer" in parts:
            figures["peer"] = peer.measure(work, args.peer_results, args.batch, args.peer_repeat)
        if "pages" in parts:
            # Merged by scale: measuring 10M,1M-pace keeps the figures of 1M,100k.
            figures["pages"] = {
                **figures.get("pages", {}),
                **pages.measure(
                    work, args.page_requests, scales, args.history_cache, args.postgres
                ),
            }
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    printers: dict[str, list[tuple[str, Callable[[Any], None]]]] = {
        "overhead": [
            ("reporter_overhead", overhead.print_rows),
            ("real_suite", overhead.print_real_suite),
        ],
        "validation": [("validation", validation.print_rows)],
        "ingest": [("ingest", ingest.print_rows)],
        "import": [("import", imports.print_rows)],
        "peer": [("peer", peer.print_rows)],
        "pages": [("pages", pages.print_rows)],
        "pytest": [("pytest_overhead", pytest_overhead.print_rows)],
    }
    for number, part in enumerate(parts):
        for shown, (key, print_rows) in enumerate(printers[part]):
            if number or shown:
                print()
            print_rows(figures[key])


if __name__ == "__main__":
    main()
