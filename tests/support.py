"""Shared test fixtures: real databases (SQLite or PostgreSQL) and sample runs.

The whole suite runs on SQLite files by default.  ``SEEDBOARD_TEST_DB=postgresql``
runs it on PostgreSQL instead, each test in a fresh database of its own on the
server ``SEEDBOARD_TEST_POSTGRES_URL`` names (default: the local server's
``test`` database, as on CI machines).
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

from sqlalchemy.pool import NullPool
from twisted.trial.unittest import SynchronousTestCase

from seedboard.db import runs
from seedboard.db.engine import Database, open_database
from seedboard.db.migrate import ensure_schema
from seedboard.domain import Outcome, Result, RunStart
from seedboard.services.results import add_results
from seedboard.settings import WAIT_ENV

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(sys.executable).parent


BACKEND_ENV = "SEEDBOARD_TEST_DB"
POSTGRES_URL_ENV = "SEEDBOARD_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def on_postgres() -> bool:
    """True when this run of the suite uses PostgreSQL for every database."""
    return os.environ.get(BACKEND_ENV, "sqlite") == "postgresql"


def postgres_server_url() -> str:
    return os.environ.get(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL)


def database_url(case: SynchronousTestCase) -> str:
    """The URL of an empty database of the test's own, on the suite's backend."""
    if on_postgres():
        return fresh_postgres_database(case, postgres_server_url())
    path = Path(case.mktemp()).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}.db"


def fresh_postgres_database(
    case: SynchronousTestCase, server_url: str, template: str | None = None
) -> str:
    """Create a new database on the server (a copy of ``template``), dropped after the test."""
    name = f"seedboard_test_{uuid4().hex}"
    postgres_admin(
        server_url, f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
    )
    case.addCleanup(postgres_admin, server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return _on_database(server_url, name)


def temporary_database(case: SynchronousTestCase) -> Database:
    """A migrated database of the test's own, disposed of after the test.

    Each is a copy of one database migrated once per test process: running the
    migrations for every test would cost most of the suite's time.
    """
    if on_postgres():
        url = fresh_postgres_database(case, postgres_server_url(), _postgres_template())
    else:
        url = database_url(case)
        shutil.copyfile(_sqlite_template(), url.removeprefix("sqlite:///"))
    database = open_database(url)
    case.addCleanup(database.dispose)
    ensure_schema(database)  # a no-op on a current copy; kept so a stale copy can't pass
    return database


@functools.cache
def _sqlite_template() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="seedboard-test-template-"))
    atexit.register(shutil.rmtree, folder, True)
    path = folder / "template.db"
    _migrate(f"sqlite:///{path}")
    return path


@functools.cache
def _postgres_template() -> str:
    server_url = postgres_server_url()
    name = f"seedboard_test_template_{uuid4().hex}"
    postgres_admin(server_url, f'CREATE DATABASE "{name}"')
    atexit.register(postgres_admin, server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _migrate(_on_database(server_url, name))
    return name


def _migrate(url: str) -> None:
    database = open_database(url)
    try:
        ensure_schema(database)
    finally:
        database.dispose()  # a template must have no open connections to be copied


def postgres_admin(server_url: str, statement: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(statement))


def _on_database(server_url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def everything_stored(database: Database) -> bytes:
    """All a database keeps: a SQLite database's files, or every row of every table."""
    if database.is_sqlite:
        path = Path(database.writer.url.database or "")
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    from sqlalchemy import Connection, MetaData, select

    def every_row(conn: Connection) -> list[object]:
        tables = MetaData()
        tables.reflect(conn)
        return [row for table in tables.sorted_tables for row in conn.execute(select(table))]

    return repr(database.read(every_row)).encode()


def run_start(
    started_at: datetime | None = None, branch: str | None = "main", **fields: object
) -> RunStart:
    values: dict[str, object] = {
        "id": uuid4().hex,
        "started_at": started_at or datetime.now(UTC),
        "host": "ci-host",
        "python_version": "3.11.7",
        "twisted_version": "26.10.0",
        "command": "trial mypkg",
        "branch": branch,
        "commit": "0123456789abcdef0123456789abcdef01234567",
    }
    values.update(fields)
    return RunStart(**values)  # type: ignore[arg-type]


def record_run(
    database: Database,
    results: list[Result],
    start: RunStart | None = None,
    duration: float | None = 2.5,
) -> RunStart:
    """Store a whole run as the reporter would: create, add results, finish."""
    start = start or run_start()
    database.write(runs.create_run, start)
    database.write(add_results, start.id, results)
    if duration is not None:
        database.write(runs.finish_run, start.id, start.started_at + timedelta(seconds=duration))
    return start


def result(
    test_id: str = "mypkg.test_a.ATests.test_one",
    outcome: Outcome = Outcome.SUCCESS,
    seed: int | None = 42,
    **fields: object,
) -> Result:
    values: dict[str, object] = {"duration": 0.25, "file": "mypkg/test_a.py", "line": 10}
    if outcome in (Outcome.FAILURE, Outcome.ERROR):
        values.update(
            exception_type="twisted.trial.unittest.FailTest",
            message=f"1 != 2 (random seed: {seed})",
            traceback='Traceback (most recent call last):\n  File "mypkg/test_a.py", line 11\n',
        )
    values.update(fields)
    return Result(test_id=test_id, outcome=outcome, seed=seed, **values)  # type: ignore[arg-type]


