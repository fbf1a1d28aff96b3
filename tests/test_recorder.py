"""Tests for the recorder thread that hands results to a target in batches."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import get_type_hints
from uuid import uuid4

from twisted.trial.unittest import SynchronousTestCase

from seedboard.domain import Result
from seedboard_reporter.recorder import Receipt, Recorder, Row, RunFacts
from tests.support import result


class ListTarget:
    """Keeps what it is sent; can be told to fail at one step."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.fail_on = fail_on
        self.calls: list[tuple[str, object]] = []
        self.closed = False
        self.batch_written = threading.Event()

    def _call(self, name: str, value: object) -> None:
        if name == self.fail_on:
            raise OSError(f"disk on fire during {name}\nsecond line")
        self.calls.append((name, value))

    def create_run(self, facts: RunFacts) -> None:
        self._call("create_run", facts.run_id)

    def add_results(self, run_id: str, rows: list[Row]) -> None:
        self._call("add_results", len(rows))
        self.batch_written.set()

    def finish_run(self, run_id: str, finished_at: datetime) -> None:
        self._call("finish_run", finished_at)

    def close(self) -> None:
        self.closed = True


def run_facts(run_id: str | None = None) -> RunFacts:
    """What a reporter knows as a run starts; its source given, so git is not asked."""
    environ = {"SEEDBOARD_BRANCH": "main", "SEEDBOARD_COMMIT": "0123456789abcdef"}
    return RunFacts(
        run_id or uuid4().hex, datetime.now(UTC), environ, Path.cwd(), ["trial", "mypkg"], 7, None
    )


def row_of(result: Result) -> Row:
    """A result as the reporter hands it over."""
    values = {name: getattr(result, name) for name in Row._fields}
    return Row(**{**values, "outcome": result.outcome.value})


def recorder(target: ListTarget, **options: float) -> tuple[Recorder, RunFacts]:
    start = run_facts()
    made = Recorder(lambda: target, start, "test.db", **options)  # type: ignore[arg-type]
    made.start()
    return made, start


class RowTests(SynchronousTestCase):
    def test_fields_are_results(self) -> None:
        """A row's fields are Result's, in its order, less the fingerprint the store computes."""
        fields = [field.name for field in dataclasses.fields(Result)]
        self.assertEqual(list(Row._fields), [name for name in fields if name != "fingerprint"])

    def test_types_are_results(self) -> None:
        """Each field has Result's type, but the outcome: its plain value, not the enum."""
        result_types = get_type_hints(Result)
        for name, kind in get_type_hints(Row).items():
            self.assertEqual(kind, str if name == "outcome" else result_types[name], name)

    def test_row_of_a_result(self) -> None:
        """A row made from a result carries each of its values under the same name."""
        made = result(message="m", traceback="t", exception_type="E", seed=3)
        row = row_of(made)
        for name in Row._fields:
            expected = getattr(made, name)
            self.assertEqual(getattr(row, name), getattr(expected, "value", expected), name)


class RecorderTests(SynchronousTestCase):
    def test_batches_by_count(self) -> None:
        """Results go out in batches of batch_size, the rest with the finish."""
        target = ListTarget()
        made, start = recorder(target, batch_size=4, interval=60)
        for _ in range(10):
            made.add(row_of(result()))
        end = datetime.now(UTC)
        receipt = made.finish(end)
        self.assertEqual(
            target.calls,
            [
                ("create_run", start.run_id),
                ("add_results", 4),
                ("add_results", 4),
                ("add_results", 2),
                ("finish_run", end),
            ],
        )
        self.assertEqual(receipt, Receipt(start.run_id, "test.db", 10))
        self.assertTrue(target.closed)

    def test_batches_by_time(self) -> None:
        """A result waits at most about one interval before it is written."""
        target = ListTarget()
        made, _ = recorder(target, batch_size=1000, interval=0.05)
        made.add(row_of(result()))
        self.assertTrue(target.batch_written.wait(5))
        made.finish(datetime.now(UTC))
        self.assertEqual([c for c in target.calls if c[0] == "add_results"], [("add_results", 1)])

    def test_failure_is_one_line(self) -> None:
        """A target that fails is reported once, in one line, and closed."""
        for step in ("create_run", "add_results", "finish_run"):
            target = ListTarget(fail_on=step)
            made, _ = recorder(target, batch_size=1)
            made.add(row_of(result()))
            receipt = made.finish(datetime.now(UTC))
            self.assertEqual(receipt.error, f"OSError: disk on fire during {step}")
            self.assertEqual(
                receipt.line(),
                f"seedboard: warning: this run was not recorded in test.db: {receipt.error}",
            )
            self.assertTrue(target.closed)

    def test_target_that_cannot_open(self) -> None:
        """A target that cannot even open gives the same one-line warning."""

        def broken() -> ListTarget:
            raise PermissionError("read-only file system")

        made = Recorder(broken, run_facts(), "x.db")
        made.start()
        receipt = made.finish(datetime.now(UTC))
        self.assertEqual(receipt.error, "PermissionError: read-only file system")

    def test_reporter_failure_stops_recording(self) -> None:
        """fail() from the reporter wins over success and keeps the first reason."""
        target = ListTarget()
        made, _ = recorder(target)
        made.fail("first")
        made.fail("second")
        self.assertEqual(made.finish(datetime.now(UTC)).error, "first")
        self.assertNotIn("finish_run", [name for name, _ in target.calls])
