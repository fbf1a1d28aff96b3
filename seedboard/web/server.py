"""Serving the dashboard: open the database, start the thread pool, listen, run the reactor.

The site refuses requests as their headers arrive when their bodies are too
large, their writes have no valid token, or too many bodies are being received
at once (``seedboard.web.early``), and leaves query strings out of its access log.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from typing import Any, Protocol, cast

from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.interfaces import (
    IListeningPort,
    IReactorFromThreads,
    IReactorTCP,
    IReactorTime,
)
from twisted.python.failure import Failure
from twisted.web.http import combinedLogFormatter
from twisted.web.server import Request, Site

from seedboard.db.engine import open_database
from seedboard.db.migrate import ensure_schema
from seedboard.db.pool import Pool, ThreadedPool
from seedboard.db.tokens import list_tokens
from seedboard.ingest import DEFAULT_MAX_BODY
from seedboard.settings import describe_url
from seedboard.web.app import Dashboard
from seedboard.web.deliveries import Deliveries
from seedboard.web.early import EarlyRequests
from seedboard.web.lanes import HeavyLane, Timers
from seedboard.web.limits import DEFAULT_LIMITS, HeavyLimits
from seedboard.web.templates import make_environment
from seedboard.web.urls import NO_RANGES, CommitRanges


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


def make_dashboard(
    pool: Pool,
    private: bool = False,
    heavy: HeavyLane | None = None,
    ranges: CommitRanges = NO_RANGES,
) -> Dashboard:
    return Dashboard(pool, make_environment(), private=private, heavy=heavy, ranges=ranges)


def make_site(
    dashboard: Dashboard,
    max_body: int = DEFAULT_MAX_BODY,
    max_bodies_in_flight: int | None = None,
) -> Site:
    """The dashboard as a site; ``max_bodies_in_flight`` defaults to a few ``max_body``s."""
    return Site(
        dashboard.resource(),
        requestFactory=EarlyRequests(dashboard.access.is_active, max_body, max_bodies_in_flight),
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
    max_bodies_in_flight: int | None = None,
) -> Deferred[IListeningPort]:
    """Answer HTTP on ``host``:``port`` (0 picks a free port); the reactor need not run yet."""
    endpoint = TCP4ServerEndpoint(reactor, port, interface=host)
    site = make_site(dashboard, max_body, max_bodies_in_flight)
    listening: Deferred[IListeningPort] = endpoint.listen(site)
    return listening


def serve(
    database_url: str,
    host: str,
    port: int,
    reactor: ServingReactor | None = None,
    private: bool = False,
    max_body: int = DEFAULT_MAX_BODY,
    max_bodies_in_flight: int | None = None,
    heavy: HeavyLimits = DEFAULT_LIMITS,
    ranges: CommitRanges = NO_RANGES,
    public_url: str | None = None,
) -> None:
    """Serve the dashboard until the reactor stops; SystemExit if the port cannot be had.

    Webhooks' events are sent from the outbox with links to ``public_url`` (by default
    the address served).

    Heavy reads run within ``heavy``'s limits, on database threads of their own; pages
    link ranges of commits as ``ranges`` says."""
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
    deliveries = Deliveries(pool, cast(IReactorTime, reactor), public_url or "")
    # Registered first, so the loop stops before the pool it reads through.
    reactor.addSystemEventTrigger("before", "shutdown", deliveries.stop)
    reactor.addSystemEventTrigger("before", "shutdown", pool.stop)

    problems: list[str] = []

    def listening(listening_port: IListeningPort) -> None:
        bound = listening_port.getHost().port  # type: ignore[misc]
        address = f"http://{_url_host(host)}:{bound}/"
        # Sending starts once the address is known, which links default to.
        deliveries.public_url = public_url or address
        reactor.callWhenRunning(deliveries.start)
        print(f"seedboard: serving {describe_url(database_url)} at {address}", flush=True)
        if private:
            print("seedboard: private: reading needs a token or a login too", flush=True)

    def failed(failure: Failure) -> None:
        problems.append(f"seedboard: cannot serve: {failure.getErrorMessage()}")
        # Listening fails before the reactor runs, when stopping at once would be an error.
        reactor.callWhenRunning(reactor.stop)

    dashboard = make_dashboard(
        pool, private, HeavyLane(pool.heavy, heavy, cast(Timers, reactor)), ranges
    )
    listen(
        cast(IReactorTCP, reactor), dashboard, host, port, max_body, max_bodies_in_flight
    ).addCallbacks(listening, failed)
    # What startup made (modules, the schema, templates) lives as long as the server:
    # full garbage collections need not walk it again each time.
    gc.freeze()
    reactor.run()
    if problems:
        raise SystemExit(problems[0])


def _url_host(host: str) -> str:
    """``host`` as written in a URL: IPv6 addresses need brackets."""
    return f"[{host}]" if ":" in host else host
