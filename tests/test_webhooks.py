"""Webhooks: the API (through StubTreq, answers checked against the OpenAPI document),
the outbox store, the finished run's events, what is sent and how it is signed; the
report's API and the badge."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, cast
from uuid import uuid4
from xml.etree import ElementTree

from sqlalchemy import Connection, update
from twisted.internet.defer import Deferred, fail
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import Clock
from twisted.logger import ILogObserver, formatEvent, globalLogPublisher
from twisted.web.client import Agent

from seedboard.db.models import Event
from seedboard.db.pool import SynchronousPool
from seedboard.db.quarantines import active_quarantines, add_quarantine, any_expired
from seedboard.db.webhooks import (
    NewEvent,
    add_webhook,
    claim_due,
    delivery_states,
    mark_delivered,
    mark_failed,
    prune_outbox,
    remove_webhooks,
    runs_to_judge,
)
from seedboard.domain import Quarantine
from seedboard.services import notify
from seedboard.services.notify import (
    FIRST_JUDGING_RETRY,
    MAX_JUDGING_ATTEMPTS,
    expire_quarantines,
    judge_next,
    record_quarantine_expired,
    store_judged,
)
from seedboard.triage.notices import SIGNATURE_HEADER, verify
from seedboard.web.deliveries import LEASE, MAX_ATTEMPTS, Deliveries, outgoing, retry_at
from tests.test_ingest import result_body
from tests.test_ingest_api import NOW, APICase, results

DAY = timedelta(days=1)
SEED_FAILS = result_body(test_id="pkg.T.test_x", outcome="failure", seed=7, message="1 != 2")


class WebhookAPITests(APICase):
    def add(self, **body: object) -> Any:
        sent: dict[str, object] = {"url": "http://127.0.0.1:9/hook"}
        sent.update(body)
        return self.send("POST", "/api/v1/webhooks", sent)

    def test_add_list_remove(self) -> None:
        """A webhook added answers 201 without its secret; the list says it is signed;
        removing it answers 1, then 404."""
        added = self.add(events=["class-changed"], secret="s3cret", format="slack")
        self.assertEqual(added.status, 201, added.body)
        self.assertNotIn("s3cret", json.dumps(added.body))
        self.assertEqual(added.body["events"], ["class-changed"])
        listed = self.send("GET", "/api/v1/webhooks")
        self.assertEqual(listed.status, 200)
        self.assertEqual(
            [(h["url"], h["signed"]) for h in listed.body["webhooks"]],
            [("http://127.0.0.1:9/hook", True)],
        )
        self.assertNotIn("s3cret", json.dumps(listed.body))
        hook = added.body["id"]
        self.assertEqual(self.send("DELETE", f"/api/v1/webhooks/{hook}").body, {"removed": 1})
        self.assertEqual(self.send("DELETE", f"/api/v1/webhooks/{hook}").status, 404)
        self.assertEqual(self.send("DELETE", "/api/v1/webhooks/nope").status, 404)

    def test_bad_input_names_the_field(self) -> None:
        """A bad address, event kind, format or secret is a 400 naming the field; nothing
        is stored."""
        cases: list[tuple[dict[str, object], str]] = [
            ({"url": "ftp://x/"}, "url"),
            ({"url": "http://user:pw@x/"}, "url"),
            ({"events": ["nope"]}, "events[0]"),
            ({"events": []}, "events"),
            ({"format": "xml"}, "format"),
            ({"secret": ""}, "secret"),
            ({"colour": "red"}, "colour"),
        ]
        for body, field in cases:
            answer = self.add(**body)
            self.assertEqual((answer.status, answer.body["error"]["field"]), (400, field), body)
        self.assertEqual(self.send("GET", "/api/v1/webhooks").body, {"webhooks": []})

    def test_needs_a_token(self) -> None:
        """Adding, listing and removing webhooks needs a token, even on a public server."""
        self.assertEqual(self.add().status, 201)
        for method, path in [("GET", "/api/v1/webhooks"), ("DELETE", "/api/v1/webhooks/1")]:
            self.assertEqual(self.send(method, path, token=None).status, 401)
        no_token = self.send("POST", "/api/v1/webhooks", {"url": "http://x/"}, token=None)
        self.assertEqual(no_token.status, 401)


class OutboxCase(APICase):
    """Runs finished through the API, with webhooks to note them for judging."""

    def finish_run_with(self, *result_bodies: dict[str, Any], minute: int = 0) -> str:
        started = (NOW - timedelta(hours=1) + timedelta(minutes=minute)).isoformat()
        run_id = self.create(started_at=started)
        self.assertEqual(self.batch(run_id, 0, list(result_bodies)).status, 201)
        finished = (NOW - timedelta(hours=1) + timedelta(minutes=minute, seconds=30)).isoformat()
        self.assertEqual(
            self.send("POST", f"/api/v1/runs/{run_id}/finish", {"finished_at": finished}).status,
            200,
        )
        return run_id

    def judge_all(self) -> None:
        while (judged := self.database.read(judge_next)) is not None:
            self.assertTrue(self.database.write(store_judged, judged, NOW))


class OutboxTests(OutboxCase):
    """Events of finished runs, written to the outbox and claimed for sending."""

    def test_no_webhook_no_events(self) -> None:
        """Without a webhook, finishing a run notes nothing to judge."""
        self.finish_run_with(SEED_FAILS)
        self.assertEqual(self.database.read(runs_to_judge, 10), [])

    def test_events_go_to_the_webhooks_that_want_them(self) -> None:
        """A failing test's first failure changes its class and makes a new failure group
        and a failed run; each webhook gets the kinds it asked for, once."""
        every = self.database.write(
            add_webhook, "http://a/", ["class-changed", "run-failed"], "json", None, NOW
        )
        self.database.write(add_webhook, "http://b/", ["new-failure-group"], "json", None, NOW)
        self.finish_run_with(SEED_FAILS, *results("pkg.T.test_ok"))
        self.assertEqual(len(self.database.read(runs_to_judge, 10)), 1)
        self.judge_all()
        states = self.database.read(delivery_states)
        self.assertEqual(
            sorted((s.webhook_id == every.id, s.kind) for s in states),
            [(False, "new-failure-group"), (True, "class-changed"), (True, "run-failed")],
        )
        # Judged once: the note is gone, and judging again finds nothing.
        self.assertIsNone(self.database.read(judge_next))

    def test_claims_hold_until_acknowledged_or_retried(self) -> None:
        """A claimed delivery is not claimed again within its lease; a failure makes it
        due at its retry time; once delivered it is never claimed again."""
        self.database.write(add_webhook, "http://a/", ["class-changed"], "json", "k", NOW)
        self.finish_run_with(SEED_FAILS)
        self.judge_all()
        due = self.database.write(claim_due, NOW, LEASE, 10)
        self.assertEqual([(d.kind, d.attempts, d.secret) for d in due], [("class-changed", 1, "k")])
        self.assertEqual(self.database.write(claim_due, NOW + LEASE / 2, LEASE, 10), [])
        first = due[0]
        retry = retry_at(first.attempts, NOW)
        self.database.write(mark_failed, first.webhook_id, first.event_id, "answered 500", retry)
        assert retry is not None
        self.assertEqual(
            self.database.write(claim_due, retry - timedelta(seconds=0.5), LEASE, 10), []
        )
        again = self.database.write(claim_due, retry, LEASE, 10)
        self.assertEqual([(d.event_id, d.attempts) for d in again], [(first.event_id, 2)])
        self.database.write(mark_delivered, first.webhook_id, first.event_id, retry)
        self.assertEqual(self.database.write(claim_due, retry + LEASE * 2, LEASE, 10), [])
        [state] = self.database.read(delivery_states)
        self.assertEqual((state.attempts, state.delivered_at, state.last_error), (2, retry, None))

    def test_quarantine_hook(self) -> None:
        """The quarantine store's hook writes one event for the webhooks that want it."""
        self.database.write(add_webhook, "http://a/", ["quarantine-expired"], "json", None, NOW)
        self.database.write(add_webhook, "http://b/", ["class-changed"], "json", None, NOW)
        written = self.database.write(
            record_quarantine_expired, "pkg.test_net.*", NOW, "flaky DNS", None, None
        )
        self.assertEqual(len(written), 1)
        [due] = self.database.write(claim_due, NOW, LEASE, 10)
        self.assertEqual((due.url, due.kind), ("http://a/", "quarantine-expired"))
        self.assertEqual(json.loads(due.payload)["reason"], "flaky DNS")

    def test_expiry_lifts_with_its_event(self) -> None:
        """An expired quarantine is lifted with its event, in one transaction, once."""
        self.database.write(add_webhook, "http://a/", ["quarantine-expired"], "json", None, NOW)
        wanted = Quarantine(
            "pkg.test_net.*", "flaky DNS", None, NOW - timedelta(hours=1), "ops", NOW - DAY
        )
        self.database.write(add_quarantine, wanted)
        self.assertTrue(self.database.read(any_expired, NOW))
        self.assertFalse(self.database.read(any_expired, NOW - timedelta(hours=2)))
        self.assertEqual(self.database.write(expire_quarantines, NOW), ["pkg.test_net.*"])
        self.assertFalse(self.database.read(any_expired, NOW))
        self.assertEqual(self.database.write(expire_quarantines, NOW), [])
        [due] = self.database.write(claim_due, NOW, LEASE, 10)
        self.assertEqual(due.kind, "quarantine-expired")
        self.assertEqual(json.loads(due.payload)["reason"], "flaky DNS")
        self.assertEqual(self.database.read(active_quarantines, NOW), [])

    def test_api_changes_lift_expiries_with_their_events(self) -> None:
        """Quarantining or lifting through the API first lifts what expired, each with its
        event, once: the delivery loop then finds nothing left to lift."""
        self.database.write(add_webhook, "http://a/", ["quarantine-expired"], "json", None, NOW)
        for pattern in ("pkg.a.*", "pkg.b.*"):
            expired = Quarantine(pattern, "why", None, NOW - timedelta(hours=1), "ops", NOW - DAY)
            self.database.write(add_quarantine, expired)
        self.assertEqual(self.send("POST", "/api/v1/quarantines", {"test": "pkg.c"}).status, 201)
        self.assertEqual(self.send("DELETE", "/api/v1/quarantines/pkg.c").status, 200)
        self.assertEqual(self.database.write(expire_quarantines, NOW), [])
        due = self.database.write(claim_due, NOW, LEASE, 10)
        lifted = sorted(json.loads(d.payload)["test"] for d in due)
        self.assertEqual(lifted, ["pkg.a.*", "pkg.b.*"])

    def test_lifting_twice_writes_one_event(self) -> None:
        """Expiries lifted twice in one transaction: the second finds nothing, writes nothing."""
        self.database.write(add_webhook, "http://a/", ["quarantine-expired"], "json", None, NOW)
        expired = Quarantine("pkg.a.*", None, None, NOW - timedelta(hours=1), "ops", NOW - DAY)
        self.database.write(add_quarantine, expired)
        with self.database.writer.begin() as first:
            self.assertEqual(expire_quarantines(first, NOW), ["pkg.a.*"])
            self.assertEqual(expire_quarantines(first, NOW), [])
        self.assertEqual(len(self.database.write(claim_due, NOW, LEASE, 10)), 1)

    def test_old_events_are_pruned_once_done(self) -> None:
        """Events older than the cut with every delivery done go; pending ones stay."""
        self.database.write(add_webhook, "http://a/", ["class-changed"], "json", None, NOW)
        self.finish_run_with(SEED_FAILS)
        self.judge_all()
        later = NOW + timedelta(days=1)
        self.assertEqual(self.database.write(prune_outbox, later), 0)  # still due
        [due] = self.database.write(claim_due, NOW, LEASE, 10)
        self.database.write(mark_delivered, due.webhook_id, due.event_id, NOW)
        self.assertEqual(self.database.write(prune_outbox, NOW), 0)  # not old enough
        self.assertEqual(self.database.write(prune_outbox, later), 1)
        self.assertEqual(self.database.read(delivery_states), [])

    def test_removing_a_webhook_drops_its_deliveries(self) -> None:
        """A webhook removed by address takes its pending deliveries with it."""
        self.database.write(add_webhook, "http://a/", ["class-changed"], "json", None, NOW)
        self.finish_run_with(SEED_FAILS)
        self.judge_all()
        self.assertEqual(self.database.write(remove_webhooks, "http://a/"), 1)
        self.assertEqual(self.database.read(delivery_states), [])
        self.assertEqual(self.database.write(claim_due, NOW + LEASE, LEASE, 10), [])

    def test_a_run_deleted_before_judging_makes_no_events(self) -> None:
        """A run deleted between its finish and its judging is judged as nothing."""
        self.database.write(add_webhook, "http://a/", ["class-changed"], "json", None, NOW)
        run_id = self.finish_run_with(SEED_FAILS)
        self.assertEqual(self.send("DELETE", f"/api/v1/runs/{run_id}").status, 200)
        self.judge_all()
        self.assertEqual(self.database.read(delivery_states), [])

    def test_what_is_sent(self) -> None:
        """The JSON body carries the facts and absolute links, signed with the secret; the
        Slack body is a message with the same facts."""
        self.database.write(add_webhook, "http://a/", ["class-changed"], "json", "k", NOW)
        self.database.write(add_webhook, "http://b/", ["class-changed"], "slack", None, NOW)
        run_id = self.finish_run_with(SEED_FAILS)
        self.judge_all()
        due = {d.url: d for d in self.database.write(claim_due, NOW, LEASE, 10)}
        sent = outgoing(due["http://a/"], "https://seedboard.example.org/")
        self.assertTrue(verify("k", sent.body, sent.headers[SIGNATURE_HEADER]))
        self.assertEqual(sent.headers["X-Seedboard-Event-Id"], due["http://a/"].event_id)
        body = json.loads(sent.body)
        self.assertEqual(
            (body["kind"], body["test"], body["old_class"], body["new_class"], body["seed"]),
            ("class-changed", "pkg.T.test_x", "stable", "broken", 7),
        )
        # The run was shuffled (run_body's order seed): the replay keeps its order.
        self.assertEqual(body["replay_command"], "SEEDBOARD_SEED=7 trial --random=12 pkg.T.test_x")
        self.assertEqual(body["links"]["run"], f"https://seedboard.example.org/runs/{run_id}")
        self.assertEqual(body["links"]["test"], "https://seedboard.example.org/tests/pkg.T.test_x")
        slack = outgoing(due["http://b/"], "https://seedboard.example.org")
        self.assertNotIn(SIGNATURE_HEADER, slack.headers)
        message = json.loads(slack.body)["text"]
        self.assertIn("*pkg.T.test_x* is now *broken* (was stable)", message)
        self.assertIn("SEEDBOARD_SEED=7 trial --random=12 pkg.T.test_x", message)
        self.assertIn("@seed(7)", message)


