"""Judging a replay: did the test fail again, the same way, at the same code?

A replay reproduces a failure only when the same test ran and failed again with a
failure of the original's group (its fingerprint).  An unexpected success is a failure,
as the dashboard counts it.  A different failure is said as such.  Some but not all
tries failing the same way means the seed does not control the failure.

A replay at another commit than the failure's is a fix check: it says whether the
failure is still there, never whether the seed reproduces it.

Pure: the caller runs the tries and reads their results back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from seedboard.domain import Outcome
from seedboard.triage.fingerprint import summary


class Recorded(Protocol):
    """What judging a try reads of the replayed test's result."""

    @property
    def outcome(self) -> Outcome: ...

    @property
    def fingerprint(self) -> str | None: ...

    @property
    def exception_type(self) -> str | None: ...

    @property
    def message(self) -> str | None: ...


class Try(StrEnum):
    """How one replay of a test went."""

    SAME = "failed again"
    DIFFERENT = "failed differently"
    PASSED = "passed"
    NOT_RUN = "did not run"
    """No result of the test was recorded, or it was skipped."""


@dataclass(frozen=True, slots=True)
class Tried:
    """One try's verdict; for a different failure, its summary line."""

    kind: Try
    failure: str | None = None


@dataclass(frozen=True, slots=True)
class Original:
    """The failure a replay tries to reproduce, as recorded: its group and commit."""

    fingerprint: str | None
    commit: str | None


def judge_try(results: Sequence[Recorded], original: Original | None) -> Tried:
    """One try from the replayed test's results in its run (one, unless trial ran it twice).

    Without a recorded original to compare with, any failure counts as failing again.
    """
    ran = [r for r in results if r.outcome is not Outcome.SKIP]
    if not ran:
        return Tried(Try.NOT_RUN)
    bad = [r for r in ran if r.outcome.is_bad]
    if not bad:
        return Tried(Try.PASSED)
    wanted = None if original is None else original.fingerprint
    if wanted is None or any(r.fingerprint == wanted for r in bad):
        return Tried(Try.SAME)
    return Tried(Try.DIFFERENT, summary(bad[0].exception_type, bad[0].message))


@dataclass(frozen=True, slots=True)
class Verdict:
    """All tries of one (test, seed) at one commit, against the original failure."""

    test_id: str
    seed: int
    tries: tuple[Tried, ...]
    commit: str | None
    """The commit the replays ran at; None when none was recorded."""
    original: Original | None

    def count(self, kind: Try) -> int:
        return sum(1 for t in self.tries if t.kind is kind)

    @property
    def failed(self) -> int:
        return self.count(Try.SAME) + self.count(Try.DIFFERENT)

    @property
    def is_fix_check(self) -> bool:
        """Whether the replays ran at another commit than the failure: both recorded, unequal."""
        failed_at = None if self.original is None else self.original.commit
        return failed_at is not None and self.commit is not None and failed_at != self.commit

    @property
    def still_fails(self) -> bool:
        return self.failed > 0

    @property
    def seed_controls(self) -> bool:
        """Whether the seed decides the failure, as far as these tries show: at the
        failure's commit, every try that ran failed the same way, or none did."""
        same, ran = self.count(Try.SAME), len(self.tries) - self.count(Try.NOT_RUN)
        return self.is_fix_check or same in (0, ran)

    def line(self) -> str:
        """What ``seedboard replay`` prints for the pair."""
        pair = f"{self.test_id} with seed {self.seed}"
        tries = len(self.tries)
        if self.count(Try.NOT_RUN) == tries:
            return f"did not run {tries}/{tries}: {pair} (skipped, or no result recorded)"
        verdict = self._fix_check() if self.is_fix_check else self._reproduction()
        return f"{verdict}: {pair}{self._differently()}{self._not_run()}"

    def _reproduction(self) -> str:
        same, tries = self.count(Try.SAME), len(self.tries)
        if not same:
            return f"did not reproduce 0/{tries}"
        unsteady = "" if self.seed_controls else " — the seed does not control it"
        return f"reproduced {same}/{tries}{unsteady}"

    def _fix_check(self) -> str:
        assert self.original is not None and self.original.commit is not None
        where = f"fix check at {short(self.commit)} (failed at {short(self.original.commit)})"
        tries = len(self.tries)
        if self.still_fails:
            return f"{where}: still fails, {self.failed}/{tries}"
        return f"{where}: passes here, {self.count(Try.PASSED)}/{tries}"

    def _differently(self) -> str:
        different = [t for t in self.tries if t.kind is Try.DIFFERENT]
        if not different:
            return ""
        return f"; failed differently {len(different)}/{len(self.tries)}: {different[0].failure}"

    def _not_run(self) -> str:
        missing = self.count(Try.NOT_RUN)
        return f"; did not run {missing}/{len(self.tries)}" if missing else ""


SHORT_COMMIT = 12


def short(commit: str | None) -> str:
    """A commit as people read it: its first 12 characters; ``unknown commit`` for None."""
    return "unknown commit" if commit is None else commit[:SHORT_COMMIT]
