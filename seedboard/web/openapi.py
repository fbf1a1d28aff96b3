"""The OpenAPI 3.1 description of ``/api/v1``, served at ``/api/v1/openapi.json``.

Nothing here restates a field: request bodies are ``seedboard.ingest``'s
Structs, answers are ``seedboard.web.answers``', query arguments are
``seedboard.web.queries``', and msgspec writes their JSON Schema.  This module
only lists the operations, which the tests compare with the app's routes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final, TypeVar, cast

import msgspec
import msgspec.inspect
from msgspec import Struct

from seedboard.ingest import (
    REQUEST_BODIES,
    BatchBody,
    FinishBody,
    IssueBody,
    OrderDependencyBody,
    OwnersBody,
    QuarantineBody,
    RunBody,
    WebhookBody,
)
from seedboard.settings import RUN_ID_PATTERN
from seedboard.web import answers
from seedboard.web.queries import (
    QUERIES,
    ClustersQuery,
    CompareQuery,
    FlakyQuery,
    ReportQuery,
    RunQuery,
    RunsQuery,
    SeedsQuery,
    TestQuery,
    TrendsQuery,
)

JSONObject = dict[str, Any]

JSON = "application/json"
REF = "#/components/schemas/{name}"
BEARER: Final[list[JSONObject]] = [{"bearer": []}]
BEARER_IF_PRIVATE: Final[list[JSONObject]] = [{}, {"bearer": []}]
"""Reads need no token, unless the server runs with ``--private``."""
PUBLIC: Final[list[JSONObject]] = [{}]

RUN_ID = {
    "name": "run_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": RUN_ID_PATTERN},
    "description": "32 lowercase hexadecimal characters; the reporter makes it.",
}
TEST_ID = {
    "name": "test_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "The test's id, percent-encoded (a `/` in it too).",
}
QUARANTINED = {
    "name": "test",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "The test id or pattern quarantined, percent-encoded.",
}
REASON = {
    "name": "reason",
    "in": "query",
    "required": False,
    "schema": {"type": "string"},
    "description": "Why, for the history.",
}
WEBHOOK_ID = {
    "name": "webhook_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
    "description": "The webhook's id, as listed.",
}
BATCH_NUMBER = {
    "name": "number",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
    "description": "The batch's number within the run; the same number again stores nothing.",
}


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of the API: where, what it takes and what it answers."""

    method: str
    path: str
    id: str
    summary: str
    answer: type[Struct]
    security: list[JSONObject]
    errors: tuple[str, ...]
    status: str = "200"
    query: type[Struct] | None = None
    body: type[Struct] | None = None
    path_parameters: tuple[JSONObject, ...] = ()
    also: tuple[tuple[str, str], ...] = ()
    """Other statuses answered with the same body: (status, description)."""


