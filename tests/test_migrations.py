"""Tests for the schema: Alembic revisions match the models, upgrades are automatic."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Connection, inspect, text
from twisted.trial.unittest import SynchronousTestCase

from seedboard.db import migrate, runs
from seedboard.db.engine import open_database
from seedboard.db.models import Base
from seedboard.services import refingerprint
from seedboard.triage.fingerprint import fingerprint
from tests.support import database_url


def fresh_url(case: SynchronousTestCase) -> str:
    path = Path(case.mktemp()).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


class MigrationTests(SynchronousTestCase):
    """On the suite's database: the revisions run on SQLite and PostgreSQL alike."""

    def setUp(self) -> None:
        self.db = open_database(database_url(self))
        self.addCleanup(self.db.dispose)

    def test_head_constant(self) -> None:
        """migrate.HEAD names Alembic's head revision, so the fast check is right."""
        scripts = ScriptDirectory.from_config(migrate.alembic_config())
        self.assertEqual(scripts.get_current_head(), migrate.HEAD)

    def test_no_drift(self) -> None:
        """Upgrading an empty database to head gives exactly the models' schema."""
        migrate.ensure_schema(self.db)
        with self.db.reader.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"include_object": partial(migrate.built_on, conn.dialect.name)}
            )
            diff = compare_metadata(context, Base.metadata)
        self.assertEqual(diff, [])

    def test_ensure_schema_creates_then_skips(self) -> None:
        """The first use creates the schema; later uses find it current."""
        self.assertIsNone(self.db.read(migrate.current_revision))
        migrate.ensure_schema(self.db)
        self.assertEqual(self.db.read(migrate.current_revision), migrate.HEAD)
        migrate.ensure_schema(self.db)
        self.assertEqual(
            set(self.db.read(lambda conn: inspect(conn).get_table_names())),
            {
                "alembic_version",
                "runs",
                "tests",
                "results",
                "batches",
                "tokens",
                "test_days",
                "login_sessions",
                "changes",
                "order_dependencies",
                "quarantines",
                "quarantine_history",
                "test_issues",
                "test_owners",
                "webhooks",
                "events",
                "deliveries",
            },
        )

    def test_downgrade_latest(self) -> None:
        """The latest revision downgrades cleanly, leaving the one before it: results'
        foreign keys, kept on SQLite only at head, are back on PostgreSQL too."""
        from alembic import command

        migrate.ensure_schema(self.db)
        at_head = self.db.write(result_keys)  # a reader may hold the schema of before
        with self.db.writer.begin() as conn:
            command.downgrade(migrate.alembic_config(conn), "-1")
        previous = _revision(migrate.HEAD).down_revision
        self.assertEqual(self.db.read(migrate.current_revision), previous)
        both = {("run_key", "runs"), ("test_id", "tests")}
        self.assertEqual(at_head, both if self.db.is_sqlite else set())
        self.assertEqual(self.db.write(result_keys), both)

    def test_results_indexes(self) -> None:
        """At head SQLite indexes results by run alone, so a batch's inserts stay near its
        run's end; PostgreSQL keeps its indexes by test."""
        migrate.ensure_schema(self.db)
        by_run = {"ix_results_run_key_test_id": ["run_key", "test_id"]}
        if self.db.writer.dialect.name == "sqlite":
            by_run["ix_results_run_key_test_id_all"] = ["run_key", "test_id"]
        else:
            by_run["ix_results_run_key"] = ["run_key"]
            by_run["ix_results_test_id_run_key"] = ["test_id", "run_key"]
        self.assertEqual(self.db.write(_result_indexes), by_run)

    def test_downgrade_to_nothing(self) -> None:
        """Every revision downgrades, down to an empty database."""
        from alembic import command

        migrate.ensure_schema(self.db)
        with self.db.writer.begin() as conn:
            command.downgrade(migrate.alembic_config(conn), "base")
        tables = set(self.db.read(lambda conn: inspect(conn).get_table_names()))
        self.assertEqual(tables, {"alembic_version"})

    def test_upgrade_keeps_runs(self) -> None:
        """A database filled at 0001 upgrades to head with its runs, results and counts,
        failures stored before 0003 get their fingerprint, and 0005 counts them per day."""
        with self.db.writer.begin() as conn:
            migrate.upgrade(conn, "0001")
            conn.execute(text(OLD_RUN))
            conn.execute(text("INSERT INTO tests (id, name) VALUES (1, 'pkg.T.test_a')"))
            conn.execute(text(OLD_RESULT))
        migrate.ensure_schema(self.db)
        self.assertEqual(self.db.read(migrate.current_revision), migrate.HEAD)
        [summary] = self.db.read(runs.list_runs, 10).runs
        self.assertEqual((summary.id, summary.counts.failure), ("a" * 32, 1))
        self.assertFalse(summary.start.is_replay)
        detail = self.db.read(runs.get_run, "a" * 32)
        assert detail is not None
        [stored] = detail.results
        self.assertEqual(stored.fingerprint, fingerprint("ValueError", "bad 3", None))
        days = self.db.read(lambda conn: conn.execute(text("SELECT * FROM test_days")).all())
        # SQLite hands the day back as text, PostgreSQL as a date.
        self.assertEqual(
            [(*day[:1], str(day[1]), *day[2:]) for day in days], [(1, "2026-01-01", "", 0, 1)]
        )

    def test_upgrade_recomputes_fingerprints(self) -> None:
        """Failures stored at 0007, more than one batch of them, get the fingerprint of
        today's rule, so failures that differ only in an address join one group."""
        from alembic import command

        addresses = ("127.0.0.1:1605", "10.0.0.2:80", "[::1]:8")
        count = refingerprint.BATCH + 2
        migrate.ensure_schema(self.db)
        with self.db.writer.begin() as conn:
            command.downgrade(migrate.alembic_config(conn), "0007")
            conn.execute(text(OLD_RUN))
            conn.execute(text("INSERT INTO tests (id, name) VALUES (1, 'pkg.T.test_a')"))
            conn.execute(
                text(
                    OLD_RESULT.replace("'bad 3')", ":message, :old)").replace(
                        "message)", "message, fingerprint)"
                    )
                ),
                [
                    {"message": f"refused by {addresses[n % 3]}", "old": f"old{n % 3}"}
                    for n in range(count)
                ],
            )
        migrate.ensure_schema(self.db)
        prints = self.db.read(
            lambda conn: conn.execute(text("SELECT DISTINCT fingerprint FROM results")).all()
        )
        self.assertEqual(prints, [(fingerprint("ValueError", "refused by 10.0.0.2:80", None),)])

    def test_upgrade_masks_compared_values(self) -> None:
        """Failed assertions stored at 0008 that differ only in the values they compared
        share one fingerprint after the upgrade; other failures keep theirs."""
        from alembic import command

        compared = ("Lists differ: [['node1', 'node2']] != []", "Lists differ: [['n0']] != []")
        migrate.ensure_schema(self.db)
        with self.db.writer.begin() as conn:
            command.downgrade(migrate.alembic_config(conn), "0008")
            conn.execute(text(OLD_RUN))
            conn.execute(text("INSERT INTO tests (id, name) VALUES (1, 'pkg.T.test_a')"))
            insert = OLD_RESULT.replace("'ValueError', 'bad 3')", ":type, :message, 'old')")
            conn.execute(
                text(insert.replace("message)", "message, fingerprint)")),
                [{"type": FAIL_TEST, "message": m} for m in compared]
                + [{"type": "ValueError", "message": m} for m in compared],
            )
        migrate.ensure_schema(self.db)
        prints = self.db.read(
            lambda conn: conn.execute(
                text("SELECT exception_type, fingerprint FROM results ORDER BY id")
            ).all()
        )
        self.assertEqual(
            prints,
            [
                *[(FAIL_TEST, fingerprint(FAIL_TEST, compared[0], None))] * 2,
                *[("ValueError", fingerprint("ValueError", m, None)) for m in compared],
            ],
        )
        self.assertNotEqual(prints[2], prints[3])


