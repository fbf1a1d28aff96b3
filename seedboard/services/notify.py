"""Events of a finished run: the tests it may have changed the class of are judged on
their window without and with it (``seedboard.triage.notices``).

The finish's own transaction notes that the run is to be judged (a row in the
outbox), so no finished run is ever left out, even by a server killed at once; the
judging itself, which reads every candidate test's window, is done afterwards by the
server's delivery loop on a reader thread (``judge_run``), and its events replace the
note in one transaction (``store_judged``).  So a finish costs ingest one insert, not
the judging: with 2,000 tests that failed lately, judging takes seconds
(``bench/notify.py``).  Nothing is noted while no webhook exists.  A run whose judging
raises is put off and, after a few attempts, given up on (``judging_failed``): the
runs after it go on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

from seedboard.db.flaky import failing_tests
from seedboard.db.quarantines import lift_expired
from seedboard.db.queries import test_names
from seedboard.db.runs import finish_run, lock_run, run_summary
from seedboard.db.webhooks import (
    NewEvent,
    RunToJudge,
    drop_judging,
    has_webhooks,
    latest_samples_until,
    postpone_judging,
    record_events,
    replace_marker,
    run_to_judge,
    runs_to_judge,
    tests_to_judge,
)
from seedboard.domain import Sample
from seedboard.services.compare import compare_with_previous
from seedboard.services.flaky import WINDOW
from seedboard.triage.classify import classify
from seedboard.triage.notices import Judged as JudgedTest
from seedboard.triage.notices import RunFacts, events_of_run, quarantine_expired
from seedboard.triage.report import failure_groups, seed_reports


def finish_run_with_events(
    conn: Connection, run_id: str, finished_at: datetime, now: datetime | None = None
) -> None:
    """``seedboard.db.runs.finish_run``, and when it finished the run now (not a retry)
    and a webhook exists, the note that the run is to be judged, in the same transaction."""
    already = lock_run(conn, run_id).finished_at is not None
    finish_run(conn, run_id, finished_at, now)
    if not already and has_webhooks(conn):
        run_to_judge(conn, run_id, now or datetime.now(UTC))


Judged = tuple[str, list[NewEvent]]
"""A note's id, and the events of its run."""

MAX_JUDGING_ATTEMPTS = 5
"""Attempts at judging one run before it is given up on, its events never sent."""
FIRST_JUDGING_RETRY = timedelta(seconds=2)
"""The wait after a first failed attempt; each later one waits twice as long."""


def next_to_judge(conn: Connection, now: datetime | None = None) -> RunToJudge | None:
    """The oldest finished run still to judge, due at ``now`` (any, without)."""
    found = runs_to_judge(conn, 1, now)
    return found[0] if found else None


def judge_run(conn: Connection, found: RunToJudge) -> Judged:
    """The events of ``found``'s run.  A read: it may run beside ingest."""
    if found.run_id is None:
        raise UnreadableNote(f"the note {found.marker} names no run")
    return found.marker, run_events(conn, found.run_id)


def judge_next(conn: Connection, now: datetime | None = None) -> Judged | None:
    """The events of the oldest finished run still to judge; None if there is none."""
    found = next_to_judge(conn, now)
    return None if found is None else judge_run(conn, found)


class UnreadableNote(ValueError):
    """A note to judge a run that does not say which: no attempt will do better."""


@dataclass(frozen=True, slots=True)
class JudgingFailed:
    """What became of a run whose judging raised."""

    run_id: str | None
    attempts: int
    """Failed attempts so far, this one included."""
    retry_at: datetime | None
    """When it is tried again; None once given up on."""
    reason: str
    """The error, in one line."""


def judging_failed(
    conn: Connection, found: RunToJudge, reason: str, now: datetime
) -> JudgingFailed:
    """Put off judging ``found``'s run after an error (``reason``, one line), by twice as
    long each time, or give it up after ``MAX_JUDGING_ATTEMPTS`` (at once for a note that
    names no run): a run that cannot be judged holds up no other."""
    attempts = found.attempts + 1
    if found.run_id is None or attempts >= MAX_JUDGING_ATTEMPTS:
        drop_judging(conn, found)
        return JudgingFailed(found.run_id, attempts, None, reason)
    due = now + FIRST_JUDGING_RETRY * 2 ** (attempts - 1)
    postpone_judging(conn, found, reason, due)
    return JudgingFailed(found.run_id, attempts, due, reason)


def store_judged(conn: Connection, judged: Judged, now: datetime) -> bool:
    """Write a judged run's events in place of its note; False if another worker did."""
    marker, events = judged
    return replace_marker(conn, marker, events, now)


def run_events(conn: Connection, run_id: str) -> list[NewEvent]:
    """The events the run causes, its tests judged on the results of the runs started
    until it (a run judged late is not judged on the runs after it)."""
    summary = run_summary(conn, run_id)
    if summary is None:  # deleted since
        return []
    start = summary.start
    lately = [test.key for test in failing_tests(conn, WINDOW)]
    keys = sorted(tests_to_judge(conn, run_id, lately))
    samples = latest_samples_until(conn, keys, WINDOW + 1, start.started_at) if keys else {}
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


def judge(test_id: str, run_id: str, latest: list[Sample]) -> JudgedTest:
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
    return JudgedTest(test_id, before, after, groups, new_groups, failing, bool(run_failures))


def record_quarantine_expired(
    conn: Connection,
    test_pattern: str,
    now: datetime,
    reason: str | None = None,
    issue_url: str | None = None,
    seed: int | None = None,
) -> list[str]:
    """The hook for the quarantine store: call it in the transaction that lifts an expired
    quarantine, so that its event is written (for the webhooks that want it) with it."""
    kind, payload = quarantine_expired(test_pattern, reason, issue_url, now.isoformat(), seed)
    return record_events(conn, [NewEvent(kind.value, payload)], now)


def expire_quarantines(conn: Connection, now: datetime) -> list[str]:
    """Lift the quarantines whose expiry has passed, each with its event, in one
    transaction; their patterns.  The server's delivery loop calls it on every round."""
    lifted = lift_expired(conn, now)
    for quarantine in lifted:
        record_quarantine_expired(
            conn, quarantine.pattern, now, quarantine.reason, quarantine.issue_url
        )
    return [quarantine.pattern for quarantine in lifted]
