"""Refusing a request as soon as its headers arrive, before its body is read.

twisted.web reads a whole body before any resource sees the request, so what
the request line and headers already decide is decided here, in the site's
request factory, and answered straight on the connection, which then closes:

- a body over its limit is refused with 413: ``max_body`` for API writes,
  ``FORM_MAX_BODY`` for everything else (the login and logout forms included);
- an API write without a valid bearer token is refused with 401: reading
  pauses while the token's hash is looked up, and a client that sent
  ``Expect: 100-continue`` gets the 401 instead of ``100 Continue``;
- a write whose body would take the bytes being received at once past the
  server's budget is refused with 503 and ``Retry-After``.  Only writes let
  in past the token check count: other bodies are held to ``FORM_MAX_BODY``
  each, like a request's headers, so that no one without a token can use the
  budget up.

The app checks the token again (``Access.require_writer``): this is the early
answer, not the only one.  The token found active here is kept on the request
(``checked_token``), and the app does not look it up again while it is fresh
(``seedboard.web.auth.TOKEN_CHECK_REUSE``).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Protocol, cast
from urllib.parse import unquote_to_bytes

from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.http import HTTPChannel
from twisted.web.iweb import INonQueuedRequestFactory
from twisted.web.server import Request
from zope.interface import implementer

from seedboard.db.tokens import hash_token
from seedboard.web.auth import CheckedToken, bearer_token, checked_token
from seedboard.web.problems import Problem, too_large, unauthorized, unavailable
from seedboard.web.requests import FORM_MAX_BODY
from seedboard.web.to_json import encode_json, error_answer

BODIES_IN_FLIGHT_PER_MAX_BODY = 4
"""The default budget of bodies being received at once, in ``max_body``s."""

WRITE_METHODS = frozenset({b"PUT", b"POST", b"PATCH", b"DELETE"})

TokenCheck = Callable[[str], Coroutine[Any, Any, bool]]
"""Whether a token's hash belongs to an active token (``Access.is_active``)."""

_REASONS = {401: b"Unauthorized", 413: b"Content Too Large", 503: b"Service Unavailable"}

log = Logger(namespace="seedboard.web")


def default_bodies_in_flight(max_body: int) -> int:
    return BODIES_IN_FLIGHT_PER_MAX_BODY * max_body


def is_api_write(method: bytes, target: bytes) -> bool:
    """Whether a request needs a writer's token: a PUT, POST, … under ``/api/``."""
    path = unquote_to_bytes(target.split(b"?", 1)[0])
    return method.upper() in WRITE_METHODS and (path == b"/api" or path.startswith(b"/api/"))


class BodyBudget:
    """The bytes of request bodies the server accepts to be receiving at once."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0

    def take(self, size: int) -> bool:
        """Reserve ``size`` bytes; False, reserving nothing, if that would pass the limit."""
        if self.in_flight + size > self.limit:
            return False
        self.in_flight += size
        return True

    def release(self, size: int) -> None:
        self.in_flight -= size


@implementer(INonQueuedRequestFactory)
class EarlyRequests:
    """The site's request factory: each request is refused early when its headers say so."""

    def __init__(
        self,
        is_active: TokenCheck,
        max_body: int,
        max_bodies_in_flight: int | None = None,
    ) -> None:
        if max_bodies_in_flight is None:
            max_bodies_in_flight = default_bodies_in_flight(max_body)
        if max_bodies_in_flight < max_body:
            raise ValueError(
                f"the bodies in flight ({max_bodies_in_flight} bytes) must hold "
                f"at least one body of the largest size ({max_body} bytes)"
            )
        self.is_active = is_active
        self.max_body = max_body
        self.budget = BodyBudget(max_bodies_in_flight)

    def __call__(self, channel: HTTPChannel) -> EarlyRequest:
        return EarlyRequest(channel, self)


