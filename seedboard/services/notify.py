"""Events of a finished run: the tests it may have changed the class of are judged on
their window without and with it (``seedboard.triage.notices``), and the events are
written to the outbox in the finish's own transaction.

Nothing is judged while no webhook exists, so a server without one finishes runs as
before.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection

from seedboard.db.flaky import failing_tests, latest_samples
from seedboard.db.queries import test_names
from seedboard.db.runs import finish_run, lock_run, run_summary
from seedboard.db.webhooks import NewEvent, has_webhooks, record_events, tests_to_judge
from seedboard.domain import Sample
from seedboard.services.compare import compare_with_previous
from seedboard.services.flaky import WINDOW
from seedboard.triage.classify import classify
from seedboard.triage.notices import Judged, RunFacts, events_of_run
from seedboard.triage.report import failure_groups, seed_reports


def finish_run_with_events(
    conn: Connection, run_id: str, finished_at: datetime, now: datetime | None = None
) -> None:
    """``seedboard.db.runs.finish_run``, and when it finished the run now (not a retry),
    the events that causes, in the same transaction."""
    already = lock_run(conn, run_id).finished_at is not None
    finish_run(conn, run_id, finished_at, now)
    if already or not has_webhooks(conn):
        return
    events = run_events(conn, run_id)
    if events:
        record_events(conn, events, now or datetime.now(UTC))


def run_events(conn: Connection, run_id: str) -> list[NewEvent]:
    """The events the run causes, judged as of now."""
    summary = run_summary(conn, run_id)
    if summary is None:
        return []
    start = summary.start
    lately = [test.key for test in failing_tests(conn, WINDOW)]
    keys = sorted(tests_to_judge(conn, run_id, lately))
    samples = latest_samples(conn, keys, WINDOW + 1) if keys else {}
    names = test_names(conn, keys) if keys else {}
    judged = [judge(names[key], run_id, samples.get(key, [])) for key in keys]
    new_failures: Sequence[str] = ()
    if summary.counts.bad:
        comparison = compare_with_previous(conn, run_id)
        bad = sorted(test.test_id for test in judged if test.failed_in_run)
        new_failures = bad if comparison is None else comparison.diff.new_failures
    facts = RunFacts(start.id, start.branch, start.commit, start.build_url)
    found = events_of_run(facts, judged, new_failures)
    return [NewEvent(kind.value, payload) for kind, payload in found]


def judge(test_id: str, run_id: str, latest: list[Sample]) -> Judged:
    """A test judged on its latest results (newest first) without and with the run's."""
    after_samples = latest[:WINDOW]
    before_samples = [s for s in latest if s.run_id != run_id][:WINDOW]
    after = classify(after_samples)
    before = classify(before_samples) if before_samples else None
    groups = failure_groups(after_samples)
    seen = {s.fingerprint for s in before_samples if s.outcome.is_bad}
    in_run = {s.fingerprint for s in latest if s.run_id == run_id and s.outcome.is_bad}
    new_groups = tuple(g for g in groups if g.fingerprint in in_run and g.fingerprint not in seen)
    run_failures = [s for s in latest if s.run_id == run_id and s.outcome.is_bad]
    seeds = [s.seed for s in run_failures if s.seed is not None]
    failing = None
    if seeds:
        reports = seed_reports(test_id, after, after_samples)
        failing = next((r for r in reports if r.seed == seeds[0]), None)
    return Judged(test_id, before, after, groups, new_groups, failing, bool(run_failures))
