"""Ingest rate: results per second through the real HTTP API, against raw sqlite3.

Rounds alternate between the sides, each round a new run in the same database,
so every side writes into a database growing alike.  The floors insert the rows
seedboard stores (tests interned, results by test number and run key) into a
schema made from seedboard's own models, so they have the same columns, keys and
indexes as the server's tables, and commit once per batch as the server does: the
plain floor the results alone, the second one also each test's count of the day
(``test_days``), which the server keeps in the same transaction.
"""

from __future__ import annotations

import json
import platform
import sqlite3
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from http.client import HTTPConnection
from pathlib import Path
from typing import Any, Protocol

from common import cpu_seconds, fresh_postgres_database, median_spread, new_token, start_server
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from seedboard.db.models import Base


def result_rows(count: int, tests: int = 2000) -> list[dict[str, object]]:
    """``count`` results of ``tests`` distinct tests, one in fifty failing, with every
    field the reporter writes (``seedboard_reporter.recorder.Row``'s)."""
    return [
        {
            "test_id": f"pkg.test_mod.Tests.test_{i % tests:06d}",
            "outcome": "failure" if i % 50 == 0 else "success",
            "duration": 0.001 * (i % 7),
            "seed": i * 7919 % 2**32,
            "exception_type": "twisted.trial.unittest.FailTest" if i % 50 == 0 else None,
            "message": "1 != 2 (random seed: 5)" if i % 50 == 0 else None,
            "traceback": "Traceback (most recent call last):\n  File ...\n"
            if i % 50 == 0
            else None,
            "file": "pkg/test_mod.py",
            "line": 10 + i % tests,
            "position": i,
        }
        for i in range(count)
    ]


RUN = {
    "started_at": "2026-11-25T17:00:00+00:00",
    "host": "bench",
    "python_version": platform.python_version(),
    "twisted_version": "26",
    "command": "bench",
    "order_seed": None,
    "branch": "main",
    "commit": None,
    "build_url": None,
}


class Poster:
    """Posts whole runs in batches to a running server, each run on a new keep-alive connection."""

    def __init__(self, url: str, token: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self._address = host, int(port)
        self._headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}

    def post_run(self, bodies: list[bytes]) -> float:
        """Seconds to post the batches of one new run (connecting and creating it not timed)."""
        connection = HTTPConnection(*self._address, timeout=120)
        try:
            run_id = uuid.uuid4().hex
            self._send(connection, "PUT", f"/api/v1/runs/{run_id}", json.dumps(RUN).encode(), 201)
            started = time.perf_counter()
            for number, body in enumerate(bodies):
                path = f"/api/v1/runs/{run_id}/batches/{number}"
                self._send(connection, "PUT", path, body, 201)
            return time.perf_counter() - started
        finally:
            connection.close()

    def _send(
        self, connection: HTTPConnection, method: str, path: str, body: bytes, status: int
    ) -> None:
        connection.request(method, path, body, self._headers)
        response = connection.getresponse()
        answer = response.read()
        assert response.status == status, (response.status, answer)


def batch_bodies(rows: list[dict[str, object]], batch: int) -> list[bytes]:
    return [
        json.dumps({"results": rows[start : start + batch]}).encode()
        for start in range(0, len(rows), batch)
    ]


def measure(work: Path, results: int, batch: int, repeat: int) -> dict[str, object]:
    """Results per second through the real HTTP API, against raw sqlite3.executemany."""
    rows = result_rows(results)
    db = work / "ingest.db"
    server, url = start_server(db, work)
    floors: list[_Floor] = [
        RawFloor(work / "raw.db", batch),
        RawFloor(work / "raw-days.db", batch, days=True),
        StatementsFloor(work / "raw-statements.db", batch),
    ]
    rates = _rounds(server, Poster(url, new_token(db)), floors, rows, batch, repeat)
    return {
        **rates_row(results, batch, rates.http, rates.raw[0]),
        "cpu": rates_row(results, batch, rates.http_cpu, rates.raw_cpu[0]),
        "with_day_counts": rates_row(results, batch, rates.http, rates.raw[1]),
        "with_day_counts_cpu": rates_row(results, batch, rates.http_cpu, rates.raw_cpu[1]),
        "server_statements_cpu": rates_row(results, batch, rates.http_cpu, rates.raw_cpu[2]),
    }


@dataclass
class _Rates:
    """Results per second of each timed round, both sides, in wall and CPU time."""

    http: list[float] = field(default_factory=list)
    raw: list[list[float]] = field(default_factory=list)
    """Per floor, its rounds."""
    http_cpu: list[float] = field(default_factory=list)
    raw_cpu: list[list[float]] = field(default_factory=list)


