"""Tests for deleting runs: the store keeps aggregates and the changes count right, the
API and the run page's button need a token or a login, the command deletes."""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select
from twisted.trial.unittest import SynchronousTestCase

from seedboard.db import aggregates
from seedboard.db.changes import change_count
from seedboard.db.deletes import delete_run
from seedboard.db.engine import open_database
from seedboard.db.migrate import ensure_schema
from seedboard.db.models import Result, Run, Test
from seedboard.db.runs import create_run, get_run, store_results
from seedboard.domain import Outcome
from seedboard.web import auth
from tests.support import (
    database_url,
    record_run,
    result,
    run_start,
    seedboard_command,
    temporary_database,
)
from tests.test_aggregates import stored_days
from tests.test_auth import PrivateCase

DAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def stored_test_names(conn: Connection) -> list[str]:
    return sorted(conn.execute(select(Test.name)).scalars())


def stored_results(conn: Connection) -> int:
    return conn.execute(select(func.count(Result.id))).scalar_one()


def orphan_results(conn: Connection) -> int:
    """Results whose run or test is gone: on PostgreSQL no foreign key refuses them."""
    no_run = ~select(Run.key).where(Run.key == Result.run_key).exists()
    no_test = ~select(Test.id).where(Test.id == Result.test_id).exists()
    return conn.execute(select(func.count()).where(no_run | no_test)).scalar_one()


def rebuilt_days(conn: Connection) -> list[tuple[Any, ...]]:
    """The aggregates as a recount from the results makes them (rolled back after)."""
    nested = conn.begin_nested()
    aggregates.rebuild(conn)
    days = stored_days(conn)
    nested.rollback()
    return days


class DeleteRunStoreTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.db = temporary_database(self)
        later = DAY + timedelta(hours=1)
        self.kept = record_run(
            self.db,
            [result("t.a"), result("t.b", Outcome.FAILURE)],
            run_start(started_at=DAY),
        )
        self.gone = record_run(
            self.db,
            [result("t.a", Outcome.FAILURE), result("t.only_here", Outcome.ERROR)],
            run_start(started_at=later),
        )
        self.replayed = record_run(
            self.db,
            [result("t.b", Outcome.FAILURE), result("nosuch.test", Outcome.ERROR)],
            run_start(started_at=later, is_replay=True),
        )
        self.other_branch = record_run(
            self.db, [result("t.a", Outcome.SKIP)], run_start(started_at=later, branch="dev")
        )

    def test_delete_recounts_its_day(self) -> None:
        """After a delete the per-test days are what a recount of the results gives."""
        self.assertTrue(self.db.write(delete_run, self.gone.id))
        self.assertEqual(self.db.read(stored_days), self.db.read(rebuilt_days))
        self.assertEqual(
            self.db.read(stored_days),
            [
                ("t.a", DAY.date(), "dev", 0, 0),
                ("t.a", DAY.date(), "main", 1, 0),
                ("t.b", DAY.date(), "main", 0, 1),
            ],
        )
        self.assertIsNone(self.db.read(get_run, self.gone.id))

    def test_delete_forgets_tests_only_it_ran(self) -> None:
        """A test no remaining result names is gone; the others stay, and every result
        left has its run and its test."""
        results = self.db.read(stored_results)
        self.db.write(delete_run, self.gone.id)
        self.db.write(delete_run, self.replayed.id)
        self.assertEqual(self.db.read(stored_test_names), ["t.a", "t.b"])
        left = self.db.read(stored_results)
        self.assertEqual((left, self.db.read(orphan_results)), (results - 4, 0))

    def test_delete_waits_for_a_batch_being_stored(self) -> None:
        """A delete that would drop a test waits for a batch of another run, naming that
        test, to commit, and keeps the test: no result is left pointing at nothing."""
        # A replay: its results are not counted per day, so it locks no row the delete
        # also writes, and only the delete's own lock can hold it back.
        other = run_start(started_at=DAY, is_replay=True)
        self.db.write(create_run, other)
        storer = open_database(self.db.writer.url.render_as_string(hide_password=False))
        self.addCleanup(storer.dispose)
        with storer.writer.connect() as conn:
            transaction = conn.begin()
            store_results(conn, other.id, [result("t.only_here")])
            deleting = threading.Thread(target=self.db.write, args=(delete_run, self.gone.id))
            deleting.start()
            time.sleep(0.5)  # the delete's chance to drop the test while the batch is open
            transaction.commit()
        deleting.join(30)
        self.assertFalse(deleting.is_alive())
        self.assertIsNone(self.db.read(get_run, self.gone.id))
        self.assertIn("t.only_here", self.db.read(stored_test_names))
        self.assertEqual(self.db.read(orphan_results), 0)

    def test_delete_keeps_tests_a_replay_names(self) -> None:
        """A test whose only results left are a replay's (which no day counts) stays."""
        self.db.write(delete_run, self.kept.id)
        self.assertEqual(
            self.db.read(stored_test_names), ["nosuch.test", "t.a", "t.b", "t.only_here"]
        )
        self.db.write(delete_run, self.replayed.id)
        self.assertEqual(self.db.read(stored_test_names), ["t.a", "t.only_here"])

    def test_delete_replay_leaves_counts(self) -> None:
        """Deleting a replay (never counted) leaves the aggregates as they were."""
        before = self.db.read(stored_days)
        self.db.write(delete_run, self.replayed.id)
        self.assertEqual(self.db.read(stored_days), before)

    def test_delete_moves_the_change_count(self) -> None:
        """A delete moves the changes count, so no cached page outlives it; an unknown id
        changes nothing and answers False."""
        before = self.db.read(change_count)
        self.assertTrue(self.db.write(delete_run, self.other_branch.id))
        self.assertGreater(self.db.read(change_count), before)
        after = self.db.read(change_count)
        self.assertFalse(self.db.write(delete_run, "0" * 32))
        self.assertEqual(self.db.read(change_count), after)
        self.assertEqual(self.db.read(stored_days), self.db.read(rebuilt_days))


