"""Turning domain records into pages and JSON: the Jinja2 setup and the API's shapes.

The JSON shapes here are the public ``/api/v1`` contract: add fields if you
must, never rename or remove one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import orjson
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from seedboard.db.runs import RunFilters
from seedboard.domain import (
    Outcome,
    OutcomeCounts,
    Result,
    RunDetail,
    RunPage,
    RunStart,
    RunSummary,
    TestHistory,
    TestRun,
)
from seedboard.resources import resource_dir
from seedboard.services.compare import Comparison
from seedboard.settings import DB_ENV, DEFAULT_DB_FILE
from seedboard.triage.classify import Classification
from seedboard.triage.compare import RunDiff
from seedboard.triage.report import FailureGroup, SeedReport, TestTriage
from seedboard.triage.snippets import replay_command, run_replay_command
from seedboard.triage.trends import (
    Bucket,
    Durations,
    FlakyTrend,
    TrendPoint,
    Trends,
    outcome_point,
)
from seedboard.web import charts

JSONObject = dict[str, Any]

SHORT_COMMIT = 10

CLASS_MEANINGS = {
    Classification.BROKEN: "failed in every run of the window, whatever the seed",
    Classification.SEED_DEPENDENT: (
        "fails only with some seeds, and every failing seed run again failed again"
    ),
    Classification.NONDETERMINISTIC: (
        "some seed both passed and failed: the seed does not control the failure"
    ),
    Classification.UNCONFIRMED: (
        "passed and failed with different seeds; no failing seed has been run again yet"
    ),
    Classification.FLAKY: "passed and failed, and no failure has a seed to replay",
    Classification.STABLE: "never failed in the window",
}
"""One line per class, in the order the flaky page explains them."""

CLASS_MARKS = {
    Classification.BROKEN: "■",
    Classification.SEED_DEPENDENT: "◆",
    Classification.NONDETERMINISTIC: "≈",
    Classification.UNCONFIRMED: "○",
    Classification.FLAKY: "~",
    Classification.STABLE: "✓",
}
"""A symbol per class, so a badge never tells its class by colour alone."""


def make_environment(directory: Path | None = None) -> Environment:
    """The Jinja2 environment for the dashboard's templates, autoescaping everything."""
    environment = Environment(
        loader=FileSystemLoader(directory or resource_dir("templates")),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        run_url=path_to_run,
        test_url=path_to_test,
        utc=readable_utc,
        duration=readable_duration,
        percent=percent,
        run_replay=run_replay,
        sparkline_points=sparkline_points,
    )
    environment.tests["web_url"] = is_web_url
    environment.globals.update(
        outcomes=list(Outcome),
        DB_ENV=DB_ENV,
        DEFAULT_DB_FILE=DEFAULT_DB_FILE,
        CLASS_MEANINGS=CLASS_MEANINGS,
        CLASS_MARKS=CLASS_MARKS,
        outcome_bar=outcome_bar,
        outcome_badge=outcome_badge,
        result_rows=result_rows,
        history_rows=history_rows,
        moment=moment,
        optional=optional,
        commit_code=commit_code,
        copyable=copyable,
        failing_seed_rows=failing_seed_rows,
        passing_seed_rows=passing_seed_rows,
        timeline=timeline,
        duration_chart=duration_chart,
        runs_chart=runs_chart,
        failure_rate_chart=failure_rate_chart,
        flakiness_chart=flakiness_chart,
        sparkline=sparkline,
        bucket_label=bucket_label,
        DIFF_SECTIONS=DIFF_SECTIONS,
    )
    return environment


def static_directory() -> Path:
    """The files served as they are under ``/static/``: the copy buttons' script."""
    return resource_dir("templates") / "static"


# Paths and links.


@lru_cache(maxsize=4096)
def path_to_run(run_id: str) -> str:
    """Kept per run id, like a run's start in text: the same runs fill every test's page."""
    return "/runs/" + quote(run_id, safe="")


@lru_cache(maxsize=8192)
def path_to_test(test_id: str) -> str:
    """Kept per test id: a run's page or JSON links each of its thousands of tests."""
    # Nothing is safe: a "/" or "?" in a test id must stay part of the id.
    return "/tests/" + quote(test_id, safe="")


