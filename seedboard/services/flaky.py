"""The flaky page and a test's triage: stored samples (``seedboard.db.flaky``) judged
by ``seedboard.triage``."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Connection

from seedboard.db.flaky import StoredTest, failing_tests, find_test, latest_samples
from seedboard.db.order import latest_order_dependencies
from seedboard.domain import OrderDependency, Sample
from seedboard.triage.classify import Classification, rank_key
from seedboard.triage.report import TestTriage, triage
from seedboard.triage.trends import SPARKLINE

WINDOW = 50
"""Runs of a test that its class is judged on, unless told otherwise."""


def test_triage(
    conn: Connection, name: str, window: int = WINDOW, branch: str | None = None
) -> TestTriage | None:
    """One test's triage over its last ``window`` results (on ``branch``, if given)."""
    test = find_test(conn, name)
    if test is None:
        return None
    latest = latest_samples(conn, [test.key], _wanted(window), branch)
    found = latest_order_dependencies(conn, [test.key])
    return with_order_dependency(
        _triaged(test, latest.get(test.key, []), window), found.get(test.key)
    )


def flaky_tests(
    conn: Connection, window: int = WINDOW, branch: str | None = None
) -> list[TestTriage]:
    """Tests that are not stable, most worrying first (``rank_key``: ties by test id).

    Candidates are the tests that failed in the latest ``window`` runs; each is then
    judged on its own latest ``window`` results.
    """
    candidates = failing_tests(conn, window, branch)
    latest = latest_samples(conn, [t.key for t in candidates], _wanted(window), branch)
    found = latest_order_dependencies(conn, [t.key for t in candidates])
    triaged = [
        with_order_dependency(_triaged(t, latest.get(t.key, []), window), found.get(t.key))
        for t in candidates
    ]
    flaky = [t for t in triaged if t.verdict.classification is not Classification.STABLE]
    flaky.sort(key=lambda t: rank_key(t.verdict, t.test_id))
    return flaky


_NO_LONGER_FAILING = frozenset({Classification.STABLE, Classification.FIXED})


def _wanted(window: int) -> int:
    """Results to read: the window, and enough more for the sparkline."""
    return max(window, SPARKLINE)


def _triaged(test: StoredTest, latest: list[Sample], window: int) -> TestTriage:
    """A test judged on its latest ``window`` of ``latest`` (newest first), with a sparkline."""
    recent = [sample.outcome for sample in reversed(latest[:SPARKLINE])]
    return triage(test.name, test.file, test.line, latest[:window], recent)


def with_order_dependency(triaged: TestTriage, found: OrderDependency | None) -> TestTriage:
    """The triage of a test whose polluter ``seedboard bisect`` found: ``order-dependent``
    while it still fails in its window (once stable or fixed, the finding is history)."""
    if found is None or triaged.verdict.classification in _NO_LONGER_FAILING:
        return triaged
    verdict = replace(triaged.verdict, classification=Classification.ORDER_DEPENDENT)
    return replace(triaged, verdict=verdict, order_dependency=found)