class EarlyRequest(Request):
    """A request that may be refused between its headers and its body (see the module).

    A write's body is held in the budget from the moment it is let in (the
    declared length, or each chunk as it comes) until the request finishes or
    its connection is lost.
    """

    def __init__(self, channel: HTTPChannel, rules: EarlyRequests) -> None:
        super().__init__(channel)
        self._rules = rules
        self.limit = FORM_MAX_BODY
        self.refused = False
        self._length: int | None = None
        self._write = False
        self._method = self._target = b""
        self._received = 0
        self._held = 0
        # While the token is looked up: the body's bytes already read, and the
        # request line once the body is whole (a small body comes with the headers).
        self._waiting: list[bytes] | None = None
        self._whole: tuple[bytes, bytes, bytes] | None = None
        self._expects_continue = False
        self._lost = False
        self._token_hash = ""
        self.checked_token: CheckedToken | None = None
        """The write's token, once found active (``seedboard.web.auth``)."""

    def gotLength(self, length: int | None) -> None:
        # A body read before the request is let in (none, unless a token is being checked).
        super().gotLength(0)
        self._length = length
        self._method, self._target = _request_line(self.channel)
        self._write = write = is_api_write(self._method, self._target)
        self.limit = self._rules.max_body if write else FORM_MAX_BODY
        if length is not None and length > self.limit:
            self._refuse(too_large(self.limit))
            return
        if not write:
            self._let_in()
            return
        token = bearer_token(self)
        if token is None:
            self._refuse(unauthorized())
            return
        # The channel answers "100 Continue" as soon as this returns: not before the check.
        expect = self.requestHeaders.getRawHeaders(b"expect") or [b""]
        self._expects_continue = expect[0].lower() == b"100-continue"
        self.requestHeaders.removeHeader(b"expect")
        self._waiting = []
        self._pause()
        self._token_hash = hash_token(token)
        checking = Deferred.fromCoroutine(self._rules.is_active(self._token_hash))
        checking.addCallbacks(self._checked, self._check_failed)

    def handleContentChunk(self, data: bytes) -> None:
        if self.refused:
            return
        if self._waiting is not None:
            # Bytes that came with the headers, or before the pause took hold.
            self._waiting.append(data)
            self._pause()
            if sum(map(len, self._waiting)) > self.limit:
                self._refuse(too_large(self.limit))
            return
        self._received += len(data)
        if self._received > self.limit:
            self._refuse(too_large(self.limit))
            return
        if self._write and self._length is None and not self._take(len(data)):
            self._refuse(_busy())
            return
        super().handleContentChunk(data)

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
        if self.refused:
            return  # answered already; the body ended within the bytes already read
        if self._waiting is not None:
            self._whole = (command, path, version)
            return
        super().requestReceived(command, path, version)

    def connectionLost(self, reason: Failure) -> None:
        self._lost = True
        super().connectionLost(reason)

    def _checked(self, active: bool) -> None:
        if self._lost or self.refused:
            return
        if not active:
            self._refuse(unauthorized())
            return
        self.checked_token = checked_token(self._token_hash)
        waiting, self._waiting = self._waiting or [], None
        self._let_in()
        if self.refused:
            return
        if self._expects_continue and self._whole is None:
            _transport(self.channel).write(b"HTTP/1.1 100 Continue\r\n\r\n")
        for data in waiting:
            self.handleContentChunk(data)
        if self.refused:
            return
        _transport(self.channel).resumeProducing()
        if self._whole is not None:
            self.requestReceived(*self._whole)

    def _check_failed(self, failure: Failure) -> None:
        log.failure("Could not check a write's token", failure)
        if not (self._lost or self.refused):
            self._refuse(unavailable("Tokens cannot be checked right now; try again later."))

    def _let_in(self) -> None:
        """Start receiving the body; a write's declared length is held in the budget."""
        if self._write and self._length and not self._take(self._length):
            self._refuse(_busy())
            return
        super().gotLength(self._length)
        self.notifyFinish().addBoth(self._release)

    def _take(self, size: int) -> bool:
        if not self._rules.budget.take(size):
            return False
        self._held += size
        return True

    def _release(self, _: object) -> None:
        self._rules.budget.release(self._held)
        self._held = 0

    def _pause(self) -> None:
        _transport(self.channel).pauseProducing()

    def _refuse(self, problem: Problem) -> None:
        """Answer ``problem`` straight on the connection and close it, reading no more."""
        self.refused = True
        # Refused as the headers arrive: the channel would answer "100 Continue" next.
        self.requestHeaders.removeHeader(b"expect")
        self._release(None)
        log.info(
            "Refused {method} {path} before its body: {status} {code}",
            method=self._method.decode("latin-1"),
            path=self._target.split(b"?", 1)[0].decode("latin-1"),
            status=problem.status,
            code=problem.code,
        )
        _transport(self.channel).write(raw_answer(problem))
        self.channel.loseConnection()


def raw_answer(problem: Problem) -> bytes:
    """``problem`` as a whole HTTP/1.1 answer that closes the connection."""
    body = encode_json(error_answer(problem.code, problem.message, problem.field))
    reason = _REASONS.get(problem.status, b"Error")
    lines = [
        b"HTTP/1.1 %d %s" % (problem.status, reason),
        b"Content-Type: application/json; charset=utf-8",
        b"X-Content-Type-Options: nosniff",
        *(f"{name}: {value}".encode("latin-1") for name, value in problem.headers),
        b"Connection: close",
        b"Content-Length: %d" % len(body),
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def _busy() -> Problem:
    return unavailable(
        "The server is receiving as many request bodies as it takes at once; try again shortly."
    )


def _request_line(channel: HTTPChannel) -> tuple[bytes, bytes]:
    """The method and target of the request whose headers are in.

    twisted.web hands them to the request only once its body is whole; until
    then they are the channel's, under these private names.
    """
    untyped = cast(Any, channel)
    return untyped._command, untyped._path


class _Transport(Protocol):
    def write(self, data: bytes) -> None: ...

    def pauseProducing(self) -> None: ...

    def resumeProducing(self) -> None: ...


def _transport(channel: HTTPChannel) -> _Transport:
    return cast(_Transport, channel.transport)