class RetryTests(APICase):
    def test_backoff_doubles_then_gives_up(self) -> None:
        """Retries wait 1, 2, 4, ... seconds, at most an hour, and stop after the last attempt."""
        waits = [(retry_at(n, NOW) or NOW) - NOW for n in (1, 2, 3)]
        self.assertEqual(waits, [timedelta(seconds=s) for s in (1, 2, 4)])
        self.assertEqual(retry_at(MAX_ATTEMPTS - 1, NOW), NOW + timedelta(hours=1))
        self.assertIsNone(retry_at(MAX_ATTEMPTS, NOW))


class ReportAndBadgeAPITests(APICase):
    def test_report_of_a_run(self) -> None:
        """The report names the run's new failure with its seed's snippet; an unknown run
        is a 404 naming ``run``."""
        run_id = self.create()
        self.batch(run_id, 0, [SEED_FAILS, *results("pkg.T.test_ok")])
        found = self.send("GET", f"/api/v1/report?run={run_id}", token=None)
        self.assertEqual(found.status, 200, found.body)
        [failure] = found.body["new_failures"]
        self.assertEqual((failure["test_id"], failure["seed"]), ("pkg.T.test_x", 7))
        self.assertIn("@seed(7)", failure["snippet"])
        self.assertEqual(self.send("GET", "/api/v1/report", token=None).body["run"]["id"], run_id)
        missing = self.send("GET", f"/api/v1/report?run={uuid4().hex}", token=None)
        self.assertEqual((missing.status, missing.body["error"]["field"]), (404, "run"))

    def test_badge_is_valid_escaped_svg(self) -> None:
        """The badge is SVG that parses as XML, says passing with no flaky test, with a
        strict CSP and cache headers; a branch is any text, escaped."""
        answer = self.send("GET", "/badge.svg?branch=%3Cscript%3E%26", token=None)
        self.assertEqual(answer.status, 200)
        self.assertEqual(answer.header("content-type"), ["image/svg+xml; charset=utf-8"])
        self.assertEqual(answer.header("cache-control"), ["public, max-age=300"])
        self.assertEqual(answer.header("content-security-policy"), ["default-src 'none'"])
        root = ElementTree.fromstring(answer.body)
        self.assertEqual(
            root.find("{http://www.w3.org/2000/svg}title").text,  # type: ignore[union-attr]
            "flaky tests: passing",
        )


