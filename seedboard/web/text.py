"""Text for people: times, durations, commits, outcomes, rates and seeds as the pages and
charts write them.  Plain strings; escaping is the HTML side's job."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache

from seedboard.domain import Outcome, RunStart
from seedboard.triage.snippets import run_replay_command
from seedboard.triage.trends import Bucket

SHORT_COMMIT = 10


@lru_cache(maxsize=4096)
def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, always to the microsecond so every value looks alike."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@lru_cache(maxsize=4096)
def readable_utc(moment: datetime) -> str:
    """Kept per moment: a test page writes each of its runs' start three times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def readable_day(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


def time_ago(moment: datetime, now: datetime) -> str:
    """``moment`` relative to ``now``: "just now", "3 min ago", "2 days ago"."""
    seconds = (now - moment).total_seconds()
    if seconds < 60:
        # Also covers a reporter whose clock runs a little ahead of the server's.
        return "just now"
    size, unit = next((size, unit) for size, unit in _AGO_UNITS if seconds >= size)
    count = int(seconds // size)
    plural = "s" if count > 1 and unit in ("year", "day") else ""
    return f"{count} {unit}{plural} ago"


_AGO_UNITS = ((365 * 86400, "year"), (86400, "day"), (3600, "h"), (60, "min"))


def readable_duration(seconds: float | None) -> str:
    """A duration as people say it: "250 ms", "2.5 s", "4 min 05 s", "1 h 02 min"."""
    if seconds is None:
        return "—"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.3g} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def short_commit(commit: str | None) -> str:
    return "" if commit is None else commit[:SHORT_COMMIT]


def outcome_label(outcome: Outcome) -> str:
    return outcome.value.replace("_", " ")


def percent(rate: float) -> str:
    """A rate between 0 and 1 as a percentage: "40%"; "0.2%", not a false "0%" (or "100%")."""
    rounded = f"{rate:.0%}"
    if rounded in ("0%", "100%") and 0 < rate < 1:
        return f"{rate:.1%}"
    return rounded


def seed_text(seed: int | None) -> str:
    return "no seed" if seed is None else f"seed {seed}"


def bucket_label(start: date, bucket: Bucket) -> str:
    """A bucket as people say it: "2026-11-24", or "week of 2026-11-23"."""
    return start.isoformat() if bucket is Bucket.DAY else f"week of {start.isoformat()}"


def run_replay(start: RunStart) -> str | None:
    """The command replaying a whole run, when a run seed governed it."""
    if start.run_seed is None:
        return None
    return run_replay_command(start.run_seed, start.command, start.order_seed)
