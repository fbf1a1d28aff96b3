"""The API's contract in the tests: every JSON answer checked against ``/api/v1/openapi.json``.

``checked_client`` wraps the site so that every answer under ``/api/v1`` a
test receives is validated, with the ``jsonschema`` library, against the
response the generated document declares for its operation and status; a
mismatch fails the test.  ``fetch`` does the same for a real server over
loopback, with the standard library, and ``check_answer`` for an answer read any
other way.  ``schema_errors`` checks one value against one schema.
"""

from __future__ import annotations

import functools
import io
import json
import re
import threading
from dataclasses import dataclass
from email.message import Message
from typing import Any, cast
from urllib.error import HTTPError
from urllib.parse import unquote, urlsplit
from urllib.request import Request as URLRequest
from urllib.request import urlopen

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


def _in_api(path: str) -> bool:
    return path.startswith("/api/v1/") and path != "/api/v1/openapi.json"


_errors_lock = threading.Lock()


def check_answer(
    case: SynchronousTestCase, method: str, path: str, status: int, body: bytes
) -> None:
    """Check one answer to ``method path`` (unquoted, no query); a mismatch fails ``case``."""
    if not _in_api(path):
        return
    errors = answer_errors(method, path, status, body)
    kept = vars(case)
    with _errors_lock:  # answers may arrive on several threads at once
        if "_answers_off_contract" not in kept:
            kept["_answers_off_contract"] = []
            case.addCleanup(_assert_on_contract, case)
        kept["_answers_off_contract"] += errors


def _assert_on_contract(case: SynchronousTestCase) -> None:
    with _errors_lock:
        errors = vars(case).pop("_answers_off_contract")
    case.assertEqual(errors, [], "answers off the contract")


@dataclass(frozen=True)
class Fetched:
    """One answer from a real server: the final URL, status, reason, headers and body."""

    url: str
    status: int
    reason: str
    headers: Message
    body: bytes

    def json(self) -> Any:
        """The body, decoded as JSON."""
        return json.loads(self.body)

    def or_raise(self) -> Fetched:
        """This answer if it is no error, else the ``HTTPError`` ``urlopen`` would raise."""
        if self.status >= 400:
            body = io.BytesIO(self.body)
            raise HTTPError(self.url, self.status, self.reason, self.headers, body)
        return self


def fetch(
    case: SynchronousTestCase,
    url: str,
    method: str = "GET",
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> Fetched:
    """One request to a real server with ``urlopen``, its API answer checked (see above);
    an error status is returned like any other."""
    request = URLRequest(url, data=data, headers=headers or {}, method=method)
    try:
        with urlopen(request, timeout=timeout) as response:
            answer = Fetched(
                response.geturl(),
                response.status,
                response.reason,
                response.headers,
                response.read(),
            )
    except HTTPError as error:
        answer = Fetched(error.geturl(), error.code, error.reason, error.headers, error.read())
    if answer.url != url:
        method = "GET"  # urllib follows a redirect of a GET or POST with a GET
    path = urlsplit(answer.url).path
    if _in_api(path):
        check_answer(case, method, unquote(path), answer.status, answer.body)
    return answer


def fetch_json(case: SynchronousTestCase, url: str, timeout: float = 10) -> Any:
    """GET ``url``'s JSON from a real server, checked; an error status raises as ``urlopen``."""
    return fetch(case, url, timeout=timeout).or_raise().json()


class CheckedResource(Resource):
    """``inner``, with every JSON answer under /api/v1 checked against the document."""

    isLeaf = True

    def __init__(self, inner: Resource, case: SynchronousTestCase) -> None:
        super().__init__()
        self._inner = inner
        self._case = case

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
        if not _in_api(request.path.decode("latin-1")):
            return
        method = request.method.decode("ascii")
        check_answer(self._case, method, _unquoted(request), request.code, body)


def _unquoted(request: Request) -> str:
    parts = [*(request.prepath or []), *(request.postpath or [])]
    return "/" + "/".join(part.decode("utf-8", "replace") for part in parts)


def checked_client(case: SynchronousTestCase, resource: Resource) -> Any:
    """A StubTreq client of ``resource`` whose every API answer is checked (see above)."""
    return cast(Any, StubTreq(CheckedResource(resource, case)))
