"""Where things are on the dashboard: the paths of runs and tests, and the query strings of
filtered and paged lists."""

from __future__ import annotations

import binascii
import re
from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import msgspec

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


def cursor_text(key: tuple[Any, ...]) -> str:
    """A keyset page's sort key as a short, opaque query argument."""
    return urlsafe_b64encode(msgspec.json.encode(key)).rstrip(b"=").decode("ascii")


def cursor_key(text: str, key_type: Any) -> tuple[Any, ...]:
    """The sort key ``cursor_text`` wrote, checked against ``key_type``; ``ValueError``
    for anything else (another order's cursor, or text no cursor ever was)."""
    try:
        raw = urlsafe_b64decode(text + "=" * (-len(text) % 4))
        key: tuple[Any, ...] = msgspec.json.decode(raw, type=key_type)
    except (binascii.Error, msgspec.DecodeError) as error:
        raise ValueError(str(error)) from None
    return key


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


FROM, TO = "{from}", "{to}"
"""The placeholders of a commit range template: the older commit and the newer."""


class CommitRangeError(ValueError):
    """A repository or range template that no link to a range of commits can be made from."""


@dataclass(frozen=True, slots=True)
class CommitRanges:
    """How to link the changes between two commits: a template with ``{from}`` and ``{to}``,
    or none, when the repository is not known."""

    template: str | None = None

    def url(self, older: str | None, newer: str | None) -> str | None:
        """The link to the changes from ``older`` to ``newer``; None without a template."""
        if self.template is None or not older or not newer:
            return None
        return self.template.replace(FROM, quote(older, safe="")).replace(TO, quote(newer, safe=""))


NO_RANGES = CommitRanges()


def commit_ranges(repository: str | None, template: str | None) -> CommitRanges:
    """The links for ``--commit-range-url`` if given, else those of ``--repository``:
    GitHub's ``/compare/A...B``, GitLab's ``/-/compare/A...B``.

    Raises ``CommitRangeError`` naming what is wrong."""
    if template:
        if not is_web_url(template) or FROM not in template or TO not in template:
            raise CommitRangeError(
                f"the commit range URL must be http(s) and contain {FROM} and {TO}: {template!r}"
            )
        return CommitRanges(template)
    if not repository:
        return NO_RANGES
    return CommitRanges(_compare_template(repository))


def _compare_template(repository: str) -> str:
    """The range template of a GitHub or GitLab repository's web address."""
    base = repository.strip().rstrip("/").removesuffix(".git")
    host = urlsplit(base).hostname or ""
    path = urlsplit(base).path.strip("/")
    if not is_web_url(base) or path.count("/") < 1:
        raise CommitRangeError(
            f"the repository must be a web address like https://github.com/OWNER/NAME: "
            f"{repository!r}"
        )
    if host == "github.com" or host.endswith(".github.com"):
        return f"{base}/compare/{FROM}...{TO}"
    if "gitlab" in host.split("."):
        return f"{base}/-/compare/{FROM}...{TO}"
    raise CommitRangeError(
        f"cannot tell how {host} links a range of commits; give a template with "
        f"{FROM} and {TO} as the commit range URL"
    )