class PrivateBadgeTests(APICase):
    private = True

    def test_private_badge_needs_a_token_and_is_not_cached(self) -> None:
        """On a private server the badge needs a token (without one: the login page, not
        the badge), and no cache keeps it."""
        refused = self.send("GET", "/badge.svg", token=None)
        self.assertNotIn(b"<svg", refused.body)
        self.assertEqual(refused.header("content-type"), ["text/html; charset=utf-8"])
        answer = self.send("GET", "/badge.svg")
        self.assertEqual(answer.status, 200)
        self.assertEqual(answer.header("cache-control"), ["private, no-store"])


class RefusingAgent:
    """An ``Agent`` whose every request is refused, as by a receiver that is down."""

    def request(self, *args: object) -> Deferred[object]:
        return fail(ConnectionRefusedError())


class JudgingFailureTests(OutboxCase):
    """A run whose judging keeps raising is put off, then given up on, with the reason
    logged; the runs finished after it are judged and their events sent all the same."""

    def setUp(self) -> None:
        super().setUp()
        self.now = NOW
        self.logged: list[dict[str, Any]] = []
        observer = cast(ILogObserver, self.logged.append)
        globalLogPublisher.addObserver(observer)
        self.addCleanup(globalLogPublisher.removeObserver, observer)
        self.database.write(add_webhook, "http://a/", ["class-changed"], "json", None, NOW)
        self.deliveries = Deliveries(
            SynchronousPool(self.database),
            cast(IReactorTime, Clock()),
            "http://seedboard.example",
            agent=cast(Agent, RefusingAgent()),
            clock=lambda: self.now,
        )

    def look(self) -> None:
        """One round of the delivery loop."""
        self.successResultOf(self.deliveries.send_due())

    def said(self) -> list[str]:
        return [formatEvent(event) for event in self.logged if "log_failure" in event]

    def test_a_run_that_cannot_be_judged_holds_up_no_other(self) -> None:
        """The first run's judging raises every time: the second's events are written in
        the first round; the first is tried 5 times, further apart each time, then given
        up on, each failure logged with its reason."""
        broken = self.finish_run_with(SEED_FAILS)
        self.finish_run_with(result_body(test_id="pkg.T.test_y", outcome="failure"), minute=1)
        real = notify.run_events

        def run_events(conn: Connection, run_id: str) -> list[NewEvent]:
            if run_id == broken:
                raise RuntimeError("judging is broken for this run")
            return real(conn, run_id)

        self.patch(notify, "run_events", run_events)
        self.look()
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        [state] = self.database.read(delivery_states)
        self.assertEqual(state.kind, "class-changed")
        self.assertIn(
            f"judging run {broken} failed (attempt 1 of 5: RuntimeError: ", self.said()[0]
        )
        for attempt in range(2, MAX_JUDGING_ATTEMPTS + 1):
            [waiting] = self.database.read(runs_to_judge, 10)
            self.assertEqual((waiting.run_id, waiting.attempts), (broken, attempt - 1))
            self.now += FIRST_JUDGING_RETRY * 2 ** (attempt - 2) - timedelta(seconds=1)
            self.look()  # not due yet: not tried again
            self.assertEqual(self.flushLoggedErrors(RuntimeError), [])
            self.now += timedelta(seconds=1)
            self.look()
            self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        self.assertEqual(self.database.read(runs_to_judge, 10), [])
        self.assertEqual(len(self.said()), MAX_JUDGING_ATTEMPTS)
        self.assertIn(
            f"gave up judging run {broken} after 5 attempts (RuntimeError: judging is broken "
            "for this run): its events are not sent",
            self.said()[-1],
        )
        self.assertEqual(len(self.database.read(delivery_states)), 1)

    def test_an_unreadable_note_is_given_up_at_once(self) -> None:
        """A note to judge that names no run is dropped on its first attempt, said so."""
        self.finish_run_with(SEED_FAILS)
        [note] = self.database.read(runs_to_judge, 10)
        with self.database.writer.begin() as conn:
            conn.execute(update(Event).where(Event.id == note.marker).values(payload="{"))
        self.look()
        self.assertEqual(len(self.flushLoggedErrors(notify.UnreadableNote)), 1)
        self.assertEqual(self.database.read(runs_to_judge, 10), [])
        self.assertIn(
            "gave up judging run None after 1 attempts (UnreadableNote: ", self.said()[-1]
        )