def environment(**overrides: str) -> dict[str, str]:
    """os.environ for a subprocess, minus anything seedboard reads, plus overrides.

    ``SEEDBOARD_WAIT=1`` unless overridden: a test that reads the database right after
    trial exits needs the run imported by then (tests/test_spooled.py drops it to
    test the background import)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEEDBOARD_")}
    env[WAIT_ENV] = "1"
    env.update(overrides)
    return env


def seedboard_command(
    cwd: Path, url: str, *args: str, check: bool = False, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``seedboard ARGS --db URL`` in ``cwd`` and capture what it says."""
    return subprocess.run(
        [str(BIN / "seedboard"), *args, "--db", url],
        cwd=cwd,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=check,
    )


def sample_run(
    project: Path, tests: int, stderr_too: bool = False, **env: str
) -> subprocess.Popen[str]:
    """A ``trial --reporter=seedboard manypkg`` run of ``tests`` tests in ``project`` (a
    copy of tests/samples), in the background, its output piped."""
    return subprocess.Popen(
        [str(BIN / "trial"), "--reporter=seedboard", "manypkg"],
        cwd=project,
        env=environment(PYTHONPATH=str(project), SEEDBOARD_SAMPLE_TESTS=str(tests), **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if stderr_too else None,
        text=True,
    )


def start_server(case: SynchronousTestCase, cwd: Path, *args: str) -> str:
    """Run ``seedboard serve ARGS`` until the test ends; the base URL it printed."""
    import re
    import subprocess

    server = subprocess.Popen(
        [str(BIN / "seedboard"), "serve", *args],
        cwd=cwd,
        env=environment(),
        stdout=subprocess.PIPE,
        text=True,
    )
    case.addCleanup(server.wait, 10)
    case.addCleanup(server.terminate)
    assert server.stdout is not None
    line = server.stdout.readline()
    found = re.search(r" at (http://[^ ]+?)/?$", line.strip())
    assert found is not None, f"seedboard serve said: {line!r}"
    return found.group(1)


FAULTS_ENV = "SEEDBOARD_FAULTS"


def faults_long() -> bool:
    """Whether the fault tests run in their long mode (SEEDBOARD_FAULTS=long), not the short."""
    return os.environ.get(FAULTS_ENV, "short").strip().lower() == "long"


def by_mode(short: int, long: int) -> int:
    """A fault test's size: ``short`` by default (CI), ``long`` with SEEDBOARD_FAULTS=long."""
    return long if faults_long() else short


def integrity(db: Path) -> str:
    """SQLite's own verdict on a database file: "ok", or what is wrong with it."""
    import sqlite3

    with sqlite3.connect(db) as conn:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    conn.close()
    return "; ".join(str(row[0]) for row in rows)


class ServerProcess:
    """``seedboard serve`` on a fixed port, as a process a test may SIGKILL and start again."""

    def __init__(self, case: SynchronousTestCase, cwd: Path, port: int, *args: str) -> None:
        self._cwd = cwd
        self._args = ["--port", str(port), *args]
        self._log = cwd / f"serve-{port}.log"
        self._process: subprocess.Popen[bytes] | None = None
        self.base = f"http://127.0.0.1:{port}"
        case.addCleanup(self.stop)

    def start(self, timeout: float = 30) -> None:
        """Start the server; return once it says it is listening."""
        import time

        with self._log.open("ab") as log:
            start = log.tell()
            self._process = subprocess.Popen(
                [str(BIN / "seedboard"), "serve", *self._args],
                cwd=self._cwd,
                env=environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while b" at http://" not in self._log.read_bytes()[start:]:
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"seedboard serve did not start: {self.output()[-2000:]}")
            time.sleep(0.02)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flushing, like a power cut to the process."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(10)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(10)

    def output(self) -> str:
        """Everything the server printed, over all its starts."""
        return self._log.read_bytes().decode("utf-8", "replace") if self._log.exists() else ""


class Reply:
    """One HTTP answer from a real server: status, headers and the JSON body (or None)."""

    def __init__(self, status: int, headers: dict[str, str], body: object) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def __repr__(self) -> str:
        return f"Reply({self.status}, {self.body!r:.300})"


def exchange(
    case: SynchronousTestCase,
    base: str,
    method: str,
    path: str,
    body: object = None,
    token: str | None = None,
    timeout: float = 30,
) -> Reply:
    """One request with the standard library, as the reporter sends it, its API answer checked
    against the document; never raises on 4xx/5xx."""
    import json

    from tests.contract import fetch

    data = None if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    fetched = fetch(case, base + path, method, data, headers, timeout)
    status, answer, raw = fetched.status, dict(fetched.headers), fetched.body
    is_json = answer.get("Content-Type", "").startswith("application/json")
    return Reply(status, answer, json.loads(raw) if raw and is_json else None)