class _Floor(Protocol):
    def insert_run(self, rows: list[dict[str, object]]) -> float: ...

    def close(self) -> None: ...


def _rounds(
    server: subprocess.Popen[str],
    poster: Poster,
    floors: list[_Floor],
    rows: list[dict[str, object]],
    batch: int,
    repeat: int,
) -> _Rates:
    """Post a run, then store it raw into each floor, ``repeat`` times after a warm-up;
    stops the server."""
    bodies = batch_bodies(rows, batch)
    rates = _Rates(raw=[[] for _ in floors], raw_cpu=[[] for _ in floors])
    try:
        for i in range(repeat + 1):
            server_cpu = cpu_seconds(server.pid)
            http_seconds = poster.post_run(bodies)
            server_cpu = cpu_seconds(server.pid) - server_cpu
            if i:  # the first round warms caches and interns the tests
                rates.http.append(len(rows) / http_seconds)
                rates.http_cpu.append(len(rows) / server_cpu)
            for number, floor in enumerate(floors):
                floor_cpu = time.process_time()
                raw_seconds = floor.insert_run(rows)
                floor_cpu = time.process_time() - floor_cpu
                if i:
                    rates.raw[number].append(len(rows) / raw_seconds)
                    rates.raw_cpu[number].append(len(rows) / floor_cpu)
    finally:
        for floor in floors:
            floor.close()
        server.terminate()
        server.wait()
    return rates


def rates_row(results: int, batch: int, http: list[float], raw: list[float]) -> dict[str, object]:
    http_median, http_spread = median_spread(http)
    raw_median, raw_spread = median_spread(raw)
    ratios = [h / r for h, r in zip(http, raw, strict=True)]
    return {
        "results": results,
        "batch": batch,
        "rounds": len(http),
        "http_results_per_s": http_median,
        "http_spread": http_spread,
        "http_rounds": http,
        "raw_sqlite_results_per_s": raw_median,
        "raw_spread": raw_spread,
        "raw_rounds": raw,
        "ratio_to_raw": median_spread(ratios)[0],
        "ratio_spread": median_spread(ratios)[1],
    }


def result_values(
    run_key: int, ids: dict[str, int], rows: list[dict[str, object]]
) -> list[tuple[object, ...]]:
    """The floors' result rows, in the columns their INSERT names."""
    return [
        (
            run_key,
            ids[str(r["test_id"])],
            r["outcome"],
            r["duration"],
            r["seed"],
            r["exception_type"],
            r["message"],
            r["traceback"],
            "0123456789abcdef" if r["message"] is not None else None,
            r["position"],
        )
        for r in rows
    ]


RESULT_COLUMNS = (
    "run_key, test_id, outcome, duration, seed, exception_type, message, traceback,"
    " fingerprint, position"
)


