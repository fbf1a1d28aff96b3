"""Pages at scale: every page and its JSON twin, timed against the real server on
histories of several sizes, compared in pairs.

``1M`` against ``100k``: the same suite (2,000 tests), 500 runs against 50 over the
same half year.  ``10M`` against ``1M-pace``: a year of 30 runs a day of 1,000 tests
against 36.5 days at the same pace, so the pages' windows (the latest runs, the last
weeks) hold the same results in both and only the length of history differs.  A run
page has the same results on both sides of a pair, so a page slower on the big one
is a page whose cost grows with history, which is what the ratio is there to catch.
Times are round trips on loopback over one kept-alive connection, one request at a
time: the server's own time plus well under a millisecond.
"""

from __future__ import annotations

import random
import shutil
import statistics
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import quote, urlencode

from common import fresh_postgres_database, start_server
from history import History, copy_to_postgres, generate


@dataclass(frozen=True, slots=True)
class Scale:
    """A history: ``runs`` runs of a ``tests``-test suite over ``days`` days."""

    tests: int
    runs: int
    days: float


SCALES = {
    "1M": Scale(2000, 500, 180),
    "100k": Scale(2000, 50, 180),
    "10M": Scale(1000, 10950, 365),
    "1M-pace": Scale(1000, 1095, 36.5),
}
DEFAULT_SCALES = ("1M", "100k")
"""The ten-million history takes minutes to make: asked for by name."""
PAIRS = (("1M", "100k"), ("10M", "1M-pace"))
"""(bigger, smaller) histories whose p95 ratio is reported when both were measured."""

PAGE_TARGETS_MS = {
    "runs": 50.0,
    "run": 50.0,
    "test": 50.0,
    "compare": 50.0,
    "flaky": 150.0,
    "trends": 150.0,
    "clusters": 150.0,
}
RSS_TARGET_MB = 150.0
RATIO_TARGET = 1.5
AFTER_A_WRITE = " after a write"
"""Pages kept by the server until the data changes are also timed just after a write."""
MAX_SECONDS_PER_PAGE = 20.0
"""A page slower than this is sampled fewer times, so a slow page cannot stall the run."""


def measure(
    work: Path,
    requests: int,
    scales: Iterable[str],
    cache: Path | None,
    postgres: str | None = None,
) -> dict[str, object]:
    """p50 and p95 of every page at each scale, the servers' RSS, and bytes per result.

    Every scale's server runs at once and each page's requests alternate between
    them, so a busy moment of the machine slows both sides alike.  With
    ``postgres`` (a server URL), each history is also copied into a database of
    its own there and served side by side, as scale ``<scale>-pg``.
    """
    with ExitStack() as stack:
        return _measure(work, requests, list(scales), cache, postgres, stack)


def _measure(
    work: Path,
    requests: int,
    sqlite_scales: list[str],
    cache: Path | None,
    postgres: str | None,
    stack: ExitStack,
) -> dict[str, object]:
    made = {
        scale: _database(work / f"pages-{scale}.db", SCALES[scale], cache)
        for scale in sqlite_scales
    }
    sizes = {
        scale: sum(p.stat().st_size for p in work.glob(f"pages-{scale}.db*"))
        for scale in sqlite_scales
    }
    where: dict[str, Path | str] = {scale: made[scale].path for scale in sqlite_scales}
    if postgres:
        for scale in sqlite_scales:
            url = stack.enter_context(fresh_postgres_database(postgres))
            copy_to_postgres(made[scale].path, url)
            where[f"{scale}-pg"], made[f"{scale}-pg"] = url, made[scale]
            sizes[f"{scale}-pg"] = _postgres_bytes(url)
    chosen = list(where)
    servers = {scale: start_server(where[scale], work) for scale in chosen}
    try:
        connections = {scale: _connect(url) for scale, (_, url) in servers.items()}
        paths = {scale: _pages(made[scale], random.Random(7)) for scale in chosen}
        writes = {scale: stack.enter_context(_writer(where[scale])) for scale in chosen}
        timings = {
            page: _time_page(
                {
                    scale: (connections[scale], paths[scale][page], writes[scale])
                    for scale in chosen
                },
                requests,
                fresh=page.endswith(AFTER_A_WRITE),
            )
            for page in paths[chosen[0]]
        }
        memory = {scale: _memory_mb(server.pid) for scale, (server, _) in servers.items()}
    finally:
        for server, _ in servers.values():
            server.terminate()
            server.wait()
    figures: dict[str, object] = {"requests_per_page": requests}
    for scale in chosen:
        figures[scale] = {
            "tests": made[scale].tests,
            "days": SCALES[scale.removesuffix("-pg")].days,
            "runs": made[scale].runs,
            "replays": made[scale].replays,
            "results": made[scale].results,
            "generate_s": round(made[scale].seconds, 1),
            "db_bytes_per_result": round(sizes[scale] / made[scale].results, 1),
            "server_rss_mb": memory[scale][0],
            "server_peak_rss_mb": memory[scale][1],
            "pages": {page: timing[scale] for page, timing in timings.items()},
        }
    for big, small in PAIRS:
        for suffix in ("", "-pg"):
            if big + suffix in chosen and small + suffix in chosen:
                figures[f"ratio_{big}_to_{small}{suffix}"] = {
                    page: round(
                        timing[big + suffix]["p95_ms"] / timing[small + suffix]["p95_ms"], 2
                    )
                    for page, timing in timings.items()
                }
    return figures


