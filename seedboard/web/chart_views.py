"""Charts of domain records: runs, test histories and trends turned into the numbers, titles
and links that ``seedboard.web.charts`` draws."""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import groupby

from markupsafe import Markup

from seedboard.domain import Outcome, OutcomeCounts, TestRun
from seedboard.triage.trends import Durations, TrendPoint, Trends, outcome_point
from seedboard.web import charts
from seedboard.web.text import (
    bucket_label,
    outcome_label,
    percent,
    readable_day,
    readable_duration,
    readable_utc,
    seed_text,
    short_commit,
)
from seedboard.web.urls import path_to_run


def outcome_bar(counts: OutcomeCounts) -> Markup:
    """A run's results as one bar split by outcome, worst first."""
    by_outcome = counts.as_dict()
    order = sorted(Outcome, key=lambda o: not o.is_bad)
    segments = [
        charts.Segment(o.value, by_outcome[o.value], f"{by_outcome[o.value]} {outcome_label(o)}")
        for o in order
    ]
    plural = "" if counts.total == 1 else "s"
    return charts.stacked_bar(segments, f"{counts.total} result{plural} by outcome")


def timeline(runs: Sequence[TestRun]) -> Markup:
    """A test's outcomes, one mark per run, oldest first (``runs`` come newest first),
    grouped by commit: each stretch of runs at one commit is a group titled with it.
    Without any commit recorded, ungrouped."""
    oldest_first = list(reversed(runs))
    marks = [_timeline_mark(run) for run in oldest_first]
    label = f"Outcomes of the last {len(marks)} runs, oldest first"
    if all(run.commit is None for run in oldest_first):
        return charts.strip(marks, label)
    groups = [
        _commit_group(commit, len(list(group)))
        for commit, group in groupby(oldest_first, key=lambda run: run.commit)
    ]
    return charts.strip(marks, f"{label}, grouped by commit", groups)


def _commit_group(commit: str | None, size: int) -> charts.Group:
    runs = "1 run" if size == 1 else f"{size} runs"
    where = f"commit {short_commit(commit)}" if commit else "no commit recorded"
    return charts.Group(size, f"{where}: {runs}")


def _timeline_mark(run: TestRun) -> charts.Mark:
    commit = f" · commit {short_commit(run.commit)}" if run.commit else ""
    return charts.Mark(
        run.outcome.value,
        f"{outcome_label(run.outcome)} · {seed_text(run.seed)} · "
        f"{readable_utc(run.started_at)}{commit} · run {run.run_id}",
        path_to_run(run.run_id),
    )


def duration_chart(runs: Sequence[TestRun], summary: Durations) -> Markup:
    """A test's duration per run that ran it, oldest first, slowdowns flagged."""
    slow = {s.run.run_id: s.ratio for s in summary.slowdowns}
    ran = [run for run in reversed(runs) if run.outcome is not Outcome.SKIP]
    bars = [
        charts.Bar(
            run.duration,
            _duration_title(run, slow.get(run.run_id)),
            path_to_run(run.run_id),
            highlight=run.run_id in slow,
        )
        for run in ran
    ]
    reference = None
    if summary.median is not None:
        reference = (summary.median, f"median {readable_duration(summary.median)}")
    axis = (readable_day(ran[0].started_at), readable_day(ran[-1].started_at)) if ran else ("", "")
    highest = max((run.duration for run in ran), default=0.0)
    return charts.bar_chart(
        bars,
        f"Duration of the last {len(bars)} runs that ran it, oldest first",
        axis=axis,
        reference=reference,
        scale=f"up to {readable_duration(highest)}",
    )


def _duration_title(run: TestRun, ratio: float | None) -> str:
    title = f"{readable_duration(run.duration)} · {readable_utc(run.started_at)} · run {run.run_id}"
    return title if ratio is None else f"{title} · slowdown, {ratio:.1f} times the median"


def runs_chart(trends: Trends) -> Markup:
    """Runs per bucket, as bars."""
    points = trends.points
    bars = [
        charts.Bar(p.runs, f"{bucket_label(p.start, trends.bucket)}: {_runs_text(p.runs)}")
        for p in points
    ]
    highest = max((p.runs for p in points), default=0)
    return charts.bar_chart(
        bars,
        f"Runs per {trends.bucket.value}, oldest first",
        axis=_trend_axis(trends),
        scale=f"up to {_runs_text(highest)}",
    )


def failure_rate_chart(trends: Trends) -> Markup:
    """The failure rate per bucket, as a line with a gap where nothing ran."""
    points = [
        charts.Point(
            p.failure_rate if p.results else None,
            f"{bucket_label(p.start, trends.bucket)}: {_failed_text(p)}",
        )
        for p in trends.points
    ]
    highest = rate_ceiling(max((p.failure_rate for p in trends.points), default=0.0))
    return charts.line_chart(
        points,
        f"Failure rate per {trends.bucket.value}, oldest first",
        highest,
        axis=_trend_axis(trends),
        scale=f"up to {percent(highest)}",
    )


FLAKINESS_SERIES = (
    ("flaky_tests", "flaky", "s-flaky", charts.Shape(1.0)),
    ("newly_flaky", "newly flaky", "s-newly-flaky", charts.Shape(1.0, hollow=True)),
    ("fixed", "fixed", "s-fixed", charts.Shape(1.0, dashed=True)),
)
"""The flakiness chart's series: the ``TrendPoint`` field, its name, colour and shape."""


def flakiness_chart(trends: Trends) -> Markup:
    """Flaky, newly flaky and fixed tests per bucket, side by side."""
    series = [
        charts.Series(
            name,
            style,
            shape,
            [
                charts.Bar(
                    getattr(p, field),
                    f"{bucket_label(p.start, trends.bucket)}: {getattr(p, field)} {name}",
                )
                for p in trends.points
            ],
        )
        for field, name, style, shape in FLAKINESS_SERIES
    ]
    return charts.grouped_bar_chart(
        series,
        f"Flaky, newly flaky and fixed tests per {trends.bucket.value}, oldest first",
        axis=_trend_axis(trends),
    )


_SPARK_STYLES = {1: "failure", 0: "success", None: "skip"}


_SPARK_WORDS = {1: "failed", 0: "passed", None: "skipped"}


def sparkline(test_id: str, points: Sequence[int | None]) -> Markup:
    """A test's latest results, oldest first: tall marks failed, short ones passed."""
    failed = sum(1 for p in points if p == 1)
    marks = [
        charts.Mark(_SPARK_STYLES[p], f"{i} of {len(points)}: {_SPARK_WORDS[p]}")
        for i, p in enumerate(points, start=1)
    ]
    label = f"{test_id}: {failed} of its last {len(points)} results failed, oldest first"
    return charts.sparkline(marks, label)


def sparkline_points(outcomes: Sequence[Outcome]) -> list[int | None]:
    return [outcome_point(outcome) for outcome in outcomes]


def rate_ceiling(rate: float) -> float:
    """The top of a failure-rate chart: the next tenth above the highest rate, at least 10%."""
    return max(math.ceil(rate * 10 - 1e-9) / 10, 0.1)


def _trend_axis(trends: Trends) -> tuple[str, str]:
    if not trends.points:
        return ("", "")
    return (trends.points[0].start.isoformat(), trends.points[-1].start.isoformat())


def _failed_text(point: TrendPoint) -> str:
    if not point.results:
        return "no results"
    plural = "" if point.results == 1 else "s"
    return f"{percent(point.failure_rate)} of {point.results} result{plural} failed"


def _runs_text(runs: int) -> str:
    return f"{runs} run" if runs == 1 else f"{runs} runs"