def page_url(
    path: str, cursor: str | None, limit: int, query: Sequence[tuple[str, str]] = ()
) -> str | None:
    """The link to the page after the one ending at ``cursor``, if there is one,
    keeping the rest of the ``query`` (the filters)."""
    if cursor is None:
        return None
    return f"{path}?{urlencode([('before', cursor), ('limit', str(limit)), *query])}"


def with_query(path: str, query: Sequence[tuple[str, str]]) -> str:
    return f"{path}?{urlencode(query)}" if query else path


def filter_query(filters: RunFilters) -> list[tuple[str, str]]:
    """The query arguments that ask for these filters again, in a fixed order."""
    values = [
        ("branch", filters.branch),
        ("outcome", filters.outcome),
        ("since", filters.since and filters.since.isoformat()),
        ("until", filters.until and filters.until.isoformat()),
        ("replay", filters.replay),
        ("test", filters.test),
    ]
    return [(name, str(value)) for name, value in values if value is not None]


def compare_url(a: str, b: str) -> str:
    return with_query("/compare", [("a", a), ("b", b)])


def is_web_url(url: object) -> bool:
    """Whether a URL is safe to put in an href: only http(s), never javascript: and friends."""
    return isinstance(url, str) and url.lower().startswith(("http://", "https://"))


# Text for people.


@lru_cache(maxsize=4096)
def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, always to the microsecond so every value looks alike."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@lru_cache(maxsize=4096)
def readable_utc(moment: datetime) -> str:
    """Kept per moment: a test page writes each of its runs' start three times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def readable_day(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


def time_ago(moment: datetime, now: datetime) -> str:
    """``moment`` relative to ``now``: "just now", "3 min ago", "2 days ago"."""
    seconds = (now - moment).total_seconds()
    if seconds < 60:
        # Also covers a reporter whose clock runs a little ahead of the server's.
        return "just now"
    size, unit = next((size, unit) for size, unit in _AGO_UNITS if seconds >= size)
    count = int(seconds // size)
    plural = "s" if count > 1 and unit in ("year", "day") else ""
    return f"{count} {unit}{plural} ago"


_AGO_UNITS = ((365 * 86400, "year"), (86400, "day"), (3600, "h"), (60, "min"))


def readable_duration(seconds: float | None) -> str:
    """A duration as people say it: "250 ms", "2.5 s", "4 min 05 s", "1 h 02 min"."""
    if seconds is None:
        return "—"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.3g} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def short_commit(commit: str | None) -> str:
    return "" if commit is None else commit[:SHORT_COMMIT]


def outcome_label(outcome: Outcome) -> str:
    return outcome.value.replace("_", " ")


OUTCOME_MARKS = {
    Outcome.SUCCESS: "✓",
    Outcome.FAILURE: "✗",
    Outcome.ERROR: "!",
    Outcome.SKIP: "\u2013",  # an en dash
    Outcome.EXPECTED_FAILURE: "~",
    Outcome.UNEXPECTED_SUCCESS: "?",
}
"""Each outcome's mark, so that a badge never tells outcomes apart by colour alone."""


def outcome_badge(outcome: Outcome, count: int | None = None) -> Markup:
    """An outcome as a badge, its mark and name ("3 failure" with a count)."""
    label = outcome_label(outcome) if count is None else f"{count} {outcome_label(outcome)}"
    return Markup(
        '<span class="badge outcome-{}"><span class="mark" aria-hidden="true">{}</span>{}</span>'
    ).format(outcome.value, OUTCOME_MARKS[outcome], label)


_BADGES = {outcome: outcome_badge(outcome) for outcome in Outcome}
_NO_VALUE = Markup('<span class="muted">—</span>')


def moment(when: datetime, now: datetime) -> Markup:
    """A time as a ``<time>`` element in UTC, and how long ago it was."""
    stamp = iso_utc(when)
    return Markup(
        f'<time datetime="{stamp}" title="{stamp}">{readable_utc(when)}</time>'
        f' <span class="muted">({time_ago(when, now)})</span>'
    )


def optional(value: object) -> Markup:
    """A value, or a muted dash for none."""
    return _NO_VALUE if value is None or value == "" else escape(value)


def commit_code(commit: str | None) -> Markup:
    """A commit by its short form, the whole of it on hover; a muted dash for none."""
    if not commit:
        return _NO_VALUE
    return Markup(f'<code title="{escape(commit)}">{escape(short_commit(commit))}</code>')


