"""The JSON answers of ``/api/v1``, declared once as msgspec Structs, and built from domain records.

These Structs are the public contract: the encoder writes them, the OpenAPI
document takes their JSON Schema, and the tests validate every answer against
that document.  Add fields if you must, never rename or remove one.

``seedboard.web.to_json`` builds them from domain records and encodes them.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Final, Literal, TypeVar

import msgspec
from msgspec import Meta, Struct

from seedboard.domain import Outcome
from seedboard.triage.classify import Classification
from seedboard.triage.seed_life import SeedState
from seedboard.triage.trends import (
    MAX_DAILY_DAYS,
    MAX_DAYS,
    MOST_FLAKY,
    SAMPLE_LIMIT,
    SPARKLINE,
    Bucket,
)
from seedboard.web.urls import path_to_test

A = TypeVar("A", bound=Struct)

Time = Annotated[
    str,
    Meta(
        description="RFC 3339, in UTC, to the microsecond",
        extra_json_schema={"format": "date-time"},
    ),
]
Rate = Annotated[float, Meta(ge=0, le=1)]
Count = Annotated[int, Meta(ge=0)]
Sparkline = Annotated[
    list[Literal[0, 1] | None],
    Meta(max_length=SPARKLINE, description="Oldest first: 1 failed, 0 passed, null skipped."),
]
TestIds = Annotated[list[str], Meta(description="Test ids, sorted.")]
Owners = Annotated[
    list[str], Meta(description="Its owners, from CODEOWNERS as the latest run read it.")
]


class Answer(Struct, kw_only=True, forbid_unknown_fields=True):
    """Every answer: keyword-built, and closed (no property but those declared)."""


Counts: Final = msgspec.defstruct(
    "Counts",
    [(outcome.value, Count) for outcome in Outcome] + [("total", Count)],
    bases=(Answer,),
)
"""A run's results by outcome: one field per ``Outcome``, and their total."""


class Run(Answer):
    """A run: its metadata as the reporter sent it, its counts, and how to replay it."""

    id: str
    started_at: Time
    finished_at: Time | None
    duration: float | None
    host: str
    python_version: str
    twisted_version: str
    command: str
    order_seed: int | None
    branch: str | None
    commit: str | None
    build_url: str | None
    run_seed: int | None
    is_replay: bool
    replay_command: Annotated[
        str | None,
        Meta(description="The command replaying the whole run; null without a run seed."),
    ]
    counts: Counts  # type: ignore[valid-type]
    url: str


class Result(Answer):
    """One test's result in a run."""

    test_id: str
    outcome: Outcome
    duration: float
    seed: int | None
    exception_type: str | None
    message: str | None
    traceback: str | None
    file: str | None
    line: int | None
    position: Annotated[
        int | None,
        Meta(
            description="Where the test ran in the run's order (0 first); null when the "
            "reporter did not send it."
        ),
    ]
    fingerprint: str | None
    url: str = ""
    owners: Owners = []

    def __post_init__(self) -> None:
        # Made here, so that a run's thousands of results convert from their records in
        # one msgspec call (``to_json.result_answers``) rather than a Python call each.
        self.url = path_to_test(self.test_id)


class RunPage(Answer):
    """Runs, newest first; ``next`` links the next page with the same filters."""

    runs: list[Run]
    next: str | None


class RunDetail(Answer):
    """A run with every result, failures first."""

    run: Run
    results: list[Result]
    previous_run: Annotated[
        str | None,
        Meta(
            description="The id of the latest run on the same branch started before this one, "
            "replays left out; null if there is none."
        ),
    ]


class Comparison(Answer):
    """Run ``b`` against the earlier run ``a``: the tests in each section, sorted."""

    a: Run
    b: Run
    new_failures: Annotated[
        TestIds, Meta(description="Bad in b (failure, error or unexpected success), not bad in a.")
    ]
    fixed: Annotated[TestIds, Meta(description="Bad in a, ran in b and not bad there.")]
    still_failing: Annotated[TestIds, Meta(description="Bad in both.")]
    new_tests: Annotated[TestIds, Meta(description="In b, not in a.")]
    removed_tests: Annotated[
        TestIds, Meta(description="In a, not in b (also when it was bad in a).")
    ]
    owners: Annotated[
        dict[str, list[str]],
        Meta(description="Each test listed that has owners in CODEOWNERS, with them."),
    ] = {}


class TestRun(Answer):
    """A test's result in one run, as its history lists it."""

    run_id: str
    started_at: Time
    branch: str | None
    commit: str | None
    outcome: Outcome
    duration: float
    seed: int | None
    message: str | None


class Slowdown(Answer):
    run_id: str
    duration: float
    ratio: Annotated[float, Meta(description="duration / median_duration")]


