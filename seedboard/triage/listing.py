"""Choosing and ordering the flaky console's rows: by class, by a piece of the test id,
and by a column; broken tests apart from the flaky ones (they fail every run: they are
not flaky, and would bury those that are)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from seedboard.triage.classify import Classification, rank_key
from seedboard.triage.report import TestTriage


class FlakySort(StrEnum):
    """What the flaky console is ordered by; each but ``test`` puts the most first."""

    RANK = "rank"
    FAILURE_RATE = "failure_rate"
    FLIP_RATE = "flip_rate"
    RUNS = "runs"
    LAST_FAILURE = "last_failure"
    FAILING_SEEDS = "failing_seeds"
    TEST = "test"


@dataclass(frozen=True, slots=True)
class Console:
    """The flaky console's two tables."""

    flaky: list[TestTriage]
    broken: list[TestTriage]


def last_failure(test: TestTriage) -> datetime | None:
    """When the test last failed in its window."""
    return max((group.last_seen for group in test.groups), default=None)


def chosen(
    tests: Sequence[TestTriage],
    classes: Collection[Classification] = (),
    text: str | None = None,
    sort: FlakySort = FlakySort.RANK,
) -> list[TestTriage]:
    """``tests`` of ``classes`` (any, if none) whose id holds ``text`` (any case), sorted
    by ``sort``, ties in rank order (most worrying first)."""
    needle = (text or "").casefold()
    found = [
        t
        for t in tests
        if (not classes or t.verdict.classification in classes) and needle in t.test_id.casefold()
    ]
    found.sort(key=lambda t: rank_key(t.verdict, t.test_id))
    if sort is not FlakySort.RANK:
        found.sort(key=_SORT_KEYS[sort], reverse=sort is not FlakySort.TEST)
    return found


def console(tests: Sequence[TestTriage]) -> Console:
    """``tests``, in their order, broken ones apart."""
    broken = Classification.BROKEN
    return Console(
        flaky=[t for t in tests if t.verdict.classification is not broken],
        broken=[t for t in tests if t.verdict.classification is broken],
    )


def _last_failure_key(test: TestTriage) -> float:
    found = last_failure(test)
    return float("-inf") if found is None else found.timestamp()


_SORT_KEYS: dict[FlakySort, Callable[[TestTriage], Any]] = {
    FlakySort.FAILURE_RATE: lambda t: t.verdict.failure_rate,
    FlakySort.FLIP_RATE: lambda t: t.verdict.flip_rate,
    FlakySort.RUNS: lambda t: t.verdict.runs,
    FlakySort.LAST_FAILURE: _last_failure_key,
    FlakySort.FAILING_SEEDS: lambda t: len(t.failing_seeds),
    FlakySort.TEST: lambda t: t.test_id,
}
