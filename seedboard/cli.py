"""The ``seedboard`` command: ``serve`` the dashboard, ``db upgrade`` the schema."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from seedboard.errors import one_line
from seedboard.settings import DB_ENV, DEFAULT_DB_FILE, database_url, describe_url

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def _database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        default=os.environ.get(DB_ENV),
        metavar="URL",
        help=f"SQLite file or SQLAlchemy URL (default: ${DB_ENV}, else ./{DEFAULT_DB_FILE})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seedboard", description="Record seeded trial runs and browse them."
    )
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="COMMAND")

    serve = verbs.add_parser("serve", help="serve the dashboard and the JSON API")
    _database_option(serve)
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"interface (default {DEFAULT_HOST})")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")

    db = verbs.add_parser("db", help="manage the database")
    db_verbs = db.add_subparsers(dest="db_verb", required=True, metavar="COMMAND")
    upgrade = db_verbs.add_parser("upgrade", help="create the schema or upgrade it to the latest")
    _database_option(upgrade)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    url = database_url(args.db, Path.cwd())
    if args.verb == "serve":
        from seedboard.web.server import serve

        serve(url, args.host, args.port)
        return 0
    return _upgrade(url)


def _upgrade(url: str) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from seedboard.db.engine import open_database
    from seedboard.db.migrate import HEAD, ensure_schema

    database = open_database(url)
    try:
        ensure_schema(database)
    except SQLAlchemyError as error:
        print(f"seedboard: cannot upgrade {describe_url(url)}: {one_line(error)}", file=sys.stderr)
        return 1
    finally:
        database.dispose()
    print(f"seedboard: {describe_url(url)} is at revision {HEAD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