def history_rows(runs: Sequence[TestRun], now: datetime) -> Markup:
    """A test page's table rows, one per run: written here, not in the template, for
    the reason ``result_rows`` is (a Jinja macro per cell cost most of the page)."""
    return Markup(
        "\n".join(
            f'<tr><td><a href="{escape(path_to_run(run.run_id))}">{moment(run.started_at, now)}'
            f"</a></td><td>{optional(run.branch)}</td><td>{commit_code(run.commit)}</td>"
            f'<td>{_BADGES[run.outcome]}</td><td class="num">{readable_duration(run.duration)}'
            f'</td><td class="num mono">{optional(run.seed)}</td><td>'
            + (f'<p class="message">{escape(run.message)}</p>' if run.message else "")
            + "</td></tr>"
            for run in runs
        )
    )


def copyable(text: str, element_id: str, block: bool = False) -> Markup:
    """Text in an element of its own, with a button that copies it (``static/copy.js``):
    a function, like ``result_rows``, since a flaky page has a thousand of them."""
    tag = "pre" if block else "code"
    target = escape(element_id)
    return Markup(
        f'<div class="copyable"><{tag} id="{target}">{escape(text)}</{tag}>'
        f'<button type="button" class="copy" data-copy="#{target}">Copy</button></div>'
    )


def result_rows(results: Sequence[Result], order_seed: int | None) -> Markup:
    """A run page's table rows: each result, and under one with a failure, reason or
    traceback, a row of details (with its replay command when it failed with a seed).

    Written here rather than in the template: a run has thousands of rows, and a
    Jinja loop (or ``Markup.format``) costs several times these f-strings of
    escaped values, joined once.
    """
    rows: list[str] = []
    add = rows.append
    for index, result in enumerate(results, 1):
        seed = _NO_VALUE if result.seed is None else result.seed
        add(
            f'<tr><td class="test-id">{_test_link(result.test_id)}</td>'
            f"<td>{_BADGES[result.outcome]}</td>"
            f'<td class="num">{readable_duration(result.duration)}</td>'
            f'<td class="num mono">{seed}</td></tr>'
        )
        if result.message or result.traceback or result.exception_type:
            add(_details_row(result, index, order_seed))
    return Markup("\n".join(rows))


@lru_cache(maxsize=8192)
def _test_link(test_id: str) -> str:
    """A link to a test's page, named by its id: the same tests fill every run page."""
    return f'<a href="{escape(path_to_test(test_id))}"><code>{escape(test_id)}</code></a>'


def _details_row(result: Result, index: int, order_seed: int | None) -> str:
    parts = ['<tr class="details"><td colspan="4">']
    if result.exception_type:
        parts.append(f"<code>{escape(result.exception_type)}</code>")
    if result.message:
        parts.append(f'<p class="message">{escape(result.message)}</p>')
    if result.traceback:
        parts.append(
            f"<details><summary>Traceback</summary><pre>{escape(result.traceback)}</pre></details>"
        )
    if result.outcome.is_bad and result.seed is not None:
        command = replay_command(result.test_id, result.seed, order_seed)
        parts.append('<p class="muted">Replay with <code>seedboard.testing</code>:</p>')
        parts.append(copyable(command, f"result-{index}-command"))
    parts.append("</td></tr>")
    return "".join(parts)


def failing_seed_rows(seeds: Sequence[SeedReport], prefix: str) -> Markup:
    """A triage's failing seeds as table rows, each with its replay command and
    ``@seed`` snippet to copy; ``prefix`` keeps several tests' element ids apart.
    A function, like ``result_rows``: a flaky page has hundreds of them."""
    rows: list[str] = []
    for seed in seeds:
        lines: list[str] = []
        if seed.command:
            lines.append(copyable(seed.command, f"{prefix}-seed-{seed.seed}-command"))
        if seed.snippet:
            lines.append(
                f'<p class="muted">or pin it in the test with <code>@seed({seed.seed})</code>:</p>'
            )
            lines.append(copyable(seed.snippet, f"{prefix}-seed-{seed.seed}-snippet", block=True))
        rows.append(f'<tr>{_seed_cells(seed)}<td class="replay-lines">{"".join(lines)}</td></tr>')
    return Markup("\n".join(rows))


def passing_seed_rows(seeds: Sequence[SeedReport]) -> Markup:
    """A triage's seeds that only passed, as table rows."""
    return Markup("\n".join(f"<tr>{_seed_cells(seed)}</tr>" for seed in seeds))


