"""Database failures that are the storage's trouble, not the request's: worth retrying later.

A full disk, a read-only file or a lock held too long stops every write for
a while, whatever the request; the web layer answers them with a 503 and
``Retry-After`` (the reporter keeps its spool and tries again) rather than a
500, which would say the request itself broke the server.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError

RETRY_AFTER_SECONDS = 5

# SQLite's own words (sqlite3_errstr) for each kind of trouble, and what we say instead.
_TROUBLES = (
    ("database or disk is full", "The server's disk is full: nothing was stored; retry later."),
    (
        "readonly database",
        "The server's database is read-only just now: nothing was stored; retry later.",
    ),
    ("database is locked", "The server's database is busy: nothing was stored; retry later."),
    ("database table is locked", "The server's database is busy: nothing was stored; retry later."),
    ("disk i/o error", "The server cannot write to its disk: nothing was stored; retry later."),
)


# PostgreSQL's SQLSTATE classes and codes for the same kinds of trouble.
_BUSY = "The server's database is busy: nothing was stored; retry later."
_UNREACHABLE = "The server cannot reach its database: nothing was stored; retry later."
_POSTGRES_TROUBLES = (
    ("53", "The server's database has run out of room: nothing was stored; retry later."),
    ("25006", "The server's database is read-only just now: nothing was stored; retry later."),
    ("40001", _BUSY),
    ("40P01", _BUSY),
    ("55P03", _BUSY),
    ("57P", _UNREACHABLE),
    ("08", _UNREACHABLE),
)


def storage_trouble(error: BaseException | None) -> str | None:
    """What to tell a client when ``error`` is storage trouble a retry may outlast, else None."""
    if not isinstance(error, DBAPIError):
        return None
    sqlstate = getattr(error.orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        return next((m for code, m in _POSTGRES_TROUBLES if sqlstate.startswith(code)), None)
    if error.connection_invalidated or (
        isinstance(error, OperationalError)
        and error.orig.__class__.__module__.startswith("psycopg")
    ):
        return _UNREACHABLE  # no SQLSTATE: the connection itself failed
    if not isinstance(error, OperationalError):
        return None
    text = str(error.orig).lower()
    for marker, message in _TROUBLES:
        if marker in text:
            return message
    return None
