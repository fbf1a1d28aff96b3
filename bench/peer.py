"""A peer: subunit2sql storing the same results, from a subunit v2 stream, into SQLite.

subunit2sql (OpenStack's subunit-to-database tool) needs old SQLAlchemy and
oslo.db, so it gets its own virtualenv, bench/.peer-venv, made on first use
(which needs PyPI) and kept afterwards.  Each side stores the same runs into
a database of its own, rounds alternating; the first round of each only warms
up (and interns the tests), as in the ingest part.  Each test appears once per
run, as in a real run: subunit2sql keeps one result per test id per stream.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import venv
from pathlib import Path

from common import REPO, median_spread, new_token, start_server
from ingest import Poster, batch_bodies, result_rows

VENV = REPO / "bench" / ".peer-venv"
PACKAGES = [
    "subunit2sql==1.10.0",
    "oslo.db<12",
    "sqlalchemy<1.4",
    "alembic<1.5",
    "python-subunit",
]
"""subunit2sql's last release, with the newest libraries it still works with."""

_READY = VENV / "installed.json"

STREAM_WRITER = """
import json, sys
from datetime import datetime, timedelta, timezone
from subunit.v2 import StreamResultToBytes

STATUS = {"success": "success", "failure": "fail", "error": "fail", "skip": "skip",
          "expected_failure": "xfail", "unexpected_success": "uxsuccess"}
rows = json.load(open(sys.argv[1]))
start = datetime(2026, 11, 25, 17, 0, tzinfo=timezone.utc)
with open(sys.argv[2], "wb") as out:
    stream = StreamResultToBytes(out)
    for i, row in enumerate(rows):
        began = start + timedelta(seconds=i)
        stream.status(test_id=row["test_id"], test_status="inprogress", timestamp=began)
        details = {}
        if row["traceback"]:
            details = {"file_name": "traceback", "mime_type": "text/plain;charset=utf8",
                       "file_bytes": row["traceback"].encode()}
        stream.status(test_id=row["test_id"], test_status=STATUS[row["outcome"]],
                      timestamp=began + timedelta(seconds=row["duration"]), **details)
"""


def peer_venv() -> Path:
    """The peer's virtualenv with subunit2sql installed, made the first time (needs PyPI)."""
    if _READY.exists() and json.loads(_READY.read_text()) == PACKAGES:
        return VENV
    print(f"bench: installing subunit2sql into {VENV} (once)", file=sys.stderr, flush=True)
    venv.create(VENV, with_pip=True, clear=True)
    pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    installed = subprocess.run([*pip, *PACKAGES], capture_output=True, text=True)
    if installed.returncode:
        sys.exit(f"bench: cannot install {' '.join(PACKAGES)}:\n{installed.stderr}")
    _READY.write_text(json.dumps(PACKAGES))
    return VENV


def measure(work: Path, results: int, batch: int, repeat: int) -> dict[str, object]:
    """Results per second: seedboard over HTTP ÷ subunit2sql from a subunit v2 stream."""
    bin_ = peer_venv() / "bin"
    rows = result_rows(results, tests=results)
    (work / "peer-rows.json").write_text(json.dumps(rows))
    stream = work / "peer.subunit"
    python = str(bin_ / "python")
    subprocess.run(
        [python, "-c", STREAM_WRITER, str(work / "peer-rows.json"), str(stream)], check=True
    )
    peer_url = f"sqlite:///{work / 'subunit2sql.db'}"
    subprocess.run(
        [str(bin_ / "subunit2sql-db-manage"), "--database-connection", peer_url, "upgrade", "head"],
        check=True,
        capture_output=True,
    )
    db = work / "peer-seedboard.db"
    server, url = start_server(db, work)
    poster = Poster(url, new_token(db))
    bodies = batch_bodies(rows, batch)
    ours: list[float] = []
    theirs: list[float] = []
    try:
        for i in range(repeat + 1):
            seedboard_seconds = poster.post_run(bodies)
            peer_seconds = _subunit2sql(bin_, peer_url, stream)
            if i:
                ours.append(results / seedboard_seconds)
                theirs.append(results / peer_seconds)
    finally:
        server.terminate()
        server.wait()
    ratios = [o / t for o, t in zip(ours, theirs, strict=True)]
    return {
        "results": results,
        "rounds": len(ours),
        "seedboard_results_per_s": median_spread(ours)[0],
        "seedboard_spread": median_spread(ours)[1],
        "subunit2sql_results_per_s": median_spread(theirs)[0],
        "subunit2sql_spread": median_spread(theirs)[1],
        "ratio": median_spread(ratios)[0],
        "ratio_spread": median_spread(ratios)[1],
        "peer_packages": PACKAGES,
    }


def _subunit2sql(bin_: Path, url: str, stream: Path) -> float:
    command = [str(bin_ / "subunit2sql"), "--database-connection", url, str(stream)]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def print_rows(peer: dict[str, float]) -> None:
    print(
        f"{'peer (' + format(peer['results'], ',') + ' results)':<30}{'median':>12}{'spread':>12}"
    )
    for name in ("seedboard", "subunit2sql"):
        rate, spread = peer[f"{name}_results_per_s"], peer[f"{name}_spread"]
        label = "seedboard over HTTP" if name == "seedboard" else "subunit2sql from a stream"
        print(f"  {label:<28}{rate:>10,.0f}/s{spread:>10,.0f}/s")
    print(f"  {'ratio seedboard ÷ peer':<28}{peer['ratio']:>12.1f}{peer['ratio_spread']:>12.1f}")
