"""Plain records that cross every boundary: reporter to store, store to triage and web.

Nothing here does I/O or imports a database or web library, so the reporter
can build these inside a test run without slowing it down.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from enum import StrEnum
from itertools import repeat
from operator import attrgetter
from typing import Any


class Outcome(StrEnum):
    """How one test ended, in trial's vocabulary."""

    SUCCESS = "success"
    FAILURE = "failure"
    ERROR = "error"
    SKIP = "skip"
    EXPECTED_FAILURE = "expected_failure"
    UNEXPECTED_SUCCESS = "unexpected_success"

    @property
    def is_bad(self) -> bool:
        """Whether this outcome makes trial's run unsuccessful."""
        return self in BAD_OUTCOMES


BAD_OUTCOMES = frozenset({Outcome.FAILURE, Outcome.ERROR, Outcome.UNEXPECTED_SUCCESS})

OUTCOME_OF: dict[str, Outcome] = {outcome.value: outcome for outcome in Outcome}
"""Each outcome by its stored text: a lookup, where calling ``Outcome`` is far slower
for the thousands of rows of a page."""


CONTROL_CHARACTERS = "\\x00-\\x1f\\x7f-\\x9f"
"""Control characters (C0 with tab and newline, DEL, C1) as the inside of a regular
expression's character class, in the syntax Python and JSON Schema share.  A run's
metadata holds none: it is shown on one line, and its command goes into a shell."""


@dataclass(frozen=True, slots=True)
class RunStart:
    """What is known about a run when it begins."""

    id: str
    started_at: datetime
    host: str
    python_version: str
    twisted_version: str
    command: str
    order_seed: int | None = None
    branch: str | None = None
    commit: str | None = None
    build_url: str | None = None
    run_seed: int | None = None
    """The seed every test's seed was derived from, when one governed the run."""
    is_replay: bool = False
    """Whether ``seedboard replay`` made this run to re-check failing seeds."""


@dataclass(frozen=True, slots=True)
class Result:
    """One test's result within a run."""

    test_id: str
    outcome: Outcome
    duration: float
    seed: int | None = None
    exception_type: str | None = None
    message: str | None = None
    traceback: str | None = None
    file: str | None = None
    line: int | None = None
    position: int | None = None
    """Where the test ran in its run's order: the 0-based count of tests started before
    it (under ``trial -j``, in the manager's order); None from reporters that predate it."""
    fingerprint: str | None = None
    """Groups a test's alike failures; the server computes it as it stores the result
    (``seedboard.services.results``), reporters leave it None."""


RESULT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Result))
"""The names of ``Result``'s fields, in their order: every mapping of a result to
columns, rows or SQL is built from these (or checked against them by a test)."""


@dataclass(frozen=True, slots=True)
class ResultColumns:
    """Many results as one sequence per field of ``Result``, by the same names in the same
    order: how a batch of thousands crosses from the API to the store without a record each."""

    test_id: Sequence[str]
    outcome: Sequence[Outcome]
    duration: Sequence[float]
    seed: Sequence[int | None]
    exception_type: Sequence[str | None]
    message: Sequence[str | None]
    traceback: Sequence[str | None]
    file: Sequence[str | None]
    line: Sequence[int | None]
    position: Sequence[int | None] | None = None
    """None when no client sent positions (older reporters)."""
    fingerprint: Sequence[str | None] | None = None
    """None until computed: clients never send it (see ``Result.fingerprint``)."""

    @classmethod
    def of(cls, results: Sequence[Result]) -> ResultColumns:
        """The columns of ``results``."""
        return cls(*(list(map(attrgetter(name), results)) for name in RESULT_FIELDS))

    def __len__(self) -> int:
        return len(self.test_id)

    def values(self, name: str) -> Iterable[Any]:
        """The values of the field ``name``, row by row: for a column left as None, None
        without end (zip or map it with a given column, which ends it)."""
        column: Sequence[Any] | None = getattr(self, name)
        return repeat(None) if column is None else column

    def records(self) -> list[Result]:
        """One ``Result`` per row."""
        return list(map(Result, *(self.values(name) for name in RESULT_FIELDS)))


@dataclass(frozen=True, slots=True)
class OutcomeCounts:
    """How many results of a run ended each way."""

    success: int = 0
    failure: int = 0
    error: int = 0
    skip: int = 0
    expected_failure: int = 0
    unexpected_success: int = 0

    @property
    def total(self) -> int:
        return sum(self.as_dict().values())

    @property
    def bad(self) -> int:
        return sum(getattr(self, outcome.value) for outcome in BAD_OUTCOMES)

    def as_dict(self) -> dict[str, int]:
        return {outcome.value: getattr(self, outcome.value) for outcome in Outcome}

    @classmethod
    def of(cls, outcomes: list[Outcome]) -> OutcomeCounts:
        counts = dict.fromkeys((o.value for o in Outcome), 0)
        for outcome in outcomes:
            counts[outcome.value] += 1
        return cls(**counts)


