"""Every Alembic revision, filled with data, upgrades to head losing nothing; the latest
downgrades with its data.

Written over the revision list, not for particular revisions: a new revision
is covered as soon as it exists.  The data is made from the reflected schema
at each revision (every column of every table, foreign keys followed, unique
columns kept unique), so it does not depend on the models of the day.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Boolean,
    Connection,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    select,
)
from twisted.trial.unittest import SynchronousTestCase

from seedboard.db import migrate, runs
from seedboard.db.engine import Database, open_database
from seedboard.triage.fingerprint import fingerprint
from tests.support import database_url

ROWS = 3
"""Rows made in each table."""

# Values the application gives a meaning to, so that it can still read the rows at head.
MEANINGFUL = {"outcome": "failure", "classification": "flaky"}

Rows = dict[str, dict[tuple[Any, ...], dict[str, Any]]]
"""Each table's rows by primary key."""


def revisions() -> list[str]:
    """Every revision, oldest first."""
    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    return [script.revision for script in reversed(list(scripts.walk_revisions()))]


def value_for(table: Table, column: Any, row: int) -> Any:
    """A value of the column's type; unique per row, and hostile where it is text."""
    if column.name in MEANINGFUL:
        return MEANINGFUL[column.name]
    kind = column.type
    if isinstance(kind, Boolean):
        return row % 2 == 0
    if isinstance(kind, Integer):
        return row + 1
    if isinstance(kind, Float | Numeric):
        return 0.25 * (row + 1)
    if isinstance(kind, DateTime):
        return datetime(2026, 1, 1 + row, 12, 30, 15, 123456)
    if isinstance(kind, Date):
        return datetime(2026, 1, 1 + row).date()
    if isinstance(kind, String):
        text = f"{row:x}" * 32 if column.name in ("id", "hash") else f"{row} <b>'; --%_\u00e9"
        return text[: kind.length] if kind.length else text
    raise AssertionError(f"no sample value for {table.name}.{column.name} ({kind!r})")


FINGERPRINTS_RECOMPUTED = "0009"
"""The revision that recomputes stored failures' fingerprints (a value derived from the
failure's type, message and traceback) under a new masking rule."""


def recomputed(before: Rows, revision: str) -> Rows:
    """``before`` as an upgrade from ``revision`` leaves it: every value kept, but the
    fingerprints of failures, which a later revision recomputes."""
    if revision >= FINGERPRINTS_RECOMPUTED or "results" not in before:
        return before
    results = {
        key: {
            **row,
            "fingerprint": fingerprint(row["exception_type"], row["message"], row["traceback"]),
        }
        if "fingerprint" in row and row["outcome"] == MEANINGFUL["outcome"]
        else row
        for key, row in before["results"].items()
    }
    return {**before, "results": results}


SEEDED = {"alembic_version", "changes"}
"""Tables whose rows the migrations write, and which hold exactly those."""


def fill(conn: Connection) -> Rows:
    """ROWS rows in every table, children pointing at their parents' rows."""
    metadata = MetaData()
    metadata.reflect(conn)
    made: dict[str, list[dict[str, Any]]] = {}
    for table in metadata.sorted_tables:
        if table.name in SEEDED:
            continue
        made[table.name] = []
        for row in range(ROWS):
            values = {column.name: value_for(table, column, row) for column in table.columns}
            for key in table.foreign_keys:
                parent = made[key.column.table.name][row]
                values[key.parent.name] = parent[key.column.name]
            conn.execute(table.insert().values(values))
            made[table.name].append(values)
    return snapshot(conn)


KNOWN_BY = {"runs": ["id"]}
"""Tables whose rows are known by another key than their primary key: runs by their
32-hex id, which stays when 0012 gives them an integer key."""


def snapshot(conn: Connection) -> Rows:
    """Every table's rows as stored, by primary key (``KNOWN_BY`` where it says)."""
    metadata = MetaData()
    metadata.reflect(conn)
    found: Rows = {}
    for table in metadata.sorted_tables:
        keys = KNOWN_BY.get(table.name) or [column.name for column in table.primary_key.columns]
        keys = keys or list(table.columns.keys())
        found[table.name] = {
            tuple(row[k] for k in keys): dict(row) for row in conn.execute(select(table)).mappings()
        }
    return found


def run_of(rows: Rows, result: dict[str, Any]) -> str:
    """The id of a result's run: named before 0012, by the run's integer key since."""
    if "run_id" in result:
        return str(result["run_id"])
    return str(next(run["id"] for run in rows["runs"].values() if run["key"] == result["run_key"]))


class RevisionUpgradeTests(SynchronousTestCase):
    def database(self) -> Database:
        database = open_database(database_url(self))  # PostgreSQL in the suite's second pass
        self.addCleanup(database.dispose)
        return database

    def assert_kept(self, before: Rows, after: Rows, where: str) -> None:
        """Every row of ``before`` is in ``after`` with the same values in the columns both
        have; a table may be new, none may vanish."""
        for table, rows in before.items():
            if table == "alembic_version":
                continue
            self.assertIn(table, after, f"{where}: table {table} was dropped")
            self.assertEqual(set(after[table]), set(rows), f"{where}: rows of {table}")
            for key, row in rows.items():
                kept = after[table][key]
                shared = {name: row[name] for name in row if name in kept}
                self.assertEqual({name: kept[name] for name in shared}, shared, f"{where}: {table}")

    def test_every_revision_upgrades_with_its_data(self) -> None:
        """A database filled at each revision upgrades to head with every row and value kept,
        and the application reads its runs there."""
        history = revisions()
        self.assertEqual(history[-1], migrate.HEAD)
        for revision in history:
            database = self.database()
            with database.writer.begin() as conn:
                migrate.upgrade(conn, revision)
                before = fill(conn)
            self.assertEqual(
                {len(rows) for table, rows in before.items() if table not in SEEDED},
                {ROWS},
            )
            migrate.ensure_schema(database)
            self.assertEqual(database.read(migrate.current_revision), migrate.HEAD)
            self.assert_kept(
                recomputed(before, revision), database.read(snapshot), f"upgrade from {revision}"
            )
            for run_id in (key[0] for key in before["runs"]):
                detail = database.read(runs.get_run, run_id)
                assert detail is not None, f"run {run_id} unreadable after upgrade from {revision}"
                self.assertEqual(
                    len(detail.results),
                    len([r for r in before["results"].values() if run_of(before, r) == run_id]),
                )

    def test_latest_downgrades_with_its_data(self) -> None:
        """The latest revision, filled, downgrades to the one before keeping every row of the
        tables that stay, and upgrades back to head."""
        history = revisions()
        if len(history) < 2:
            self.skipTest("only one revision")
        database = self.database()
        with database.writer.begin() as conn:
            migrate.upgrade(conn)
            before = fill(conn)
        with database.writer.begin() as conn:
            command.downgrade(migrate.alembic_config(conn), "-1")
        self.assertEqual(database.read(migrate.current_revision), history[-2])
        after = database.read(snapshot)
        self.assert_kept({t: rows for t, rows in before.items() if t in after}, after, "downgrade")
        migrate.ensure_schema(database)
        self.assertEqual(database.read(migrate.current_revision), migrate.HEAD)
