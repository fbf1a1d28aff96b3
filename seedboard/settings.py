"""Names users configure seedboard with, and how a database setting becomes a URL.

Imported by the reporter inside every test run, so: standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

DB_ENV = "SEEDBOARD_DB"
URL_ENV = "SEEDBOARD_URL"
TOKEN_ENV = "SEEDBOARD_TOKEN"
FLUSH_ENV = "SEEDBOARD_FLUSH_TIMEOUT"
DEFAULT_FLUSH_TIMEOUT = 5.0
"""How long a run may wait at its end for a server that has been answering."""
SPOOL_ENV = "SEEDBOARD_SPOOL"
DEFAULT_SPOOL = Path(".seedboard") / "spool"
DEFAULT_DB_FILE = "seedboard.db"
"""The database both the reporter and ``seedboard serve`` use when none is named."""


def database_url(setting: str | None, cwd: Path) -> str:
    """A SQLAlchemy URL from a ``--db``/``SEEDBOARD_DB`` value: a URL or a file path."""
    value = (setting or "").strip() or DEFAULT_DB_FILE
    if "://" in value:
        return value
    return f"sqlite:///{(cwd / Path(value).expanduser()).resolve()}"


def database_url_from(environ: Mapping[str, str], cwd: Path) -> str:
    return database_url(environ.get(DB_ENV), cwd)


def describe_url(url: str) -> str:
    """The URL as safe to print: a file path for SQLite, no password otherwise."""
    if url.startswith("sqlite:///"):
        return url.removeprefix("sqlite:///")
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if at and ":" in credentials:
        user = credentials.split(":", 1)[0]
        return f"{scheme}{sep}{user}:***@{host}"
    return url


def spool_root(environ: Mapping[str, str], cwd: Path) -> Path:
    """Where the reporter keeps requests the server has not acknowledged yet."""
    return cwd / (environ.get(SPOOL_ENV) or DEFAULT_SPOOL)