OPERATIONS: Final = (
    Operation(
        "get",
        "/api/v1/runs",
        "listRuns",
        "Runs, newest first, a page at a time",
        answers.RunPage,
        BEARER_IF_PRIVATE,
        ("400", "401"),
        query=RunsQuery,
    ),
    Operation(
        "get",
        "/api/v1/runs/{run_id}",
        "getRun",
        "A run with every result, failures first",
        answers.RunDetail,
        BEARER_IF_PRIVATE,
        ("400", "401", "404"),
        query=RunQuery,
        path_parameters=(RUN_ID,),
    ),
    Operation(
        "put",
        "/api/v1/runs/{run_id}",
        "createRun",
        "Create a run; the same run again changes nothing",
        answers.CreatedRun,
        BEARER,
        ("400", "401", "413", "415", "503"),
        status="201",
        body=RunBody,
        path_parameters=(RUN_ID,),
        also=(("200", "The run was there already"),),
    ),
    Operation(
        "put",
        "/api/v1/runs/{run_id}/batches/{number}",
        "addBatch",
        "Add a batch of results to a run; a batch sent again stores nothing",
        answers.StoredBatch,
        BEARER,
        ("400", "401", "409", "413", "415", "503"),
        status="201",
        body=BatchBody,
        path_parameters=(RUN_ID, BATCH_NUMBER),
        also=(("200", "The batch was stored before: nothing was stored now"),),
    ),
    Operation(
        "post",
        "/api/v1/runs/{run_id}/finish",
        "finishRun",
        "Say when a run ended; the same finish again changes nothing",
        answers.FinishedRun,
        BEARER,
        ("400", "401", "409", "413", "415", "503"),
        body=FinishBody,
        path_parameters=(RUN_ID,),
    ),
    Operation(
        "post",
        "/api/v1/runs/{run_id}/order-dependencies",
        "recordOrderDependency",
        "Record the polluter seedboard bisect found for a test that failed in the run",
        answers.RecordedOrderDependency,
        BEARER,
        ("400", "401", "413", "415", "503"),
        status="201",
        body=OrderDependencyBody,
        path_parameters=(RUN_ID,),
    ),
    Operation(
        "get",
        "/api/v1/compare",
        "compareRuns",
        "Two runs compared, test by test",
        answers.Comparison,
        BEARER_IF_PRIVATE,
        ("400", "401", "404"),
        query=CompareQuery,
    ),
    Operation(
        "get",
        "/api/v1/tests/{test_id}",
        "getTest",
        "A test's latest results, newest first, and its triage",
        answers.TestHistory,
        BEARER_IF_PRIVATE,
        ("400", "401", "404"),
        query=TestQuery,
        path_parameters=(TEST_ID,),
    ),
    Operation(
        "get",
        "/api/v1/flaky",
        "listFlaky",
        "Tests that failed in their latest results, worst first",
        answers.FlakyPage,
        BEARER_IF_PRIVATE,
        ("400", "401"),
        query=FlakyQuery,
    ),
    Operation(
        "get",
        "/api/v1/trends",
        "getTrends",
        "Runs, failures and flaky tests per day or week",
        answers.Trends,
        BEARER_IF_PRIVATE,
        ("400", "401"),
        query=TrendsQuery,
    ),
    Operation(
        "get",
        "/api/v1/clusters",
        "getClusters",
        "Failures grouped by fingerprint across tests",
        answers.Clusters,
        BEARER_IF_PRIVATE,
        ("400", "401"),
        query=ClustersQuery,
    ),
    Operation(
        "get",
        "/api/v1/seeds",
        "listSeeds",
        "Every (test, seed) that ever failed, and where each stands",
        answers.KnownSeeds,
        BEARER_IF_PRIVATE,
        ("400", "401"),
        query=SeedsQuery,
    ),
    Operation(
        "get",
        "/api/v1/quarantines",
        "listQuarantines",
        "The quarantines in force (what the reporter goes by) and the latest changes",
        answers.Quarantines,
        BEARER_IF_PRIVATE,
        ("401",),
    ),
    Operation(
        "post",
        "/api/v1/quarantines",
        "addQuarantine",
        "Quarantine a test or a pattern of tests, or change the quarantine in force on it",
        answers.ChangedQuarantine,
        BEARER,
        ("400", "401", "413", "415", "503"),
        status="201",
        body=QuarantineBody,
        also=(("200", "A quarantine in force was changed"),),
    ),
    Operation(
        "delete",
        "/api/v1/quarantines/{test}",
        "removeQuarantine",
        "Lift a quarantine",
        answers.LiftedQuarantine,
        BEARER,
        ("400", "401", "404"),
        path_parameters=(QUARANTINED, REASON),
    ),
    Operation(
        "put",
        "/api/v1/issues/{test_id}",
        "linkIssue",
        "Link a test to the issue tracking it, or unlink it",
        answers.IssueLink,
        BEARER,
        ("400", "401", "413", "415", "503"),
        body=IssueBody,
        path_parameters=(TEST_ID,),
    ),
    Operation(
        "put",
        "/api/v1/runs/{run_id}/owners",
        "recordOwners",
        "Record each test's owners as a run read them from CODEOWNERS",
        answers.RecordedOwners,
        BEARER,
        ("400", "401", "404", "413", "415", "503"),
        body=OwnersBody,
        path_parameters=(RUN_ID,),
    ),
    Operation(
        "delete",
        "/api/v1/runs/{run_id}",
        "deleteRun",
        "Delete a run and its results (a replay that recorded a mistake, say)",
        answers.DeletedRun,
        BEARER,
        ("401", "404"),
        path_parameters=(RUN_ID,),
    ),
    Operation(
        "get",
        "/api/v1/report",
        "getRunReport",
        "A run's summary for CI: new, known and quarantined failures, fixed tests",
        answers.RunReport,
        BEARER_IF_PRIVATE,
        ("400", "401", "404", "503"),
        query=ReportQuery,
    ),
    Operation(
        "get",
        "/api/v1/webhooks",
        "listWebhooks",
        "The webhooks events are sent to (never their secrets)",
        answers.Webhooks,
        BEARER,
        ("401",),
    ),
    Operation(
        "post",
        "/api/v1/webhooks",
        "addWebhook",
        "Send events to an address",
        answers.Webhook,
        BEARER,
        ("400", "401", "413", "415"),
        status="201",
        body=WebhookBody,
    ),
    Operation(
        "delete",
        "/api/v1/webhooks/{webhook_id}",
        "removeWebhook",
        "Stop sending events to a webhook; its pending deliveries go too",
        answers.RemovedWebhooks,
        BEARER,
        ("401", "404"),
        path_parameters=(WEBHOOK_ID,),
    ),
)

