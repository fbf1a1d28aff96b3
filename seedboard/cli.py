"""The ``seedboard`` command: ``serve`` the dashboard, ``db upgrade`` the schema, ``token``s."""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from seedboard.errors import one_line
from seedboard.ingest import DEFAULT_MAX_BODY
from seedboard.replay import DEFAULT_TIMES, Pair, failing_pairs_from_server, replay
from seedboard.settings import (
    COMMIT_RANGE_URL_ENV,
    DB_ENV,
    DEFAULT_DB_FILE,
    DEFAULT_SPOOL,
    REPOSITORY_ENV,
    SPOOL_ENV,
    TOKEN_ENV,
    URL_ENV,
    database_url,
    describe_url,
    spool_root,
)
from seedboard.web.limits import HEAVY_QUEUE, HEAVY_READERS, HEAVY_TIMEOUT, HeavyLimits
from seedboard_reporter.uploader import Sender, upload_spool

if TYPE_CHECKING:
    from seedboard.db.engine import Database

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
MAX_TOKEN_NAME = 100
"""The length of the ``tokens.name`` column (kept here: the command imports no SQLAlchemy)."""


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
    serve.add_argument(
        "--private",
        action="store_true",
        help="pages and the read API need a token too (a bearer header or a login)",
    )
    serve.add_argument(
        "--max-body",
        type=_positive_int,
        default=DEFAULT_MAX_BODY,
        metavar="BYTES",
        help=f"largest request body accepted (default {DEFAULT_MAX_BODY}, 16 MiB)",
    )
    serve.add_argument(
        "--heavy-readers",
        type=_positive_int,
        default=HEAVY_READERS,
        metavar="N",
        help="heavy reads (flaky tests, trends, comparisons) run at once, on threads of "
        f"their own (default {HEAVY_READERS})",
    )
    serve.add_argument(
        "--heavy-queue",
        type=_natural_int,
        default=HEAVY_QUEUE,
        metavar="N",
        help=f"heavy reads that may wait for one; more get a 503 (default {HEAVY_QUEUE})",
    )
    serve.add_argument(
        "--heavy-timeout",
        type=_positive_seconds,
        default=HEAVY_TIMEOUT,
        metavar="SECONDS",
        help="seconds a heavy read may take, waiting included, before it is stopped "
        f"and answered 503 (default {HEAVY_TIMEOUT:g})",
    )
    serve.add_argument(
        "--max-bodies-in-flight",
        type=_positive_int,
        metavar="BYTES",
        help="request body bytes received at once, beyond which requests get a 503 "
        "(default 4 x --max-body)",
    )
    serve.add_argument(
        "--repository",
        default=os.environ.get(REPOSITORY_ENV),
        metavar="URL",
        help="the repository's GitHub or GitLab address, so pages link the commits "
        f"between a pass and a failure (default: ${REPOSITORY_ENV})",
    )
    serve.add_argument(
        "--commit-range-url",
        default=os.environ.get(COMMIT_RANGE_URL_ENV),
        metavar="TEMPLATE",
        help="a link to the changes between two commits, with {from} and {to} in it; "
        f"wins over --repository (default: ${COMMIT_RANGE_URL_ENV})",
    )

    db = verbs.add_parser("db", help="manage the database")
    db_verbs = db.add_subparsers(dest="db_verb", required=True, metavar="COMMAND")
    upgrade = db_verbs.add_parser("upgrade", help="create the schema or upgrade it to the latest")
    _database_option(upgrade)

    token = verbs.add_parser("token", help="manage the API tokens that may write (and read)")
    token_verbs = token.add_subparsers(dest="token_verb", required=True, metavar="COMMAND")
    create = token_verbs.add_parser("create", help="make a token and print it, this once")
    create.add_argument("name", type=_token_name, help="what the token is for, e.g. ci")
    _database_option(create)
    listing = token_verbs.add_parser("list", help="list tokens: name, created, revoked")
    _database_option(listing)
    revoke = token_verbs.add_parser("revoke", help="stop a token from working")
    revoke.add_argument("name", type=_token_name)
    _database_option(revoke)

    replay = verbs.add_parser(
        "replay", help="run failing seeds again, recorded as replays, and say if they reproduce"
    )
    replay.add_argument("test_id", nargs="?", help="a test id, with --seed")
    replay.add_argument("--seed", type=int, help="the seed to replay TEST_ID with")
    replay.add_argument(
        "--failing", action="store_true", help="every failing seed of the latest run (or --run)"
    )
    replay.add_argument("--run", metavar="RUN_ID", help="with --failing: this run, not the latest")
    replay.add_argument(
        "-k", "--times", type=_positive, default=DEFAULT_TIMES, help="runs per seed (default 3)"
    )
    _database_option(replay)

    upload = verbs.add_parser(
        "upload", help="send what the reporter left in its spool (server down, run killed)"
    )
    upload.add_argument(
        "--url", default=os.environ.get(URL_ENV), help=f"the server (default: ${URL_ENV})"
    )
    upload.add_argument(
        "--spool",
        type=Path,
        default=None,
        help=f"the spool folder (default: ${SPOOL_ENV}, else ./{DEFAULT_SPOOL})",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.verb == "upload":
        return _upload(args.url, args.spool or spool_root(os.environ, Path.cwd()))
    url = database_url(args.db, Path.cwd())
    if args.verb == "replay":
        return _replay(args, url)
    if args.verb == "serve":
        return _serve(args, url)
    if args.verb == "token":
        return _token_command(url, args)
    return _upgrade(url)


def _serve(args: argparse.Namespace, url: str) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from seedboard.web.server import serve
    from seedboard.web.urls import CommitRangeError, commit_ranges

    in_flight = args.max_bodies_in_flight
    if in_flight is not None and in_flight < args.max_body:
        print("seedboard: --max-bodies-in-flight must be at least --max-body", file=sys.stderr)
        return 2
    try:
        ranges = commit_ranges(args.repository, args.commit_range_url)
    except CommitRangeError as error:
        print(f"seedboard: {error}", file=sys.stderr)
        return 2
    try:
        heavy = HeavyLimits(args.heavy_readers, args.heavy_queue, args.heavy_timeout)
        serve(
            url,
            args.host,
            args.port,
            private=args.private,
            max_body=args.max_body,
            max_bodies_in_flight=in_flight,
            heavy=heavy,
            ranges=ranges,
        )
    except SQLAlchemyError as error:
        # Say why in one line: a read-only directory, a server that refuses, a bad URL.
        print(f"seedboard: cannot serve {describe_url(url)}: {one_line(error)}", file=sys.stderr)
        return 1
    return 0


REPLAY_USAGE = "seedboard: replay TEST_ID --seed N, or replay --failing [--run RUN_ID]"


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _replay(args: argparse.Namespace, url: str) -> int:
    """Replay one pair or every failing pair of a run; runs are recorded where trial records."""
    one_pair = args.test_id is not None and args.seed is not None
    if args.failing == one_pair or (not args.failing and args.run is not None):
        print(REPLAY_USAGE, file=sys.stderr)
        return 2
    if args.failing:
        found = _failing_pairs(url, args.run)
        if found is None:
            print(f"seedboard: no run {args.run or 'recorded yet'} to replay", file=sys.stderr)
            return 1
        run_id, pairs = found
        print(f"seedboard: replaying {len(pairs)} failing seeds of run {run_id}")
    else:
        pairs = [Pair(args.test_id, args.seed)]
    # The replays are recorded where this command reads: the same --db.
    environ = {**os.environ, DB_ENV: args.db} if args.db else dict(os.environ)
    for pair in pairs:
        print(replay(pair, args.times, environ, Path.cwd()).line(), flush=True)
    return 0


def _failing_pairs(url: str, run_id: str | None) -> tuple[str, list[Pair]] | None:
    server = os.environ.get(URL_ENV)
    if server:
        return failing_pairs_from_server(server, os.environ.get(TOKEN_ENV), run_id)
    from seedboard.db.engine import open_database
    from seedboard.db.migrate import ensure_schema
    from seedboard.db.runs import failing_seeds

    database = open_database(url)
    try:
        ensure_schema(database)
        found = database.read(failing_seeds, run_id)
    finally:
        database.dispose()
    if found is None:
        return None
    run, pairs = found
    return run.id, [Pair(test_id, seed) for test_id, seed in pairs]


def _upload(server: str | None, spool: Path) -> int:
    """Send the spool now; the token comes from the environment only, never argv."""
    if not server:
        print(f"seedboard: no server: pass --url or set ${URL_ENV}", file=sys.stderr)
        return 2
    uploads = upload_spool(spool, Sender(server, os.environ.get(TOKEN_ENV)))
    if not uploads:
        print(f"seedboard: nothing to upload in {spool}")
    for upload in uploads:
        if upload.left:
            print(f"seedboard: run {upload.run_id}: {upload.left} requests kept ({upload.problem})")
        else:
            print(f"seedboard: run {upload.run_id}: sent {upload.sent} requests to {server}")
    return 1 if any(upload.left for upload in uploads) else 0


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


def _token_command(url: str, args: argparse.Namespace) -> int:
    if args.token_verb == "create":
        return _on_database(url, _create_token, args.name)
    if args.token_verb == "revoke":
        return _on_database(url, _revoke_token, args.name)
    return _on_database(url, _list_tokens)


def _on_database(url: str, command: Callable[..., int], *args: str) -> int:
    """Run a token command on the (created or upgraded) database; 1 if it cannot be used."""
    from sqlalchemy.exc import SQLAlchemyError

    from seedboard.db.engine import open_database
    from seedboard.db.migrate import ensure_schema

    database = open_database(url)
    try:
        ensure_schema(database)
        return command(database, *args)
    except SQLAlchemyError as error:
        print(f"seedboard: cannot use {describe_url(url)}: {one_line(error)}", file=sys.stderr)
        return 1
    finally:
        database.dispose()


def _create_token(database: Database, name: str) -> int:
    from seedboard.db.tokens import DuplicateToken, create_token, hash_token, new_token

    token = new_token()
    try:
        database.write(create_token, name, hash_token(token), _now())
    except DuplicateToken:
        print(
            f"seedboard: a token named {name!r} exists already; revoke it first or pick "
            "another name",
            file=sys.stderr,
        )
        return 1
    # Only the token on stdout, so that `TOKEN=$(seedboard token create ci)` works.
    print(token)
    print(
        f"seedboard: token {name!r} created; it is shown only this once. Clients send it as "
        f"'Authorization: Bearer <token>' (the reporter reads {TOKEN_ENV}).",
        file=sys.stderr,
    )
    return 0


def _list_tokens(database: Database) -> int:
    from seedboard.db.tokens import list_tokens

    tokens = database.read(list_tokens)
    if not tokens:
        print(
            "seedboard: no tokens yet; make one with: seedboard token create NAME", file=sys.stderr
        )
        return 0
    rows = [("NAME", "CREATED", "STATUS")]
    rows += [
        (
            token.name,
            _readable(token.created_at),
            "active" if token.revoked_at is None else f"revoked {_readable(token.revoked_at)}",
        )
        for token in tokens
    ]
    width = max(len(name) for name, _, _ in rows)
    for name, created, status in rows:
        print(f"{name.ljust(width)}  {created.ljust(23)}  {status}")
    return 0


def _revoke_token(database: Database, name: str) -> int:
    from seedboard.db.tokens import UnknownToken, revoke_token

    try:
        revoked = database.write(revoke_token, name, _now())
    except UnknownToken:
        print(f"seedboard: there is no token named {name!r}", file=sys.stderr)
        return 1
    print(f"seedboard: token {name!r} {'revoked' if revoked else 'was revoked already'}")
    return 0


def _now() -> datetime:
    return datetime.now(UTC)


def _readable(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}")
        return value

    return parse


_positive_int = _int_at_least(1)
_natural_int = _int_at_least(0)


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError("must be more than 0 seconds")
    return value


def _token_name(text: str) -> str:
    """A token name: printable, without spaces at either end, short enough for its column."""
    if not text or text != text.strip() or not text.isprintable():
        raise argparse.ArgumentTypeError(
            "a token name is printable text without leading or trailing spaces"
        )
    if len(text) > MAX_TOKEN_NAME:
        raise argparse.ArgumentTypeError(f"a token name has at most {MAX_TOKEN_NAME} characters")
    return text


if __name__ == "__main__":
    sys.exit(main())
