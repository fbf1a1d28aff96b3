"""Shared test fixtures: real SQLite databases and sample runs."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

from twisted.trial.unittest import SynchronousTestCase

from seedboard.db import runs
from seedboard.db.engine import Database, open_database
from seedboard.db.migrate import ensure_schema
from seedboard.domain import Outcome, Result, RunStart

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(sys.executable).parent


def temporary_database(case: SynchronousTestCase) -> Database:
    """A migrated SQLite file of the test's own, disposed of after the test."""
    path = Path(case.mktemp()).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    database = open_database(f"sqlite:///{path}")
    ensure_schema(database)
    case.addCleanup(database.dispose)
    return database


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
    database.write(runs.add_results, start.id, results)
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
    """os.environ for a subprocess, minus anything seedboard reads, plus overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEEDBOARD_")}
    env.update(overrides)
    return env


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
