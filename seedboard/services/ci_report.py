"""A run's CI report (``seedboard.triage.ci_report``): its failures judged on their
windows, set against the branch's previous run, in one read.

A failing test is reported as quarantined when a quarantine in force as the run began
covers it.
"""

from __future__ import annotations

from sqlalchemy import Connection

from seedboard.db.queries import test_names
from seedboard.db.runs import ReplayFilter, RunFilters, list_runs, run_summary
from seedboard.db.webhooks import latest_samples_until, tests_to_judge
from seedboard.domain import RunSummary
from seedboard.services.compare import compare_with_previous
from seedboard.services.flaky import WINDOW
from seedboard.services.quarantines import quarantined_among
from seedboard.triage.ci_report import (
    ReportedComparison,
    ReportedRun,
    RunReport,
    reported_failure,
)
from seedboard.triage.report import triage


def latest_run_id(conn: Connection) -> str | None:
    """The newest run that is not a replay."""
    page = list_runs(conn, 1, None, RunFilters(replay=ReplayFilter.EXCLUDE))
    return page.runs[0].id if page.runs else None


def run_report(conn: Connection, run_id: str | None = None) -> RunReport | None:
    """The report on ``run_id`` (default: the latest run); None if there is no such run."""
    chosen = run_id if run_id is not None else latest_run_id(conn)
    summary = None if chosen is None else run_summary(conn, chosen)
    if summary is None:
        return None
    return report_of(conn, summary)


def report_of(conn: Connection, summary: RunSummary) -> RunReport:
    run_id = summary.id
    keys = sorted(tests_to_judge(conn, run_id, ())) if summary.counts.bad else []
    until = summary.start.started_at  # an older run is judged as it stood then
    samples = latest_samples_until(conn, keys, WINDOW + 1, until) if keys else {}
    names = test_names(conn, keys) if keys else {}
    failures = []
    for key in keys:
        latest = samples.get(key, [])
        window = latest[:WINDOW]
        triaged = triage(names[key], None, None, window)
        failures.append(reported_failure(triaged, [s for s in latest if s.run_id == run_id]))
    failures.sort(key=lambda f: f.test_id)
    comparison = compare_with_previous(conn, run_id)
    new = None if comparison is None else set(comparison.diff.new_failures)
    start = summary.start
    failing = [f.test_id for f in failures]
    held = quarantined_among(conn, failing, start.started_at) if failures else set()
    return RunReport(
        run=ReportedRun(
            id=run_id,
            branch=start.branch,
            commit=start.commit,
            is_replay=start.is_replay,
            results=summary.counts.total,
            failures=summary.counts.bad,
        ),
        new_failures=[
            f for f in failures if f.test_id not in held and (new is None or f.test_id in new)
        ],
        known_flaky=[
            f
            for f in failures
            if f.test_id not in held and new is not None and f.test_id not in new
        ],
        quarantined=[f for f in failures if f.test_id in held],
        fixed=[] if comparison is None else list(comparison.diff.fixed),
        comparison=None
        if comparison is None
        else ReportedComparison(
            previous=comparison.a.id,
            new_failures=len(comparison.diff.new_failures),
            fixed=len(comparison.diff.fixed),
            still_failing=len(comparison.diff.still_failing),
            new_tests=len(comparison.diff.new_tests),
            removed_tests=len(comparison.diff.removed_tests),
        ),
    )