def _postgres_bytes(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            size: int = conn.execute(
                text("SELECT pg_database_size(current_database())")
            ).scalar_one()
            return size
    finally:
        engine.dispose()


def _database(db: Path, scale: Scale, cache: Path | None) -> History:
    """A fresh database, or a copy of the one made earlier with the same size and seed."""
    sized = {"tests": scale.tests, "runs": scale.runs, "days": scale.days}
    if cache is None:
        return generate(db, **sized)
    cache.mkdir(parents=True, exist_ok=True)
    kept = cache / f"history-{scale.tests}x{scale.runs}x{scale.days:g}d.db"
    took = kept.with_suffix(".seconds")
    if not kept.exists():
        took.write_text(str(generate(kept, **sized).seconds))
    shutil.copyfile(kept, db)
    return replace(_describe(db, scale), seconds=float(took.read_text()))


def _describe(db: Path, scale: Scale) -> History:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        run_ids = [
            r
            for (r,) in conn.execute("SELECT id FROM runs WHERE NOT is_replay ORDER BY started_at")
        ]
        replays = conn.execute("SELECT count(*) FROM runs WHERE is_replay").fetchone()[0]
        results = conn.execute("SELECT max(id) FROM results").fetchone()[0]
        names = [n for (n,) in conn.execute("SELECT name FROM tests ORDER BY id")]
        flaky = [
            n
            for (n,) in conn.execute(
                "SELECT name FROM tests WHERE id IN (SELECT test_id FROM results"
                " WHERE run_key = (SELECT key FROM runs WHERE id = ?) AND outcome = 'failure')",
                (run_ids[-1],),
            )
        ]
    finally:
        conn.close()
    return History(
        db,
        scale.tests,
        scale.runs,
        replays,
        results,
        tuple(run_ids),
        tuple(names),
        tuple(flaky),
        0.0,
    )


def _pages(made: History, rng: random.Random) -> dict[str, list[str]]:
    """Each page by name, with the paths to ask it: many runs and tests, not one cached."""
    runs = list(made.run_ids)
    tests = [quote(t) for t in (*made.test_names, *made.flaky_names * 20)]
    middle = runs[len(runs) // 2]
    pairs = [rng.sample(runs, 2) for _ in range(50)]
    some_runs = [rng.choice(runs) for _ in range(50)]
    some_tests = [rng.choice(tests) for _ in range(50)]
    filters = urlencode({"branch": "main", "outcome": "failing"})
    pages: dict[str, list[str]] = {}
    for prefix, api in (("", ""), ("api ", "/api/v1")):
        pages[f"{prefix}runs"] = [f"{api}/runs" if api else "/"]
        pages[f"{prefix}runs filtered"] = [f"{api}/runs?{filters}" if api else f"/?{filters}"]
        pages[f"{prefix}runs later page"] = [
            f"{api}/runs?before={middle}" if api else f"/?before={middle}"
        ]
        pages[f"{prefix}run"] = [f"{api}/runs/{r}" for r in some_runs]
        pages[f"{prefix}test"] = [f"{api}/tests/{t}" for t in some_tests]
        pages[f"{prefix}flaky"] = [f"{api}/flaky"]
        pages[f"{prefix}trends"] = [f"{api}/trends"]
        pages[f"{prefix}trends 365d"] = [f"{api}/trends?days=365"]
        pages[f"{prefix}clusters"] = [f"{api}/clusters"]
        for kept in ("flaky", "trends", "trends 365d", "clusters"):
            pages[f"{prefix}{kept}{AFTER_A_WRITE}"] = pages[f"{prefix}{kept}"]
        pages[f"{prefix}compare"] = [f"{api}/compare?a={a}&b={b}" for a, b in pairs]
    return pages


@contextmanager
def _writer(where: Path | str) -> Iterator[Callable[[], None]]:
    """A write to the database as any stored batch makes one: the servers' kept answers
    of slow pages (flaky tests, trends) are then out of date, and read again."""
    from sqlalchemy import create_engine

    from seedboard.db.changes import note_change

    engine = create_engine(where if isinstance(where, str) else f"sqlite:///{where}")

    def write() -> None:
        with engine.begin() as conn:
            note_change(conn)

    try:
        yield write
    finally:
        engine.dispose()


def _time_page(
    targets: dict[str, tuple[HTTPConnection, list[str], Callable[[], None]]],
    requests: int,
    fresh: bool,
) -> dict[str, dict[str, float]]:
    """Each scale's p50 and p95 over ``requests`` requests, the scales taking turns; with
    ``fresh``, each request follows a write, so nothing kept can answer it."""
    for connection, paths, _ in targets.values():
        _get(connection, paths[0])  # warms what every later request finds warm
    samples: dict[str, list[float]] = {scale: [] for scale in targets}
    started = time.perf_counter()
    for number in range(requests):
        for scale, (connection, paths, write) in targets.items():
            if fresh:
                write()
            began = time.perf_counter()
            _get(connection, paths[number % len(paths)])
            samples[scale].append(time.perf_counter() - began)
        if time.perf_counter() - started > MAX_SECONDS_PER_PAGE and number >= 2:
            break
    return {scale: _percentiles(times) for scale, times in samples.items()}


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "requests": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(p95 * 1000, 1),
    }


def _connect(url: str) -> HTTPConnection:
    host, port = url.removeprefix("http://").split(":")
    return HTTPConnection(host, int(port), timeout=120)


def _get(connection: HTTPConnection, path: str) -> None:
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    assert response.status == 200, (path, response.status)


def _memory_mb(pid: int) -> tuple[float, float]:
    """The process's resident memory now and at its peak, from /proc."""
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return tuple(round(int(status[k].split()[0]) / 1024, 1) for k in ("VmRSS", "VmHWM"))  # type: ignore[return-value]


def _target(page: str) -> float:
    return PAGE_TARGETS_MS[page.removeprefix("api ").split()[0]]


def print_rows(figures: dict[str, object]) -> None:
    scales = [s + suffix for suffix in ("", "-pg") for s in SCALES if s + suffix in figures]
    header = f"{'pages (ms, round trip)':<32}" + "".join(
        f"{s + ' p50':>14}{s + ' p95':>14}" for s in scales
    )
    ratios = {
        f"{big}/{small}": figures[f"ratio_{big}_to_{small}"]
        for big, small in PAIRS
        if f"ratio_{big}_to_{small}" in figures
    }
    print(header + "".join(f"{name:>14}" for name in ratios) + f"{'target':>8}")
    first = figures[scales[0]]
    assert isinstance(first, dict)
    for page in first["pages"]:
        row = f"  {page:<30}"
        for scale in scales:
            timing = figures[scale]["pages"][page]  # type: ignore[index]
            row += f"{timing['p50_ms']:>14.1f}{timing['p95_ms']:>14.1f}"
        for ratio in ratios.values():
            row += f"{ratio[page]:>14.2f}"  # type: ignore[index]
        print(row + f"{_target(page):>8.0f}")
    for scale in scales:
        numbers = figures[scale]
        assert isinstance(numbers, dict)
        print(
            f"  {scale}: {numbers['results']:,} results, {numbers['db_bytes_per_result']:.0f}"
            f" bytes/result, server RSS {numbers['server_rss_mb']:.0f} MB"
            f" (peak {numbers['server_peak_rss_mb']:.0f} MB), made in {numbers['generate_s']:.0f} s"
        )
