"""The life of a failing seed: where a (test, seed) pair that failed stands now.

A seed replays a failure only together with the code it failed on, so every judgement
here is made at one commit: the newest one the seed was tried at.

- **failing**: it failed once, and has not been tried again at that commit.
- **reproduced at C**: tried two or more times at commit C, it failed every time.
- **did not reproduce at C**: at commit C it both failed and passed, so the seed does
  not control the failure.
- **fixed at C**: it failed at earlier commits and passes at C, where it never failed.
  A pass at another commit is a fix check, never evidence about reproducibility.

Results without a commit are judged as if they all ran one unknown version of the
code: such a seed can be reproduced or not, but never fixed.

Pure: the caller hands in every result of the seed it knows, in any order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from seedboard.domain import Outcome


class Tried(Protocol):
    """What judging a seed reads of one of its results."""

    @property
    def started_at(self) -> datetime: ...

    @property
    def outcome(self) -> Outcome: ...

    @property
    def seed(self) -> int | None: ...

    @property
    def commit(self) -> str | None: ...


class SeedState(StrEnum):
    """Where a failing seed stands, in the order a seed usually goes through them."""

    FAILING = "failing"
    REPRODUCED = "reproduced"
    NOT_REPRODUCED = "did-not-reproduce"
    FIXED = "fixed"


@dataclass(frozen=True, slots=True)
class SeedLife:
    """A failing seed's state, and the commit that state was seen at."""

    seed: int
    state: SeedState
    commit: str | None
    """The newest commit the seed was tried at; None when that run recorded none."""

    def describe(self, commit_text: str | None = None) -> str:
        """E.g. ``fixed at 1a2b3c4``; ``commit_text`` replaces the full commit (a short form)."""
        return describe(self.state, self.commit, commit_text)


def describe(state: SeedState, commit: str | None, commit_text: str | None = None) -> str:
    """A seed's state in words: ``failing``, ``fixed at 1a2b3c4``; ``commit_text`` replaces
    the full commit (a short form)."""
    words = state.value.replace("-", " ")
    if state is SeedState.FAILING:
        return words
    if commit is None:
        return f"{words} (no commit recorded)"
    return f"{words} at {commit_text or commit}"


def seed_lives(results: Iterable[Tried]) -> dict[int, SeedLife]:
    """The life of every seed that failed among ``results`` (one test's), by seed.

    Skips are left out: the test did not run.
    """
    by_seed: dict[int, list[Tried]] = {}
    for result in results:
        if result.seed is not None and result.outcome is not Outcome.SKIP:
            by_seed.setdefault(result.seed, []).append(result)
    return {
        seed: seed_life(seed, tried)
        for seed, tried in by_seed.items()
        if any(r.outcome.is_bad for r in tried)
    }


def seed_life(seed: int, tried: Sequence[Tried]) -> SeedLife:
    """The life of ``seed`` from its counted results, at least one of them a failure."""
    newest = max(tried, key=lambda r: r.started_at).commit
    at_newest = [r for r in tried if r.commit == newest]
    failed_here = sum(1 for r in at_newest if r.outcome.is_bad)
    passed_here = len(at_newest) - failed_here
    if not failed_here:
        if newest is None:
            # Passes at an unknown commit after failures at known ones say nothing of
            # either: the code may or may not be the code that failed.
            return SeedLife(seed, SeedState.NOT_REPRODUCED, None)
        return SeedLife(seed, SeedState.FIXED, newest)
    if passed_here:
        return SeedLife(seed, SeedState.NOT_REPRODUCED, newest)
    if failed_here >= 2:
        return SeedLife(seed, SeedState.REPRODUCED, newest)
    return SeedLife(seed, SeedState.FAILING, newest)
