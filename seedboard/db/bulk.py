"""Bulk writes at the driver's speed: the one place where the database's kind matters.

SQLAlchemy's Core ``insert`` given a list of dicts processes every row's
parameters in Python, which costs more than SQLite's own insert.  Here a
statement is compiled once per dialect and the rows go straight to the
driver's ``executemany``, converted only where a column's type converts
values on the way in (dates, on SQLite).  Looking up many names is a single statement with
one parameter on SQLite, and chunked ``IN (...)`` lists elsewhere.

Inserts that may meet a row another server process stored first say
``ON CONFLICT DO NOTHING`` (SQLite and PostgreSQL spell it alike), so several
workers writing one database never fail on each other's keys.  Plain inserts go to
PostgreSQL with ``COPY``, which it loads about twice as fast as an ``executemany``
(bench/README.md).  Statements that need nothing from each other go to PostgreSQL
together, in one round trip (``together``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from operator import itemgetter
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Dialect,
    Executable,
    Float,
    Insert,
    any_,
    bindparam,
    func,
    insert,
    select,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from seedboard.db.models import Base

if TYPE_CHECKING:
    import psycopg

CHUNK = 500
"""Names per ``IN (...)``: well under every database's bound-parameter limit."""

Row = tuple[Any, ...]
_Column = ColumnElement[Any] | InstrumentedAttribute[Any]


def insert_rows(
    conn: Connection,
    model: type[Base],
    columns: tuple[str, ...],
    rows: list[Row],
    skip_existing: bool = False,
) -> None:
    """Insert ``rows`` (values in the order of ``columns``) with one ``executemany``.

    With ``skip_existing``, a row whose unique key is taken already is left out
    instead of failing.
    """
    if not rows:
        return
    if conn.dialect.name == "postgresql" and not skip_existing:
        _copy(conn, model, columns, rows)
        return
    key = ("skip",) if skip_existing else ()
    _execute_many(conn, _statement(conn.dialect, model, columns, key), rows)


def _copy(conn: Connection, model: type[Base], columns: tuple[str, ...], rows: list[Row]) -> None:
    """Insert ``rows`` into PostgreSQL with ``COPY ... FROM STDIN`` on psycopg's cursor.

    The rows' values go to psycopg as they are: no column of a copied table converts
    values on the way in (checked here, so a new column that would cannot slip by).
    """
    assert not _statement(conn.dialect, model, columns, ()).processors, "COPY converts nothing"
    quote = conn.dialect.identifier_preparer.quote
    sql = f"COPY {quote(model.__tablename__)} ({', '.join(map(quote, columns))}) FROM STDIN"
    with _psycopg(conn, sql) as driver, driver.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


@contextmanager
def _psycopg(conn: Connection, sql: str) -> Iterator[psycopg.Connection[Any]]:
    """``conn``'s psycopg connection, to run ``sql`` on; psycopg's errors are raised as
    SQLAlchemy's, as ``exec_driver_sql`` raises them, so that storage trouble is told
    apart the same way (``seedboard.db.trouble``)."""
    import psycopg

    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection), "PostgreSQL is reached through psycopg"
    try:
        yield driver
    except psycopg.Error as error:
        raise DBAPIError.instance(sql, None, error, psycopg.Error, dialect=conn.dialect) from error


def insert_new(conn: Connection, model: type[Base], values: dict[str, Any]) -> bool:
    """Insert one row unless its key is taken (by this process or another); True if inserted."""
    statement = _insert_new(conn.dialect, model, tuple(values))
    return conn.execute(statement, values).first() is not None


def claiming(conn: Connection, model: type[Base], values: dict[str, Any]) -> Call:
    """``insert_new`` as a statement to run ``together`` with others: it returns a row
    if inserted, none if the key was taken."""
    return Call(_insert_new(conn.dialect, model, tuple(values)), values)


@cache
def _insert_new(dialect: Dialect, model: type[Base], columns: tuple[str, ...]) -> Insert:
    """``insert_new``'s statement, built once: a batch's store runs it every time."""
    key = sa_inspect(model).primary_key[0]
    values: dict[str, Any] = {name: bindparam(name) for name in columns}
    # RETURNING, not rowcount: drivers disagree on the rowcount of an insert that returns keys.
    return _insert(dialect, model, skip_existing=True).values(values).returning(key)


@dataclass(frozen=True, slots=True)
class _DriverStatement:
    """An insert compiled once for the driver, and how to turn rows into its parameters."""

    sql: str
    columns: tuple[str, ...]
    order: tuple[int, ...] | None
    """For positional parameters, the index in ``columns`` of each; None for named ones."""
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]
    """(index in ``columns``, bind conversion) of the columns whose type converts values."""


