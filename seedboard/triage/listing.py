"""Choosing, ordering and paging the flaky console's rows: by class, by a piece of the
test id, and by a column; broken tests apart from the flaky ones (they fail every run:
they are not flaky, and would bury those that are).

Pages are keyset pages: a page ends at its last row's sort key, and the next one
starts after that key, so a test that turns stable between two pages moves no other
test to the wrong page.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, get_args

from seedboard.triage.classify import Classification, RankKey, rank_key
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


SortKey = tuple[Any, ...]
"""Where a row stands in its order: rows are sorted by it, ascending, with no ties."""


@dataclass(frozen=True, slots=True)
class Page:
    """Rows of one order, and the key of the last when more rows follow."""

    rows: list[TestTriage]
    total: int
    """How many rows the order has, on every page."""
    more_after: SortKey | None


@dataclass(frozen=True, slots=True)
class Console:
    """The flaky console's two tables: the rows asked for, a page of them, and the
    broken tests, unless those were asked for by their class."""

    flaky: Page
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
    found.sort(key=sort_key(sort))
    return found


def sort_key(sort: FlakySort) -> Callable[[TestTriage], SortKey]:
    """The key that puts rows in ``sort``'s order, ascending: the column first (negated,
    so that the most comes first), then rank order, which ends with the unique test id."""
    column = _COLUMNS.get(sort)
    if column is None:
        return lambda t: (t.test_id,) if sort is FlakySort.TEST else _rank(t)
    return lambda t: (column(t), *_rank(t))


def sort_key_type(sort: FlakySort) -> Any:
    """The type of ``sort_key(sort)``'s keys, for checking one read back from a URL."""
    if sort is FlakySort.RANK:
        return RankKey
    if sort is FlakySort.TEST:
        return tuple[str]
    return tuple[(float, *get_args(RankKey))]  # type: ignore[misc]


def page(rows: Sequence[TestTriage], sort: FlakySort, limit: int, after: SortKey | None) -> Page:
    """Up to ``limit`` of ``rows`` (in ``sort``'s order) that come after the key ``after``."""
    key = sort_key(sort)
    start = 0 if after is None else bisect_right(rows, after, key=key)
    shown = list(rows[start : start + limit])
    more = start + limit < len(rows)
    return Page(shown, len(rows), key(shown[-1]) if more and shown else None)


def console(
    tests: Sequence[TestTriage],
    classes: Collection[Classification],
    sort: FlakySort,
    limit: int,
    after: SortKey | None,
) -> Console:
    """``tests``, in their order, a page of them: broken ones apart, unless ``classes``
    asks for them."""
    broken = Classification.BROKEN
    if broken in classes:
        return Console(flaky=page(tests, sort, limit, after), broken=[])
    return Console(
        flaky=page(
            [t for t in tests if t.verdict.classification is not broken], sort, limit, after
        ),
        broken=[t for t in tests if t.verdict.classification is broken],
    )


def _rank(test: TestTriage) -> SortKey:
    return rank_key(test.verdict, test.test_id)


def _last_failure_key(test: TestTriage) -> float:
    found = last_failure(test)
    # Never failed in its window: last of all (JSON has no infinity, and keys travel in URLs).
    return 0.0 if found is None else -found.timestamp()


_COLUMNS: dict[FlakySort, Callable[[TestTriage], float]] = {
    FlakySort.FAILURE_RATE: lambda t: -t.verdict.failure_rate,
    FlakySort.FLIP_RATE: lambda t: -t.verdict.flip_rate,
    FlakySort.RUNS: lambda t: -t.verdict.runs,
    FlakySort.LAST_FAILURE: _last_failure_key,
    FlakySort.FAILING_SEEDS: lambda t: -len(t.failing_seeds),
}
