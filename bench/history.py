"""A seedboard database full of realistic history, made in seconds: bulk inserts
straight into the schema the real Alembic revisions create.

    .venv/bin/python bench/history.py PATH [--tests 2000] [--runs 500] [--days 180]

Reusable: ``generate(path, tests=..., runs=...)`` returns what it made.  The
history: ``runs`` full-suite runs spread over ``days`` days up to now, mostly on
main, some on a release branch and short-lived feature branches; a few percent of
tests flaky (each with its own failure rate and seeded failures), a few broken
for a stretch, some always skipped or expected to fail; every failure with a
realistic message and traceback; and a replay (``seedboard replay``) of a few
failing seeds now and then.  The same seed makes the same database.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import BIN, environment

from seedboard.db.aggregates import PASSED
from seedboard.domain import BAD_OUTCOMES
from seedboard.triage.fingerprint import fingerprint

BRANCHES = (("main", 0.7), ("release-2.x", 0.1))
"""The rest of the runs go to feature branches, a few runs each."""
FLAKY_SHARE = 0.03
BROKEN_SHARE = 0.005
SKIP_SHARE = 0.01
XFAIL_SHARE = 0.003
SEEDED_SHARE = 0.6
"""Tests that use the seeded TestCase, and so record a seed."""
REPLAY_EVERY = 50
"""One replay per this many suite runs, on average."""

_EXCEPTIONS = (
    (
        "twisted.trial.unittest.FailTest",
        "{a} != {b} (random seed: {seed})",
        "    self.assertEqual(result, expected)",
    ),
    (
        "builtins.AssertionError",
        "expected {a} items, got {b} (random seed: {seed})",
        "    assert len(items) == expected",
    ),
    (
        "twisted.internet.defer.TimeoutError",
        "<Deferred at 0x7f3a{a:04x}> timed out after {b} seconds",
        "    yield deferLater(reactor, delay, self.poll)",
    ),
    (
        "builtins.KeyError",
        "'session-{a}'",
        "    return self._sessions[key]",
    ),
    (
        "twisted.internet.error.ConnectionRefusedError",
        "Connection was refused by other side: 111: Connection refused.",
        "    yield self.client.connect(port)",
    ),
)


@dataclass(frozen=True, slots=True)
class History:
    """What ``generate`` made: counts, and a few ids worth asking pages about."""

    path: Path
    tests: int
    runs: int
    replays: int
    results: int
    run_ids: tuple[str, ...]
    """Suite runs, oldest first."""
    test_names: tuple[str, ...]
    flaky_names: tuple[str, ...]
    seconds: float


@dataclass(frozen=True, slots=True)
class _Test:
    pk: int
    name: str
    file: str
    line: int
    kind: str
    """stable, flaky, broken, skip or xfail."""
    fail_rate: float
    seeded: bool
    exception: int


def generate(
    path: Path, tests: int = 2000, runs: int = 500, days: float = 180, seed: int = 1
) -> History:
    """Create ``path`` with the real migrations, then fill it with ``runs`` runs of
    ``tests`` tests (plus replays) over the ``days`` days up to now."""
    started = time.perf_counter()
    subprocess.run(
        [str(BIN / "seedboard"), "db", "upgrade", "--db", str(path)],
        env=environment(),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    rng = random.Random(seed)
    suite = _suite(rng, tests)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    # Indexes are built once after the load, as one sort each, not entry by entry.
    indexes = _drop_indexes(conn, "results")
    with conn:
        conn.executemany(
            "INSERT INTO tests (id, name, file, line) VALUES (?, ?, ?, ?)",
            [(t.pk, t.name, t.file, t.line) for t in suite],
        )
    now = datetime.now(UTC).replace(microsecond=0)
    first = now - timedelta(days=days)
    step = timedelta(days=days) / runs
    run_ids: list[str] = []
    run_key = 0
    replays = 0
    results = 0
    result_id = 0
    feature = ""
    broken_from = {t.pk: rng.randrange(runs) for t in suite if t.kind == "broken"}
    days_counted = _DayCounts()
    for number in range(runs):
        started_at = first + step * number + timedelta(seconds=rng.randrange(60))
        branch, feature = _branch(rng, feature)
        run_id = f"{rng.getrandbits(128):032x}"
        rows = [
            (t.pk, _result(rng, t, number - broken_from.get(t.pk, runs), started_at)) for t in suite
        ]
        run_key += 1
        _insert_run(conn, (run_key, run_id), started_at, branch, rows, result_id, is_replay=False)
        days_counted.add(started_at, branch, rows)
        result_id += len(rows)
        results += len(rows)
        run_ids.append(run_id)
        failing = [(t, r) for t, (_, r) in zip(suite, rows, strict=True) if r[0] == "failure"]
        if failing and rng.random() < 1 / REPLAY_EVERY:
            replay_rows = _replay(rng, failing[:5])
            replay_id = f"{rng.getrandbits(128):032x}"
            when = started_at + timedelta(minutes=20)
            run_key += 1
            replay = (run_key, replay_id)
            _insert_run(conn, replay, when, branch, replay_rows, result_id, is_replay=True)
            result_id += len(replay_rows)
            results += len(replay_rows)
            replays += 1
        if number % 100 == 99:
            conn.commit()
    conn.commit()
    with conn:
        for sql in indexes:
            conn.execute(sql)
        days_counted.store(conn)
    conn.close()
    return History(
        path=path,
        tests=tests,
        runs=runs,
        replays=replays,
        results=results,
        run_ids=tuple(run_ids),
        test_names=tuple(t.name for t in suite),
        flaky_names=tuple(t.name for t in suite if t.kind == "flaky"),
        seconds=time.perf_counter() - started,
    )


def _suite(rng: random.Random, tests: int) -> list[_Test]:
    suite = []
    for pk in range(1, tests + 1):
        module, case = divmod(pk - 1, 25)
        package = ("core", "web", "db", "net", "cli")[module % 5]
        name = f"project.{package}.test.test_mod{module:03d}.Tests{case // 10}.test_case_{pk:05d}"
        roll = rng.random()
        kind = "stable"
        for candidate, share in (
            ("flaky", FLAKY_SHARE),
            ("broken", BROKEN_SHARE),
            ("skip", SKIP_SHARE),
            ("xfail", XFAIL_SHARE),
        ):
            if roll < share:
                kind = candidate
                break
            roll -= share
        suite.append(
            _Test(
                pk=pk,
                name=name,
                file=f"project/{package}/test/test_mod{module:03d}.py",
                line=10 + case * 12,
                kind=kind,
                fail_rate=rng.uniform(0.02, 0.3),
                seeded=rng.random() < SEEDED_SHARE or kind == "flaky",
                exception=rng.randrange(len(_EXCEPTIONS)),
            )
        )
    return suite


def _branch(rng: random.Random, feature: str) -> tuple[str, str]:
    roll = rng.random()
    for name, share in BRANCHES:
        if roll < share:
            return name, feature
        roll -= share
    if not feature or rng.random() < 0.3:
        topic = rng.choice(("login", "cache", "retry", "export", "api"))
        feature = f"feature/{topic}-{rng.randrange(1000)}"
    return feature, feature


_Row = tuple[str, float, int | None, str | None, str | None, str | None, str | None]
"""outcome, duration, seed, exception type, message, traceback, fingerprint."""


def _result(rng: random.Random, test: _Test, since_broken: int, when: datetime) -> _Row:
    seed = rng.getrandbits(32) if test.seeded else None
    duration = round(rng.lognormvariate(-5, 1.2), 6)
    if test.kind == "skip":
        return ("skip", 0.0, None, None, "needs a database server", None, None)
    if test.kind == "xfail":
        return ("expected_failure", duration, seed, None, None, None, None)
    failed = (test.kind == "flaky" and rng.random() < test.fail_rate) or (
        test.kind == "broken" and 0 <= since_broken < 40
    )
    if not failed:
        return ("success", duration, seed, None, None, None, None)
    return ("failure", duration, seed, *_failure(rng, test, seed, when))


_fingerprints: dict[tuple[str, str], str] = {}


def _failure(
    rng: random.Random, test: _Test, seed: int | None, when: datetime
) -> tuple[str, str, str, str]:
    exception, template, line = _EXCEPTIONS[test.exception]
    message = template.format(a=rng.randrange(4096), b=rng.randrange(100), seed=seed)
    short = exception.rsplit(".", 1)[1]
    function = test.name.rsplit(".", 1)[1]
    traceback = (
        "Traceback (most recent call last):\n"
        '  File "/usr/lib/python3/dist-packages/twisted/internet/defer.py", line 1996,'
        " in _inlineCallbacks\n"
        "    result = context.run(gen.send, result)\n"
        f'  File "/home/ci/work/{test.file}", line {test.line + 7}, in {function}\n'
        f"    yield self.scenario(seed={seed})\n"
        f'  File "/home/ci/work/{test.file}", line {test.line - 3}, in scenario\n'
        f"{line}\n"
        f"{short}: {message}\n"
        f"(at {when.isoformat()})\n"
    )
    # Fingerprints mask the volatile parts; computing one per test and kind is enough.
    key = (test.name, exception)
    if key not in _fingerprints:
        _fingerprints[key] = fingerprint(exception, message, traceback)
    return exception, message, traceback, _fingerprints[key]


def _replay(rng: random.Random, failing: list[tuple[_Test, _Row]]) -> list[tuple[int, _Row]]:
    """Each failing seed run three times again: a real flake reproduces now and then."""
    rows = []
    for test, row in failing:
        for _ in range(3):
            again = rng.random() < 0.5
            rest = row[3:] if again else (None, None, None, None)
            rows.append((test.pk, ("failure" if again else "success", row[1], row[2], *rest)))
    return rows


def _drop_indexes(conn: sqlite3.Connection, table: str) -> list[str]:
    """Drop ``table``'s indexes (not its keys); the statements that make them again."""
    made = [
        (name, sql)
        for name, sql in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
            " AND sql IS NOT NULL",
            (table,),
        )
    ]
    with conn:
        for name, _ in made:
            conn.execute(f"DROP INDEX {name}")
    return [sql for _, sql in made]