_ERRORS: Final = {
    "400": (
        "BadRequest",
        "The request is malformed: `bad_json`, `invalid` or `bad_request` (each with "
        "`field` when one part is at fault), `unknown_run` (field `run_id`), or "
        "`unknown_test` (field `victim` or `polluter`: no result of it was recorded).  A time "
        "before the run's start, or more than a day ahead of the server's clock, is "
        "`invalid`.",
    ),
    "401": ("Unauthorized", "No valid bearer token: `unauthorized`."),
    "404": ("NotFound", "No such run or test: `not_found`."),
    "409": (
        "Conflict",
        "The run has finished, and a finished run is closed: `run_finished`, with `field` "
        "`run_id` for a new batch, `finished_at` for a finish at another time.  Nothing "
        "was stored.",
    ),
    "413": ("TooLarge", "The body is larger than the server's `--max-body`: `too_large`."),
    "415": ("UnsupportedMediaType", "The body is not application/json in UTF-8."),
    "500": (
        "InternalError",
        "Something went wrong on the server: `internal_error`; the details are in its log.",
    ),
    "503": (
        "Unavailable",
        "The server's storage is in trouble (disk full, read-only, busy), it is receiving "
        "as many bodies as it takes at once, or a heavy read (flaky, trends, clusters, "
        "compare) found its lane full or ran out of time: `unavailable`; nothing was stored, "
        "retry after "
        "`Retry-After` seconds.",
    ),
}


_EVERY_OPERATION: Final = ("400", "500", "503")
"""Errors any request may meet: an address that is not UTF-8, a bug, storage trouble."""


def openapi_document() -> JSONObject:
    schemas = _schemas()
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "seedboard",
            "version": "1",
            "description": (
                "Trial runs of Twisted projects, their results and random seeds. Writing "
                "needs a bearer token (`seedboard token create NAME`); reading needs one only "
                "on a server started with `--private`. Times are RFC 3339 with a zone; "
                "answers give them in UTC. Query arguments out of range are refused with a "
                "400 naming the argument in `field`."
            ),
        },
        "paths": _paths(schemas),
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `seedboard token create NAME`.",
                }
            },
            "schemas": {
                name: schema for name, schema in schemas.items() if name not in _QUERY_NAMES
            },
            "responses": _error_responses(),
        },
    }


_QUERY_NAMES: Final = frozenset(query.__name__ for query in QUERIES)


def _schemas() -> JSONObject:
    """Every body's, answer's and query's JSON Schema, by name; enumerations list their
    values in the order they are declared (msgspec sorts them), which is the order of
    meaning: outcomes from success, classes from stable."""
    kinds = (*REQUEST_BODIES, *answers.RESPONSE_BODIES, *QUERIES)
    _, schemas = msgspec.json.schema_components(kinds, ref_template=REF)
    for enum in _classes(msgspec.inspect.multi_type_info(kinds), Enum):
        schemas[enum.__name__]["enum"] = [member.value for member in enum]
    # An answer is written whole, even a field with a default (one its Struct computes),
    # unless its Struct leaves defaults out.
    for answer in _classes(msgspec.inspect.multi_type_info(answers.RESPONSE_BODIES), Struct):
        if not answer.__struct_config__.omit_defaults:
            schemas[answer.__name__]["required"] = list(schemas[answer.__name__]["properties"])
    return schemas


C = TypeVar("C", bound=type)