def _execute_many(conn: Connection, statement: _DriverStatement, rows: list[Row]) -> None:
    """Run ``statement`` once per row through the driver's ``executemany``.

    Only the columns whose type converts values on the way in (a date to SQLite's
    text, say) are converted, each distinct value once; the rest reach the driver
    as they are.  ``exec_driver_sql`` keeps SQLAlchemy's error handling.
    """
    if statement.processors:
        rows = _converted(rows, statement.processors)
    if statement.order is None:
        names = statement.columns
        conn.exec_driver_sql(statement.sql, [dict(zip(names, row, strict=True)) for row in rows])
    elif statement.order == tuple(range(len(statement.columns))):
        conn.exec_driver_sql(statement.sql, rows)
    else:
        reorder = itemgetter(*statement.order)
        conn.exec_driver_sql(statement.sql, [reorder(row) for row in rows])


def _converted(
    rows: list[Row], processors: tuple[tuple[int, Callable[[Any], Any]], ...]
) -> list[Row]:
    columns = list(zip(*rows, strict=True))
    for index, process in processors:
        # Rows share few distinct values of a converted column (the day of a run).
        values = columns[index]
        converted = {value: process(value) for value in set(values) if value is not None}
        converted[None] = None
        columns[index] = tuple(map(converted.__getitem__, values))
    return list(zip(*columns, strict=True))


@cache
def _statement(
    dialect: Dialect, model: type[Base], columns: tuple[str, ...], kind: tuple[Any, ...]
) -> _DriverStatement:
    """The insert of ``columns`` for the driver: plain (``()``), or skipping taken keys
    (``("skip",)``)."""
    statement = _insert(dialect, model, skip_existing=bool(kind))
    compiled = statement.compile(dialect=dialect, column_keys=list(columns))
    table = model.__table__
    # Float's conversion only turns a Decimal into a float; seedboard's floats are
    # floats already, and converting a batch's durations cost more than inserting them.
    processors = tuple(
        (index, process)
        for index, name in enumerate(columns)
        if not isinstance(table.c[name].type, Float)
        and (process := table.c[name].type._cached_bind_processor(dialect)) is not None
    )
    order = (
        tuple(columns.index(name) for name in compiled.positiontup or ())
        if compiled.positional
        else None
    )
    return _DriverStatement(str(compiled), columns, order, processors)


def _insert(dialect: Dialect, model: type[Base], skip_existing: bool) -> Insert:
    if not skip_existing:
        return insert(model)
    return dialect_insert(dialect, model).on_conflict_do_nothing()


def dialect_insert(dialect: Dialect, model: type[Base]) -> postgresql.Insert | sqlite.Insert:
    """The insert that knows ``ON CONFLICT``, which SQLite and PostgreSQL both speak."""
    if dialect.name == "postgresql":
        return postgresql.insert(model)
    if dialect.name == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"seedboard stores into SQLite or PostgreSQL, not {dialect.name}")


def rows_by_key(
    conn: Connection, key: _Column, values: Sequence[object], *wanted: _Column
) -> list[Row]:
    """The ``wanted`` columns of the rows whose ``key`` is one of ``values``."""
    if not values:
        return []
    array = json.dumps(values) if conn.dialect.name == "sqlite" else None
    # SQLite's JSON functions cut text at a NUL, so values holding one (written
    # \u0000 in JSON; a value spelling that out is merely sent the long way too) are
    # looked up by an IN list.
    if array is not None and "\\u0000" not in array:
        # One parameter holding every value as a JSON array: one statement, and no
        # IN list to render, which for a thousand names costs more than the lookup.
        # The driver's own cursor: plain tuples, without building a Row for each.
        statement = _json_lookup(conn.dialect, key, wanted)
        driver = conn.connection.driver_connection
        assert driver is not None, "a connection in use has its driver's connection"
        return cast(list[Row], driver.execute(statement, (array,)).fetchall())
    if conn.dialect.name == "postgresql":
        # One array parameter: rendering an IN list of a thousand parameters, and
        # psycopg splitting it up again, cost forty times the lookup itself.
        return _driver_execute(conn, _array_lookup(conn.dialect, key, wanted), list(values))
    rows = [
        row
        for start in range(0, len(values), CHUNK)
        for row in conn.execute(select(*wanted).where(key.in_(values[start : start + CHUNK])))
    ]
    # Rows unpack as tuples do, which is all callers need.
    return cast(list[Row], rows)


def lookup(conn: Connection, key: _Column, values: Sequence[object], *wanted: _Column) -> Call:
    """``rows_by_key`` on PostgreSQL as a ``Call``, to run ``together`` with others."""
    return Call(_array_lookup(conn.dialect, key, wanted), {"values": list(values)})


@cache
def _array_lookup(dialect: Dialect, key: _Column, wanted: tuple[_Column, ...]) -> str:
    """PostgreSQL's SQL for ``rows_by_key``, taking the values as one array in binary.

    Binary (psycopg's ``%b``), because in text psycopg quotes every element through
    a regular expression: that cost more than the lookup itself (bench/README.md).
    """
    values = bindparam("values", type_=postgresql.ARRAY(key.type))
    sql = str(select(*wanted).where(key == any_(values)).compile(dialect=dialect))
    assert sql.count("%(values)s") == 1, sql
    return sql.replace("%(values)s", "%(values)b")