def result_keys(conn: Connection) -> set[tuple[str, str]]:
    """(column, table referred to) of each foreign key of ``results``."""
    return {
        (key["constrained_columns"][0], key["referred_table"])
        for key in inspect(conn).get_foreign_keys("results")
    }


def _revision(name: str) -> Script:
    revision = ScriptDirectory.from_config(migrate.alembic_config()).get_revision(name)
    assert revision is not None
    return revision


FAIL_TEST = "twisted.trial.unittest.FailTest"
OLD_RUN = """INSERT INTO runs (id, started_at, host, python_version, twisted_version, command,
    success, failure, error, skip, expected_failure, unexpected_success)
    VALUES ('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', '2026-01-01 00:00:00', 'h', '3.11', '26', 'trial x',
    0, 1, 0, 0, 0, 0)"""
OLD_RESULT = """INSERT INTO results
    (run_id, test_id, outcome, duration, seed, exception_type, message)
    VALUES ('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 1, 'failure', 0.5, 7, 'ValueError', 'bad 3')"""


class EngineTests(SynchronousTestCase):
    def test_sqlite_settings(self) -> None:
        """SQLite files run in WAL mode with a busy timeout and foreign keys on."""
        db = open_database(fresh_url(self))
        self.addCleanup(db.dispose)

        def pragma(conn: Connection, name: str) -> object:
            return conn.execute(text(f"PRAGMA {name}")).scalar()

        pragmas = {
            name: db.read(pragma, name) for name in ("journal_mode", "busy_timeout", "foreign_keys")
        }
        self.assertEqual(pragmas, {"journal_mode": "wal", "busy_timeout": 30000, "foreign_keys": 1})

    def test_writer_takes_lock_up_front(self) -> None:
        """Writes start with BEGIN IMMEDIATE, so a second writer waits instead of failing late."""
        db = open_database(fresh_url(self))
        self.addCleanup(db.dispose)
        statements: list[str] = []
        from sqlalchemy import event

        event.listen(db.writer, "before_cursor_execute", lambda *a: statements.append(a[2]))
        db.write(lambda conn: conn.execute(text("SELECT 1")))
        self.assertEqual(statements[0], "BEGIN IMMEDIATE")

    def test_memory_database_is_one_connection(self) -> None:
        """In-memory SQLite shares one connection between reads and writes."""
        db = open_database("sqlite://")
        self.addCleanup(db.dispose)
        migrate.ensure_schema(db)
        self.assertTrue(db.single_connection)
        self.assertEqual(db.read(migrate.current_revision), migrate.HEAD)


def _result_indexes(conn: Connection) -> dict[str | None, list[str | None]]:
    # Called through the writer: SQLAlchemy 2.1 reflects no index of results on the
    # reader's connections (PRAGMA index_list there lists them all).
    return {i["name"]: i["column_names"] for i in inspect(conn).get_indexes("results")}
