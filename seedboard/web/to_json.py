"""Domain records into the ``/api/v1`` answers (``seedboard.web.answers``), and answers into bytes.

A field is filled from the record's attribute of the same name (``answer``),
unless the builder computes it: times are written as ``iso_utc`` writes them
(always to the microsecond, so every value looks alike), links are built from ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, TypeVar

import msgspec
from msgspec import Struct

from seedboard import domain
from seedboard.domain import OutcomeCounts, RunSummary
from seedboard.services import clusters, compare, seeds
from seedboard.triage import report
from seedboard.triage import trends as trending
from seedboard.triage.classify import CommitStats
from seedboard.triage.trends import Durations
from seedboard.web.answers import (
    Cluster,
    ClusterExample,
    Clusters,
    ClusterTest,
    CommitResults,
    Comparison,
    Counts,
    DeletedRun,
    Error,
    ErrorDetail,
    FailureGroup,
    FlakyPage,
    FlakyTrend,
    KnownSeed,
    KnownSeeds,
    Result,
    Run,
    RunDetail,
    RunPage,
    RunRef,
    SeedReport,
    Slowdown,
    TestHistory,
    TestRun,
    TrendPoint,
    Trends,
    Triage,
)
from seedboard.web.chart_views import sparkline_points
from seedboard.web.text import iso_utc, run_replay
from seedboard.web.urls import CommitRanges, path_to_run, path_to_test

A = TypeVar("A", bound=Struct)


def answer(kind: type[A], record: object, **computed: Any) -> A:
    """A ``kind`` whose fields are ``computed`` where given, else ``record``'s attributes
    of the same names: a field the record already has is added by declaring it."""
    return kind(
        **{
            name: computed[name] if name in computed else getattr(record, name)
            for name in kind.__struct_fields__
        }
    )


def run_answer(summary: RunSummary) -> Run:
    start = summary.start
    return answer(
        Run,
        start,
        started_at=iso_utc(start.started_at),
        finished_at=None if summary.finished_at is None else iso_utc(summary.finished_at),
        duration=summary.duration,
        replay_command=run_replay(start),
        counts=counts_answer(summary.counts),
        url=path_to_run(start.id),
    )


def counts_answer(counts: OutcomeCounts) -> Any:
    return answer(Counts, counts)


def result_answers(results: Sequence[domain.Result]) -> list[Result]:
    """A run's results: every field from the record's attribute, its link made as it is."""
    return msgspec.convert(results, list[Result], from_attributes=True)


def run_page(runs: Sequence[RunSummary], next_url: str | None) -> RunPage:
    return RunPage(runs=[run_answer(run) for run in runs], next=next_url)


def run_detail(
    summary: RunSummary, results: Sequence[domain.Result], previous: str | None
) -> RunDetail:
    return RunDetail(
        run=run_answer(summary), results=result_answers(results), previous_run=previous
    )


def comparison_answer(comparison: compare.Comparison) -> Comparison:
    return answer(
        Comparison,
        comparison.diff,
        a=run_answer(comparison.a),
        b=run_answer(comparison.b),
        owners={},  # filled in by seedboard.web.linked_views
    )


def history_answer(
    history: domain.TestHistory,
    triage: report.TestTriage,
    summary: Durations,
    ranges: CommitRanges,
) -> TestHistory:
    return answer(
        TestHistory,
        history,
        runs=[answer(TestRun, run, started_at=iso_utc(run.started_at)) for run in history.runs],
        triage=triage_answer(triage, ranges),
        median_duration=summary.median,
        slowdowns=[
            Slowdown(run_id=s.run.run_id, duration=s.run.duration, ratio=s.ratio)
            for s in summary.slowdowns
        ],
        quarantine_history=[],  # filled in by seedboard.web.linked_views
    )


def triage_answer(triage: report.TestTriage, ranges: CommitRanges) -> Triage:
    verdict = triage.verdict
    return answer(
        Triage,
        verdict,
        test_id=triage.test_id,
        file=triage.file,
        line=triage.line,
        groups=[group_answer(group) for group in triage.groups],
        seeds=[answer(SeedReport, seed) for seed in triage.seeds],
        polluter=None if triage.order_dependency is None else triage.order_dependency.polluter,
        order_command=triage.order_command,
        commit_range_url=ranges.url(verdict.before_commit, verdict.since_commit),
        commits=commit_answers(verdict.commits),
        url=path_to_test(triage.test_id),
        sparkline=sparkline_points(triage.recent),
        # Filled in by seedboard.web.linked_views, from what the team attached to the test.
        owners=[],
        issue_url=None,
        quarantine=None,
        looks_fixed=False,
    )


def commit_answers(commits: Sequence[CommitStats]) -> list[CommitResults]:
    """Built field by field rather than by ``answer``: a flaky page's answer holds one per
    commit of each test's window, thousands, and this is several times faster."""
    return [CommitResults(commit=c.commit, passed=c.passed, failed=c.failed) for c in commits]


