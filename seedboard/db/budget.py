"""A time budget for one read: past its deadline the read stops with ``OutOfTime``.

``within(conn, deadline, fn, ...)`` is itself a store function, so any pool runs
it.  The deadline is a ``time.monotonic()`` instant.  PostgreSQL is told a
``statement_timeout`` of the time left before each statement; SQLite gets a
progress handler that interrupts a statement once the deadline has passed.  Both
also refuse to start a statement after the deadline, which bounds Python work
between statements; work after the last one is bounded by the caller, which
answers at the deadline whatever the thread is doing.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, event
from sqlalchemy.exc import DBAPIError

T = TypeVar("T")

PROGRESS_STEPS = 10_000
"""SQLite virtual machine steps between two looks at the clock: well under a
millisecond of work, and a look costs a fraction of a microsecond."""

_QUERY_CANCELED = "57014"
"""PostgreSQL's SQLSTATE for a statement stopped by ``statement_timeout``."""


class OutOfTime(Exception):
    """A read ran past its deadline and was stopped; its connection is free again."""


def within(conn: Connection, deadline: float, fn: Callable[..., T], *args: Any) -> T:
    """``fn(conn, *args)``, stopped with ``OutOfTime`` once ``time.monotonic()`` passes
    ``deadline``."""
    if time.monotonic() >= deadline:
        raise OutOfTime()
    dbapi = conn.connection.dbapi_connection
    sqlite = isinstance(dbapi, sqlite3.Connection)

    def before_statement(conn: Connection, cursor: Any, *rest: object) -> None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise OutOfTime()
        if not sqlite:
            # SET LOCAL: over with the transaction, before the connection is reused.
            cursor.execute(f"SET LOCAL statement_timeout = {max(1, int(left * 1000))}")

    event.listen(conn, "before_cursor_execute", before_statement)
    if sqlite:
        assert isinstance(dbapi, sqlite3.Connection)
        dbapi.set_progress_handler(lambda: time.monotonic() >= deadline, PROGRESS_STEPS)
    try:
        return fn(conn, *args)
    except DBAPIError as error:
        if _stopped(error) and time.monotonic() >= deadline:
            raise OutOfTime() from error
        raise
    finally:
        event.remove(conn, "before_cursor_execute", before_statement)
        if sqlite:
            assert isinstance(dbapi, sqlite3.Connection)
            dbapi.set_progress_handler(None, 0)


def _stopped(error: DBAPIError) -> bool:
    """Whether the database stopped the statement: PostgreSQL's timeout, SQLite's interrupt."""
    if getattr(error.orig, "sqlstate", None) == _QUERY_CANCELED:
        return True
    return isinstance(error.orig, sqlite3.OperationalError) and "interrupted" in str(error.orig)