class DeleteWebTests(PrivateCase):
    def test_api_needs_a_token(self) -> None:
        """DELETE without a valid token is a 401 and deletes nothing."""
        for headers in ({}, self.bearer("not-a-token")):
            self.assertEqual(
                self.request("DELETE", f"/api/v1/runs/{self.run_id}", headers).status, 401
            )
        self.assertEqual(
            self.request("GET", f"/api/v1/runs/{self.run_id}", self.bearer()).status, 200
        )

    def test_api_deletes(self) -> None:
        """DELETE with a token deletes the run; the same again, or an unknown id, is a 404."""
        path = f"/api/v1/runs/{self.run_id}"
        deleted = self.request("DELETE", path, self.bearer())
        self.assertEqual(
            (deleted.status, deleted.body), (200, {"run": self.run_id, "deleted": True})
        )
        self.assertEqual(self.request("GET", path, self.bearer()).status, 404)
        again = self.request("DELETE", path, self.bearer())
        self.assertEqual((again.status, again.body["error"]["code"]), (404, "not_found"))
        malformed = self.request("DELETE", "/api/v1/runs/not-a-run-id", self.bearer())
        self.assertEqual((malformed.status, malformed.body["error"]["field"]), (400, "run_id"))

    def test_button_for_logged_in_only(self) -> None:
        """The run page has a delete form, with the session's CSRF secret, only when
        logged in."""
        with_token = self.request("GET", f"/runs/{self.run_id}", self.bearer())
        self.assertNotIn(b"/delete", with_token.body)
        page = self.request("GET", f"/runs/{self.run_id}", self.with_session(self.session_cookie()))
        self.assertRegex(
            page.body.decode(),
            rf'action="/runs/{self.run_id}/delete"[^>]*>\s*<input type="hidden" name="csrf"',
        )

    def test_button_needs_csrf(self) -> None:
        """A delete form without the session's secret, or without a session, is a 403 and
        deletes nothing."""
        session = self.session_cookie()
        path = f"/runs/{self.run_id}/delete"
        for fields, cookies in (
            ({}, {auth.SESSION_COOKIE: session}),
            ({"csrf": "forged"}, {auth.SESSION_COOKIE: session}),
            ({"csrf": "x"}, {}),
        ):
            self.assertEqual(self.post_form(path, fields, cookies).status, 403)
        self.assertEqual(
            self.request("GET", f"/api/v1/runs/{self.run_id}", self.bearer()).status, 200
        )

    def test_button_deletes(self) -> None:
        """The form with the session's secret deletes the run and goes to the runs list."""
        session = self.session_cookie()
        page = self.request("GET", f"/runs/{self.run_id}", self.with_session(session))
        [csrf] = re.findall(rb'/delete".*?name="csrf" value="([^"]+)"', page.body, re.S)
        done = self.post_form(
            f"/runs/{self.run_id}/delete", {"csrf": csrf.decode()}, {auth.SESSION_COOKIE: session}
        )
        self.assertEqual((done.status, done.header("location")), (303, ["/"]))
        self.assertEqual(
            self.request("GET", f"/api/v1/runs/{self.run_id}", self.bearer()).status, 404
        )


class DeleteCommandTests(SynchronousTestCase):
    def test_runs_delete_on_database(self) -> None:
        """``seedboard runs delete`` deletes the runs named from --db; an unknown id is one
        line on stderr and exit status 1."""
        url = database_url(self)
        database = open_database(url)
        self.addCleanup(database.dispose)
        ensure_schema(database)
        first = record_run(database, [result("t.a", Outcome.ERROR)])
        second = record_run(database, [result("t.a")])
        cwd = Path(self.mktemp())
        cwd.mkdir()
        done = seedboard_command(cwd, url, "runs", "delete", first.id)
        self.assertEqual((done.returncode, done.stderr), (0, ""))
        self.assertIn(f"seedboard: deleted run {first.id} from ", done.stdout)
        self.assertIsNone(database.read(get_run, first.id))
        self.assertIsNotNone(database.read(get_run, second.id))
        missing = seedboard_command(cwd, url, "runs", "delete", first.id)
        self.assertEqual(missing.returncode, 1)
        self.assertEqual(missing.stderr, f"seedboard: no run with id {first.id!r}\n")
