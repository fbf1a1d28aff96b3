"""The schema, as SQLAlchemy 2 declarative models.

Alembic revisions under ``alembic/versions`` must produce exactly this; a test
compares the two so they cannot drift apart.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC without a zone (SQLite has none) and reads it back as aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: seedboard stores UTC only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


BAD_VALUES = ("failure", "error", "unexpected_success")
"""The bad outcomes written out: queries repeat them literally, in this order, so that
SQLite sees that their WHERE implies the partial index's."""
BAD_ONLY = text(" OR ".join(f"outcome = '{value}'" for value in BAD_VALUES))
"""The results with a bad outcome, as ``seedboard.domain.BAD_OUTCOMES`` names them.

Comparisons joined by OR, not ``outcome IN (...)``: SQLite checks an inserted row
against a partial index's WHERE, and for an IN list of more than two values it builds
a lookup table on every execution of the insert, once per row under ``executemany``
(about 2.7 µs a row, more than the rest of the partial index: bench/README.md)."""


RESULTS_BY_RUN = "ix_results_run_key_test_id_all"
"""SQLite's index of every result by (run, test); named apart from the partial index of
bad results on the same columns, which still finds a window's failures without
reading its passes."""


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Run(Base):
    """One trial invocation; outcome counts are kept up to date at ingest.

    Known to users by ``id``, its 32 hexadecimal characters; known to its results by
    ``key``, a small integer, so that every result and every index entry holds eight
    bytes instead of thirty-two (bench/README.md: a fifth to a quarter less CPU a result).
    """

    __tablename__ = "runs"

    key: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(32), unique=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    host: Mapped[str] = mapped_column(String(255))
    python_version: Mapped[str] = mapped_column(String(64))
    twisted_version: Mapped[str] = mapped_column(String(64))
    command: Mapped[str] = mapped_column(Text)
    order_seed: Mapped[int | None] = mapped_column(BigInteger)
    branch: Mapped[str | None] = mapped_column(String(255))
    commit: Mapped[str | None] = mapped_column(String(64))
    build_url: Mapped[str | None] = mapped_column(Text)
    run_seed: Mapped[int | None] = mapped_column(BigInteger)
    is_replay: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    success: Mapped[int] = mapped_column(Integer, default=0)
    failure: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[int] = mapped_column(Integer, default=0)
    skip: Mapped[int] = mapped_column(Integer, default=0)
    expected_failure: Mapped[int] = mapped_column(Integer, default=0)
    unexpected_success: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index(None, "started_at", "id"),)


class Test(Base):
    """A test id, stored once; results refer to it by number."""

    __tablename__ = "tests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    file: Mapped[str | None] = mapped_column(Text)
    line: Mapped[int | None] = mapped_column(Integer)


class Result(Base):
    """One test's result in one run.

    Its run and test are foreign keys on SQLite only (revision 0016): on PostgreSQL,
    checking both for every inserted row was two fifths of the database's work a
    result.  There the store keeps what they guaranteed: results are inserted under
    their run's row lock, which ``deletes.delete_run`` also takes, and it deletes the
    run's results itself; their tests are interned in the same transaction, under a
    lock that keeps ``delete_run`` from dropping a test meanwhile (``runs.share_tests``).
    """

    __tablename__ = "results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_key: Mapped[int] = mapped_column(Integer)
    test_id: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(32))
    duration: Mapped[float] = mapped_column(Float)
    seed: Mapped[int | None] = mapped_column(BigInteger)
    exception_type: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(Text)
    traceback: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int | None] = mapped_column(Integer)
    """Where the test ran in its run's order; NULL from reporters that did not send it."""
    fingerprint: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (
        ForeignKeyConstraint(["run_key"], ["runs.key"], ondelete="CASCADE").ddl_if(
            dialect="sqlite"
        ),
        ForeignKeyConstraint(["test_id"], ["tests.id"]).ddl_if(dialect="sqlite"),
        # SQLite: one index by run.  A batch's inserts then touch the few pages at its
        # run's end, where a (test_id, run_key) index had them touch one page per test,
        # about 4 MB of WAL a 1,000-result batch, more as the table grew (bench/README.md).
        # A test's history is read by walking runs and probing this index instead.
        Index(RESULTS_BY_RUN, "run_key", "test_id").ddl_if(dialect="sqlite"),
        # PostgreSQL keeps its indexes by test: they cost it little at ingest, and its
        # planner, which no CROSS JOIN steers, reads a test's history from them.
        Index(None, "run_key").ddl_if(dialect="postgresql"),
        Index(None, "test_id", "run_key").ddl_if(dialect="postgresql"),
        # Failures are few: a partial index finds a window's failing tests without
        # reading every result of the window.  On SQLite it is made after the full one
        # (alembic 0015): its planner, finding both as good, takes the one made last.
        Index(None, "run_key", "test_id", sqlite_where=BAD_ONLY, postgresql_where=BAD_ONLY),
    )


