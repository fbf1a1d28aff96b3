"""A run's results as a person triages them: failures grouped by failure group, then the rest.

Pure: the run page and its JSON twin choose and group the results they already read.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from seedboard.domain import Outcome, Result
from seedboard.triage.fingerprint import fingerprint, summary


@dataclass(frozen=True, slots=True)
class RunFailureGroup:
    """The failures of one run that share a fingerprint: one bug, however many tests."""

    fingerprint: str
    summary: str
    results: tuple[Result, ...]

    @property
    def first(self) -> Result:
        return self.results[0]


@dataclass(frozen=True, slots=True)
class GroupedResults:
    """A run's failures by group, most results first, and its other results in order."""

    groups: list[RunFailureGroup]
    others: list[Result]

    @property
    def failures(self) -> int:
        return sum(len(group.results) for group in self.groups)


def group_results(results: Iterable[Result]) -> GroupedResults:
    """``results`` with the bad ones grouped by fingerprint; groups keep the order of their
    first result among those with as many results."""
    by_print: dict[str, list[Result]] = {}
    others: list[Result] = []
    for result in results:
        if result.outcome.is_bad:
            key = result.fingerprint or fingerprint(
                result.exception_type, result.message, result.traceback
            )
            by_print.setdefault(key, []).append(result)
        else:
            others.append(result)
    groups = [
        RunFailureGroup(key, summary(found[0].exception_type, found[0].message), tuple(found))
        for key, found in by_print.items()
    ]
    groups.sort(key=lambda group: -len(group.results))  # stable: ties keep their order
    return GroupedResults(groups, others)


def select_results(
    results: Sequence[Result],
    outcomes: Collection[Outcome],
    text: str | None,
    tests: Collection[str] | None = None,
) -> list[Result]:
    """The results with one of ``outcomes`` (any, when none) whose test id contains
    ``text`` (ignoring case; any, when None) and is one of ``tests`` (any, when None)."""
    needle = text.casefold() if text else None
    return [
        result
        for result in results
        if (not outcomes or result.outcome in outcomes)
        and (needle is None or needle in result.test_id.casefold())
        and (tests is None or result.test_id in tests)
    ]
