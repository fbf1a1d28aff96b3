"""Integer run keys: results refer to their run by ``runs.key``, the 32-hex id stays unique.

Revision ID: 0012
Revises: 0011

Runs are numbered in the order they started, so keys follow time as new runs' do.
SQLite cannot change a primary key in place: ``runs`` and the tables referring to it
are rebuilt.  Dropping the old ``runs`` while a table still refers to it would cascade
(foreign keys are on, and cannot be turned off inside the migration's transaction),
so the new tables refer to ``runs_new`` until the old ones are gone; renaming it to
``runs`` then rewrites their references.  PostgreSQL alters the tables in place.
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_RUN_COLUMNS = (
    "id, started_at, finished_at, host, python_version, twisted_version, command, order_seed,"
    ' branch, "commit", build_url, success, failure, error, skip, expected_failure,'
    " unexpected_success, run_seed, is_replay"
)
_RUN_DEFINITIONS = """
    started_at DATETIME NOT NULL,
    finished_at DATETIME,
    host VARCHAR(255) NOT NULL,
    python_version VARCHAR(64) NOT NULL,
    twisted_version VARCHAR(64) NOT NULL,
    command TEXT NOT NULL,
    order_seed BIGINT,
    branch VARCHAR(255),
    "commit" VARCHAR(64),
    build_url TEXT,
    success INTEGER NOT NULL,
    failure INTEGER NOT NULL,
    error INTEGER NOT NULL,
    skip INTEGER NOT NULL,
    expected_failure INTEGER NOT NULL,
    unexpected_success INTEGER NOT NULL,
    run_seed BIGINT,
    is_replay BOOLEAN DEFAULT 0 NOT NULL"""
_RESULT_COLUMNS = (
    "id, test_id, outcome, duration, seed, exception_type, message, traceback, fingerprint,"
    " position"
)
_RESULT_DEFINITIONS = """
    test_id INTEGER NOT NULL,
    outcome VARCHAR(32) NOT NULL,
    duration FLOAT NOT NULL,
    seed BIGINT,
    exception_type TEXT,
    message TEXT,
    traceback TEXT,
    fingerprint VARCHAR(16),
    position INTEGER"""
_BAD = "outcome IN ('failure', 'error', 'unexpected_success')"
"""0004's partial index condition, which 0012 writes as comparisons joined by OR: SQLite
builds a lookup table for an IN list on every insert, once per row of a batch."""
_BAD_OR = "outcome = 'failure' OR outcome = 'error' OR outcome = 'unexpected_success'"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _upgrade_sqlite()
    else:
        _upgrade_postgresql()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _downgrade_sqlite()
    else:
        _downgrade_postgresql()


def _sqlite(statements: str) -> None:
    for statement in statements.split(";"):
        if statement.strip():
            op.execute(statement)


_CHILD_TABLES = """
    CREATE TABLE batches_new (
        run_id VARCHAR(32) NOT NULL,
        number INTEGER NOT NULL,
        stored_at DATETIME NOT NULL,
        count INTEGER NOT NULL,
        CONSTRAINT pk_batches PRIMARY KEY (run_id, number),
        CONSTRAINT fk_batches_run_id_runs FOREIGN KEY(run_id) REFERENCES runs_new (id)
            ON DELETE CASCADE
    );
    INSERT INTO batches_new SELECT run_id, number, stored_at, count FROM batches;
    CREATE TABLE order_dependencies_new (
        id INTEGER NOT NULL,
        run_id VARCHAR(32) NOT NULL,
        victim_id INTEGER NOT NULL,
        polluter_id INTEGER NOT NULL,
        seed BIGINT,
        found_at DATETIME NOT NULL,
        CONSTRAINT pk_order_dependencies PRIMARY KEY (id),
        CONSTRAINT fk_order_dependencies_run_id_runs FOREIGN KEY(run_id) REFERENCES runs_new (id)
            ON DELETE CASCADE,
        CONSTRAINT fk_order_dependencies_victim_id_tests FOREIGN KEY(victim_id)
            REFERENCES tests (id),
        CONSTRAINT fk_order_dependencies_polluter_id_tests FOREIGN KEY(polluter_id)
            REFERENCES tests (id)
    );
    INSERT INTO order_dependencies_new
        SELECT id, run_id, victim_id, polluter_id, seed, found_at FROM order_dependencies;
