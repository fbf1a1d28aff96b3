"""The API's contract in the tests: every JSON answer checked against ``/api/v1/openapi.json``.

``checked_client`` wraps the site so that every answer under ``/api/v1`` a
test receives is validated, with the ``jsonschema`` library, against the
response the generated document declares for its operation and status; a
mismatch fails the test.  ``schema_errors`` checks one value against one schema.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any, cast

from jsonschema import Draft202012Validator
from treq.testing import StubTreq
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.resource import Resource
from twisted.web.server import Request

from seedboard.web.openapi import openapi_document


@functools.cache
def document() -> Any:
    """The document as the server sends it: encoded and decoded again."""
    from seedboard.web.to_json import encode_json

    return json.loads(encode_json(openapi_document()))


def schema_errors(value: Any, schema: Any, root: Any = None) -> list[str]:
    """What in ``value`` breaks ``schema``, whose ``$ref``s point into ``root``'s components."""
    components = (root or document())["components"]
    validator = Draft202012Validator({**schema, "components": components})
    return [
        f"${''.join(f'[{p!r}]' for p in error.absolute_path)}: {error.message}"
        for error in validator.iter_errors(value)
    ]


def answer_errors(method: str, path: str, status: int, body: bytes) -> list[str]:
    """What in an answer breaks the document: an undocumented operation or status, a body
    that is no JSON, or one that breaks the response schema."""
    operation = _operation(method, path)
    if operation is None:
        # Refused before any operation (no such route, a wrong method, an address that is
        # no UTF-8): still the API's error body.
        if 300 <= status < 400:
            return []  # routing's own redirect of an address it tidies (a doubled slash)
        if status < 400:
            return [f"{method} {path}: no such operation in the document"]
        response: Any = {"$ref": "#/components/responses/BadRequest"}
    else:
        response = operation["responses"].get(str(status))
    if response is None:
        return [f"{method} {path}: status {status} is not documented"]
    if "$ref" in response:
        response = document()["components"]["responses"][response["$ref"].rpartition("/")[2]]
    try:
        value = json.loads(body)
    except ValueError as error:
        return [f"{method} {path}: not JSON ({error})"]
    schema = response["content"]["application/json"]["schema"]
    return [f"{method} {path} {status}: {e}" for e in schema_errors(value, schema)]


def _operation(method: str, path: str) -> Any:
    for template, item in document()["paths"].items():
        if _template_pattern(template).fullmatch(path) and method.lower() in item:
            return item[method.lower()]
    return None


@functools.cache
def _template_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{\w+\})", template)
    return re.compile(
        "".join(
            (".+" if part == "{test_id}" else "[^/]+") if part.startswith("{") else re.escape(part)
            for part in parts
        )
    )


class CheckedResource(Resource):
    """``inner``, with every JSON answer under /api/v1 checked against the document."""

    isLeaf = True

    def __init__(self, inner: Resource, case: SynchronousTestCase) -> None:
        super().__init__()
        self._inner = inner
        self._errors: list[str] = []
        case.addCleanup(lambda: case.assertEqual(self._errors, [], "answers off the contract"))

    def render(self, request: Request) -> Any:
        chunks: list[bytes] = []
        write, finish = request.write, request.finish

        def capture(data: bytes) -> None:
            chunks.append(data)
            write(data)

        def check_and_finish() -> None:
            self._check(request, b"".join(chunks))
            finish()

        request.write = capture  # type: ignore[method-assign]
        request.finish = check_and_finish  # type: ignore[method-assign]
        return cast(Any, self._inner).render(request)

    def _check(self, request: Request, body: bytes) -> None:
        path = request.path.decode("latin-1")
        if not path.startswith("/api/v1/") or path == "/api/v1/openapi.json":
            return
        method = request.method.decode("ascii")
        self._errors += answer_errors(method, _unquoted(request), request.code, body)


def _unquoted(request: Request) -> str:
    parts = [*(request.prepath or []), *(request.postpath or [])]
    return "/" + "/".join(part.decode("utf-8", "replace") for part in parts)


def checked_client(case: SynchronousTestCase, resource: Resource) -> Any:
    """A StubTreq client of ``resource`` whose every API answer is checked (see above)."""
    return cast(Any, StubTreq(CheckedResource(resource, case)))
