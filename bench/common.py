"""What every part of the benchmark shares: clean environments, timing, a real server."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SAMPLES = REPO / "tests" / "samples"


def median_spread(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), max(samples) - min(samples)


def cpu_seconds(pid: int) -> float:
    """CPU time a process has used (user and system): steadier than wall time on a busy machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEEDBOARD_")}
    env.update(extra)
    return env


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def start_server(db: Path | str, work: Path) -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [str(BIN / "seedboard"), "serve", "--db", str(db), "--port", "0"],
        cwd=work,
        env=environment(),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    line = server.stdout.readline().strip()
    return server, line.rsplit(" at ", 1)[1].rstrip("/")


def new_token(db: Path | str) -> str:
    return subprocess.run(
        [
            str(BIN / "seedboard"),
            "token",
            "create",
            f"bench-{uuid.uuid4().hex[:8]}",
            "--db",
            str(db),
        ],
        env=environment(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@contextmanager
def fresh_postgres_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the PostgreSQL server ``server_url`` names; dropped after."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"seedboard_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