"""
"""``runs``' other children, copied to tables that refer to the new runs by the same id."""

_SWAP = """
    DROP TABLE results;
    DROP TABLE batches;
    DROP TABLE order_dependencies;
    DROP TABLE runs;
    ALTER TABLE runs_new RENAME TO runs;
    ALTER TABLE results_new RENAME TO results;
    ALTER TABLE batches_new RENAME TO batches;
    ALTER TABLE order_dependencies_new RENAME TO order_dependencies;
    CREATE INDEX ix_runs_started_at_id ON runs (started_at, id);
    CREATE INDEX ix_order_dependencies_victim_id_found_at
        ON order_dependencies (victim_id, found_at);
    CREATE INDEX ix_order_dependencies_run_id ON order_dependencies (run_id);
"""
"""Drop the old tables, children first (so dropping runs cascades to nothing), and give
the new ones the old names: renaming ``runs_new`` rewrites its children's references."""


def _upgrade_sqlite() -> None:
    # SQLite cannot change a primary key in place: every table referring to runs is
    # rebuilt beside the old ones, referring to ``runs_new``, before any is dropped.
    _sqlite(f"""
        CREATE TABLE runs_new (
            key INTEGER NOT NULL,
            id VARCHAR(32) NOT NULL,{_RUN_DEFINITIONS},
            CONSTRAINT pk_runs PRIMARY KEY (key),
            CONSTRAINT uq_runs_id UNIQUE (id)
        );
        INSERT INTO runs_new (key, {_RUN_COLUMNS})
            SELECT row_number() OVER (ORDER BY started_at, id), {_RUN_COLUMNS} FROM runs;
        CREATE TABLE results_new (
            id INTEGER NOT NULL,
            run_key INTEGER NOT NULL,{_RESULT_DEFINITIONS},
            CONSTRAINT pk_results PRIMARY KEY (id),
            CONSTRAINT fk_results_run_key_runs FOREIGN KEY(run_key) REFERENCES runs_new (key)
                ON DELETE CASCADE,
            CONSTRAINT fk_results_test_id_tests FOREIGN KEY(test_id) REFERENCES tests (id)
        );
        INSERT INTO results_new (run_key, {_RESULT_COLUMNS})
            SELECT runs_new.key, {_prefixed("results", _RESULT_COLUMNS)}
            FROM results JOIN runs_new ON runs_new.id = results.run_id ORDER BY results.id;
        {_CHILD_TABLES}
        {_SWAP}
        CREATE INDEX ix_results_run_key ON results (run_key);
        CREATE INDEX ix_results_test_id_run_key ON results (test_id, run_key);
        CREATE INDEX ix_results_run_key_test_id ON results (run_key, test_id) WHERE {_BAD_OR}
    """)


def _downgrade_sqlite() -> None:
    _sqlite(f"""
        CREATE TABLE runs_new (
            id VARCHAR(32) NOT NULL,{_RUN_DEFINITIONS},
            CONSTRAINT pk_runs PRIMARY KEY (id)
        );
        INSERT INTO runs_new ({_RUN_COLUMNS}) SELECT {_RUN_COLUMNS} FROM runs;
        CREATE TABLE results_new (
            id INTEGER NOT NULL,
            run_id VARCHAR(32) NOT NULL,{_RESULT_DEFINITIONS},
            CONSTRAINT pk_results PRIMARY KEY (id),
            CONSTRAINT fk_results_run_id_runs FOREIGN KEY(run_id) REFERENCES runs_new (id)
                ON DELETE CASCADE,
            CONSTRAINT fk_results_test_id_tests FOREIGN KEY(test_id) REFERENCES tests (id)
        );
        INSERT INTO results_new (run_id, {_RESULT_COLUMNS})
            SELECT runs.id, {_prefixed("results", _RESULT_COLUMNS)}
            FROM results JOIN runs ON runs.key = results.run_key ORDER BY results.id;
        {_CHILD_TABLES}
        {_SWAP}
        CREATE INDEX ix_results_run_id ON results (run_id);
        CREATE INDEX ix_results_test_id_run_id ON results (test_id, run_id);
        CREATE INDEX ix_results_run_id_test_id ON results (run_id, test_id) WHERE {_BAD}
    """)


