"""The OpenAPI 3.1 description of ``/api/v1``, served at ``/api/v1/openapi.json``.

Request bodies are built from the field tables ``seedboard.ingest`` checks them
with, so the published schema is the enforced one.  The response shapes mirror
``seedboard.web.json_shapes``; tests compare both with what the app really serves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from seedboard.domain import Outcome
from seedboard.ingest import (
    BATCH_FIELDS,
    FINISH_FIELDS,
    MAX_INT,
    RUN_FIELDS,
    RUN_ID_PATTERN,
    TIME_PATTERN,
    Choice,
    Field,
    Flag,
    Integer,
    Items,
    Kind,
    Number,
    Text,
    Time,
)
from seedboard.triage.classify import Classification
from seedboard.triage.trends import (
    DEFAULT_DAYS,
    MAX_DAILY_DAYS,
    MAX_DAYS,
    MOST_FLAKY,
    SAMPLE_LIMIT,
    SPARKLINE,
    Bucket,
)

JSONObject = dict[str, Any]

JSON = "application/json"
BEARER: list[JSONObject] = [{"bearer": []}]
BEARER_IF_PRIVATE: list[JSONObject] = [{}, {"bearer": []}]
"""Reads need no token, unless the server runs with ``--private``."""


def openapi_document(
    runs_limit: int,
    history_limit: int,
    flaky_limit: int,
    max_limit: int,
    window: int,
    max_window: int,
) -> JSONObject:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "seedboard",
            "version": "1",
            "description": (
                "Trial runs of Twisted projects, their results and random seeds. Writing "
                "needs a bearer token (`seedboard token create NAME`); reading needs one only "
                "on a server started with `--private`. Times are ISO 8601 with a zone; "
                "answers give them in UTC."
            ),
        },
        "paths": {
            "/api/v1/runs": {"get": _list_runs(runs_limit, max_limit)},
            "/api/v1/runs/{run_id}": {"get": _get_run(), "put": _create_run()},
            "/api/v1/runs/{run_id}/batches/{number}": {"put": _add_batch()},
            "/api/v1/runs/{run_id}/finish": {"post": _finish_run()},
            "/api/v1/compare": {"get": _compare_runs()},
            "/api/v1/trends": {"get": _get_trends()},
            "/api/v1/tests/{test_id}": {"get": _get_test(history_limit, max_limit, window)},
            "/api/v1/flaky": {"get": _list_flaky(flaky_limit, max_limit, window, max_window)},
            "/api/v1/openapi.json": {"get": _get_openapi()},
        },
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `seedboard token create NAME`.",
                }
            },
            "schemas": {**_request_schemas(), **_response_schemas()},
            "responses": _error_responses(),
        },
    }


# Operations.


def _list_runs(runs_limit: int, max_limit: int) -> JSONObject:
    return _operation(
        "listRuns",
        "Runs, newest first, a page at a time",
        BEARER_IF_PRIVATE,
        parameters=[
            _limit_parameter(runs_limit, max_limit),
            _query_parameter(
                "before",
                {"type": "string"},
                "The id of the last run of the previous page (`next` carries it, with the "
                "filters). An id of no run is refused: `bad_request` with field `before`.",
            ),
            *_run_filter_parameters(),
        ],
        responses={"200": _json_response("A page of runs", "RunPage")},
        errors=("400", "401"),
    )


def _run_filter_parameters() -> list[JSONObject]:
    """The filters of the runs list; each is left out when absent or empty."""
    day = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
    return [
        _query_parameter("branch", {"type": "string"}, "Only runs on this branch."),
        _query_parameter(
            "outcome",
            {"type": "string", "enum": ["failing", "green"]},
            "`failing`: runs with a failure, an error or an unexpected success; "
            "`green`: runs with none of those.",
        ),
        _query_parameter("since", day, "Only runs started on this UTC day or later (YYYY-MM-DD)."),
        _query_parameter(
            "until", day, "Only runs started on this UTC day or earlier (YYYY-MM-DD)."
        ),
        _query_parameter(
            "replay",
            {"type": "string", "enum": ["only", "exclude"]},
            "`only`: just the runs `seedboard replay` made; `exclude`: none of them. "
            "Both kinds when absent.",
        ),
        _query_parameter(
            "test",
            {"type": "string"},
            "Only runs that ran a test whose id contains this text (`%` and `_` match themselves).",
        ),
    ]


def _compare_runs() -> JSONObject:
    run = {"type": "string"}
    return _operation(
        "compareRuns",
        "What changed from run `a` (the earlier) to run `b`",
        BEARER_IF_PRIVATE,
        parameters=[
            _query_parameter("a", run, "The id of the earlier run, the baseline.", True),
            _query_parameter("b", run, "The id of the later run.", True),
        ],
        responses={"200": _json_response("The two runs and the differences", "Comparison")},
        errors=("400", "401", "404"),
    )


def _get_run() -> JSONObject:
    return _operation(
        "getRun",
        "A run with all its results, failures and errors first",
        BEARER_IF_PRIVATE,
        parameters=[_path_parameter("run_id", {"type": "string"})],
        responses={"200": _json_response("The run", "RunDetail")},
        errors=("401", "404"),
    )


def _create_run() -> JSONObject:
    return _operation(
        "createRun",
        "Create a run; creating it again changes nothing",
        BEARER,
        parameters=[_run_id_parameter()],
        body="RunStartBody",
        responses={
            "201": _json_response("Created", "CreatedRun"),
            "200": _json_response("It existed already and was left as it was", "CreatedRun"),
        },
        errors=("400", "401", "413", "415", "503"),
    )


def _add_batch() -> JSONObject:
    number = {"type": "integer", "minimum": 0, "maximum": MAX_INT}
    return _operation(
        "addBatch",
        "Append batch <number> of a run's results; a batch sent again is not stored twice",
        BEARER,
        parameters=[
            _run_id_parameter(),
            _path_parameter("number", number, "Batches of a run are numbered 0, 1, 2, …"),
        ],
        body="BatchBody",
        responses={
            "201": _json_response("Stored", "StoredBatch"),
            "200": _json_response("Stored before: nothing stored now", "StoredBatch"),
        },
        errors=("400", "401", "413", "415", "503"),
    )


def _finish_run() -> JSONObject:
    return _operation(
        "finishRun",
        "Record when a run ended; finishing again is harmless",
        BEARER,
        parameters=[_run_id_parameter()],
        body="FinishBody",
        responses={"200": _json_response("Finished", "FinishedRun")},
        errors=("400", "401", "413", "415", "503"),
    )


def _get_test(history_limit: int, max_limit: int, window: int) -> JSONObject:
    return _operation(
        "getTest",
        "One test's results across runs, newest first, and its triage over the last "
        f"{window} runs that ran it",
        BEARER_IF_PRIVATE,
        parameters=[
            _path_parameter(
                "test_id",
                {"type": "string", "minLength": 1},
                "The test id, percent-encoded: it may hold any character, `/` included.",
            ),
            _limit_parameter(history_limit, max_limit),
        ],
        responses={"200": _json_response("The test's history", "TestHistory")},
        errors=("400", "401", "404"),
    )


def _list_flaky(flaky_limit: int, max_limit: int, window: int, max_window: int) -> JSONObject:
    return _operation(
        "listFlaky",
        "Tests that are not stable, most worrying first, each with its triage",
        BEARER_IF_PRIVATE,
        parameters=[
            {
                "name": "window",
                "in": "query",
                "description": (
                    "How many recent runs to look at: candidates failed in the latest "
                    f"`window` runs, and each is judged on its own latest `window` results. "
                    f"Values outside 1..{max_window} are refused."
                ),
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": max_window,
                    "default": window,
                },
            },
            {
                "name": "branch",
                "in": "query",
                "description": "Only runs on this branch; all branches when absent or empty.",
                "schema": {"type": "string"},
            },
            _limit_parameter(flaky_limit, max_limit),
        ],
        responses={"200": _json_response("The tests that are not stable", "FlakyPage")},
        errors=("400", "401"),
    )


def _get_trends() -> JSONObject:
    return _operation(
        "getTrends",
        "Runs, failures and flakiness per day or week up to today, and the most flaky tests",
        BEARER_IF_PRIVATE,
        parameters=[
            _query_parameter(
                "days",
                {"type": "integer", "minimum": 1, "maximum": MAX_DAYS, "default": DEFAULT_DAYS},
                f"How many UTC days, ending today. Up to {MAX_DAILY_DAYS} days are counted "
                "per day, more per ISO week. Values outside the range are refused.",
            ),
            _query_parameter(
                "branch",
                {"type": "string"},
                "Only runs on this branch; all branches when absent or empty.",
            ),
        ],
        responses={"200": _json_response("The trends", "Trends")},
        errors=("400", "401"),
    )


def _get_openapi() -> JSONObject:
    return _operation(
        "getOpenAPI",
        "This document",
        [],
        responses={"200": {"description": "OpenAPI 3.1", "content": {JSON: {"schema": {}}}}},
        errors=(),
    )


def _operation(
    operation_id: str,
    summary: str,
    security: list[JSONObject],
    responses: JSONObject,
    errors: Sequence[str],
    parameters: Sequence[JSONObject] = (),
    body: str | None = None,
) -> JSONObject:
    operation: JSONObject = {"operationId": operation_id, "summary": summary}
    operation["security"] = security
    if parameters:
        operation["parameters"] = list(parameters)
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {JSON: {"schema": _ref(body)}},
        }
    all_responses = dict(responses)
    for status in errors:
        all_responses[status] = {"$ref": f"#/components/responses/{_ERRORS[status][0]}"}
    operation["responses"] = all_responses
    return operation


def _path_parameter(name: str, schema: JSONObject, description: str = "") -> JSONObject:
    parameter: JSONObject = {"name": name, "in": "path", "required": True, "schema": schema}
    if description:
        parameter["description"] = description
    return parameter


def _run_id_parameter() -> JSONObject:
    schema = {"type": "string", "pattern": RUN_ID_PATTERN}
    return _path_parameter("run_id", schema, "32 lowercase hex characters, e.g. a uuid4's hex.")


def _query_parameter(
    name: str, schema: JSONObject, description: str, required: bool = False
) -> JSONObject:
    parameter: JSONObject = {"name": name, "in": "query", "description": description}
    if required:
        parameter["required"] = True
    parameter["schema"] = schema
    return parameter


def _limit_parameter(default: int, maximum: int) -> JSONObject:
    return {
        "name": "limit",
        "in": "query",
        "description": f"How many to answer; values outside 1..{maximum} are clamped.",
        "schema": {"type": "integer", "default": default},
    }


def _json_response(description: str, schema: str) -> JSONObject:
    return {"description": description, "content": {JSON: {"schema": _ref(schema)}}}


def _ref(name: str) -> JSONObject:
    return {"$ref": f"#/components/schemas/{name}"}


# Request bodies, from the tables seedboard.ingest checks them with.


def _request_schemas() -> JSONObject:
    return {
        "RunStartBody": _object_schema(RUN_FIELDS),
        "BatchBody": _object_schema(BATCH_FIELDS),
        "FinishBody": _object_schema(FINISH_FIELDS),
    }


def _object_schema(fields: Sequence[Field]) -> JSONObject:
    return {
        "type": "object",
        "properties": {field.name: _field_schema(field) for field in fields},
        "required": [field.name for field in fields if field.required],
        "additionalProperties": False,
    }


def _field_schema(field: Field) -> JSONObject:
    schema = _kind_schema(field.kind)
    if not field.nullable:
        return schema
    if "enum" in schema:
        return {**schema, "enum": [*schema["enum"], None], "type": [schema["type"], "null"]}
    return {**schema, "type": [schema["type"], "null"]}


def _kind_schema(kind: Kind) -> JSONObject:
    match kind:
        case Text(min_length=min_length, max_length=max_length):
            schema: JSONObject = {"type": "string"}
            if min_length:
                schema["minLength"] = min_length
            if max_length is not None:
                schema["maxLength"] = max_length
            return schema
        case Integer(minimum=minimum, maximum=maximum):
            return {"type": "integer", "minimum": minimum, "maximum": maximum}
        case Number(minimum=minimum):
            return {"type": "number", "minimum": minimum}
        case Time():
            return {
                "type": "string",
                "format": "date-time",
                "pattern": TIME_PATTERN,
                "description": "ISO 8601 with a zone (Z or ±hh:mm); times without one are refused.",
            }
        case Choice():
            return {"type": "string", "enum": kind.values}
        case Flag():
            return {"type": "boolean"}
        case Items(fields=fields, min_items=min_items, max_items=max_items):
            return {
                "type": "array",
                "items": _object_schema(fields),
                "minItems": min_items,
                "maxItems": max_items,
            }
    raise TypeError(f"no schema for {kind!r}")


# Answers, as seedboard.web.json_shapes writes them.


def _response_schemas() -> JSONObject:
    string, integer, number = {"type": "string"}, {"type": "integer"}, {"type": "number"}
    time = {"type": "string", "format": "date-time"}
    outcome = {"type": "string", "enum": [o.value for o in Outcome]}
    return {
        "Counts": _closed({o.value: integer for o in Outcome} | {"total": integer}),
        "Run": _closed(
            {
                "id": string,
                "started_at": time,
                "finished_at": _nullable(time),
                "duration": _nullable(number),
                "host": string,
                "python_version": string,
                "twisted_version": string,
                "command": string,
                "order_seed": _nullable(integer),
                "branch": _nullable(string),
                "commit": _nullable(string),
                "build_url": _nullable(string),
                "run_seed": _nullable(integer),
                "is_replay": {"type": "boolean"},
                "replay_command": {
                    **_nullable(string),
                    "description": "The command replaying the whole run; null without a run seed.",
                },
                "counts": _ref("Counts"),
                "url": string,
            }
        ),
        "Result": _closed(
            {
                "test_id": string,
                "outcome": outcome,
                "duration": number,
                "seed": _nullable(integer),
                "exception_type": _nullable(string),
                "message": _nullable(string),
                "traceback": _nullable(string),
                "file": _nullable(string),
                "line": _nullable(integer),
                "fingerprint": _nullable(string),
                "url": string,
            }
        ),
        "RunPage": _closed(
            {"runs": {"type": "array", "items": _ref("Run")}, "next": _nullable(string)}
        ),
        "RunDetail": _closed(
            {
                "run": _ref("Run"),
                "results": {"type": "array", "items": _ref("Result")},
                "previous_run": {
                    **_nullable(string),
                    "description": (
                        "The id of the latest run on the same branch started before this "
                        "one, replays left out; null if there is none."
                    ),
                },
            }
        ),
        "Comparison": _closed(
            {
                "a": _ref("Run"),
                "b": _ref("Run"),
                **{
                    name: {**_test_ids(), "description": description}
                    for name, description in _DIFF_FIELDS.items()
                },
            }
        ),
        "TestRun": _closed(
            {
                "run_id": string,
                "started_at": time,
                "branch": _nullable(string),
                "commit": _nullable(string),
                "outcome": outcome,
                "duration": number,
                "seed": _nullable(integer),
                "message": _nullable(string),
            }
        ),
        "TestHistory": _closed(
            {
                "test_id": string,
                "file": _nullable(string),
                "line": _nullable(integer),
                "runs": {"type": "array", "items": _ref("TestRun")},
                "triage": _ref("Triage"),
                "median_duration": {
                    **_nullable(number),
                    "description": "Over the runs listed, skips left out; null without any.",
                },
                "slowdowns": {
                    "type": "array",
                    "items": _ref("Slowdown"),
                    "description": (
                        "Runs listed in which it took more than twice the median, and at "
                        "least 10 ms more; newest first."
                    ),
                },
            }
        ),
        "Slowdown": _closed(
            {
                "run_id": string,
                "duration": number,
                "ratio": {**number, "description": "duration / median_duration"},
            }
        ),
        "RunRef": _closed({"id": string, "url": string}),
        "CreatedRun": _closed({"run": _ref("RunRef"), "created": {"type": "boolean"}}),
        "StoredBatch": _closed({"stored": integer, "duplicate": {"type": "boolean"}}),
        "FinishedRun": _closed({"run": _ref("RunRef"), "finished": {"const": True}}),
        "Error": _closed(
            {
                "error": _closed(
                    {"code": string, "message": string, "field": string},
                    required=("code", "message"),
                )
            }
        ),
        **_triage_schemas(),
        **_trend_schemas(),
    }


def _triage_schemas() -> JSONObject:
    string, integer = {"type": "string"}, {"type": "integer"}
    time = {"type": "string", "format": "date-time"}
    rate = {"type": "number", "minimum": 0, "maximum": 1}
    return {
        "FlakyPage": _closed(
            {
                "window": integer,
                "branch": _nullable(string),
                "tests": {"type": "array", "items": _ref("Triage")},
            }
        ),
        "Triage": _closed(
            {
                "test_id": string,
                "file": _nullable(string),
                "line": _nullable(integer),
                "classification": {"type": "string", "enum": [c.value for c in Classification]},
                "failure_rate": {**rate, "description": "failures / runs"},
                "flip_rate": {
                    **rate,
                    "description": "Pass/fail changes between consecutive runs / (runs - 1)",
                },
                "runs": {**integer, "description": "Results in the window, skips left out"},
                "failures": integer,
                "groups": {"type": "array", "items": _ref("FailureGroup")},
                "seeds": {"type": "array", "items": _ref("SeedReport")},
                "url": string,
                "sparkline": {
                    **_sparkline(),
                    "description": (
                        f"Its latest {SPARKLINE} results (on the branch asked for, replays "
                        "included), oldest first: 1 failed, 0 passed, null skipped."
                    ),
                },
            }
        ),
        "FailureGroup": _closed(
            {
                "fingerprint": string,
                "summary": string,
                "count": integer,
                "first_seen": time,
                "last_seen": time,
                "seeds": {"type": "array", "items": integer},
            }
        ),
        "SeedReport": _closed(
            {
                "seed": integer,
                "passed": integer,
                "failed": integer,
                "snippet": {
                    **_nullable(string),
                    "description": "Where `@seed(N)` goes; only for a seed that failed.",
                },
                "command": {
                    **_nullable(string),
                    "description": "The shell command replaying it; only for a seed that failed.",
                },
            }
        ),
    }


_DIFF_FIELDS = {
    "new_failures": "Bad in b (failure, error or unexpected success), not bad in a.",
    "fixed": "Bad in a, ran in b and not bad there.",
    "still_failing": "Bad in both.",
    "new_tests": "In b, not in a.",
    "removed_tests": "In a, not in b (also when it was bad in a).",
}
"""The test id lists of a comparison, each sorted."""


def _test_ids() -> JSONObject:
    return {"type": "array", "items": {"type": "string"}}


def _trend_schemas() -> JSONObject:
    integer = {"type": "integer", "minimum": 0}
    rate = {"type": "number", "minimum": 0, "maximum": 1}
    day = {"type": "string", "format": "date"}
    return {
        "Trends": _closed(
            {
                "branch": _nullable({"type": "string"}),
                "days": {"type": "integer", "minimum": 1, "maximum": MAX_DAYS},
                "bucket": {
                    "type": "string",
                    "enum": [b.value for b in Bucket],
                    "description": f"`day` for up to {MAX_DAILY_DAYS} days, else `week`.",
                },
                "points": {"type": "array", "items": _ref("TrendPoint")},
                "most_flaky": {
                    "type": "array",
                    "items": _ref("FlakyTrend"),
                    "maxItems": MOST_FLAKY,
                    "description": (
                        "The tests with the most failures in the range that also passed in "
                        "it, most failures first."
                    ),
                },
            }
        ),
        "TrendPoint": _closed(
            {
                "start": {
                    **day,
                    "description": (
                        "The bucket's first day; weeks start on Monday, except the first, "
                        "which starts where the range does."
                    ),
                },
                "runs": {**integer, "description": "Runs started in the bucket, replays left out."},
                "results": {**integer, "description": "Those runs' results."},
                "failures": {
                    **integer,
                    "description": "Their failures, errors and unexpected successes.",
                },
                "failure_rate": {**rate, "description": "failures / results; 0 without results."},
                "flaky_tests": {
                    **integer,
                    "description": (
                        "Tests with both a pass (success or expected failure) and a failure "
                        "in the bucket."
                    ),
                },
                "newly_flaky": {
                    **integer,
                    "description": "Flaky in the bucket and in no earlier bucket of the range.",
                },
                "fixed": {
                    **integer,
                    "description": (
                        "Tests that failed in the previous bucket and only passed in this one."
                    ),
                },
            }
        ),
        "FlakyTrend": _closed(
            {
                "test_id": {"type": "string"},
                "failures": {**integer, "description": "Over the range, replays left out."},
                "runs": {**integer, "description": "Its passes and failures over the range."},
                "failure_rate": {**rate, "description": "failures / runs"},
                "flip_rate": {
                    **rate,
                    "description": (
                        f"Over its latest {SAMPLE_LIMIT} results in the range, replays left out."
                    ),
                },
                "classification": {
                    "type": "string",
                    "enum": [c.value for c in Classification],
                    "description": (
                        f"Judged on its latest {SAMPLE_LIMIT} results in the range, replays "
                        "included, as /api/v1/flaky judges."
                    ),
                },
                "sparkline": {
                    **_sparkline(),
                    "description": (
                        f"Its latest {SPARKLINE} results in the range, replays left out, oldest "
                        "first: 1 failed, 0 passed, null skipped."
                    ),
                },
                "url": {"type": "string"},
            }
        ),
    }


def _sparkline() -> JSONObject:
    point = {"type": ["integer", "null"], "enum": [0, 1, None]}
    return {"type": "array", "items": point, "maxItems": SPARKLINE}


def _closed(properties: JSONObject, required: Sequence[str] | None = None) -> JSONObject:
    """An object with exactly these properties, all of them present unless said otherwise."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties if required is None else required),
        "additionalProperties": False,
    }


def _nullable(schema: JSONObject) -> JSONObject:
    return {**schema, "type": [schema["type"], "null"]}


_ERRORS = {
    "400": (
        "BadRequest",
        "The request is malformed: `bad_json`, `invalid` (with `field`), `unknown_run` "
        "(field `run_id`) or `bad_request`.",
    ),
    "401": ("Unauthorized", "No valid bearer token: `unauthorized`."),
    "404": ("NotFound", "No such run or test: `not_found`."),
    "413": ("TooLarge", "The body is larger than the server's `--max-body`: `too_large`."),
    "415": ("UnsupportedMediaType", "The body is not application/json in UTF-8."),
    "503": (
        "Unavailable",
        "The server's storage is in trouble (disk full, read-only, busy): `unavailable`; "
        "nothing was stored, retry after `Retry-After` seconds.",
    ),
}


def _error_responses() -> JSONObject:
    responses = {
        name: {"description": description, "content": {JSON: {"schema": _ref("Error")}}}
        for name, description in _ERRORS.values()
    }
    responses["Unauthorized"]["headers"] = {
        "WWW-Authenticate": {"schema": {"type": "string", "const": "Bearer"}}
    }
    responses["Unavailable"]["headers"] = {
        "Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"}}
    }
    return responses
