"""Store functions for notifications: webhooks, the events outbox and their deliveries.

An event is written with one delivery row per webhook that wants its kind, in the
transaction of the write that caused it, so that neither is kept without the
other.  The server's delivery loop claims due deliveries (moving their next attempt
past a lease, so that no other worker sends them meanwhile), sends them, then marks
each delivered, or due again after a backoff.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, exists, insert, select, update

from seedboard.db.models import Delivery, Event, Result, Run, Webhook
from seedboard.domain import Sample


@dataclass(frozen=True, slots=True)
class WebhookInfo:
    """A webhook as listed: never its secret, only whether it has one."""

    id: int
    url: str
    events: tuple[str, ...]
    format: str
    signed: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to write: its kind and its facts (plain JSON values)."""

    kind: str
    payload: dict[str, object]


@dataclass(frozen=True, slots=True)
class DueDelivery:
    """A delivery claimed for sending: where, how, and the event's stored facts."""

    webhook_id: int
    event_id: str
    attempts: int
    """Attempts so far, this one included."""
    url: str
    format: str
    secret: str | None
    kind: str
    payload: str
    created_at: datetime


def add_webhook(
    conn: Connection,
    url: str,
    events: Sequence[str],
    format: str,
    secret: str | None,
    now: datetime,
) -> WebhookInfo:
    """Store a webhook; its id is returned with it."""
    added = conn.execute(
        insert(Webhook)
        .values(url=url, events=",".join(events), format=format, secret=secret, created_at=now)
        .returning(Webhook.id)
    ).scalar_one()
    return WebhookInfo(added, url, tuple(events), format, secret is not None, now)


def list_webhooks(conn: Connection) -> list[WebhookInfo]:
    rows = conn.execute(
        select(
            Webhook.id,
            Webhook.url,
            Webhook.events,
            Webhook.format,
            Webhook.secret.is_not(None),
            Webhook.created_at,
        ).order_by(Webhook.id)
    )
    return [
        WebhookInfo(id, url, tuple(events.split(",")), format, bool(signed), created_at)
        for id, url, events, format, signed, created_at in rows
    ]


def remove_webhooks(conn: Connection, id_or_url: int | str) -> int:
    """Remove the webhook with this id, or every one with this address; how many went.
    Their pending deliveries go with them."""
    chosen = Webhook.id == id_or_url if isinstance(id_or_url, int) else Webhook.url == id_or_url
    ids = list(conn.execute(select(Webhook.id).where(chosen)).scalars())
    if ids:
        # Explicitly: SQLite enforces no foreign keys unless told to.
        conn.execute(delete(Delivery).where(Delivery.webhook_id.in_(ids)))
        conn.execute(delete(Webhook).where(Webhook.id.in_(ids)))
    return len(ids)


def has_webhooks(conn: Connection) -> bool:
    """Whether any webhook exists: without one, no event is worth working out."""
    return bool(conn.execute(select(exists().select_from(Webhook))).scalar())


def record_events(conn: Connection, events: Sequence[NewEvent], now: datetime) -> list[str]:
    """Write each event that a webhook wants, with a delivery due now to each webhook that
    wants its kind; their ids.  Call it in the transaction of the write that caused them."""
    hooks = conn.execute(select(Webhook.id, Webhook.events)).all()
    written = []
    for event in events:
        wanting = [hook for hook, kinds in hooks if event.kind in kinds.split(",")]
        if not wanting:
            continue
        event_id = uuid.uuid4().hex
        conn.execute(
            insert(Event).values(
                id=event_id,
                kind=event.kind,
                payload=json.dumps(event.payload, sort_keys=True),
                created_at=now,
            )
        )
        conn.execute(
            insert(Delivery),
            [
                {"webhook_id": hook, "event_id": event_id, "attempts": 0, "next_attempt_at": now}
                for hook in wanting
            ],
        )
        written.append(event_id)
    return written


