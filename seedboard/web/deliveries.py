"""Sending the events outbox to webhooks, from the server's reactor.

A ``LoopingCall`` first judges the runs finished since its last look
(``seedboard.services.notify``), writing their events (a run whose judging raises is
put off, then given up on, with the reason logged: never a block on the others), then
claims the due
deliveries on the database's writer thread (``seedboard.db.webhooks.claim_due``),
posts each with Twisted's ``Agent`` (never blocking the reactor), and marks it
delivered once the receiver answers 2xx, before claiming more; any other answer, a
refused connection or a timeout makes it due again after an exponential backoff.
The outbox is in the database, so a restart loses nothing; a delivery claimed by a
server killed while sending falls due again when its lease ends, and receivers
dedupe on ``X-Seedboard-Event-Id``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO
from typing import Any, cast

from twisted.internet.defer import Deferred, DeferredList, ensureDeferred
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.client import Agent, FileBodyProducer, readBody
from twisted.web.http_headers import Headers
from twisted.web.iweb import IBodyProducer, IResponse

from seedboard.db.pool import Pool
from seedboard.db.quarantines import any_expired
from seedboard.db.webhooks import (
    DueDelivery,
    RunToJudge,
    any_due,
    claim_due,
    mark_delivered,
    mark_failed,
    prune_outbox,
)
from seedboard.errors import one_line
from seedboard.services.notify import (
    MAX_JUDGING_ATTEMPTS,
    expire_quarantines,
    judge_run,
    judging_failed,
    next_to_judge,
    store_judged,
)
from seedboard.triage.notices import (
    EVENT_ID_HEADER,
    EVENT_KIND_HEADER,
    SIGNATURE_HEADER,
    body,
    signature,
    slack_body,
    with_links,
)
from seedboard.web.urls import path_to_test

log = Logger()

INTERVAL = 1.0
"""Seconds between looks at the outbox."""
TIMEOUT = 10.0
"""Seconds a receiver has to answer."""
LEASE = timedelta(seconds=TIMEOUT + 20)
"""How long a claimed delivery is held: longer than an attempt can take."""
FIRST_RETRY = 1.0
"""Seconds before the second attempt; each later one waits twice as long as the last."""
LONGEST_WAIT = 3600.0
MAX_ATTEMPTS = 15
"""Attempts before a delivery is given up on (about five hours of trying)."""
AT_ONCE = 20
"""Deliveries claimed per look."""
KEEP = timedelta(days=30)
"""How long events are kept once nothing is left to do for them."""
PRUNE_EVERY = timedelta(hours=1)
JUDGED_AT_ONCE = 5
"""Finished runs judged per look, at most (``seedboard.services.notify``)."""


def retry_at(attempts: int, now: datetime) -> datetime | None:
    """When to try again after ``attempts`` failed attempts; None once given up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + timedelta(seconds=min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_WAIT))


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A delivery as sent: its body and headers."""

    body: bytes
    headers: dict[str, str]


def outgoing(due: DueDelivery, public_url: str) -> Outgoing:
    """The request for one delivery: the event's facts with links, in the webhook's format,
    signed with its secret when it has one."""
    facts: dict[str, object] = json.loads(due.payload)
    facts = with_links(facts, public_url, links_of(facts))
    if due.format == "slack":
        sent = slack_body(due.kind, facts)
    else:
        sent = body(due.event_id, due.kind, due.created_at.isoformat(), facts)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "seedboard-webhooks",
        EVENT_ID_HEADER: due.event_id,
        EVENT_KIND_HEADER: due.kind,
    }
    if due.secret is not None:
        headers[SIGNATURE_HEADER] = signature(due.secret, sent)
    return Outgoing(sent, headers)


def links_of(facts: dict[str, object]) -> dict[str, str]:
    """The pages an event's facts name: its test's, its run's."""
    links: dict[str, str] = {}
    test = facts.get("test")
    if isinstance(test, str) and "*" not in test:
        links["test"] = path_to_test(test)
    run = facts.get("run")
    if isinstance(run, dict) and isinstance(run.get("id"), str):
        links["run"] = f"/runs/{run['id']}"
    return links


