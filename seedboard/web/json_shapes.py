"""The ``/api/v1`` answers as JSON objects, written by hand: kept here unchanged while the
typed models that replace them are written.

The JSON shapes here are the public ``/api/v1`` contract: add fields if you
must, never rename or remove one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from seedboard.db.compare import Comparison
from seedboard.domain import (
    OutcomeCounts,
    Result,
    RunDetail,
    RunPage,
    RunSummary,
    TestHistory,
    TestRun,
)
from seedboard.triage.compare import RunDiff
from seedboard.triage.report import FailureGroup, SeedReport, TestTriage
from seedboard.triage.trends import Durations, FlakyTrend, TrendPoint, Trends
from seedboard.web.chart_views import sparkline_points
from seedboard.web.html import DIFF_SECTIONS
from seedboard.web.text import iso_utc, run_replay
from seedboard.web.urls import page_url, path_to_run, path_to_test

JSONObject = dict[str, Any]


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
