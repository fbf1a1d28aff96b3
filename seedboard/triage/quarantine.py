"""What a quarantine is and whom it covers: patterns, expiry, issue links, and the list the
reporter goes by.

Shared by the command, the server and the reporter (which imports it inside every test
run), so: standard library only.  A quarantine names a test id or a pattern of them
(``mypkg.test_net.*``, shell-style, as ``seedboard replay --known`` takes); it applies
until it is removed or, if it has one, until its expiry.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import urlsplit

MAX_PATTERN = 1000
MAX_REASON = 2000
MAX_URL = 2000
MAX_ACTOR = 100
"""Column sizes, checked before anything is written (the command imports no SQLAlchemy)."""
LOOKS_FIXED_RUNS = 20
"""A quarantined test that passed its last this many runs is offered for lifting."""
WILDCARDS = frozenset("*?[")

_AGE = re.compile(r"([0-9]{1,5})([hdw])")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


class QuarantineError(ValueError):
    """A value a quarantine cannot take; ``field`` names it, the message says why."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Rule:
    """One active quarantine as the reporter needs it: whom it covers, and until when."""

    pattern: str
    expires_at: datetime | None = None
    reason: str | None = None
    issue_url: str | None = None

    def applies(self, now: datetime) -> bool:
        return self.expires_at is None or self.expires_at > now

    def covers(self, test_id: str) -> bool:
        return covers(self.pattern, test_id)


def is_pattern(text: str) -> bool:
    """Whether a quarantine names a group of tests rather than one."""
    return not WILDCARDS.isdisjoint(text)


def covers(pattern: str, test_id: str) -> bool:
    """Whether a quarantine of ``pattern`` covers ``test_id``: the same id, or a match."""
    return pattern == test_id or (is_pattern(pattern) and fnmatchcase(test_id, pattern))


def covering(rules: Iterable[Rule], test_id: str, now: datetime) -> Rule | None:
    """The first active rule covering ``test_id``, if any."""
    for rule in rules:
        if rule.applies(now) and rule.covers(test_id):
            return rule
    return None


def checked_pattern(text: str) -> str:
    """A test id or pattern: one printable line, not empty, within its column."""
    value = text.strip()
    if not value:
        raise QuarantineError("must name a test id or a pattern such as mypkg.test_net.*", "test")
    if not value.isprintable() or len(value) > MAX_PATTERN:
        raise QuarantineError(
            f"must be one printable line of at most {MAX_PATTERN} characters", "test"
        )
    return value


def checked_reason(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    value = text.strip()
    if len(value) > MAX_REASON or "\x00" in value:
        raise QuarantineError(f"must be text of at most {MAX_REASON} characters", "reason")
    return value


def checked_issue_url(text: str | None, field: str = "issue") -> str | None:
    """An issue's address: http or https, one line; empty means none."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    parts = urlsplit(value)
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or not value.isprintable()
        or " " in value
        or len(value) > MAX_URL
    ):
        raise QuarantineError(
            f"must be an http(s) address of at most {MAX_URL} characters, "
            "such as https://github.com/org/repo/issues/12",
            field,
        )
    return value


def expiry(text: str | None, now: datetime) -> datetime | None:
    """When a quarantine given ``--expires`` ends: an age from now (``14d``, ``2w``,
    ``12h``), a day (its start, UTC) or a time with its zone; None for never."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    found = _AGE.fullmatch(value)
    if found is not None and int(found[1]) > 0:
        return now + int(found[1]) * _UNITS[found[2]]
    try:
        if len(value) == 10:
            moment = datetime.combine(date.fromisoformat(value), time(), UTC)
        else:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                raise ValueError("no zone")
    except ValueError:
        raise QuarantineError(
            "must be an age (14d, 2w, 12h), a date (2026-12-31) or a time with its zone",
            "expires",
        ) from None
    moment = moment.astimezone(UTC)
    if moment <= now:
        raise QuarantineError("must be in the future", "expires")
    return moment


# The reporter's list, as the server sends it and the spool folder keeps it.


def rules_to_json(rules: Sequence[Rule]) -> bytes:
    return json.dumps([rule_to_json(rule) for rule in rules]).encode("utf-8")


def rule_to_json(rule: Rule) -> dict[str, Any]:
    return {
        "test": rule.pattern,
        "expires_at": None if rule.expires_at is None else rule.expires_at.isoformat(),
        "reason": rule.reason,
        "issue_url": rule.issue_url,
    }


def rules_from_json(value: Any) -> list[Rule]:
    """Rules from the server's answer or the cache: a list of objects, or a mapping with
    ``quarantines``; what is not understood is left out, never fatal."""
    items = value.get("quarantines", []) if isinstance(value, Mapping) else value
    rules = []
    for item in items if isinstance(items, list) else []:
        rule = _rule(item)
        if rule is not None:
            rules.append(rule)
    return rules


def _rule(item: Any) -> Rule | None:
    if not isinstance(item, Mapping) or not isinstance(item.get("test"), str):
        return None
    expires = item.get("expires_at")
    try:
        when = None if expires is None else datetime.fromisoformat(expires).astimezone(UTC)
    except (TypeError, ValueError):
        return None
    reason, issue = item.get("reason"), item.get("issue_url")
    return Rule(
        item["test"],
        when,
        reason if isinstance(reason, str) else None,
        issue if isinstance(issue, str) else None,
    )


def looks_fixed(outcomes: Iterable[str], runs: int = LOOKS_FIXED_RUNS) -> bool:
    """Whether a quarantined test passed its latest ``runs`` results (newest first, skips
    left out): its quarantine may be lifted."""
    passed = 0
    for outcome in outcomes:
        if outcome == "skip":
            continue
        if outcome != "success":
            return False
        passed += 1
        if passed >= runs:
            return True
    return False
