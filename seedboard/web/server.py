"""Serving the dashboard: open the database, start the thread pool, listen, run the reactor.

The site refuses request bodies over ``max_body`` bytes as they arrive (see
``BodyLimitedRequest``) and leaves query strings out of its access log.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from typing import Any, Protocol, cast

from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.interfaces import IListeningPort, IReactorFromThreads, IReactorTCP
from twisted.python.failure import Failure
from twisted.web.http import HTTPChannel, combinedLogFormatter
from twisted.web.iweb import INonQueuedRequestFactory
from twisted.web.server import Request, Site
from zope.interface import implementer

from seedboard.db.engine import open_database
from seedboard.db.migrate import ensure_schema
from seedboard.db.pool import Pool, ThreadedPool
from seedboard.db.tokens import list_tokens
from seedboard.ingest import DEFAULT_MAX_BODY
from seedboard.settings import describe_url
from seedboard.web.app import Dashboard
from seedboard.web.lanes import HeavyLane, Timers
from seedboard.web.limits import DEFAULT_LIMITS, HeavyLimits
from seedboard.web.templates import make_environment
from seedboard.web.to_json import encode_json, error_answer


class ServingReactor(Protocol):
    """The reactor calls ``serve`` makes, spelt out because mypy cannot read zope interfaces."""

    def callWhenRunning(
        self, callable: Callable[..., object], *args: object, **kwargs: object
    ) -> object: ...

    def addSystemEventTrigger(
        self,
        phase: str,
        eventType: str,
        callable: Callable[..., object],
        *args: object,
        **kwargs: object,
    ) -> object: ...

    def run(self) -> None: ...

    def stop(self) -> None: ...


class BodyLimitedRequest(Request):
    """A request that refuses a body over ``max_body`` bytes with a 413, then hangs up.

    twisted.web reads a whole body before any resource sees the request, so the
    limit is kept here, as the body arrives: a ``Content-Length`` over the limit
    is refused before a byte of the body is read, and a chunked body as soon as
    its running total passes the limit.
    """

    def __init__(self, channel: HTTPChannel, max_body: int) -> None:
        super().__init__(channel)
        self.max_body = max_body
        self.refused = False
        self._received = 0

    def gotLength(self, length: int | None) -> None:
        if length is not None and length > self.max_body:
            # Otherwise the channel would answer "100 Continue" after the 413.
            self.requestHeaders.removeHeader(b"expect")
            super().gotLength(0)
            self._refuse()
            return
        super().gotLength(length)

    def handleContentChunk(self, data: bytes) -> None:
        if self.refused:
            return
        self._received += len(data)
        if self._received > self.max_body:
            self._refuse()
            return
        super().handleContentChunk(data)

    def process(self) -> None:
        # A refused body may still end within the bytes already read; it is answered already.
        if not self.refused:
            super().process()

    def _refuse(self) -> None:
        """Answer 413 straight on the connection and close it, reading no more of the body."""
        self.refused = True
        message = f"The request body is larger than this server's limit of {self.max_body} bytes."
        body = encode_json(error_answer("too_large", message))
        head = (
            b"HTTP/1.1 413 Content Too Large\r\n"
            b"Content-Type: application/json; charset=utf-8\r\n"
            b"X-Content-Type-Options: nosniff\r\n"
            b"Connection: close\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)
        )
        cast(_Writable, self.channel.transport).write(head + body)
        self.channel.loseConnection()


class _Writable(Protocol):
    def write(self, data: bytes) -> None: ...


@implementer(INonQueuedRequestFactory)
class BodyLimitedRequests:
    """The site's request factory: each request refuses bodies over ``max_body`` bytes."""

    def __init__(self, max_body: int) -> None:
        self.max_body = max_body

    def __call__(self, channel: HTTPChannel) -> BodyLimitedRequest:
        return BodyLimitedRequest(channel, self.max_body)


