"""Engines for one database: a single writer and a pool of readers.

Everything that differs between SQLite and PostgreSQL in how connections are
made lives here.

SQLite gets WAL (readers never block the writer), a busy timeout, and
``BEGIN IMMEDIATE`` on the writer, so a write takes the lock up front instead
of failing half-way with "database is locked".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from seedboard.errors import UnusableDatabase

BUSY_TIMEOUT_MS = 30_000

LOG_LIMIT_PAGES = 8192
"""With background checkpoints, the log's size (32 MiB of 4 KiB pages) past which the
writer's own commit checkpoints too.  A background checkpoint runs while writes go on,
and SQLite starts the log again from its beginning only when a write begins with the
log copied whole; under a steady stream of writes that may never happen, and the log
would grow without end.  The writer copies just what the background left, between
two of its writes, so the next write starts the log afresh."""

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True)
class Database:
    """A database as two engines; store functions run on a connection of either.

    Calls block: the server runs them on its thread pools, the reporter and
    the command line call them directly.
    """

    reader: Engine
    writer: Engine
    background_checkpoints: bool = False
    """Whether the caller copies SQLite's write-ahead log into the database file
    (``checkpoint``) off the writer's path, instead of the commit that fills it
    (the writer still does past ``LOG_LIMIT_PAGES``)."""

    def read(self, fn: Callable[Concatenate[Connection, P], T], *a: P.args, **k: P.kwargs) -> T:
        with self.reader.connect() as conn:
            return fn(conn, *a, **k)

    def write(self, fn: Callable[Concatenate[Connection, P], T], *a: P.args, **k: P.kwargs) -> T:
        with self.writer.begin() as conn:
            return fn(conn, *a, **k)

    @property
    def is_sqlite(self) -> bool:
        return self.writer.dialect.name == "sqlite"

    @property
    def single_connection(self) -> bool:
        """True for in-memory SQLite, which exists only on its one connection."""
        return self.reader is self.writer

    def checkpoint(self) -> None:
        """Copy what SQLite's write-ahead log holds into the database file, as far as
        readers allow, without waiting for them or blocking the writer."""
        with self.reader.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def dispose(self) -> None:
        self.reader.dispose()
        self.writer.dispose()


POSTGRES_DRIVER = "postgresql+psycopg"
"""Seedboard talks to PostgreSQL through psycopg 3 (the ``postgresql`` extra)."""


def open_database(url: str, background_checkpoints: bool = False) -> Database:
    """The database at ``url``.  With ``background_checkpoints`` a SQLite file's writer
    checkpoints its write-ahead log itself only past ``LOG_LIMIT_PAGES``: the caller
    must call ``checkpoint`` after writes (the server's pool does, on a thread of its own)."""
    parsed = usable_url(url)
    if parsed.get_backend_name() == "postgresql":
        return _postgres_database(parsed.set(drivername=POSTGRES_DRIVER))
    if parsed.database in (None, "", ":memory:"):
        engine = _sqlite_engine(
            url, immediate=True, poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
        return Database(reader=engine, writer=engine)
    return Database(
        reader=_sqlite_engine(url, immediate=False),
        writer=_sqlite_engine(
            url,
            immediate=True,
            autocheckpoint=not background_checkpoints,
            pool_size=1,
            max_overflow=0,
        ),
        background_checkpoints=background_checkpoints,
    )


_WHAT_TO_GIVE = "give a file path, sqlite:///PATH or postgresql://USER@HOST/NAME"


def usable_url(url: str) -> URL:
    """``url`` parsed, if seedboard can store into it: SQLite, or PostgreSQL with psycopg.

    Raises ``UnusableDatabase`` otherwise, rather than leaving SQLAlchemy to fail
    later with a driver's traceback.
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise UnusableDatabase(f"{url!r} is not a database URL: {_WHAT_TO_GIVE}") from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise UnusableDatabase(
                "PostgreSQL needs the psycopg driver: pip install 'seedboard[postgresql]'"
            ) from None
    elif backend != "sqlite":
        raise UnusableDatabase(
            f"seedboard stores into SQLite or PostgreSQL, not {backend}: {_WHAT_TO_GIVE}"
        )
    return parsed


def _postgres_database(url: URL) -> Database:
    # pre_ping: a server restarted behind a long-lived process costs one retry, not an error page.
    return Database(
        reader=create_engine(url, pool_pre_ping=True),
        writer=create_engine(url, pool_pre_ping=True, pool_size=1, max_overflow=0),
    )


def _sqlite_engine(
    url: str, immediate: bool, autocheckpoint: bool = True, **options: Any
) -> Engine:
    engine = create_engine(url, **options)
    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine, "connect")
    def configure(dbapi_connection: Any, record: object) -> None:
        # Let SQLAlchemy's "begin" event, not the driver, start transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        if not autocheckpoint:
            # A commit that fills SQLite's default 1000 pages of log would copy it to
            # the file and sync both, on the writer's time: the pool's checkpoint
            # thread does it instead, and the writer only past a far larger log.
            cursor.execute(f"PRAGMA wal_autocheckpoint = {LOG_LIMIT_PAGES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def start(conn: Connection) -> None:
        conn.exec_driver_sql(begin)

    return engine
