"""Talking to a seedboard server's JSON API from the command line (``replay``, ``runs
delete``, ``prune``, ``bisect``): a bearer token in the header, never in the address.
Standard library only."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import date
from typing import Any

from seedboard.settings import TOKEN_ENV

TIMEOUT = 30.0


def get_json(url: str, token: str | None) -> Any:
    """The JSON answer of a GET; ``urllib.error.HTTPError`` for an error status."""
    with urllib.request.urlopen(
        urllib.request.Request(url, headers=_headers(token)), timeout=TIMEOUT
    ) as got:
        return json.load(got)


def post_json(url: str, token: str | None, value: object) -> None:
    """POST ``value`` as JSON; ``urllib.error.HTTPError`` for an error status."""
    headers = {"Content-Type": "application/json", **_headers(token)}
    request = urllib.request.Request(
        url, data=json.dumps(value).encode(), headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT):
        pass


def put_bytes(url: str, token: str | None, body: bytes, method: str = "PUT") -> None:
    """Send a JSON ``body`` already encoded; ``urllib.error.HTTPError`` for an error status."""
    headers = {"Content-Type": "application/json", **_headers(token)}
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=TIMEOUT):
        pass


def delete_on_server(server: str, token: str | None, run_id: str) -> str | None:
    """``DELETE /api/v1/runs/<run_id>``; None once deleted, else what went wrong, in words."""
    url = f"{server.rstrip('/')}/api/v1/runs/{urllib.parse.quote(run_id, safe='')}"
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=_headers(token), method="DELETE"), timeout=TIMEOUT
        ):
            return None
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return f"no run with id {run_id!r} on {server}"
        if error.code in (401, 403):
            return f"{server} refused to delete run {run_id}: set {TOKEN_ENV} to a valid token"
        return f"{server} answered {error.code} to deleting run {run_id}"
    except OSError as error:
        return f"cannot reach {server}: {error}"


def runs_until_on_server(server: str, token: str | None, last_day: date, limit: int) -> list[str]:
    """The ids of up to ``limit`` runs, replays too, started on ``last_day`` (UTC) or before."""
    query = urllib.parse.urlencode(
        {"until": last_day.isoformat(), "replay": "include", "limit": limit}
    )
    return [
        run["id"] for run in get_json(f"{server.rstrip('/')}/api/v1/runs?{query}", token)["runs"]
    ]


def _headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}
