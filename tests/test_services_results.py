"""Tests for storing results: failures are fingerprinted on the way in."""

from __future__ import annotations

from datetime import UTC, datetime

from twisted.trial.unittest import SynchronousTestCase

from seedboard.db import runs
from seedboard.db.batches import batch_numbers
from seedboard.domain import Outcome, Result, ResultColumns
from seedboard.services.results import add_batch, add_results, fingerprinted
from seedboard.triage.fingerprint import fingerprint
from tests.support import result, run_start, temporary_database

NOW = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)


def expected_print(failed: Result) -> str:
    return fingerprint(failed.exception_type, failed.message, failed.traceback)


class FingerprintedTests(SynchronousTestCase):
    def test_failures_only(self) -> None:
        """Failures, errors and unexpected successes get a fingerprint; the rest none."""
        given = [result(f"t.{outcome.value}", outcome, message="boom") for outcome in Outcome]
        columns = fingerprinted(given)
        prints = dict(zip(columns.outcome, columns.fingerprint or [], strict=True))
        for outcome in Outcome:
            if outcome.is_bad:
                self.assertEqual(
                    prints[outcome], expected_print(given[list(Outcome).index(outcome)])
                )
            else:
                self.assertIsNone(prints[outcome], outcome)

    def test_given_prints_replaced(self) -> None:
        """A fingerprint sent along is replaced by the server's, so all group alike."""
        sent = result("t.a", Outcome.FAILURE, fingerprint="ffffffffffffffff")
        self.assertEqual(fingerprinted([sent]).fingerprint, [expected_print(sent)])

    def test_columns_too(self) -> None:
        """Columns, as a batch is parsed, are fingerprinted alike and otherwise kept."""
        given = [result("t.a"), result("t.b", Outcome.ERROR)]
        columns = ResultColumns.of(given)
        done = fingerprinted(columns)
        self.assertEqual(done.test_id, columns.test_id)
        self.assertEqual(done.fingerprint, [None, expected_print(given[1])])


class AddResultsTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.db = temporary_database(self)
        self.start = run_start()
        self.db.write(runs.create_run, self.start)

    def stored(self) -> list[Result]:
        detail = self.db.read(runs.get_run, self.start.id)
        assert detail is not None
        return detail.results

    def test_results_stored_fingerprinted(self) -> None:
        """Added results are stored with their failures' fingerprints."""
        failed = result("t.b", Outcome.FAILURE)
        self.db.write(add_results, self.start.id, [result("t.a"), failed])
        self.assertEqual([r.fingerprint for r in self.stored()], [expected_print(failed), None])

    def test_batch_stored_fingerprinted(self) -> None:
        """A batch is stored once, by number, with its failures' fingerprints."""
        failed = result("t.b", Outcome.ERROR)
        self.assertTrue(self.db.write(add_batch, self.start.id, 0, [failed], NOW))
        self.assertFalse(self.db.write(add_batch, self.start.id, 0, [failed], NOW))
        self.assertEqual([r.fingerprint for r in self.stored()], [expected_print(failed)])
        self.assertEqual(self.db.read(batch_numbers, self.start.id), [0])

    def test_unknown_run(self) -> None:
        """Results for a run never created are refused."""
        self.assertRaises(runs.UnknownRun, self.db.write, add_results, "nope", [result()])
        self.assertRaises(runs.UnknownRun, self.db.write, add_batch, "nope", 0, [result()], NOW)
