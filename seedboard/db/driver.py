"""Statements run on SQLite's own cursor, for the few a batch or a write's token check
runs every time: SQLAlchemy's execution around them, and the rows it builds, cost
more than SQLite's work on them (bench/README.md, "the server's overhead around
SQLite's statements")."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError


def sqlite_rows(conn: Connection, sql: str, parameters: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """``sql``'s rows as plain tuples, run with ``parameters`` on ``conn``'s sqlite3
    connection, in its transaction; sqlite3's errors are raised as SQLAlchemy's, as
    ``conn.execute`` raises them, so that storage trouble is told apart alike
    (``seedboard.db.trouble``)."""
    driver = conn.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection), "SQLite is reached through sqlite3"
    try:
        return driver.execute(sql, parameters).fetchall()
    except sqlite3.Error as error:
        raise DBAPIError.instance(sql, None, error, sqlite3.Error, dialect=conn.dialect) from error