@dataclass(frozen=True, slots=True)
class RunSummary:
    """A run as listed: its metadata, when it ended and its counts."""

    start: RunStart
    finished_at: datetime | None
    counts: OutcomeCounts

    @property
    def id(self) -> str:
        return self.start.id

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish; None unfinished, or when a run stored before
        finishes were checked against starts ended before it began."""
        if self.finished_at is None or self.finished_at < self.start.started_at:
            return None
        return (self.finished_at - self.start.started_at).total_seconds()


@dataclass(frozen=True, slots=True)
class RunDetail:
    """A run with every result, failures first."""

    summary: RunSummary
    results: list[Result] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TestRun:
    """One test's result in one run, as shown in the test's history."""

    run_id: str
    started_at: datetime
    branch: str | None
    commit: str | None
    outcome: Outcome
    duration: float
    seed: int | None
    message: str | None


@dataclass(frozen=True, slots=True)
class TestHistory:
    """A test across runs, newest first."""

    test_id: str
    file: str | None
    line: int | None
    runs: list[TestRun]


@dataclass(frozen=True, slots=True)
class RunPage:
    """A page of runs, newest first, with the cursor of the next page if any."""

    runs: list[RunSummary]
    next_cursor: str | None
    replayed: dict[str, str] = field(default_factory=dict)
    """The test each listed replay re-ran, by run id: a replay of one test, as
    ``seedboard replay`` makes them (a whole run replayed has none)."""


@dataclass(frozen=True, slots=True)
class Observation:
    """One result of a test in one run, as classifying and trends read it."""

    run_id: str
    started_at: datetime
    outcome: Outcome
    seed: int | None
    fingerprint: str | None
    """Which group the failure belongs to; None when the result is not a failure."""
    is_replay: bool = False
    commit: str | None = None
    """Its run's commit; None when the run recorded none."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One result of a test in its triage window, with what the triage report needs of
    its run."""

    run_id: str
    started_at: datetime
    outcome: Outcome
    seed: int | None
    fingerprint: str | None
    exception_type: str | None
    message: str | None
    is_replay: bool
    order_seed: int | None
    commit: str | None = None
    """Its run's commit; None when the run recorded none."""


@dataclass(frozen=True, slots=True)
class DayRuns:
    """The runs started on one UTC day: how many, their results and failures."""

    day: date
    runs: int
    results: int
    failures: int


@dataclass(frozen=True, slots=True)
class DayTest:
    """One test's passes and failures on one UTC day, or summed over a week (under its
    Monday) for weekly buckets."""

    day: date
    test: int
    """The test's key; only the most flaky get their names looked up."""
    passes: int
    failures: int


@dataclass(frozen=True, slots=True)
class OrderDependency:
    """What ``seedboard bisect`` found: in a run, ``victim`` failed because ``polluter``
    ran before it."""

    run_id: str
    victim: str
    polluter: str
    seed: int | None
    """The failing result's seed, which the bisection ran with; None when it had none."""
    found_at: datetime
    run_seed: int | None = None
    """The run's seed, which the bisection ran with when the result had no seed."""


@dataclass(frozen=True, slots=True)
class Quarantine:
    """A test id or pattern whose failures are known: still run and recorded, and, when a
    run enforces quarantine, not failing it.  Active while not lifted and not expired."""

    pattern: str
    reason: str | None
    issue_url: str | None
    expires_at: datetime | None
    created_by: str
    created_at: datetime
    lifted_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        return self.lifted_at is None and (self.expires_at is None or self.expires_at > now)


@dataclass(frozen=True, slots=True)
class QuarantineChange:
    """One entry of the quarantines' history: who did what to which, when, and why."""

    pattern: str
    action: str
    """``add``, ``update``, ``remove`` or ``expire``."""
    actor: str
    at: datetime
    reason: str | None
    detail: str
    """What changed, in words."""


@dataclass(frozen=True, slots=True)
class TestLinks:
    """What a team attached to a test: its owners (from CODEOWNERS) and its issue."""

    owners: tuple[str, ...] = ()
    issue_url: str | None = None


def owned_by(owners: Iterable[str], owner: str) -> bool:
    """Whether ``owner`` is one of ``owners``: compared without case, as GitHub does."""
    wanted = owner.strip().lower()
    return any(found.lower() == wanted for found in owners)