def group_answer(group: report.FailureGroup) -> FailureGroup:
    return answer(
        FailureGroup,
        group,
        first_seen=iso_utc(group.first_seen),
        last_seen=iso_utc(group.last_seen),
        seeds=list(group.seeds),
    )


def flaky_page(
    window: int,
    branch: str | None,
    tests: Sequence[report.TestTriage],
    next_url: str | None,
    ranges: CommitRanges,
) -> FlakyPage:
    return FlakyPage(
        window=window,
        branch=branch,
        tests=[triage_answer(t, ranges) for t in tests],
        next=next_url,
    )


def trends_answer(trends: trending.Trends) -> Trends:
    return answer(
        Trends,
        trends,
        points=[answer(TrendPoint, point) for point in trends.points],
        most_flaky=[flaky_trend_answer(test) for test in trends.most_flaky],
    )


def flaky_trend_answer(test: trending.FlakyTrend) -> FlakyTrend:
    return answer(
        FlakyTrend,
        test,
        sparkline=list(test.sparkline),
        url=path_to_test(test.test_id),
        owners=[],  # filled in by seedboard.web.linked_views
    )


def clusters_answer(window: int, branch: str | None, found: Sequence[clusters.Cluster]) -> Clusters:
    return Clusters(window=window, branch=branch, clusters=[cluster_answer(c) for c in found])


def cluster_answer(cluster: clusters.Cluster) -> Cluster:
    example = cluster.example
    return answer(
        Cluster,
        cluster,
        tests=[
            answer(ClusterTest, test, url=path_to_test(test.test_id), owners=[])
            for test in cluster.tests
        ],
        first_seen=iso_utc(cluster.first_seen),
        last_seen=iso_utc(cluster.last_seen),
        example=answer(
            ClusterExample,
            example,
            started_at=iso_utc(example.started_at),
            url=path_to_run(example.run_id),
        ),
    )


def known_seeds_answer(found: Sequence[seeds.KnownSeed]) -> KnownSeeds:
    return KnownSeeds(seeds=[known_seed_answer(known) for known in found])


def known_seed_answer(known: seeds.KnownSeed) -> KnownSeed:
    return answer(
        KnownSeed,
        known,
        status=known.life.state,
        status_commit=known.life.commit,
        description=known.life.describe(),
        url=path_to_test(known.test_id),
    )


def deleted_run(run_id: str) -> DeletedRun:
    return DeletedRun(run=run_id, deleted=True)


def run_ref(run_id: str) -> RunRef:
    return RunRef(id=run_id, url=path_to_run(run_id))


def error_answer(code: str, message: str, field: str | None = None) -> Error:
    return Error(error=ErrorDetail(code=code, message=message, field=field))


_ENCODER: Final = msgspec.json.Encoder()


def encode_json(value: Struct | dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON; a NaN is ``null``, and text that cannot be UTF-8 (a lone
    surrogate someone sent) is written with U+FFFD in its place rather than failing."""
    try:
        return _ENCODER.encode(value)
    except UnicodeEncodeError:
        return _ENCODER.encode(
            msgspec.convert(_replace_surrogates(msgspec.to_builtins(value)), Any)
        )


def _replace_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_replace_surrogates(k): _replace_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_surrogates(item) for item in value]
    return value