def _seed_cells(seed: SeedReport) -> str:
    """A seed's number, passes and failures: the columns both seed tables begin with."""
    return (
        f'<td class="num mono">{seed.seed}</td><td class="num">{seed.passed}</td>'
        f'<td class="num">{seed.failed}</td>'
    )


def percent(rate: float) -> str:
    """A rate between 0 and 1 as a percentage: "40%"; "0.2%", not a false "0%" (or "100%")."""
    rounded = f"{rate:.0%}"
    if rounded in ("0%", "100%") and 0 < rate < 1:
        return f"{rate:.1%}"
    return rounded


def seed_text(seed: int | None) -> str:
    return "no seed" if seed is None else f"seed {seed}"


DIFF_SECTIONS = (
    ("new_failures", "New failures", "bad now, not bad in the earlier run"),
    ("fixed", "Fixed", "bad in the earlier run, ran and not bad now"),
    ("still_failing", "Still failing", "bad in both runs"),
    ("new_tests", "New tests", "not in the earlier run"),
    ("removed_tests", "Removed tests", "in the earlier run, not in this one"),
)
"""A comparison's sections: the ``RunDiff`` field, its heading and what it holds."""


def run_replay(start: RunStart) -> str | None:
    """The command replaying a whole run, when a run seed governed it."""
    if start.run_seed is None:
        return None
    return run_replay_command(start.run_seed, start.command, start.order_seed)


# Charts, from domain records.


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
    """A test's outcomes, one mark per run, oldest first; ``runs`` come newest first."""
    marks = [
        charts.Mark(
            run.outcome.value,
            f"{outcome_label(run.outcome)} · {seed_text(run.seed)} · "
            f"{readable_utc(run.started_at)} · run {run.run_id}",
            path_to_run(run.run_id),
        )
        for run in reversed(runs)
    ]
    return charts.strip(marks, f"Outcomes of the last {len(marks)} runs, oldest first")


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


def bucket_label(start: date, bucket: Bucket) -> str:
    """A bucket as people say it: "2026-11-24", or "week of 2026-11-23"."""
    return start.isoformat() if bucket is Bucket.DAY else f"week of {start.isoformat()}"


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


# The /api/v1 shapes.


def encode_json(value: JSONObject) -> bytes:
    """Compact UTF-8 JSON: what ``json.dumps`` writes with ``ensure_ascii=False`` and
    no spaces, except that a few floats are spelled differently (``2.5e-7``, not
    ``2.5e-07``) and a NaN is ``null``, not the invalid ``NaN``."""
    return orjson.dumps(value)


def error_json(code: str, message: str, field: str | None = None) -> JSONObject:
    """The body of every error; ``field`` only when one field of the request is at fault."""
    error: JSONObject = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    return {"error": error}


def run_ref_json(run_id: str) -> JSONObject:
    return {"id": run_id, "url": path_to_run(run_id)}


def created_run_json(run_id: str, created: bool) -> JSONObject:
    return {"run": run_ref_json(run_id), "created": created}


def stored_batch_json(stored: int, duplicate: bool) -> JSONObject:
    return {"stored": stored, "duplicate": duplicate}


def finished_run_json(run_id: str) -> JSONObject:
    return {"run": run_ref_json(run_id), "finished": True}


def run_page_json(page: RunPage, limit: int, query: Sequence[tuple[str, str]] = ()) -> JSONObject:
    """A page of runs; ``next`` keeps the ``query`` (the filters) that chose them."""
    return {
        "runs": [run_json(run) for run in page.runs],
        "next": page_url("/api/v1/runs", page.next_cursor, limit, query),
    }


def run_detail_json(detail: RunDetail, previous_run: str | None) -> JSONObject:
    return {
        "run": run_json(detail.summary),
        "results": [result_json(result) for result in detail.results],
        "previous_run": previous_run,
    }


def comparison_json(comparison: Comparison) -> JSONObject:
    return {"a": run_json(comparison.a), "b": run_json(comparison.b), **diff_json(comparison.diff)}


def diff_json(diff: RunDiff) -> JSONObject:
    return {name: list(getattr(diff, name)) for name, _, _ in DIFF_SECTIONS}