def _insert_run(
    conn: sqlite3.Connection,
    run: tuple[int, str],
    started_at: datetime,
    branch: str,
    rows: list[tuple[int, _Row]],
    first_id: int,
    is_replay: bool,
) -> None:
    run_key, run_id = run
    counts = Counter(row[0] for _, row in rows)
    naive = started_at.replace(tzinfo=None)
    conn.execute(
        "INSERT INTO runs (key, id, started_at, finished_at, host, python_version,"
        ' twisted_version, command, order_seed, branch, "commit", build_url, run_seed,'
        " is_replay, success, failure, error, skip, expected_failure, unexpected_success)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            run_key,
            run_id,
            _stored(naive),
            _stored(naive + timedelta(seconds=len(rows) // 20 + 5)),
            f"ci-worker-{int(run_id[:2], 16) % 8}",
            "3.12.3",
            "24.11.0",
            "seedboard replay --failing" if is_replay else "trial --reporter=seedboard project",
            None,
            branch,
            run_id[:12],
            None if is_replay else f"https://ci.example.org/builds/{run_id[:8]}",
            None,
            is_replay,
            counts["success"],
            counts["failure"],
            counts["error"],
            counts["skip"],
            counts["expected_failure"],
            counts["unexpected_success"],
        ),
    )
    conn.executemany(
        "INSERT INTO results (id, run_key, test_id, outcome, duration, seed,"
        " exception_type, message, traceback, fingerprint, position)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(first_id + i + 1, run_key, pk, *row, i) for i, (pk, row) in enumerate(rows)],
    )


class _DayCounts:
    """The aggregates ingest keeps (``test_days``), counted as the runs are made.

    ``seedboard.db.aggregates.rebuild`` counts the same from the stored results
    (``tests/test_aggregates.py`` checks it against ingest), but at ten million
    results its one GROUP BY sorts them all, which took longer than making them.
    Replays are not counted, as at ingest.
    """

    def __init__(self) -> None:
        self._passes: Counter[tuple[int, str, str]] = Counter()
        self._failures: Counter[tuple[int, str, str]] = Counter()

    def add(self, started_at: datetime, branch: str, rows: list[tuple[int, _Row]]) -> None:
        day = started_at.date().isoformat()
        for pk, row in rows:
            if row[0] in _PASSED:
                self._passes[pk, day, branch] += 1
            elif row[0] in _BAD:
                self._failures[pk, day, branch] += 1
            else:  # a skip: neither, but the test ran that day
                self._passes[pk, day, branch] += 0

    def store(self, conn: sqlite3.Connection) -> None:
        keys = sorted(self._passes.keys() | self._failures.keys())
        conn.executemany(
            "INSERT INTO test_days (test_id, day, branch, passes, failures) VALUES (?, ?, ?, ?, ?)",
            [(*key, self._passes[key], self._failures[key]) for key in keys],
        )


_PASSED = frozenset(outcome.value for outcome in PASSED)
_BAD = frozenset(outcome.value for outcome in BAD_OUTCOMES)


COPIED_TABLES = ("runs", "tests", "results", "batches", "test_days", "tokens", "login_sessions")
"""Every table, parents first, as a copy into another database needs them."""


def copy_to_postgres(path: Path, url: str) -> None:
    """Copy a generated SQLite history into the empty PostgreSQL database ``url``.

    The schema comes from the real migrations; the rows go over with COPY, the
    fastest way into PostgreSQL, so the same history can be served from both.
    """
    import psycopg
    from sqlalchemy.engine import make_url

    subprocess.run(
        [str(BIN / "seedboard"), "db", "upgrade", "--db", url],
        env=environment(),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    source = sqlite3.connect(path)
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(plain) as target:
            for table in COPIED_TABLES:
                cursor = source.execute(f"SELECT * FROM {table}")
                columns = ", ".join(c[0] for c in cursor.description)
                with target.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in cursor:
                        copy.write_row(row)
            for table, key in (
                ("runs", "key"),
                ("tests", "id"),
                ("results", "id"),
                ("tokens", "id"),
            ):
                target.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', '{key}'),"
                    f" coalesce(max({key}), 0) + 1, false) FROM {table}"
                )
        with psycopg.connect(plain, autocommit=True) as target:
            target.execute("VACUUM ANALYZE")
    finally:
        source.close()


def _stored(when: datetime) -> str:
    """A UTC time as SQLAlchemy's SQLite DateTime writes it, so comparisons line up."""
    return f"{when:%Y-%m-%d %H:%M:%S.%f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="the SQLite file to create (must not exist)")
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--days", type=float, default=180)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.path.exists():
        sys.exit(f"{args.path} exists: choose a new file")
    made = generate(args.path, args.tests, args.runs, args.days, args.seed)
    print(
        f"{made.results:,} results in {made.runs} runs (+{made.replays} replays) of"
        f" {made.tests} tests, {made.path.stat().st_size / made.results:.0f} bytes per result,"
        f" in {made.seconds:.1f} s"
    )


if __name__ == "__main__":
    main()
