"""Reporter overhead: trial --reporter=seedboard ÷ trial --reporter=text on a generated suite."""

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


def print_rows(overhead: dict[str, dict[str, float]]) -> None:
    print(f"{'reporter overhead':<28}{'median':>10}{'spread':>10}{'÷ text':>10}")
    for name, row in overhead.items():
        print(
            f"  trial --reporter={'seedboard ' + name if name != 'text' else 'text':<18}"
            f"{row['median_s']:>8.2f} s{row['spread_s']:>8.2f} s{row['ratio_to_text']:>10.3f}"
        )
