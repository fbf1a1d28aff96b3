"""Reporter overhead: trial --reporter=seedboard ÷ trial --reporter=text on a generated suite.

The suite is tests/samples/manypkg: fast seeded tests, mostly passing, some
failing, erring, skipped or expected to fail.  ``--reporter=verbose`` is timed
too: it is trial's default reporter, whose output seedboard's repeats, so
seedboard ÷ verbose is the cost of recording alone.  Embedded mode records
every round into one database, as a project's ./seedboard.db is (the warm-up
round creates it).  Bytecode caching is left on, as in an installed package.
"""

from __future__ import annotations

import shutil
import statistics
from collections.abc import Callable
from pathlib import Path

from common import BIN, SAMPLES, environment, median_spread, new_token, start_server, timed


def measure(work: Path, tests: int, repeat: int) -> dict[str, object]:
    """trial --reporter=seedboard ÷ trial --reporter=text, on a generated suite."""
    project = work / "suite"
    shutil.copytree(SAMPLES, project)
    base = environment(PYTHONPATH=str(project), SEEDBOARD_SAMPLE_TESTS=str(tests))
    base.pop("PYTHONDONTWRITEBYTECODE", None)
    db = work / "server.db"
    server, url = start_server(db, work)
    token = new_token(db)
    trial = [str(BIN / "trial")]
    variants: dict[str, Callable[[int], float]] = {
        "text": lambda i: timed([*trial, "--reporter=text", "manypkg"], project, base),
        "verbose": lambda i: timed([*trial, "--reporter=verbose", "manypkg"], project, base),
        "embedded": lambda i: timed(
            [*trial, "--reporter=seedboard", "manypkg"],
            project,
            {**base, "SEEDBOARD_DB": str(work / "embedded.db")},
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
    verbose = statistics.median(times["verbose"])
    return {
        name: {
            "median_s": median_spread(samples)[0],
            "spread_s": median_spread(samples)[1],
            "ratio_to_text": statistics.median(samples) / text,
            "ratio_to_verbose": statistics.median(samples) / verbose,
        }
        for name, samples in times.items()
    }


def print_rows(overhead: dict[str, dict[str, float]]) -> None:
    print(f"{'reporter overhead':<28}{'median':>10}{'spread':>10}{'÷ text':>10}{'÷ verbose':>11}")
    for name, row in overhead.items():
        reporter = name if name in ("text", "verbose") else f"seedboard {name}"
        print(
            f"  trial --reporter={reporter:<18}"
            f"{row['median_s']:>8.2f} s{row['spread_s']:>8.2f} s{row['ratio_to_text']:>10.3f}"
            f"{row['ratio_to_verbose']:>11.3f}"
        )


def main() -> None:
    """This part alone: ``python bench/overhead.py [--tests N] [--repeat N]``."""
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=5000, help="tests in the generated suite")
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds of each trial run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="seedboard-bench-") as folder:
        print_rows(measure(Path(folder), args.tests, args.repeat))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
