"""How tests change over time: slowdowns in one test's durations.

Pure: the store hands in the results, this decides what stands out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

from seedboard.domain import Outcome, TestRun

SLOWDOWN_FACTOR = 2.0
"""A result is a slowdown when it took more than this many times the median."""
MIN_SLOWDOWN_SECONDS = 0.01
"""...and at least this much longer than the median, so that the jitter of a test
taking a millisecond or two is not reported."""


@dataclass(frozen=True, slots=True)
class Slowdown:
    """A run in which the test took notably longer than it usually does."""

    run: TestRun
    ratio: float
    """The run's duration / the median duration."""


@dataclass(frozen=True, slots=True)
class Durations:
    """A test's typical duration, and the runs where it was notably slower."""

    median: float | None
    """Over its results that ran (skips left out); None when there are none."""
    slowdowns: tuple[Slowdown, ...]
    """In the order the runs were given."""


def durations(runs: Sequence[TestRun]) -> Durations:
    """The median duration of the runs that ran the test, and the ones far above it."""
    ran = [run for run in runs if run.outcome is not Outcome.SKIP]
    if not ran:
        return Durations(median=None, slowdowns=())
    middle = median(run.duration for run in ran)
    return Durations(
        median=middle,
        slowdowns=tuple(
            Slowdown(run, run.duration / middle) for run in ran if is_slowdown(run.duration, middle)
        ),
    )


def is_slowdown(duration: float, typical: float) -> bool:
    return (
        typical > 0
        and duration > SLOWDOWN_FACTOR * typical
        and duration - typical >= MIN_SLOWDOWN_SECONDS
    )