def _driver_execute(conn: Connection, sql: str, values: list[Any]) -> list[Row]:
    """``sql``'s rows, run with ``values`` on psycopg's own cursor: plain tuples,
    without a Row built for each."""
    with _psycopg(conn, sql) as driver:
        return driver.execute(sql, {"values": values}).fetchall()


@cache
def _json_lookup(dialect: Dialect, key: _Column, wanted: tuple[_Column, ...]) -> str:
    """SQLite's SQL for ``rows_by_key``, taking the values as one JSON array."""
    array = select(func.json_each(bindparam("values")).table_valued("value").c.value)
    return str(select(*wanted).where(key.in_(array)).compile(dialect=dialect))


@dataclass(frozen=True, slots=True)
class Call:
    """A statement and its parameters, to run ``together`` with others: a SQLAlchemy
    statement, or PostgreSQL's SQL for psycopg as ``lookup`` writes it."""

    statement: Executable | str
    parameters: dict[str, Any]


def together(
    conn: Connection, calls: Sequence[Call], done: list[list[Row]] | None = None
) -> list[list[Row]]:
    """Run ``calls`` in order in ``conn``'s transaction; the rows each returned.

    On PostgreSQL they go in one round trip (psycopg's pipeline mode): each sent and
    waited for alone cost a batch more than its own work (bench/README.md).  Elsewhere
    they run one by one.  A failing statement's error is raised as SQLAlchemy raises
    it; those after it are not run, and ``done``, if given, holds the rows of those
    before it.
    """
    done = [] if done is None else done
    if conn.dialect.name == "postgresql":
        _pipelined(conn, calls, done)
        return done
    for call in calls:
        assert not isinstance(call.statement, str), "driver SQL is written for PostgreSQL"
        result = conn.execute(call.statement, call.parameters)
        done.append(cast(list[Row], result.all() if result.returns_rows else []))
    return done


def _pipelined(conn: Connection, calls: Sequence[Call], done: list[list[Row]]) -> None:
    import psycopg

    prepared = [_prepare(conn.dialect, call.statement) for call in calls]
    cursors: list[psycopg.Cursor[Row]] = []
    with _psycopg(conn, ";\n".join(p.sql for p in prepared)) as driver:
        try:
            # Leaving the pipeline sends its one sync and waits for every result.
            with driver.pipeline():
                for statement, call in zip(prepared, calls, strict=True):
                    cursors.append(driver.execute(statement.sql, statement.bound(call.parameters)))
        finally:
            # After a failure, the statements before the failing one still have their rows.
            for statement, cursor in zip(prepared, cursors, strict=False):
                result = cursor.pgresult
                if result is None or result.status == psycopg.pq.ExecStatus.FATAL_ERROR:
                    break
                done.append(statement.rows(cursor))


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A statement compiled once for psycopg, with what SQLAlchemy would convert."""

    sql: str
    defaults: dict[str, Any]
    """Values the statement binds itself (``count + 1``'s one)."""
    binds: tuple[tuple[str, Callable[[Any], Any]], ...]
    """(name, conversion) of the parameters whose type converts values on the way in."""
    results: tuple[Callable[[Any], Any] | None, ...] | None
    """Each column's conversion on the way out, None if no column converts."""

    def bound(self, parameters: dict[str, Any]) -> dict[str, Any]:
        values = {**self.defaults, **parameters}
        for name, process in self.binds:
            values[name] = process(values[name])
        return values

    def rows(self, cursor: Any) -> list[Row]:
        if cursor.description is None:
            return []
        rows: list[Row] = cursor.fetchall()
        if self.results is None:
            return rows
        processors = self.results
        return [
            tuple(v if p is None else p(v) for p, v in zip(processors, row, strict=True))
            for row in rows
        ]


@cache
def _prepare(dialect: Dialect, statement: Executable | str) -> _Prepared:
    if isinstance(statement, str):
        return _Prepared(statement, {}, (), None)
    # As for an executemany: without the RETURNING of new keys that SQLAlchemy adds for
    # itself to a single insert, which nothing here reads.
    compiled = cast(ClauseElement, statement).compile(dialect=dialect, for_executemany=True)
    assert isinstance(compiled, SQLCompiler) and not compiled.positional, "psycopg's %(name)s"
    names = compiled.bind_names
    binds = tuple(
        (names[bind], process)
        for bind in names
        if (process := bind.type._cached_bind_processor(dialect)) is not None
    )
    defaults = {name: value for name, value in compiled.params.items() if value is not None}
    processors = tuple(
        column.type._cached_result_processor(dialect, None) for column in compiled._result_columns
    )
    results = processors if any(p is not None for p in processors) else None
    return _Prepared(str(compiled), defaults, binds, results)
