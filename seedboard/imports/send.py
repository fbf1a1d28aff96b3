"""A file's results to a seedboard server, through the write API the reporter uses.

The file is read twice: whole first, so that nothing of a malformed file is sent,
then in batches.  The run's id is the file's digest and batches are numbered, so an
import cut short is finished by importing again, and a finished one stores nothing.
"""

from __future__ import annotations

import json
import urllib.error
from urllib.parse import quote

import msgspec

from seedboard.domain import RESULT_FIELDS, Result, RunStart
from seedboard.imports.common import Facts, FileFormat
from seedboard.imports.load import (
    Batches,
    Imported,
    Labels,
    Source,
    Unreadable,
    checked,
    finished_at,
    read,
    run_start,
)
from seedboard.ingest import BatchBody, FinishBody, ResultBody, RunBody
from seedboard.remote import get_json, put_bytes
from seedboard.settings import TOKEN_ENV

_SENT_FIELDS = tuple(name for name in RESULT_FIELDS if name != "fingerprint")


def import_to_server(
    server: str, token: str | None, source: Source, format: FileFormat, labels: Labels
) -> Imported:
    facts = checked(source, format)
    run = run_start(source, format, facts, labels)
    base = f"{server.rstrip('/')}/api/v1/runs/{quote(run.id, safe='')}"
    try:
        if _finished_on(base, token):
            return Imported(run.id, facts.results, new=False)
        put_bytes(base, token, msgspec.json.encode(_run_body(run)))
        sent = Batches(
            lambda number, results: put_bytes(
                f"{base}/batches/{number}", token, msgspec.json.encode(_batch_body(results))
            )
        )
        read(source, format, sent, Facts())
        sent.flush()
        body = msgspec.json.encode(FinishBody(finished_at=finished_at(run, facts).isoformat()))
        put_bytes(f"{base}/finish", token, body, method="POST")
    except urllib.error.HTTPError as error:
        if _answer_code(error) == "run_finished":
            return Imported(run.id, facts.results, new=False)
        raise Unreadable(_refusal(server, error)) from None
    except OSError as error:
        raise Unreadable(f"cannot reach {server}: {error}") from None
    return Imported(run.id, facts.results, new=True)


def _finished_on(run_url: str, token: str | None) -> bool:
    """Whether the server has the run, finished: imported before."""
    try:
        return get_json(run_url, token)["run"]["finished_at"] is not None
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return False
        raise


def _run_body(run: RunStart) -> RunBody:
    """The body that creates ``run``: its fields by ``RunBody``'s names, times as text."""
    fields = {name: getattr(run, name) for name in RunBody.__struct_fields__}
    return RunBody(**{**fields, "started_at": run.started_at.isoformat()})


def _batch_body(results: list[Result]) -> BatchBody:
    return BatchBody(
        results=[
            ResultBody(**{name: getattr(result, name) for name in _SENT_FIELDS})
            for result in results
        ]
    )


def _answer_code(error: urllib.error.HTTPError) -> str | None:
    try:
        return str(json.load(error)["error"]["code"])
    except (ValueError, KeyError, TypeError, OSError):
        return None


def _refusal(server: str, error: urllib.error.HTTPError) -> str:
    if error.code in (401, 403):
        return f"{server} refused the import: set {TOKEN_ENV} to a valid token"
    return f"{server} answered {error.code} {error.reason}"
