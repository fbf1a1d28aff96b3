"""Tests for reading rows as records by field name."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, literal, select
from twisted.trial.unittest import SynchronousTestCase

from seedboard.db.models import Test
from seedboard.db.rows import reading
from seedboard.domain import OUTCOME_OF, Outcome
from tests.support import temporary_database


@dataclass(frozen=True, slots=True)
class Pair:
    outcome: Outcome
    name: str


class ReadingTests(SynchronousTestCase):
    def test_columns_follow_fields(self) -> None:
        """Columns are selected in the record's field order, however they are given."""
        read = reading(Pair, {"name": Test.name, "outcome": Test.file})
        self.assertEqual(read.columns, (Test.file, Test.name))

    def test_records_converted(self) -> None:
        """Each row becomes a record, its converted fields converted."""
        read = reading(
            Pair, {"name": Test.name, "outcome": Test.file}, {"outcome": OUTCOME_OF.__getitem__}
        )
        rows = [("failure", "t.a"), ("skip", "t.b")]
        self.assertEqual(
            read.records(rows), [Pair(Outcome.FAILURE, "t.a"), Pair(Outcome.SKIP, "t.b")]
        )
        self.assertEqual(read.records([]), [])

    def test_every_field_needs_a_column(self) -> None:
        """A field without a column, a column without a field, or a conversion of no field
        is refused when the reading is made (at import), not when it is first read."""
        self.assertRaises(TypeError, reading, Pair, {"name": Test.name})
        self.assertRaises(
            TypeError, reading, Pair, {"name": Test.name, "outcome": Test.file, "x": Test.id}
        )
        self.assertRaises(
            TypeError, reading, Pair, {"name": Test.name, "outcome": Test.file}, {"x": str}
        )

    def test_reads_a_query(self) -> None:
        """A query of the reading's columns reads back as records."""
        read = reading(Pair, {"name": literal("t.a"), "outcome": literal("error")})
        database = temporary_database(self)

        def query(conn: Connection) -> list[Pair]:
            return read.records(conn.execute(select(*read.columns)))

        self.assertEqual(database.read(query), [Pair(Outcome.ERROR, "t.a")])
