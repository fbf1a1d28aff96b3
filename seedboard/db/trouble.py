"""Database failures that are the storage's trouble, not the request's: worth retrying later.

A full disk, a read-only file or a lock held too long stops every write for
a while, whatever the request; the web layer answers them with a 503 and
``Retry-After`` (the reporter keeps its spool and tries again) rather than a
500, which would say the request itself broke the server.
"""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

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


def storage_trouble(error: BaseException | None) -> str | None:
    """What to tell a client when ``error`` is storage trouble a retry may outlast, else None."""
    if not isinstance(error, OperationalError):
        return None
    text = str(error.orig).lower()
    for marker, message in _TROUBLES:
        if marker in text:
            return message
    return None