def _classes(types: Iterable[msgspec.inspect.Type], base: C) -> set[C]:
    """Every enumeration or Struct (subclasses of ``base``) the types use, however deep."""
    found: set[C] = set()
    seen: set[int] = set()
    pending = list(types)
    while pending:
        kind = pending.pop()
        if id(kind) in seen:
            continue
        seen.add(id(kind))
        if isinstance(kind, msgspec.inspect.EnumType | msgspec.inspect.StructType) and issubclass(
            kind.cls, base
        ):
            found.add(cast(C, kind.cls))
        if isinstance(kind, msgspec.inspect.StructType):
            pending += [field.type for field in kind.fields]
        elif isinstance(kind, msgspec.inspect.Metadata):
            pending.append(kind.type)
        elif isinstance(kind, msgspec.inspect.ListType):
            pending.append(kind.item_type)
        elif isinstance(kind, msgspec.inspect.UnionType):
            pending += kind.types
    return found


def _paths(schemas: JSONObject) -> JSONObject:
    paths: JSONObject = {}
    for operation in OPERATIONS:
        paths.setdefault(operation.path, {})[operation.method] = _operation(operation, schemas)
    paths["/api/v1/openapi.json"] = {
        "get": {
            "operationId": "getOpenAPI",
            "summary": "This document",
            "security": PUBLIC,
            "responses": {
                "200": {"description": "The OpenAPI document", "content": {JSON: {"schema": {}}}}
            },
        }
    }
    return paths


def _operation(operation: Operation, schemas: JSONObject) -> JSONObject:
    answer = {"schema": {"$ref": REF.format(name=operation.answer.__name__)}}
    responses: JSONObject = {
        operation.status: {"description": operation.summary, "content": {JSON: answer}}
    }
    for status, description in operation.also:
        responses[status] = {"description": description, "content": {JSON: answer}}
    for status in sorted({*operation.errors, *_EVERY_OPERATION}):
        responses[status] = {"$ref": f"#/components/responses/{_ERRORS[status][0]}"}
    found: JSONObject = {
        "operationId": operation.id,
        "summary": operation.summary,
        "security": operation.security,
        "responses": responses,
    }
    parameters = [*operation.path_parameters, *_query_parameters(operation.query, schemas)]
    if parameters:
        found["parameters"] = parameters
    if operation.body is not None:
        found["requestBody"] = {
            "required": True,
            "content": {JSON: {"schema": {"$ref": REF.format(name=operation.body.__name__)}}},
        }
    return found


def _query_parameters(query: type[Struct] | None, schemas: JSONObject) -> list[JSONObject]:
    """A query Struct's fields as parameters: its schema's properties, one each."""
    if query is None:
        return []
    schema = schemas[query.__name__]
    required = set(schema.get("required", ()))
    parameters = []
    for name, property_schema in schema["properties"].items():
        parameter_schema = _inline(_not_null(dict(property_schema)), schemas)
        description = parameter_schema.pop("description", "")
        parameters.append(
            {
                "name": name,
                "in": "query",
                "required": name in required,
                "description": description,
                "schema": parameter_schema,
            }
        )
    return parameters


def _not_null(schema: JSONObject) -> JSONObject:
    """An argument's schema without the null its Struct field defaults to: an absent
    argument is how a query says none."""
    if schema.get("default", ...) is None:
        del schema["default"]
    members = [one for one in schema.pop("anyOf", ()) if one != {"type": "null"}]
    if len(members) == 1:
        schema.update(members[0])
    elif members:
        schema["anyOf"] = members
    return schema


def _inline(schema: JSONObject, schemas: JSONObject) -> JSONObject:
    """A parameter's schema with an enumeration it refers to written out, for readers."""
    reference = schema.pop("$ref", None)
    if reference is None:
        return schema
    target = {k: v for k, v in schemas[reference.rpartition("/")[2]].items() if k != "title"}
    return {**target, **schema}


def _error_responses() -> JSONObject:
    error = {JSON: {"schema": {"$ref": REF.format(name=answers.Error.__name__)}}}
    responses = {
        name: {"description": description, "content": error}
        for name, description in _ERRORS.values()
    }
    responses["Unauthorized"]["headers"] = {
        "WWW-Authenticate": {"schema": {"type": "string", "const": "Bearer"}}
    }
    responses["Unavailable"]["headers"] = {
        "Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"}}
    }
    return responses