def access_log_line(timestamp: str, request: Request) -> str:
    """Twisted's combined log line, with the path instead of the whole URI.

    Tokens are never read from query strings, but someone may still put one
    there; it must not end up in a log.
    """
    return str(combinedLogFormatter(timestamp, _WithoutQuery(request)))


class _WithoutQuery:
    """A request as the log formatter sees it: the same, but its URI without the query."""

    def __init__(self, request: Request) -> None:
        self._request = request
        self.uri = request.path

    def __getattr__(self, name: str) -> Any:
        return getattr(self._request, name)


def make_dashboard(pool: Pool, private: bool = False, heavy: HeavyLane | None = None) -> Dashboard:
    return Dashboard(pool, make_environment(), private=private, heavy=heavy)


def make_site(dashboard: Dashboard, max_body: int = DEFAULT_MAX_BODY) -> Site:
    return Site(
        dashboard.resource(),
        requestFactory=BodyLimitedRequests(max_body),
        logFormatter=access_log_line,
        # The login form is read by the app itself, from the body only.
        parsePOSTFormSubmission=False,
    )


def listen(
    reactor: IReactorTCP,
    dashboard: Dashboard,
    host: str,
    port: int,
    max_body: int = DEFAULT_MAX_BODY,
) -> Deferred[IListeningPort]:
    """Answer HTTP on ``host``:``port`` (0 picks a free port); the reactor need not run yet."""
    endpoint = TCP4ServerEndpoint(reactor, port, interface=host)
    listening: Deferred[IListeningPort] = endpoint.listen(make_site(dashboard, max_body))
    return listening


def serve(
    database_url: str,
    host: str,
    port: int,
    reactor: ServingReactor | None = None,
    private: bool = False,
    max_body: int = DEFAULT_MAX_BODY,
    heavy: HeavyLimits = DEFAULT_LIMITS,
) -> None:
    """Serve the dashboard until the reactor stops; SystemExit if the port cannot be had.

    Heavy reads run within ``heavy``'s limits, on database threads of their own."""
    if reactor is None:
        from twisted.internet import reactor as default_reactor

        reactor = cast(ServingReactor, default_reactor)
    database = open_database(database_url, background_checkpoints=True)
    # Startup, before the reactor runs: blocking here delays no request.
    ensure_schema(database)
    if private and not any(token.active for token in database.read(list_tokens)):
        print(
            "seedboard: no active tokens, so no one can read this private server; "
            "make one with: seedboard token create NAME",
            file=sys.stderr,
            flush=True,
        )
    # Any real reactor provides these interfaces too.
    pool = ThreadedPool(database, cast(IReactorFromThreads, reactor), heavy_threads=heavy.readers)
    reactor.callWhenRunning(pool.start)
    reactor.addSystemEventTrigger("before", "shutdown", pool.stop)

    problems: list[str] = []

    def listening(listening_port: IListeningPort) -> None:
        bound = listening_port.getHost().port  # type: ignore[misc]
        address = f"http://{_url_host(host)}:{bound}/"
        print(f"seedboard: serving {describe_url(database_url)} at {address}", flush=True)
        if private:
            print("seedboard: private: reading needs a token or a login too", flush=True)

    def failed(failure: Failure) -> None:
        problems.append(f"seedboard: cannot serve: {failure.getErrorMessage()}")
        # Listening fails before the reactor runs, when stopping at once would be an error.
        reactor.callWhenRunning(reactor.stop)

    dashboard = make_dashboard(pool, private, HeavyLane(pool.heavy, heavy, cast(Timers, reactor)))
    listen(cast(IReactorTCP, reactor), dashboard, host, port, max_body).addCallbacks(
        listening, failed
    )
    # What startup made (modules, the schema, templates) lives as long as the server:
    # full garbage collections need not walk it again each time.
    gc.freeze()
    reactor.run()
    if problems:
        raise SystemExit(problems[0])


def _url_host(host: str) -> str:
    """``host`` as written in a URL: IPv6 addresses need brackets."""
    return f"[{host}]" if ":" in host else host
