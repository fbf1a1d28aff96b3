"""Creating and upgrading the schema with the Alembic revisions in ``alembic/``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, inspect, text

from seedboard.db.engine import Database
from seedboard.resources import resource_dir

if TYPE_CHECKING:
    from alembic.config import Config

HEAD = "0016"
"""The newest revision; a test checks it against Alembic's own idea of head."""


def alembic_config(connection: Connection | None = None) -> Config:
    # Imported here: a reporter opening a current database never needs Alembic.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resource_dir("alembic")))
    config.attributes["connection"] = connection
    return config


def built_on(dialect: str, obj: Any, *_: Any) -> bool:
    """Whether ``obj`` of the models exists on ``dialect``: Alembic's ``include_object``
    hook, since its comparison ignores ``ddl_if`` and would find the other database's
    indexes missing."""
    only = getattr(getattr(obj, "_ddl_if", None), "dialect", None)
    return only is None or dialect in ((only,) if isinstance(only, str) else only)


def current_revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(conn: Connection, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(conn), revision)


def ensure_schema(database: Database) -> None:
    """Create or upgrade the schema unless it is current; cheap when it is."""
    if database.read(current_revision) == HEAD:
        return
    database.write(_upgrade_unless_current)


MIGRATION_LOCK = 0x5EED_B0A2D
"""PostgreSQL advisory lock key: one process at a time upgrades a shared database."""


def _upgrade_unless_current(conn: Connection) -> None:
    # SQLite's writer holds the database lock from BEGIN IMMEDIATE; PostgreSQL
    # needs an explicit lock, or two servers starting at once both upgrade.
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    # Checked again inside the lock: another process may have won the race.
    if current_revision(conn) != HEAD:
        upgrade(conn)