class Deliveries:
    """The loop sending the outbox, over one database."""

    def __init__(
        self,
        pool: Pool,
        reactor: IReactorTime,
        public_url: str,
        agent: Agent | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        interval: float = INTERVAL,
    ) -> None:
        self._pool = pool
        self._reactor = reactor
        self.public_url = public_url
        self._agent = agent or Agent(cast(Any, reactor), connectTimeout=TIMEOUT)
        self._clock = clock
        self._interval = interval
        self._pruned_at: datetime | None = None
        self._loop = LoopingCall(self.send_due)
        self._loop.clock = reactor

    def start(self) -> None:
        self._loop.start(self._interval, now=True).addErrback(
            lambda failure: log.failure("webhook deliveries stopped", failure)
        )

    def stop(self) -> None:
        if self._loop.running:
            self._loop.stop()

    def send_due(self) -> Deferred[None]:
        """Claim and send what is due; a failure is logged, and the loop goes on."""
        done = ensureDeferred(self._send_due())
        done.addErrback(lambda failure: log.failure("webhook deliveries", failure))
        return done

    async def _send_due(self) -> None:
        now = self._clock()
        if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
            self._pruned_at = now
            await self._pool.write(prune_outbox, now - KEEP)
        if await self._pool.read(any_expired, now):
            await self._pool.write(expire_quarantines, now)
        for _ in range(JUDGED_AT_ONCE):
            found = await self._pool.read(next_to_judge, self._clock())
            if found is None:
                break
            await self._judge(found)
        if not await self._pool.read(any_due, self._clock()):
            return
        due = await self._pool.write(claim_due, self._clock(), LEASE, AT_ONCE)
        if due:
            await DeferredList([ensureDeferred(self._deliver(found)) for found in due])

    async def _judge(self, found: RunToJudge) -> None:
        """Write the events of ``found``'s run; if judging it raises, put it off or give it
        up, and say why: the runs after it are judged all the same."""
        try:
            # Judged on a reader thread: the writer, and so ingest, waits only for the write.
            judged = await self._pool.read(judge_run, found)
            await self._pool.write(store_judged, judged, self._clock())
        except Exception as error:
            failure = Failure()
            reason = one_line(error)[:500]
            became = await self._pool.write(judging_failed, found, reason, self._clock())
            if became.retry_at is None:
                log.failure(
                    "gave up judging run {run} after {attempts} attempts ({reason}): its "
                    "events are not sent",
                    failure,
                    run=became.run_id,
                    attempts=became.attempts,
                    reason=became.reason,
                )
            else:
                log.failure(
                    "judging run {run} failed (attempt {attempts} of {most}: {reason}); "
                    "again at {at}",
                    failure,
                    run=became.run_id,
                    attempts=became.attempts,
                    most=MAX_JUDGING_ATTEMPTS,
                    reason=became.reason,
                    at=became.retry_at.isoformat(),
                )

    async def _deliver(self, due: DueDelivery) -> None:
        problem = await self._post(due)
        now = self._clock()
        if problem is None:
            await self._pool.write(mark_delivered, due.webhook_id, due.event_id, now)
        else:
            log.info(
                "webhook {url}: event {event} not delivered ({problem}), attempt {attempts}",
                url=due.url,
                event=due.event_id,
                problem=problem,
                attempts=due.attempts,
            )
            later = retry_at(due.attempts, now)
            await self._pool.write(mark_failed, due.webhook_id, due.event_id, problem, later)

    async def _post(self, due: DueDelivery) -> str | None:
        """None once the receiver answered 2xx, else what went wrong."""
        sent = outgoing(due, self.public_url)
        headers = Headers({name: [value] for name, value in sent.headers.items()})
        try:
            requested = self._agent.request(
                b"POST",
                due.url.encode("ascii"),
                headers,
                cast(IBodyProducer, FileBodyProducer(BytesIO(sent.body))),
            )
            requested.addTimeout(TIMEOUT, self._reactor)
            response: IResponse = await requested
            answer = readBody(response)
            answer.addTimeout(TIMEOUT, self._reactor)
            await answer
        except Exception as error:  # refused, reset, timed out: all retried alike
            return f"{type(error).__name__}: {error}"
        if 200 <= response.code < 300:
            return None
        return f"answered {response.code}"