class FailureGroup(Answer):
    """Alike failures of a test, grouped by fingerprint."""

    fingerprint: str
    summary: str
    count: Count
    first_seen: Time
    last_seen: Time
    seeds: list[int]


class SeedReport(Answer):
    """A seed the test ran with, and how to replay it when it failed."""

    seed: int
    passed: Count
    failed: Count
    snippet: Annotated[
        str | None, Meta(description="Where `@seed(N)` goes; only for a seed that failed.")
    ]
    command: Annotated[
        str | None, Meta(description="The shell command replaying it; only for a seed that failed.")
    ]
    status: Annotated[
        SeedState | None,
        Meta(
            description="Where a seed that failed stands, judged at the newest commit it was "
            "tried at: `failing` (failed once there), `reproduced` (failed every time, two "
            "or more), `did-not-reproduce` (also passed there), `fixed` (failed at earlier "
            "commits, only passed there); null for a seed that only passed."
        ),
    ]
    status_commit: Annotated[
        str | None,
        Meta(
            description="The commit `status` was judged at; null for a seed that only passed "
            "or whose newest run recorded no commit."
        ),
    ]


class CommitResults(Answer):
    """A test's passes and failures at one commit."""

    commit: Annotated[str | None, Meta(description="null for results with no commit recorded")]
    passed: Count
    failed: Count


class Triage(Answer):
    """A test's verdict over its latest results, with its failure groups and seeds."""

    test_id: str
    file: str | None
    line: int | None
    classification: Classification
    failure_rate: Annotated[Rate, Meta(description="failures / runs")]
    flip_rate: Annotated[
        Rate, Meta(description="Pass/fail changes between consecutive runs / (runs - 1)")
    ]
    runs: Annotated[Count, Meta(description="Results in the window, skips left out")]
    failures: Count
    groups: list[FailureGroup]
    seeds: list[SeedReport]
    polluter: Annotated[
        str | None,
        Meta(
            description="For an order-dependent test: the test whose presence before it "
            "makes it fail, as seedboard bisect found; null otherwise."
        ),
    ]
    order_command: Annotated[
        str | None,
        Meta(description="The shell command that shows the order-dependent failure; or null."),
    ]
    commits_recorded: Annotated[
        bool,
        Meta(
            description="Whether every result judged has a commit; if not, the verdict may "
            "ignore code changes (with no commit at all, it does)."
        ),
    ]
    before_commit: Annotated[
        str | None,
        Meta(
            description="For `regressed`, the last commit it passed at; for `fixed`, the last "
            "it failed at; else null."
        ),
    ]
    since_commit: Annotated[
        str | None,
        Meta(
            description="For `regressed`, the first commit it failed at; for `fixed`, the "
            "first it passed at; else null."
        ),
    ]
    commit_range_url: Annotated[
        str | None,
        Meta(
            description="The changes from `before_commit` to `since_commit`, when the server "
            "knows the repository; else null."
        ),
    ]
    commits: Annotated[
        list[CommitResults], Meta(description="Its results per commit, oldest commit first.")
    ]
    url: str
    sparkline: Annotated[
        Sparkline,
        Meta(
            description=f"Its latest {SPARKLINE} results (on the branch asked for, replays "
            "included)."
        ),
    ]
    owners: Owners = []
    issue_url: Annotated[str | None, Meta(description="The issue tracking it, if linked.")] = None
    quarantine: Annotated[
        QuarantineEntry | None, Meta(description="The quarantine covering it, if any.")
    ] = None
    looks_fixed: Annotated[
        bool,
        Meta(
            description="Quarantined, and passed its latest runs (20, skips left out): "
            "the quarantine may be lifted."
        ),
    ] = False


class TestHistory(Answer):
    """A test's latest results, newest first, and its triage."""

    test_id: str
    file: str | None
    line: int | None
    runs: list[TestRun]
    triage: Triage
    median_duration: Annotated[
        float | None, Meta(description="Over the runs listed, skips left out; null without any.")
    ]
    slowdowns: Annotated[
        list[Slowdown],
        Meta(
            description="Runs listed in which it took more than twice the median, and at "
            "least 10 ms more; newest first."
        ),
    ]
    quarantine_history: Annotated[
        list[QuarantineChange],
        Meta(
            description="The changes to every quarantine that covered it (its own, or a "
            "pattern's), newest first."
        ),
    ] = []


class FlakyPage(Answer):
    """The tests that failed in their latest ``window`` results, worst first."""

    window: int
    branch: str | None
    tests: list[Triage]
    next: Annotated[
        str | None, Meta(description="The next page of the same order and filters, if any.")
    ] = None