def _prefixed(table: str, columns: str) -> str:
    return ", ".join(f"{table}.{name.strip()}" for name in columns.split(","))


_CHILDREN = ("batches", "order_dependencies")
"""Tables that keep referring to runs by their 32-hex id: one row per batch or verdict."""


def _upgrade_postgresql() -> None:
    for child in (*_CHILDREN, "results"):
        op.execute(f"ALTER TABLE {child} DROP CONSTRAINT fk_{child}_run_id_runs")
    op.execute("ALTER TABLE runs DROP CONSTRAINT pk_runs")
    op.execute("ALTER TABLE runs ADD COLUMN key INTEGER")
    op.execute(
        "UPDATE runs SET key = numbered.n FROM (SELECT id, row_number() OVER"
        " (ORDER BY started_at, id) AS n FROM runs) AS numbered WHERE runs.id = numbered.id"
    )
    op.execute("CREATE SEQUENCE runs_key_seq OWNED BY runs.key")
    op.execute("SELECT setval('runs_key_seq', coalesce(max(key), 0) + 1, false) FROM runs")
    op.execute(
        "ALTER TABLE runs ALTER COLUMN key SET DEFAULT nextval('runs_key_seq'),"
        " ALTER COLUMN key SET NOT NULL"
    )
    op.execute("ALTER TABLE runs ADD CONSTRAINT pk_runs PRIMARY KEY (key)")
    op.execute("ALTER TABLE runs ADD CONSTRAINT uq_runs_id UNIQUE (id)")
    for child in _CHILDREN:
        op.execute(
            f"ALTER TABLE {child} ADD CONSTRAINT fk_{child}_run_id_runs FOREIGN KEY (run_id)"
            " REFERENCES runs (id) ON DELETE CASCADE"
        )
    op.execute("ALTER TABLE results ADD COLUMN run_key INTEGER")
    op.execute("UPDATE results SET run_key = runs.key FROM runs WHERE runs.id = results.run_id")
    op.execute("ALTER TABLE results DROP COLUMN run_id")  # and its indexes with it
    op.execute("ALTER TABLE results ALTER COLUMN run_key SET NOT NULL")
    op.execute(
        "ALTER TABLE results ADD CONSTRAINT fk_results_run_key_runs FOREIGN KEY (run_key)"
        " REFERENCES runs (key) ON DELETE CASCADE"
    )
    op.execute("CREATE INDEX ix_results_run_key ON results (run_key)")
    op.execute("CREATE INDEX ix_results_test_id_run_key ON results (test_id, run_key)")
    op.execute(
        f"CREATE INDEX ix_results_run_key_test_id ON results (run_key, test_id) WHERE {_BAD_OR}"
    )


def _downgrade_postgresql() -> None:
    op.execute("ALTER TABLE results ADD COLUMN run_id VARCHAR(32)")
    op.execute("UPDATE results SET run_id = runs.id FROM runs WHERE runs.key = results.run_key")
    op.execute("ALTER TABLE results DROP COLUMN run_key")  # its indexes and key go with it
    op.execute("ALTER TABLE results ALTER COLUMN run_id SET NOT NULL")
    for child in _CHILDREN:
        op.execute(f"ALTER TABLE {child} DROP CONSTRAINT fk_{child}_run_id_runs")
    op.execute("ALTER TABLE runs DROP CONSTRAINT uq_runs_id")
    op.execute("ALTER TABLE runs DROP CONSTRAINT pk_runs")
    op.execute("ALTER TABLE runs DROP COLUMN key")
    op.execute("ALTER TABLE runs ADD CONSTRAINT pk_runs PRIMARY KEY (id)")
    for child in (*_CHILDREN, "results"):
        op.execute(
            f"ALTER TABLE {child} ADD CONSTRAINT fk_{child}_run_id_runs FOREIGN KEY (run_id)"
            " REFERENCES runs (id) ON DELETE CASCADE"
        )
    op.execute("CREATE INDEX ix_results_run_id ON results (run_id)")
    op.execute("CREATE INDEX ix_results_test_id_run_id ON results (test_id, run_id)")
    op.execute(f"CREATE INDEX ix_results_run_id_test_id ON results (run_id, test_id) WHERE {_BAD}")