class OrderDependency(Base):
    """A test found to fail because another ran before it (``seedboard bisect``)."""

    __tablename__ = "order_dependencies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    victim_id: Mapped[int] = mapped_column(ForeignKey("tests.id"))
    polluter_id: Mapped[int] = mapped_column(ForeignKey("tests.id"))
    seed: Mapped[int | None] = mapped_column(BigInteger)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index(None, "victim_id", "found_at"), Index(None, "run_id"))


class TestDay(Base):
    """A test's passes and failures on one UTC day and branch, in runs that are not
    replays: kept at ingest, so trends never read the results themselves."""

    __tablename__ = "test_days"

    test_id: Mapped[int] = mapped_column(ForeignKey("tests.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    branch: Mapped[str] = mapped_column(String(255), primary_key=True)
    """The runs' branch, or "" for runs without one (a key cannot be NULL)."""
    passes: Mapped[int] = mapped_column(Integer)
    failures: Mapped[int] = mapped_column(Integer)

    # Rows kept in key order: a test's days are read as one range, without lookups.
    __table_args__ = ({"sqlite_with_rowid": False},)


class Batch(Base):
    """A batch of results received for a run, so that a retried batch is never stored twice."""

    __tablename__ = "batches"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime())
    count: Mapped[int] = mapped_column(Integer)


class Token(Base):
    """An API token, kept only as the SHA-256 of its text."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LoginSession(Base):
    """A browser logged in at ``/login``: its cookie holds the id, this table only the hash."""

    __tablename__ = "login_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    """The token it logged in with: revoking that token ends the session."""
    csrf: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Changes(Base):
    """One row: how many writes have changed runs or results, so that a worker's cached
    page can tell it is out of date (see ``seedboard.db.changes``)."""

    __tablename__ = "changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(BigInteger)


class QuarantineRow(Base):
    """A test id or pattern quarantined; a lifted (removed or expired) one is kept, with
    ``lifted_at`` set, so the history can say what was in force when."""

    __tablename__ = "quarantines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pattern: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    issue_url: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index(None, "lifted_at", "pattern"),)


class QuarantineHistory(Base):
    """Every quarantine change: who (a token's name), when, why, and what changed."""

    __tablename__ = "quarantine_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pattern: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index(None, "pattern", "at"),)


class TestIssue(Base):
    """The issue tracking a test, by the test's id: it may be set before the test ran."""

    __tablename__ = "test_issues"

    test: Mapped[str] = mapped_column(Text, primary_key=True)
    issue_url: Mapped[str] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(100))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TestOwners(Base):
    """A test's owners as CODEOWNERS gave them in the latest run that recorded them."""

    __tablename__ = "test_owners"

    test: Mapped[str] = mapped_column(Text, primary_key=True)
    owners: Mapped[str] = mapped_column(Text)
    """Space-separated, as in CODEOWNERS: ``@org/team-net @alice``."""
    run_id: Mapped[str | None] = mapped_column(String(32))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Webhook(Base):
    """A receiver of events: its address, the kinds it wants, how they are written, and the
    secret its bodies are signed with (kept, since signing needs it; never shown back)."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[str] = mapped_column(Text)
    """The event kinds it receives, comma-separated."""
    format: Mapped[str] = mapped_column(String(16))
    secret: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Event(Base):
    """The outbox: an event, written in the transaction whose results caused it."""

    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    """The event's facts as JSON; links are paths, made absolute when it is sent."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    # The delivery loop looks for runs still to judge (one kind) every second.
    __table_args__ = (Index(None, "kind", "created_at"),)


class Delivery(Base):
    """One event to one webhook: how often it was tried, when next, and once acknowledged."""

    __tablename__ = "deliveries"

    webhook_id: Mapped[int] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[str] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """None once delivered or given up on."""
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index(None, "next_attempt_at"), Index(None, "event_id"))