def day_counts(values: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """(test key, passes, failures) of one batch's result rows, as the server counts them."""
    return [
        (test, int(outcome == "success"), int(outcome == "failure"))
        for _, test, outcome, *_ in values
    ]


class RawFloor:
    """The floor: seedboard's rows by executemany, one transaction per batch as the
    server commits, WAL as the server; with ``days``, each test's day counts too."""

    def __init__(self, path: Path, batch: int, days: bool = False) -> None:
        engine = create_engine(f"sqlite:///{path}")
        Base.metadata.create_all(engine)
        engine.dispose()
        self._conn = sqlite3.connect(path, isolation_level=None)
        for pragma in ("foreign_keys = ON", "journal_mode = WAL", "synchronous = NORMAL"):
            self._conn.execute(f"PRAGMA {pragma}")
        self._batch = batch
        self._days = days

    def insert_run(self, rows: list[dict[str, object]]) -> float:
        """Seconds to store one run's results, interning tests not seen before."""
        conn = self._conn
        run_key = conn.execute(
            "INSERT INTO runs (id, started_at, host, python_version, twisted_version, command,"
            " is_replay, success, failure, error, skip, expected_failure, unexpected_success)"
            " VALUES (?, '2026-11-25 17:00:00', 'bench', '3', '26', 'bench', 0, 0, 0, 0, 0, 0, 0)"
            " RETURNING key",
            (uuid.uuid4().hex,),
        ).fetchone()[0]
        started = time.perf_counter()
        for start in range(0, len(rows), self._batch):
            part = rows[start : start + self._batch]
            conn.execute("BEGIN IMMEDIATE")
            names = {r["test_id"]: (r["file"], r["line"]) for r in part}
            conn.executemany(
                "INSERT OR IGNORE INTO tests (name, file, line) VALUES (?, ?, ?)",
                [(name, file, line) for name, (file, line) in names.items()],
            )
            ids = dict(conn.execute("SELECT name, id FROM tests"))
            values = result_values(run_key, ids, part)
            conn.executemany(
                f"INSERT INTO results ({RESULT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )
            if self._days:
                conn.executemany(
                    "INSERT INTO test_days (test_id, day, branch, passes, failures)"
                    " VALUES (?, '2026-11-25', 'main', ?, ?) ON CONFLICT DO UPDATE SET"
                    " passes = passes + excluded.passes, failures = failures + excluded.failures",
                    day_counts(values),
                )
            conn.execute("COMMIT")
        return time.perf_counter() - started

    def close(self) -> None:
        self._conn.close()


class StatementsFloor(RawFloor):
    """The floor of the server's exact work on SQLite: its own statements, in its order,
    one transaction per batch, from rows already built (no HTTP, parsing, fingerprints or
    SQLAlchemy): the run locked, the batch's row, the tests looked up by one JSON array,
    the results, the day counts from the new rows, the run's counts, the change count."""

    def __init__(self, path: Path, batch: int) -> None:
        super().__init__(path, batch)
        self._conn.execute("INSERT INTO changes (id, count) VALUES (1, 0)")

    def insert_run(self, rows: list[dict[str, object]]) -> float:
        conn = self._conn
        run_id = uuid.uuid4().hex
        conn.execute(
            "INSERT INTO runs (id, started_at, host, python_version, twisted_version, command,"
            " is_replay, branch, success, failure, error, skip, expected_failure,"
            " unexpected_success)"
            " VALUES (?, '2026-11-25 17:00:00', 'bench', '3', '26', 'bench', 0, 'main',"
            " 0, 0, 0, 0, 0, 0)",
            (run_id,),
        )
        started = time.perf_counter()
        for number, start in enumerate(range(0, len(rows), self._batch)):
            part = rows[start : start + self._batch]
            conn.execute("BEGIN IMMEDIATE")
            run_key = conn.execute(
                "SELECT key, started_at, finished_at, branch, is_replay FROM runs WHERE id = ?",
                (run_id,),
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO batches (run_id, number, stored_at, count) VALUES (?, ?, ?, ?)"
                " ON CONFLICT DO NOTHING RETURNING run_id, number",
                (run_id, number, "2026-11-25 17:00:00", len(part)),
            ).fetchall()
            located = {r["test_id"]: (r["file"], r["line"]) for r in part}
            names = list(located)
            found = conn.execute(
                "SELECT names.key, tests.id, tests.file, tests.line FROM json_each(?) AS names"
                " JOIN tests ON tests.name = names.value ORDER BY names.key",
                (json.dumps(names),),
            ).fetchall()
            if len(found) < len(located):
                conn.executemany(
                    "INSERT INTO tests (name, file, line) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    [(n, *place) for n, place in located.items()],
                )
                found = conn.execute(
                    "SELECT names.key, tests.id, tests.file, tests.line FROM json_each(?) AS names"
                    " JOIN tests ON tests.name = names.value ORDER BY names.key",
                    (json.dumps(names),),
                ).fetchall()
            ids = {str(name): test for name, (_, test, _, _) in zip(names, found, strict=True)}
            after = conn.execute("SELECT coalesce(max(id), 0) FROM results").fetchone()[0]
            conn.executemany(
                f"INSERT INTO results ({RESULT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                result_values(run_key, ids, part),
            )
            conn.execute(
                "INSERT INTO test_days (test_id, day, branch, passes, failures)"
                " SELECT test_id + 0, '2026-11-25', 'main',"
                " sum(CASE WHEN outcome IN ('success', 'expected_failure') THEN 1 ELSE 0 END),"
                " sum(CASE WHEN outcome = 'failure' OR outcome = 'error'"
                " OR outcome = 'unexpected_success' THEN 1 ELSE 0 END)"
                " FROM results WHERE id > ? AND run_key + 0 = ? GROUP BY test_id + 0"
                " ORDER BY test_id + 0 ON CONFLICT DO UPDATE SET"
                " passes = passes + excluded.passes, failures = failures + excluded.failures",
                (after, run_key),
            )
            failures = sum(r["outcome"] == "failure" for r in part)
            conn.execute(
                "UPDATE runs SET success = success + ?, failure = failure + ? WHERE key = ?",
                (len(part) - failures, failures, run_key),
            )
            conn.execute("UPDATE changes SET count = count + 1")
            conn.execute("COMMIT")
        return time.perf_counter() - started


def print_rows(ingest: dict[str, Any]) -> None:
    _print_rates("ingest, wall time", ingest)
    _print_rates("ingest, CPU time", ingest["cpu"])
    if "with_day_counts" in ingest:
        _print_rates("against raw + day counts, wall", ingest["with_day_counts"])
        _print_rates("against raw + day counts, CPU", ingest["with_day_counts_cpu"])
    if "server_statements_cpu" in ingest:
        _print_rates("against its own statements, CPU", ingest["server_statements_cpu"])
    if "postgres" in ingest:
        _print_rates("ingest into PostgreSQL, wall", ingest["postgres"], "PostgreSQL", "psycopg")


def _print_rates(
    title: str, ingest: dict[str, float], database: str = "SQLite", raw: str = "sqlite3"
) -> None:
    print(f"{title:<30}{'median':>12}{'spread':>12}")
    print(
        f"  {'HTTP API into ' + database:<28}{ingest['http_results_per_s']:>10,.0f}/s"
        f"{ingest['http_spread']:>10,.0f}/s"
    )
    print(
        f"  {'raw ' + raw + '.executemany':<28}{ingest['raw_sqlite_results_per_s']:>10,.0f}/s"
        f"{ingest['raw_spread']:>10,.0f}/s"
    )
    ratio, spread = ingest["ratio_to_raw"], ingest["ratio_spread"]
    print(f"  {'ratio HTTP ÷ raw':<28}{ratio:>12.3f}{spread:>12.3f}")


def measure_postgres(
    work: Path, server_url: str, results: int, batch: int, repeat: int
) -> dict[str, object]:
    """The same rounds into a fresh PostgreSQL database, against psycopg's executemany
    there; wall time only, since PostgreSQL's own processes do the floor's work."""
    rows = result_rows(results)
    with fresh_postgres_database(server_url) as url:
        server, address = start_server(url, work)
        poster = Poster(address, new_token(url))
        rates = _rounds(server, poster, [PostgresFloor(url, batch)], rows, batch, repeat)
    return rates_row(results, batch, rates.http, rates.raw[0])


class PostgresFloor:
    """The floor on PostgreSQL: the same rows with COPY (psycopg's ``cursor.copy``), one
    transaction per batch, as the server stores them, their tests looked up as the
    server looks them up (no day counts, no run counts)."""

    def __init__(self, url: str, batch: int) -> None:
        import psycopg

        # The server has made the schema already (it migrates on start).
        plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._conn = psycopg.connect(plain)
        self._batch = batch

    def insert_run(self, rows: list[dict[str, object]]) -> float:
        with self._conn.transaction():
            run_key = self._conn.execute(
                "INSERT INTO runs (id, started_at, host, python_version, twisted_version, command,"
                " is_replay, success, failure, error, skip, expected_failure, unexpected_success)"
                " VALUES (%s, '2026-11-25 17:00:00', 'bench', '3', '26', 'bench', false,"
                " 0, 0, 0, 0, 0, 0) RETURNING key",
                (uuid.uuid4().hex,),
            ).fetchone()[0]  # type: ignore[index]
        started = time.perf_counter()
        for start in range(0, len(rows), self._batch):
            part = rows[start : start + self._batch]
            with self._conn.transaction(), self._conn.cursor() as cursor:
                ids = self._test_ids(cursor, {r["test_id"]: (r["file"], r["line"]) for r in part})
                with cursor.copy(f"COPY results ({RESULT_COLUMNS}) FROM STDIN") as copy:
                    for row in result_values(run_key, ids, part):
                        copy.write_row(row)
        return time.perf_counter() - started

    @staticmethod
    def _test_ids(cursor: Any, located: dict[object, tuple[object, object]]) -> dict[str, int]:
        """The batch's tests' ids as the server finds them: one lookup by an array of the
        names, and only the tests not found inserted, then looked up."""
        lookup = "SELECT name, id FROM tests WHERE name = ANY(%s)"
        ids = dict(cursor.execute(lookup, (list(located),)).fetchall())
        if len(ids) < len(located):
            new = sorted(str(name) for name in located if name not in ids)
            cursor.executemany(
                "INSERT INTO tests (name, file, line) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                [(name, *located[name]) for name in new],
            )
            ids.update(cursor.execute(lookup, (new,)).fetchall())
        return ids

    def close(self) -> None:
        self._conn.close()