class TrendPoint(Answer):
    """One bucket (a day or a week) of the trends."""

    start: Annotated[
        date,
        Meta(
            description="The bucket's first day; weeks start on Monday, except the first, "
            "which starts where the range does."
        ),
    ]
    runs: Annotated[Count, Meta(description="Runs started in the bucket, replays left out.")]
    results: Annotated[Count, Meta(description="Those runs' results.")]
    failures: Annotated[Count, Meta(description="Their failures, errors and unexpected successes.")]
    failure_rate: Annotated[Rate, Meta(description="failures / results; 0 without results.")]
    flaky_tests: Annotated[
        Count,
        Meta(
            description="Tests with both a pass (success or expected failure) and a failure "
            "in the bucket."
        ),
    ]
    newly_flaky: Annotated[
        Count, Meta(description="Flaky in the bucket and in no earlier bucket of the range.")
    ]
    fixed: Annotated[
        Count,
        Meta(description="Tests that failed in the previous bucket and only passed in this one."),
    ]


class FlakyTrend(Answer):
    """One of the most flaky tests over the trends' range."""

    test_id: str
    failures: Annotated[Count, Meta(description="Over the range, replays left out.")]
    runs: Annotated[Count, Meta(description="Its passes and failures over the range.")]
    failure_rate: Annotated[Rate, Meta(description="failures / runs")]
    flip_rate: Annotated[
        Rate,
        Meta(description=f"Over its latest {SAMPLE_LIMIT} results in the range, replays left out."),
    ]
    classification: Annotated[
        Classification,
        Meta(
            description=f"Judged on its latest {SAMPLE_LIMIT} results in the range, replays "
            "included, as /api/v1/flaky judges."
        ),
    ]
    sparkline: Annotated[
        Sparkline,
        Meta(description=f"Its latest {SPARKLINE} results in the range, replays left out."),
    ]
    url: str
    owners: Owners = []


class Trends(Answer):
    """Runs, failures and flakiness per day or week, and the most flaky tests."""

    branch: str | None
    days: Annotated[int, Meta(ge=1, le=MAX_DAYS)]
    bucket: Annotated[
        Bucket, Meta(description=f"`day` for up to {MAX_DAILY_DAYS} days, else `week`.")
    ]
    points: list[TrendPoint]
    most_flaky: Annotated[
        list[FlakyTrend],
        Meta(
            max_length=MOST_FLAKY,
            description="The tests with the most failures in the range that also passed in it, "
            "most failures first.",
        ),
    ]


class ClusterTest(Answer):
    """A test a cluster hits."""

    test_id: str
    failures: Count
    url: str
    owners: Owners = []


class ClusterExample(Answer):
    """A cluster's newest failure."""

    run_id: str
    test_id: str
    started_at: Time
    exception_type: str | None
    message: str | None
    url: Annotated[str, Meta(description="The run it failed in.")]


class Cluster(Answer):
    """Failures sharing one fingerprint, whichever tests they are in."""

    fingerprint: str
    summary: Annotated[str, Meta(description="The newest failure's type and masked first line.")]
    tests: Annotated[
        list[ClusterTest], Meta(description="The tests it hits, most failures first, ties by id.")
    ]
    failures: Annotated[Count, Meta(description="Its failures in all those tests.")]
    first_seen: Time
    last_seen: Time
    example: ClusterExample


class Clusters(Answer):
    """Failures grouped by fingerprint across tests over the latest ``window`` runs:
    most tests hit first, then most failures, ties by fingerprint."""

    window: Annotated[int, Meta(description="Runs looked at, replays left out.")]
    branch: str | None
    clusters: list[Cluster]


class KnownSeed(Answer):
    """A (test, seed) that failed, its newest failure, and where the seed stands."""

    test_id: str
    seed: int
    fingerprint: Annotated[str | None, Meta(description="The newest failure's group.")]
    commit: Annotated[
        str | None, Meta(description="The commit of its newest failure; null if none recorded.")
    ]
    failure: Annotated[str, Meta(description="The newest failure's type and masked first line.")]
    status: Annotated[
        SeedState,
        Meta(
            description="`failing`: failed, not tried again at that commit; `reproduced`: "
            "failed every time at `status_commit`, twice or more; `did-not-reproduce`: passed "
            "and failed there; `fixed`: failed at earlier commits, only passes at "
            "`status_commit`."
        ),
    ]
    status_commit: Annotated[
        str | None,
        Meta(description="The newest commit the seed was tried at; null if none recorded."),
    ]
    description: Annotated[str, Meta(description="The status in words, e.g. `fixed at 1a2b3c`.")]
    url: str


class KnownSeeds(Answer):
    """Every (test, seed) that ever failed, by test and seed: ``seedboard replay --known``
    replays those not fixed."""

    seeds: list[KnownSeed]


class DeletedRun(Answer):
    run: Annotated[str, Meta(description="The id of the run deleted, with its results.")]
    deleted: Literal[True]


