"""Serving the dashboard: open the database, start the thread pool, listen, run the reactor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, cast

from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.interfaces import IListeningPort, IReactorFromThreads, IReactorTCP
from twisted.python.failure import Failure
from twisted.web.server import Site

from seedboard.db.engine import open_database
from seedboard.db.migrate import ensure_schema
from seedboard.db.pool import Pool, ThreadedPool
from seedboard.settings import describe_url
from seedboard.web.app import Dashboard
from seedboard.web.render import make_environment


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


def make_dashboard(pool: Pool) -> Dashboard:
    return Dashboard(pool, make_environment())


def listen(
    reactor: IReactorTCP, dashboard: Dashboard, host: str, port: int
) -> Deferred[IListeningPort]:
    """Answer HTTP on ``host``:``port`` (0 picks a free port); the reactor need not run yet."""
    site = Site(dashboard.app.resource())
    endpoint = TCP4ServerEndpoint(reactor, port, interface=host)
    listening: Deferred[IListeningPort] = endpoint.listen(site)
    return listening


def serve(database_url: str, host: str, port: int, reactor: ServingReactor | None = None) -> None:
    """Serve the dashboard until the reactor stops; SystemExit if the port cannot be had."""
    if reactor is None:
        from twisted.internet import reactor as default_reactor

        reactor = cast(ServingReactor, default_reactor)
    database = open_database(database_url)
    # Startup, before the reactor runs: blocking here delays no request.
    ensure_schema(database)
    # Any real reactor provides these interfaces too.
    pool = ThreadedPool(database, cast(IReactorFromThreads, reactor))
    reactor.callWhenRunning(pool.start)
    reactor.addSystemEventTrigger("before", "shutdown", pool.stop)

    problems: list[str] = []

    def listening(listening_port: IListeningPort) -> None:
        bound = listening_port.getHost().port  # type: ignore[misc]
        address = f"http://{_url_host(host)}:{bound}/"
        print(f"seedboard: serving {describe_url(database_url)} at {address}", flush=True)

    def failed(failure: Failure) -> None:
        problems.append(f"seedboard: cannot serve: {failure.getErrorMessage()}")
        # Listening fails before the reactor runs, when stopping at once would be an error.
        reactor.callWhenRunning(reactor.stop)

    dashboard = make_dashboard(pool)
    listen(cast(IReactorTCP, reactor), dashboard, host, port).addCallbacks(listening, failed)
    reactor.run()
    if problems:
        raise SystemExit(problems[0])


def _url_host(host: str) -> str:
    """``host`` as written in a URL: IPv6 addresses need brackets."""
    return f"[{host}]" if ":" in host else host
