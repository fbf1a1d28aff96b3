"""Where things are on the dashboard: the paths of runs and tests, and the query strings of
filtered and paged lists."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from urllib.parse import quote, urlencode

from seedboard.db.runs import ReplayFilter, RunFilters

_DOTS_ESCAPED = re.compile(r"\A\.\.?~*\Z")
"""Test ids ``path_to_test`` writes with a ``~`` after them: ``.``, ``..``, and those
followed by tildes."""
_DOTS_TILDED = re.compile(r"\.\.?~+")


@lru_cache(maxsize=4096)
def path_to_run(run_id: str) -> str:
    """Kept per run id, like a run's start in text: the same runs fill every test's page."""
    return "/runs/" + quote(run_id, safe="")


@lru_cache(maxsize=8192)
def path_to_test(test_id: str) -> str:
    """Kept per test id: a run's page or JSON links each of its thousands of tests."""
    # Nothing is safe: a "/" or "?" in a test id must stay part of the id.
    return "/tests/" + quote(_DOTS_ESCAPED.sub(r"\g<0>~", test_id), safe="")


def test_id_in_path(text: str) -> str:
    """The test id of the (percent-decoded) rest of a ``/tests/`` path: the inverse of
    ``path_to_test``, which escapes the ids ``.`` and ``..``.

    Browsers drop a path segment ``.`` or ``..`` and the one before it, spelt with
    ``%2E`` too (the URL standard counts ``%2e`` as a dot), so no percent-encoding
    makes a link to those ids survive.  ``path_to_test`` writes them with a ``~``
    after them (``/tests/..~``), and so that every id keeps its own path, adds one
    more to an id that already is one or two dots and tildes (``..~`` is linked as
    ``..~~``); this takes it away again.  ``/tests/%2E%2E`` (as curl or a script may
    send it) and ``/tests/..`` still name the test ``..``.
    """
    return text[:-1] if _DOTS_TILDED.fullmatch(text) else text


def page_url(
    path: str, cursor: str | None, limit: int, query: Sequence[tuple[str, str]] = ()
) -> str | None:
    """The link to the page after the one ending at ``cursor``, if there is one,
    keeping the rest of the ``query`` (the filters)."""
    if cursor is None:
        return None
    return f"{path}?{urlencode([('before', cursor), ('limit', str(limit)), *query])}"


def with_query(path: str, query: Sequence[tuple[str, str]]) -> str:
    return f"{path}?{urlencode(query)}" if query else path


def filter_query(filters: RunFilters) -> list[tuple[str, str]]:
    """The query arguments that ask for these filters again, in a fixed order."""
    values = [
        ("branch", filters.branch),
        ("outcome", filters.outcome),
        ("since", filters.since and filters.since.isoformat()),
        ("until", filters.until and filters.until.isoformat()),
        # Left out is the runs list's default: only another choice is written.
        ("replay", None if filters.replay is ReplayFilter.EXCLUDE else filters.replay),
        ("test", filters.test),
    ]
    return [(name, str(value)) for name, value in values if value is not None]


def is_web_url(url: object) -> bool:
    """Whether a URL is safe to put in an href: only http(s), never javascript: and friends."""
    return isinstance(url, str) and url.lower().startswith(("http://", "https://"))
