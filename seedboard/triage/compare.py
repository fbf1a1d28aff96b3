"""What changed between two runs: which tests started or stopped failing, came or went.

Pure: the store hands in each run's (test id, outcome) pairs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

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


def compare(a: Iterable[tuple[str, Outcome]], b: Iterable[tuple[str, Outcome]]) -> RunDiff:
    """How run ``b`` differs from the older run ``a``."""
    before, after = _badness(a), _badness(b)
    bad_before = {name for name, bad in before.items() if bad}
    bad_after = {name for name, bad in after.items() if bad}
    return RunDiff(
        new_failures=_sorted(bad_after - bad_before),
        fixed=_sorted((bad_before & after.keys()) - bad_after),
        still_failing=_sorted(bad_before & bad_after),
        new_tests=_sorted(after.keys() - before.keys()),
        removed_tests=_sorted(before.keys() - after.keys()),
    )


def _badness(results: Iterable[tuple[str, Outcome]]) -> dict[str, bool]:
    """Each test of a run, and whether any of its results there was bad."""
    bad: dict[str, bool] = {}
    for name, outcome in results:
        bad[name] = bad.get(name, False) or outcome.is_bad
    return bad


def _sorted(names: set[str]) -> tuple[str, ...]:
    return tuple(sorted(names))
