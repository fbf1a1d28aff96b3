"""Tests for statements run on SQLite's own cursor (``seedboard.db.driver``)."""

from __future__ import annotations

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError
from twisted.trial.unittest import SynchronousTestCase

from seedboard.db.driver import sqlite_rows
from seedboard.db.trouble import storage_trouble
from tests.support import on_postgres, temporary_database


class SqliteRowsTests(SynchronousTestCase):
    def setUp(self) -> None:
        if on_postgres():
            raise self.skipTest("SQLite's cursor only")
        self.db = temporary_database(self)

    def test_rows_as_tuples(self) -> None:
        """Rows come back as plain tuples, in the writer's transaction."""

        def write_then_read(conn: Connection) -> list[tuple[object, ...]]:
            conn.exec_driver_sql("CREATE TABLE t (a INTEGER, b TEXT)")
            conn.exec_driver_sql("INSERT INTO t VALUES (1, 'x'), (2, 'y')")
            return sqlite_rows(conn, "SELECT a, b FROM t WHERE a > ? ORDER BY a", (0,))

        self.assertEqual(self.db.write(write_then_read), [(1, "x"), (2, "y")])

    def test_errors_are_sqlalchemys(self) -> None:
        """SQLite's errors are raised as SQLAlchemy's, which ``storage_trouble`` reads."""
        with self.assertRaises(OperationalError) as raised:
            self.db.read(sqlite_rows, "SELECT * FROM no_such_table", ())
        self.assertIn("no such table", str(raised.exception))
        self.assertIsNone(storage_trouble(raised.exception))  # no trouble a retry outlasts: a 500
