"""Every environment variable seedboard reads, named once, and how a database setting
becomes a URL.

Shared by the server, the command and the reporter (which imports it inside
every test run), so: standard library only.  No other module spells a
``SEEDBOARD_`` name; ``tests/test_settings.py`` checks it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

DB_ENV = "SEEDBOARD_DB"
"""The database, a file or a SQLAlchemy URL: where the reporter records and the server reads."""
DEFAULT_DB_FILE = "seedboard.db"
"""The database both the reporter and ``seedboard serve`` use when none is named."""

URL_ENV = "SEEDBOARD_URL"
"""A seedboard server to record on instead of a database."""
TOKEN_ENV = "SEEDBOARD_TOKEN"
"""The token the reporter (and ``seedboard upload``/``replay``) send to that server."""
FLUSH_ENV = "SEEDBOARD_FLUSH_TIMEOUT"
DEFAULT_FLUSH_TIMEOUT = 5.0
"""How long a run may wait at its end for a server that has been answering."""
SPOOL_ENV = "SEEDBOARD_SPOOL"
"""Where requests wait until the server has acknowledged them, and embedded mode's
runs until they are imported into the database."""
WAIT_ENV = "SEEDBOARD_WAIT"
"""Set to 1 to make trial wait, at its end, until its run is imported into the database."""
DEFAULT_SPOOL = Path(".seedboard") / "spool"

SEED_ENV = "SEEDBOARD_SEED"
"""Force every unpinned test's seed (``seedboard replay`` sets it)."""
RUN_SEED_ENV = "SEEDBOARD_RUN_SEED"
"""Derive every unpinned test's seed from this one and the test's id: replays a whole run."""
REPLAY_ENV = "SEEDBOARD_REPLAY"
"""Set to 1 by ``seedboard replay``, so the runs it makes are recorded as replays."""
RUN_ID_ENV = "SEEDBOARD_RUN_ID"
"""The id the reporter gives its run, else a fresh one: ``seedboard replay`` names each
replay's run, so that it can read the run back."""
RUN_ID_PATTERN = "^[0-9a-f]{32}$"
"""What a run id is, wherever one is made or accepted: 32 lowercase hexadecimal digits."""
_RUN_ID = re.compile(RUN_ID_PATTERN)


def is_run_id(text: str) -> bool:
    """Whether ``text`` is a run id (``RUN_ID_PATTERN``)."""
    return _RUN_ID.fullmatch(text) is not None


BRANCH_ENV = "SEEDBOARD_BRANCH"
COMMIT_ENV = "SEEDBOARD_COMMIT"
BUILD_URL_ENV = "SEEDBOARD_BUILD_URL"
"""A run's branch, commit and build URL, when CI's own variables and git should not decide."""

REPOSITORY_ENV = "SEEDBOARD_REPOSITORY"
"""The repository's web address (GitHub or GitLab), so pages link ranges of commits."""
COMMIT_RANGE_URL_ENV = "SEEDBOARD_COMMIT_RANGE_URL"
"""A link to the changes between two commits, with ``{from}`` and ``{to}`` in it."""
PUBLIC_URL_ENV = "SEEDBOARD_PUBLIC_URL"
"""The server's address as people reach it (behind a proxy, say): links in notifications."""


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


QUARANTINE_ENV = "SEEDBOARD_QUARANTINE"
"""``enforce``: the run's exit status ignores the failures of quarantined tests.  Unset (or
anything else), quarantined failures are marked in the output and the status is trial's."""
QUARANTINE_ENFORCE = "enforce"
QUARANTINE_CACHE = "quarantine.json"
"""The active quarantines the reporter read last, in the spool folder: what a run goes by
when the server cannot be reached."""


def enforces_quarantine(environ: Mapping[str, str]) -> bool:
    """Whether ``SEEDBOARD_QUARANTINE=enforce``: quarantined failures do not fail the run."""
    return environ.get(QUARANTINE_ENV, "").strip().lower() == QUARANTINE_ENFORCE