def any_due(conn: Connection, now: datetime) -> bool:
    """Whether a delivery is due: a read, so that an idle server's looks write nothing."""
    due = select(Delivery.event_id).where(Delivery.next_attempt_at <= now).limit(1)
    return conn.execute(due).first() is not None


def claim_due(conn: Connection, now: datetime, lease: timedelta, limit: int) -> list[DueDelivery]:
    """Up to ``limit`` deliveries due at ``now``, oldest first, each counted as one more
    attempt and held until ``now + lease`` (when a worker killed while sending it would
    let it fall due again)."""
    query = (
        select(
            Delivery.webhook_id,
            Delivery.event_id,
            Delivery.attempts,
            Webhook.url,
            Webhook.format,
            Webhook.secret,
            Event.kind,
            Event.payload,
            Event.created_at,
        )
        .join(Webhook, Webhook.id == Delivery.webhook_id)
        .join(Event, Event.id == Delivery.event_id)
        .where(Delivery.next_attempt_at <= now)
        .order_by(Delivery.next_attempt_at, Event.created_at, Delivery.event_id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        # Several server processes: each claims rows the others have not locked.
        query = query.with_for_update(of=Delivery, skip_locked=True)
    due = [DueDelivery(r[0], r[1], r[2] + 1, *r[3:]) for r in conn.execute(query)]
    for found in due:
        conn.execute(
            update(Delivery)
            .where(Delivery.webhook_id == found.webhook_id, Delivery.event_id == found.event_id)
            .values(attempts=found.attempts, next_attempt_at=now + lease)
        )
    return due


def mark_delivered(conn: Connection, webhook_id: int, event_id: str, now: datetime) -> None:
    """The receiver acknowledged it: never sent again."""
    conn.execute(
        update(Delivery)
        .where(Delivery.webhook_id == webhook_id, Delivery.event_id == event_id)
        .values(delivered_at=now, next_attempt_at=None, last_error=None)
    )


def mark_failed(
    conn: Connection, webhook_id: int, event_id: str, error: str, retry_at: datetime | None
) -> None:
    """The attempt failed: due again at ``retry_at``, or never (given up) when None."""
    conn.execute(
        update(Delivery)
        .where(Delivery.webhook_id == webhook_id, Delivery.event_id == event_id)
        .values(next_attempt_at=retry_at, last_error=error[:2000])
    )


@dataclass(frozen=True, slots=True)
class DeliveryState:
    """How one event fared with one webhook, for tests and people debugging a receiver."""

    webhook_id: int
    event_id: str
    kind: str
    attempts: int
    delivered_at: datetime | None
    last_error: str | None


def delivery_states(conn: Connection) -> list[DeliveryState]:
    rows = conn.execute(
        select(
            Delivery.webhook_id,
            Delivery.event_id,
            Event.kind,
            Delivery.attempts,
            Delivery.delivered_at,
            Delivery.last_error,
        )
        .join(Event, Event.id == Delivery.event_id)
        .order_by(Event.created_at, Delivery.event_id, Delivery.webhook_id)
    )
    return [DeliveryState(*row) for row in rows]


def tests_to_judge(conn: Connection, run_id: str, failing_lately: Sequence[int]) -> set[int]:
    """The keys of the tests a finished run may have changed the class of: those that
    failed in it, and those of ``failing_lately`` (tests with a recent failure) it ran."""
    from seedboard.db.queries import is_bad

    of_run = Result.run_key == select(Run.key).where(Run.id == run_id).scalar_subquery()
    bad = select(Result.test_id).where(of_run, is_bad())
    found = set(conn.execute(bad).scalars())
    if failing_lately:
        ran = select(Result.test_id).where(of_run, Result.test_id.in_(sorted(failing_lately)))
        found.update(conn.execute(ran).scalars())
    return found


JUDGE_RUN = "judge-run"
"""The outbox's own kind: a finished run whose events are yet to be worked out.  It is
written in the finish's transaction, and replaced by the run's events in one
transaction, so no run is judged twice or never; no webhook receives it.  Its
``created_at`` is when it is due: a judging that failed puts it off
(``postpone_judging``), so that one run that cannot be judged holds up no other."""


@dataclass(frozen=True, slots=True)
class RunToJudge:
    """A note that a finished run is to be judged, and how often judging it failed."""

    marker: str
    run_id: str | None
    """None when the note cannot be read: it can never be judged."""
    attempts: int = 0


def run_to_judge(conn: Connection, run_id: str, now: datetime) -> None:
    """Note, in the finish's transaction, that a finished run is to be judged."""
    conn.execute(
        insert(Event).values(
            id=uuid.uuid4().hex,
            kind=JUDGE_RUN,
            payload=json.dumps({"run": run_id}),
            created_at=now,
        )
    )


def runs_to_judge(conn: Connection, limit: int, now: datetime | None = None) -> list[RunToJudge]:
    """The finished runs still to judge, oldest first: those due at ``now``, or all."""
    query = select(Event.id, Event.payload).where(Event.kind == JUDGE_RUN)
    if now is not None:
        query = query.where(Event.created_at <= now)
    rows = conn.execute(query.order_by(Event.created_at, Event.id).limit(limit))
    return [_run_to_judge(marker, payload) for marker, payload in rows]


def _run_to_judge(marker: str, payload: str) -> RunToJudge:
    try:
        note = json.loads(payload)
        return RunToJudge(marker, str(note["run"]), int(note.get("attempts", 0)))
    except (ValueError, TypeError, KeyError):
        return RunToJudge(marker, None)


def postpone_judging(conn: Connection, found: RunToJudge, error: str, due: datetime) -> bool:
    """Count a failed attempt at judging ``found``'s run, say why, and make it due again at
    ``due``; False if its note is gone (another worker judged it)."""
    note = json.dumps({"run": found.run_id, "attempts": found.attempts + 1, "error": error})
    changed = conn.execute(
        update(Event)
        .where(Event.id == found.marker, Event.kind == JUDGE_RUN)
        .values(payload=note, created_at=due)
    )
    return changed.rowcount == 1


def drop_judging(conn: Connection, found: RunToJudge) -> bool:
    """Give up judging ``found``'s run: its note goes, and no event of it will be sent."""
    gone = conn.execute(delete(Event).where(Event.id == found.marker, Event.kind == JUDGE_RUN))
    return gone.rowcount == 1


def replace_marker(
    conn: Connection, marker: str, events: Sequence[NewEvent], now: datetime
) -> bool:
    """The run's events in place of its marker; False, writing nothing, when another
    worker has done it already."""
    gone = conn.execute(delete(Event).where(Event.id == marker, Event.kind == JUDGE_RUN))
    if gone.rowcount != 1:
        return False
    record_events(conn, events, now)
    return True


def latest_samples_until(
    conn: Connection, tests: Sequence[int], limit: int, until: datetime
) -> dict[int, list[Sample]]:
    """``seedboard.db.flaky.latest_samples`` as of a moment: results of runs started then
    or before only, so a run judged late is judged on what came before it."""
    from seedboard.db.flaky import SAMPLES
    from seedboard.db.queries import latest_results

    latest = latest_results(
        conn, SAMPLES.columns, tests, limit, None, runs_where=[Run.started_at <= until]
    )
    return {test: SAMPLES.records(rows) for test, rows in latest.items()}


def prune_outbox(conn: Connection, before: datetime, limit: int = 1000) -> int:
    """Delete up to ``limit`` events made before ``before`` that nothing is still to be
    done for (every delivery acknowledged or given up), with their deliveries; how many."""
    pending = select(Delivery.event_id).where(Delivery.next_attempt_at.is_not(None))
    done = (
        select(Event.id)
        .where(Event.created_at < before, Event.kind != JUDGE_RUN, Event.id.not_in(pending))
        .limit(limit)
    )
    ids = list(conn.execute(done).scalars())
    if ids:
        conn.execute(delete(Delivery).where(Delivery.event_id.in_(ids)))
        conn.execute(delete(Event).where(Event.id.in_(ids)))
    return len(ids)