def history_json(history: TestHistory, triage: TestTriage, summary: Durations) -> JSONObject:
    return {
        "test_id": history.test_id,
        "file": history.file,
        "line": history.line,
        "runs": [history_entry_json(run) for run in history.runs],
        "triage": triage_json(triage),
        "median_duration": summary.median,
        "slowdowns": [
            {"run_id": s.run.run_id, "duration": s.run.duration, "ratio": s.ratio}
            for s in summary.slowdowns
        ],
    }


def flaky_json(
    window: int,
    branch: str | None,
    tests: list[TestTriage],
) -> JSONObject:
    return {
        "window": window,
        "branch": branch,
        "tests": [triage_json(t) for t in tests],
    }


def trends_json(trends: Trends) -> JSONObject:
    return {
        "branch": trends.branch,
        "days": trends.days,
        "bucket": trends.bucket.value,
        "points": [trend_point_json(point) for point in trends.points],
        "most_flaky": [flaky_trend_json(test) for test in trends.most_flaky],
    }


def trend_point_json(point: TrendPoint) -> JSONObject:
    return {
        "start": point.start.isoformat(),
        "runs": point.runs,
        "results": point.results,
        "failures": point.failures,
        "failure_rate": point.failure_rate,
        "flaky_tests": point.flaky_tests,
        "newly_flaky": point.newly_flaky,
        "fixed": point.fixed,
    }


def flaky_trend_json(test: FlakyTrend) -> JSONObject:
    return {
        "test_id": test.test_id,
        "failures": test.failures,
        "runs": test.runs,
        "failure_rate": test.failure_rate,
        "flip_rate": test.flip_rate,
        "classification": test.classification.value,
        "sparkline": list(test.sparkline),
        "url": path_to_test(test.test_id),
    }


def triage_json(triage: TestTriage) -> JSONObject:
    """A test's triage, with its sparkline."""
    verdict = triage.verdict
    return {
        "test_id": triage.test_id,
        "file": triage.file,
        "line": triage.line,
        "classification": verdict.classification.value,
        "failure_rate": verdict.failure_rate,
        "flip_rate": verdict.flip_rate,
        "runs": verdict.runs,
        "failures": verdict.failures,
        "groups": [failure_group_json(group) for group in triage.groups],
        "seeds": [seed_report_json(seed) for seed in triage.seeds],
        "url": path_to_test(triage.test_id),
        "sparkline": sparkline_points(triage.recent),
    }


def failure_group_json(group: FailureGroup) -> JSONObject:
    return {
        "fingerprint": group.fingerprint,
        "summary": group.summary,
        "count": group.count,
        "first_seen": iso_utc(group.first_seen),
        "last_seen": iso_utc(group.last_seen),
        "seeds": list(group.seeds),
    }


def seed_report_json(seed: SeedReport) -> JSONObject:
    return {
        "seed": seed.seed,
        "passed": seed.passed,
        "failed": seed.failed,
        "snippet": seed.snippet,
        "command": seed.command,
    }


def run_json(summary: RunSummary) -> JSONObject:
    start = summary.start
    return {
        "id": start.id,
        "started_at": iso_utc(start.started_at),
        "finished_at": None if summary.finished_at is None else iso_utc(summary.finished_at),
        "duration": summary.duration,
        "host": start.host,
        "python_version": start.python_version,
        "twisted_version": start.twisted_version,
        "command": start.command,
        "order_seed": start.order_seed,
        "branch": start.branch,
        "commit": start.commit,
        "build_url": start.build_url,
        "run_seed": start.run_seed,
        "is_replay": start.is_replay,
        "replay_command": run_replay(start),
        "counts": counts_json(summary.counts),
        "url": path_to_run(start.id),
    }


def counts_json(counts: OutcomeCounts) -> JSONObject:
    return {**counts.as_dict(), "total": counts.total}


def result_json(result: Result) -> JSONObject:
    return {
        "test_id": result.test_id,
        "outcome": result.outcome.value,
        "duration": result.duration,
        "seed": result.seed,
        "exception_type": result.exception_type,
        "message": result.message,
        "traceback": result.traceback,
        "file": result.file,
        "line": result.line,
        "fingerprint": result.fingerprint,
        "url": path_to_test(result.test_id),
    }


def history_entry_json(run: TestRun) -> JSONObject:
    return {
        "run_id": run.run_id,
        "started_at": iso_utc(run.started_at),
        "branch": run.branch,
        "commit": run.commit,
        "outcome": run.outcome.value,
        "duration": run.duration,
        "seed": run.seed,
        "message": run.message,
    }
