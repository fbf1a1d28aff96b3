"""The v1 write API's JSON bodies, as the reporter sends them."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from seedboard.domain import RunStart
from seedboard_reporter.recorder import Row


def _time(moment: datetime) -> str:
    return moment.isoformat()


def encode(value: dict[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def run_body(run: RunStart) -> bytes:
    return encode(
        {
            "started_at": _time(run.started_at),
            "host": run.host,
            "python_version": run.python_version,
            "twisted_version": run.twisted_version,
            "command": run.command,
            "order_seed": run.order_seed,
            "branch": run.branch,
            "commit": run.commit,
            "build_url": run.build_url,
            "run_seed": run.run_seed,
            "is_replay": run.is_replay,
        }
    )


def batch_body(rows: list[Row]) -> bytes:
    """A batch's results, each keyed by its row's field names: ``Result``'s."""
    return encode({"results": [row._asdict() for row in rows]})


def finish_body(finished_at: datetime) -> bytes:
    return encode({"finished_at": _time(finished_at)})
