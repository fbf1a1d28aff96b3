"""Alembic environment: runs revisions on the connection seedboard hands it."""

from __future__ import annotations

from functools import partial

from alembic import context
from sqlalchemy import Connection, create_engine

from seedboard.db.migrate import built_on
from seedboard.db.models import Base
from seedboard.settings import database_url_from

# A warning for new revisions: Alembic's batch mode rebuilds a SQLite table by
# copying and dropping it, and with foreign keys on, dropping runs deletes every
# result.  Add columns with plain op.add_column; tests/test_migrations.py fills a
# database at an old revision and checks nothing is lost on the way to head.


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=partial(built_on, connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    # Plain `alembic` command line use, for writing new revisions.
    import os
    from pathlib import Path

    engine = create_engine(database_url_from(os.environ, Path.cwd()))
    with engine.begin() as conn:
        run_migrations(conn)


main()
