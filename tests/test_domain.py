"""Tests for the domain's records: a result's fields are declared once, on ``Result``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import MISSING, fields
from datetime import timedelta
from types import GenericAlias
from typing import get_type_hints

from twisted.trial.unittest import SynchronousTestCase

from seedboard.domain import (
    RESULT_FIELDS,
    Outcome,
    OutcomeCounts,
    Result,
    ResultColumns,
    RunSummary,
)
from tests.support import result, run_start

_MAY_BE_LEFT_OUT = ("position", "fingerprint")


class ResultFieldsTests(SynchronousTestCase):
    def test_names_in_order(self) -> None:
        """RESULT_FIELDS names Result's fields in their declared order."""
        self.assertEqual(RESULT_FIELDS, tuple(f.name for f in fields(Result)))

    def test_columns_mirror_result(self) -> None:
        """ResultColumns has one column per field of Result, by the same names in the same
        order, each a sequence of that field's type (fingerprints and positions may be left
        out)."""
        self.assertEqual(tuple(f.name for f in fields(ResultColumns)), RESULT_FIELDS)
        single, columns = get_type_hints(Result), get_type_hints(ResultColumns)
        for name in RESULT_FIELDS:
            column = GenericAlias(Sequence, (single[name],))
            expected = column | None if name in _MAY_BE_LEFT_OUT else column
            self.assertEqual(columns[name], expected, name)

    def test_only_fingerprints_and_positions_may_be_left_out(self) -> None:
        """Every column must be given but the fingerprint, which the server computes, and
        the position, which older reporters do not send."""
        optional = [f.name for f in fields(ResultColumns) if f.default is not MISSING]
        self.assertEqual(optional, list(_MAY_BE_LEFT_OUT))


class ResultColumnsTests(SynchronousTestCase):
    def test_round_trip(self) -> None:
        """Records made columns and back are equal, fingerprints included."""
        records = [
            result("a.T.test_1", line=3),
            result("a.T.test_2", Outcome.FAILURE, seed=5, fingerprint="0123456789abcdef"),
        ]
        columns = ResultColumns.of(records)
        self.assertEqual(len(columns), 2)
        self.assertEqual(columns.fingerprint, [None, "0123456789abcdef"])
        self.assertEqual(columns.records(), records)

    def test_without_fingerprints(self) -> None:
        """Columns given without fingerprints, as a batch is parsed, read as records without."""
        records = [result("a.T.test_1"), result("a.T.test_2", Outcome.ERROR)]
        given = [getattr(ResultColumns.of(records), name) for name in RESULT_FIELDS[:-2]]
        columns = ResultColumns(*given)
        self.assertIsNone(columns.fingerprint)
        self.assertEqual(columns.records(), records)

    def test_positions_round_trip(self) -> None:
        """Positions cross to columns and back with their results."""
        records = [result("a.T.test_1", position=0), result("a.T.test_2", position=1)]
        columns = ResultColumns.of(records)
        self.assertEqual(columns.position, [0, 1])
        self.assertEqual(columns.records(), records)

    def test_empty(self) -> None:
        """No results make empty columns, and no records."""
        columns = ResultColumns.of([])
        self.assertEqual(len(columns), 0)
        self.assertEqual(columns.records(), [])


class RunSummaryTests(SynchronousTestCase):
    def test_duration(self) -> None:
        """A run's duration is finish less start; none while unfinished, and none for a
        run stored (before finishes were checked) as ending before it began."""
        start = run_start()
        later = start.started_at + timedelta(seconds=2.5)
        earlier = start.started_at - timedelta(days=3)
        self.assertEqual(RunSummary(start, later, OutcomeCounts()).duration, 2.5)
        self.assertIsNone(RunSummary(start, None, OutcomeCounts()).duration)
        self.assertIsNone(RunSummary(start, earlier, OutcomeCounts()).duration)