class RunRef(Answer):
    id: str
    url: str


class CreatedRun(Answer):
    run: RunRef
    created: bool


class StoredBatch(Answer):
    stored: Count
    duplicate: bool


class FinishedRun(Answer):
    run: RunRef
    finished: Literal[True]


class RecordedOrderDependency(Answer):
    """A polluter recorded: the victim's page now names it."""

    run: RunRef
    victim: str
    polluter: str
    url: Annotated[str, Meta(description="The victim's page.")]


class QuarantineEntry(Answer):
    """A quarantine in force: the tests it covers still run and are recorded; a run that
    enforces quarantine does not fail for them."""

    test: Annotated[str, Meta(description="A test id, or a pattern of them.")]
    reason: str | None
    issue_url: str | None
    expires_at: Annotated[Time | None, Meta(description="When it lifts by itself; or never.")]
    created_by: Annotated[str, Meta(description="The token (or login) that made it.")]
    created_at: Time


class QuarantineChange(Answer):
    """One entry of the quarantines' history."""

    test: str
    action: Literal["add", "update", "remove", "expire"]
    actor: Annotated[str, Meta(description="The token's name, a login name, or `expiry`.")]
    at: Time
    reason: str | None
    detail: Annotated[str, Meta(description="What changed, in words.")]


class Quarantines(Answer):
    """The quarantines in force, and the latest changes to any."""

    quarantines: list[QuarantineEntry]
    history: Annotated[list[QuarantineChange], Meta(description="Newest first.")]


class ChangedQuarantine(Answer):
    quarantine: QuarantineEntry
    created: Annotated[bool, Meta(description="False when a quarantine in force was changed.")]


class LiftedQuarantine(Answer):
    test: str
    lifted: Literal[True]


class IssueLink(Answer):
    test: str
    issue_url: str | None
    url: Annotated[str, Meta(description="The test's page.")]


class RecordedOwners(Answer):
    run: RunRef
    tests: Annotated[Count, Meta(description="Tests whose owners were recorded.")]


class ErrorDetail(Answer, omit_defaults=True):
    code: str
    message: str
    field: (
        Annotated[str, Meta(description="The part of the request at fault, when one is.")] | None
    ) = None


class Error(Answer):
    """The body of every error."""

    error: ErrorDetail


class Webhook(Answer):
    """A webhook as listed: its secret never, only whether it has one."""

    id: int
    url: str
    events: list[str]
    format: str
    signed: Annotated[bool, Meta(description="Whether its bodies are signed with a secret.")]
    created_at: Time


class Webhooks(Answer):
    webhooks: list[Webhook]


class RemovedWebhooks(Answer):
    removed: Annotated[Count, Meta(description="How many webhooks were removed.")]


class ReportedFailure(Answer):
    """A test that failed in the run, judged on its latest results."""

    test_id: str
    classification: Classification
    failure_rate: Rate
    runs: Count
    group: Annotated[str | None, Meta(description="Its failure group's summary in the run.")]
    seed: int | None
    snippet: Annotated[str | None, Meta(description="Where `@seed(N)` goes; null without a seed.")]
    command: Annotated[str | None, Meta(description="The replay command; null without a seed.")]


class ReportedRun(Answer):
    id: str
    branch: str | None
    commit: str | None
    is_replay: bool
    results: Count
    failures: Count


class ReportedComparison(Answer):
    """The run against the previous run on its branch: how many tests in each section."""

    previous: str
    new_failures: Count
    fixed: Count
    still_failing: Count
    new_tests: Count
    removed_tests: Count


class RunReport(Answer):
    """A run's summary for CI, as ``seedboard report`` prints it."""

    run: ReportedRun
    new_failures: Annotated[
        list[ReportedFailure],
        Meta(description="Failed here, not in the previous run (all, without one)."),
    ]
    known_flaky: Annotated[
        list[ReportedFailure], Meta(description="Failed here and in the previous run.")
    ]
    quarantined: Annotated[list[ReportedFailure], Meta(description="Failed here, and quarantined.")]
    fixed: Annotated[TestIds, Meta(description="Failed in the previous run, passed here.")]
    comparison: ReportedComparison | None


RESPONSE_BODIES: Final = (
    RunPage,
    RunDetail,
    Comparison,
    TestHistory,
    FlakyPage,
    Trends,
    Clusters,
    KnownSeeds,
    CreatedRun,
    StoredBatch,
    FinishedRun,
    DeletedRun,
    RecordedOrderDependency,
    Quarantines,
    ChangedQuarantine,
    LiftedQuarantine,
    IssueLink,
    RecordedOwners,
    Webhook,
    Webhooks,
    RemovedWebhooks,
    RunReport,
    Error,
)
"""Every answer, for the OpenAPI document."""
