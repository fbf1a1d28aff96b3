"""A run's lifecycle under abuse (issue 15, finding 4): a finished run is closed.

Batches after ``finish`` were accepted and changed a finished run's counts, a second
finish overwrote the first, and a finish before the start gave a negative duration.
Each probe is sent through the API, in-process (StubTreq, every answer checked
against the OpenAPI document) and once against ``seedboard serve`` on loopback;
every refusal is a JSON error naming its field, and changes no row.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from twisted.trial.unittest import SynchronousTestCase

from seedboard.db.runs import MAX_AHEAD
from tests.support import exchange, start_server, temporary_database
from tests.test_ingest import result_body, run_body
from tests.test_ingest_api import NOW, Answer, APICase, add_token, row_counts

STARTED = "2026-11-25T16:00:00Z"
FINISHED = "2026-11-25T16:00:02.5Z"


def iso(when: object) -> str:
    return str(when).replace(" ", "T").replace("+00:00", "Z")


class FinishedRunTests(APICase):
    """A run created, given batch 0, and finished."""

    def setUp(self) -> None:
        super().setUp()
        self.run_id = self.create(started_at=STARTED)
        self.assertEqual(self.batch(self.run_id, 0, [result_body(test_id="t.a")]).status, 201)
        self.assertEqual(self.finish(self.run_id, FINISHED).status, 200)
        self.before = self.run_json(self.run_id)

    def finish(self, run_id: str, when: str) -> Answer:
        return self.send("POST", f"/api/v1/runs/{run_id}/finish", {"finished_at": when})

    def refused(self, answer: Answer, status: int, code: str, field: str) -> dict[str, Any]:
        self.assertEqual(answer.status, status, answer.body)
        error: dict[str, Any] = answer.body["error"]
        self.assertEqual((error["code"], error["field"]), (code, field), error)
        return error

    def assert_unchanged(self, rows: dict[str, int]) -> None:
        self.assertEqual(row_counts(self.database), rows)
        self.assertEqual(self.run_json(self.run_id), self.before)

    def test_new_batch_refused(self) -> None:
        """A new batch after the finish is a 409 run_finished naming run_id, and stores
        nothing: the counts stay as they were."""
        rows = row_counts(self.database)
        answer = self.batch(self.run_id, 1, [result_body(test_id="t.b", outcome="error")])
        error = self.refused(answer, 409, "run_finished", "run_id")
        self.assertIn("2026-11-25T16:00:02.500000Z", error["message"])
        self.assert_unchanged(rows)

    def test_retried_batch_still_a_duplicate(self) -> None:
        """Batch 0 sent again after the finish (its answer was lost) is still 200 duplicate."""
        rows = row_counts(self.database)
        answer = self.batch(self.run_id, 0, [result_body(test_id="t.a")])
        self.assertEqual(answer.status, 200, answer.body)
        self.assertEqual(answer.body, {"stored": 0, "duplicate": True})
        self.assert_unchanged(rows)

    def test_same_finish_again(self) -> None:
        """The same finish again (a retry) answers 200 and changes nothing, the same time
        written another way included."""
        rows = row_counts(self.database)
        for when in (FINISHED, "2026-11-25T17:00:02.500+01:00"):
            self.assertEqual(self.finish(self.run_id, when).status, 200, when)
        self.assert_unchanged(rows)

    def test_other_finish_refused(self) -> None:
        """A finish at another time is a 409 naming finished_at; the first one stays."""
        rows = row_counts(self.database)
        for when in ("2026-11-25T16:00:03Z", "2026-11-25T16:00:02.500001Z"):
            self.refused(self.finish(self.run_id, when), 409, "run_finished", "finished_at")
        self.assert_unchanged(rows)
        self.assertEqual(self.before["run"]["duration"], 2.5)


class ImpossibleTimeTests(APICase):
    """Times a run cannot have are a 400 naming the field, and change nothing."""

    def test_finish_before_start(self) -> None:
        """A finish before the start (a negative duration) is refused; one at the start is
        a run that took no time."""
        run_id = self.create(started_at=STARTED)
        rows = row_counts(self.database)
        answer = self.send(
            "POST", f"/api/v1/runs/{run_id}/finish", {"finished_at": "2026-11-25T15:59:59Z"}
        )
        self.assertEqual(answer.status, 400, answer.body)
        self.assertEqual(answer.body["error"]["code"], "invalid")
        self.assertEqual(answer.body["error"]["field"], "finished_at")
        self.assertIn("before the run started", answer.body["error"]["message"])
        self.assertEqual(row_counts(self.database), rows)
        self.assertIsNone(self.run_json(run_id)["run"]["finished_at"])
        answer = self.send("POST", f"/api/v1/runs/{run_id}/finish", {"finished_at": STARTED})
        self.assertEqual(answer.status, 200)
        self.assertEqual(self.run_json(run_id)["run"]["duration"], 0)

    def test_far_in_the_future(self) -> None:
        """A start or a finish more than MAX_AHEAD after the server's clock is refused;
        one just within it is taken."""
        too_far, within = iso(NOW + MAX_AHEAD + timedelta(seconds=1)), iso(NOW + MAX_AHEAD)
        rows = row_counts(self.database)
        for when in (too_far, "9999-12-31T23:59:59Z"):
            answer = self.send("PUT", f"/api/v1/runs/{uuid4().hex}", run_body(started_at=when))
            self.assertEqual(answer.status, 400, answer.body)
            self.assertEqual(answer.body["error"]["field"], "started_at")
            self.assertIn("ahead of the server's clock", answer.body["error"]["message"])
        self.assertEqual(row_counts(self.database), rows)
        run_id = self.create(started_at=STARTED)
        rows = row_counts(self.database)
        answer = self.send("POST", f"/api/v1/runs/{run_id}/finish", {"finished_at": too_far})
        self.assertEqual((answer.status, answer.body["error"]["field"]), (400, "finished_at"))
        self.assertEqual(row_counts(self.database), rows)
        answer = self.send("POST", f"/api/v1/runs/{run_id}/finish", {"finished_at": within})
        self.assertEqual(answer.status, 200, answer.body)
        self.create(started_at=within)


class RealServerLifecycleTests(SynchronousTestCase):
    def test_lifecycle_on_loopback(self) -> None:
        """Against ``seedboard serve`` on loopback: a batch after the finish is a 409, its
        retry of batch 0 a 200, a second finish at another time a 409, and a finish
        before the start a 400; the run keeps its one batch and its first finish."""
        database = temporary_database(self)
        token = add_token(database)
        cwd = Path(self.mktemp())
        cwd.mkdir()
        url = database.writer.url.render_as_string(hide_password=False)
        base = start_server(self, cwd, "--db", url, "--port", "0")
        run = f"/api/v1/runs/{uuid4().hex}"

        def send(method: str, path: str, body: object) -> tuple[int, Any]:
            reply = exchange(self, base, method, run + path, body, token)
            return reply.status, reply.body

        self.assertEqual(send("PUT", "", run_body(started_at=STARTED))[0], 201)
        self.assertEqual(send("PUT", "/batches/0", {"results": [result_body()]})[0], 201)
        self.assertEqual(send("POST", "/finish", {"finished_at": FINISHED})[0], 200)
        rows = row_counts(database)
        status, body = send("PUT", "/batches/1", {"results": [result_body()]})
        self.assertEqual((status, body["error"]["code"]), (409, "run_finished"))
        self.assertEqual(send("PUT", "/batches/0", {"results": [result_body()]})[0], 200)
        self.assertEqual(send("POST", "/finish", {"finished_at": FINISHED})[0], 200)
        status, body = send("POST", "/finish", {"finished_at": "2026-11-25T16:00:09Z"})
        self.assertEqual((status, body["error"]["field"]), (409, "finished_at"))
        status, body = send("POST", "/finish", {"finished_at": "2026-11-25T15:00:00Z"})
        self.assertEqual((status, body["error"]["field"]), (400, "finished_at"))
        self.assertEqual(row_counts(database), rows)
        status, body = send("GET", "", None)
        self.assertEqual((body["run"]["duration"], body["run"]["counts"]["total"]), (2.5, 1))
