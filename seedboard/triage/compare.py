"""What changed between two runs: which tests started or stopped failing, came or went.

Pure: ``seedboard.services.compare`` hands in each run's stored (test, outcome) pairs.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Iterable
from dataclasses import dataclass, fields
from typing import TypeVar

from seedboard.domain import Outcome


@dataclass(frozen=True, slots=True)
class RunDiff:
    """The tests of run ``b`` set against those of an older run ``a``, each list sorted.

    A test is *bad* in a run when one of its results there is a failure, an error or
    an unexpected success.  A test that was bad in ``a`` and is missing from ``b`` is
    only listed as removed: it was not seen passing, so it is not counted as fixed.
    """

    new_failures: tuple[str, ...]
    """Bad in ``b``, and not bad in ``a`` (passed, skipped, or did not run there)."""
    fixed: tuple[str, ...]
    """Bad in ``a``, ran in ``b`` and was not bad there."""
    still_failing: tuple[str, ...]
    """Bad in both."""
    new_tests: tuple[str, ...]
    """In ``b`` but not in ``a``."""
    removed_tests: tuple[str, ...]
    """In ``a`` but not in ``b``."""

    @property
    def unchanged(self) -> bool:
        """Whether nothing started or stopped failing and no test came or went."""
        return not (self.new_failures or self.fixed or self.new_tests or self.removed_tests)


def diff_among(diff: RunDiff, kept: Collection[str]) -> RunDiff:
    """``diff`` with only the tests in ``kept`` listed (an owner's, say)."""
    lists = {f.name: getattr(diff, f.name) for f in fields(diff)}
    return RunDiff(**{name: tuple(t for t in tests if t in kept) for name, tests in lists.items()})


K = TypeVar("K", bound=Hashable)


def compare(a: Iterable[tuple[str, Outcome]], b: Iterable[tuple[str, Outcome]]) -> RunDiff:
    """How run ``b`` differs from the older run ``a``."""
    return compare_keyed(a, b, lambda keys: {name: name for name in keys})


def compare_keyed(
    a: Iterable[tuple[K, Outcome]],
    b: Iterable[tuple[K, Outcome]],
    names: Callable[[set[K]], dict[K, str]],
) -> RunDiff:
    """``compare`` for tests known by any key; ``names`` names the keys that made the
    diff, so a store need not name the thousands of tests that did not change."""
    before, after = _badness(a), _badness(b)
    bad_before = {key for key, bad in before.items() if bad}
    bad_after = {key for key, bad in after.items() if bad}
    sections = (
        bad_after - bad_before,
        (bad_before & after.keys()) - bad_after,
        bad_before & bad_after,
        after.keys() - before.keys(),
        before.keys() - after.keys(),
    )
    named = names(set().union(*sections))
    new_failures, fixed, still_failing, new_tests, removed_tests = (
        tuple(sorted(named[key] for key in section)) for section in sections
    )
    return RunDiff(new_failures, fixed, still_failing, new_tests, removed_tests)


def _badness(results: Iterable[tuple[K, Outcome]]) -> dict[K, bool]:
    """Each test of a run, and whether any of its results there was bad."""
    bad: dict[K, bool] = {}
    for key, outcome in results:
        bad[key] = bad.get(key, False) or outcome.is_bad
    return bad
