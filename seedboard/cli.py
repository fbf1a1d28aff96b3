"""The ``seedboard`` command: ``serve`` the dashboard, ``db upgrade`` the schema, ``token``s."""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from fnmatch import fnmatchcase
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from seedboard import __version__, notify_cli, quarantine_cli
from seedboard.errors import UnusableDatabase, one_line
from seedboard.imports.common import FileFormat
from seedboard.ingest import DEFAULT_MAX_BODY
from seedboard.remote import delete_on_server, runs_until_on_server
from seedboard.replay import (
    DEFAULT_TIMES,
    STILL_FAILING,
    DatabaseRecords,
    Pair,
    Records,
    ReplayError,
    ServerRecords,
    check_loadable,
    known_row,
    original_of,
    replay,
    still_open,
    table,
)
from seedboard.settings import (
    COMMIT_RANGE_URL_ENV,
    DB_ENV,
    DEFAULT_DB_FILE,
    DEFAULT_SPOOL,
    PUBLIC_URL_ENV,
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
    from seedboard.bisect import Hunt, Placed
    from seedboard.db.engine import Database
    from seedboard.imports.load import Imported
    from seedboard.imports.load import Labels as ImportLabels
    from seedboard.imports.load import Source as ImportSource

T = TypeVar("T")

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
    parser.add_argument("--version", action="version", version=f"seedboard {__version__}")
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
    serve.add_argument(
        "--public-url",
        default=os.environ.get(PUBLIC_URL_ENV),
        metavar="URL",
        help="the address people reach this server at, for the links webhooks send "
        f"(default: ${PUBLIC_URL_ENV}, else the address served)",
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
    replay.add_argument(
        "test_id", nargs="?", help="a test id, with --seed; with --known, a pattern of test ids"
    )
    replay.add_argument("--seed", type=int, help="the seed to replay TEST_ID with")
    replay.add_argument(
        "--failing", action="store_true", help="every failing seed of the latest run (or --run)"
    )
    replay.add_argument("--run", metavar="RUN_ID", help="with --failing: this run, not the latest")
    replay.add_argument(
        "--known",
        action="store_true",
        help="every seed that ever failed and is not fixed yet (of tests matching the "
        "pattern, e.g. 'pkg.test_x.*'), at the current commit",
    )
    replay.add_argument(
        "-k", "--times", type=_positive, default=DEFAULT_TIMES, help="runs per seed (default 3)"
    )
    _database_option(replay)

    runs = verbs.add_parser("runs", help="manage recorded runs")
    runs_verbs = runs.add_subparsers(dest="runs_verb", required=True, metavar="COMMAND")
    delete = runs_verbs.add_parser(
        "delete", help="delete runs and their results (a replay that recorded a mistake, say)"
    )
    delete.add_argument("run_ids", nargs="+", metavar="RUN_ID")
    _database_option(delete)
    delete.add_argument(
        "--url",
        default=None,
        help=f"delete on this server (default: ${URL_ENV} unless --db is given), with the "
        f"token in ${TOKEN_ENV}",
    )

    prune = verbs.add_parser(
        "prune", help="delete the runs older than an age, with their results (retention)"
    )
    prune.add_argument(
        "--older-than",
        required=True,
        type=_age,
        metavar="AGE",
        help="e.g. 180d or 26w (days or weeks before today, UTC), or a date YYYY-MM-DD: "
        "runs started before that day go",
    )
    _database_option(prune)
    prune.add_argument(
        "--url",
        default=None,
        help=f"prune this server (default: ${URL_ENV} unless --db is given), with the "
        f"token in ${TOKEN_ENV}",
    )

    bisect = verbs.add_parser(
        "bisect",
        help="find the test whose presence before a failing test makes it fail",
    )
    bisect.add_argument("run_id", metavar="RUN_ID", help="the run in which TEST_ID failed")
    bisect.add_argument("test_id", metavar="TEST_ID", help="the failing test")
    _database_option(bisect)
    bisect.add_argument(
        "--url",
        default=os.environ.get(URL_ENV),
        help=f"read the run from this server, and record the verdict there (default: "
        f"${URL_ENV}; the token is read from ${TOKEN_ENV})",
    )

    imports = verbs.add_parser(
        "import",
        help="record JUnit XML or subunit files, a run each; with no FILE, put the runs "
        "waiting in the reporter's spool into the database now (commands that read do it)",
    )
    imports.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="a JUnit XML or subunit file from another runner; - reads stdin",
    )
    imports.add_argument(
        "--format",
        choices=[f.value for f in FileFormat],
        default=None,
        help="the files' format (default: told by each file's first bytes)",
    )
    imports.add_argument("--branch", default=None, help="the branch the files' tests ran on")
    imports.add_argument("--commit", default=None, help="the commit the files' tests ran on")
    imports.add_argument("--build-url", default=None, help="the CI job that ran them")
    imports.add_argument(
        "--wait",
        action="store_true",
        help="with no FILE: wait for runs still going to end, and import them too",
    )
    imports.add_argument(
        "--spool",
        type=Path,
        default=None,
        help=f"with no FILE: the spool folder (default: ${SPOOL_ENV}, else ./{DEFAULT_SPOOL})",
    )
    _database_option(imports)
    imports.add_argument(
        "--url",
        default=None,
        help=f"send the files to this server (default: ${URL_ENV} unless --db is given), with "
        f"the token in ${TOKEN_ENV}",
    )

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
    quarantine_cli.add_verbs(verbs, _database_option)
    notify_cli.add_verbs(verbs, _database_option)
    _each_verb_says_its_own_usage(parser)
    return parser


def _each_verb_says_its_own_usage(parser: argparse.ArgumentParser) -> None:
    """Give every command's parser to ``parse``: an argument it does not know is then
    refused with that command's usage, not the top-level one (argparse's way)."""
    for action in parser._subparsers._group_actions if parser._subparsers else ():
        if isinstance(action, argparse._SubParsersAction):
            for verb in action.choices.values():
                verb.set_defaults(verb_parser=verb)
                _each_verb_says_its_own_usage(verb)


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        getattr(args, "verb_parser", parser).error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)
    try:
        return _run(args)
    except UnusableDatabase as error:
        print(f"seedboard: {error}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.verb == "upload":
        return _upload(args.url, args.spool or spool_root(os.environ, Path.cwd()))
    url = database_url(args.db, Path.cwd())
    if args.verb == "import" and not args.files:
        return _import_spool(url, args.spool or spool_root(os.environ, Path.cwd()), args.wait)
    if args.verb in READERS:
        _import_spooled(url, spool_root(os.environ, Path.cwd()))
    if args.verb in notify_cli.VERBS:
        return notify_cli.run(args, url)
    if args.verb == "bisect":
        return _bisect(args, url)
    if args.verb == "replay":
        return _replay(args, url)
    if args.verb == "runs":
        return _delete_runs(args, url)
    if args.verb == "prune":
        return _prune(args, url)
    if args.verb == "import":
        return _import_files(args, url)
    if args.verb == "serve":
        return _serve(args, url)
    if args.verb == "token":
        return _token_command(url, args)
    if args.verb in ("quarantine", "issue"):
        return quarantine_cli.run(args, url, _on_database_do)
    return _upgrade(url)


READERS = frozenset({"serve", "replay", "bisect", "runs", "prune", "db", "report"})
"""The commands that read runs from the database: each imports the spool first."""


def _import_spooled(url: str, root: Path, wait: bool = False) -> bool:
    """Put the runs in the spool for ``url`` into it (``seedboard.spooled``), so that no
    ended run is missed; say what could not be, and return whether all could."""
    from seedboard.spooled import import_pending

    _, problems = import_pending(root, url, wait)
    for problem in problems:
        print(f"seedboard: {problem}", file=sys.stderr)
    return not problems


def _import_spool(url: str, root: Path, wait: bool) -> int:
    """``seedboard import`` with no file: the spool into the database now; 1 if
    something stays."""
    from seedboard.spooled import import_pending

    imported, problems = import_pending(root, url, wait)
    for done in imported:
        state = "" if done.finished else ", unfinished: its trial was killed"
        print(f"seedboard: imported run {done.run_id} ({done.results} results{state})")
    for problem in problems:
        print(f"seedboard: {problem}", file=sys.stderr)
    if not imported and not problems:
        print(f"seedboard: nothing to import for {describe_url(url)} in {root}")
    return 1 if problems else 0


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
    new_file = _new_sqlite_file(url)
    if new_file is not None:
        print(
            f"seedboard: {new_file} did not exist; serving a new, empty database there "
            f"(pass --db or set ${DB_ENV} for another)",
            file=sys.stderr,
        )
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
            public_url=args.public_url,
        )
    except SQLAlchemyError as error:
        # Say why in one line: a read-only directory, a server that refuses, a bad URL.
        print(f"seedboard: cannot serve {describe_url(url)}: {one_line(error)}", file=sys.stderr)
        return 1
    return 0


def _new_sqlite_file(url: str) -> Path | None:
    """The SQLite file ``url`` names, if it does not exist yet (a mistyped ``--db``)."""
    if not url.startswith("sqlite:///"):
        return None
    path = Path(describe_url(url))
    return None if path.exists() else path


REPLAY_USAGE = (
    "seedboard: replay TEST_ID --seed N, replay --failing [--run RUN_ID], "
    "or replay --known [PATTERN]"
)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _replay(args: argparse.Namespace, url: str) -> int:
    """Replay one pair, every failing pair of a run, or every known failing seed; the runs
    are recorded where trial records, and read back from there to be judged."""
    one_pair = args.test_id is not None and args.seed is not None
    modes = [one_pair, args.failing, args.known]
    if sum(modes) != 1 or (args.run is not None and not args.failing):
        print(REPLAY_USAGE, file=sys.stderr)
        return 2
    # The replays are recorded where this command reads: the same --db, or the server.
    environ = {**os.environ, DB_ENV: args.db} if args.db else dict(os.environ)
    try:
        with _records(url) as records:
            if args.known:
                return _replay_known(records, args.test_id, args.times, environ)
            return _replay_pairs(records, args, environ)
    except ReplayError as error:
        print(f"seedboard: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # the server: down, refusing, or not a seedboard
        print(
            f"seedboard: cannot replay through {os.environ.get(URL_ENV)}: {error}", file=sys.stderr
        )
        return 1


def _replay_pairs(records: Records, args: argparse.Namespace, environ: dict[str, str]) -> int:
    if args.failing:
        found = records.failing_pairs(args.run)
        if found is None:
            print(f"seedboard: no run {args.run or 'recorded yet'} to replay", file=sys.stderr)
            return 1
        run_id, pairs = found
        if not pairs:
            print(
                f"seedboard: nothing to replay: no failure of run {run_id} has a seed (tests "
                "get one from seedboard.testing's TestCase, or print 'random seed: N')"
            )
            return 0
    else:
        pairs = [Pair(args.test_id, args.seed)]
    cwd = Path.cwd()
    for test_id in sorted({pair.test_id for pair in pairs}):
        check_loadable(test_id, environ, cwd)  # before anything runs: nothing recorded
    if args.failing:
        print(f"seedboard: replaying {len(pairs)} failing seeds of run {run_id}", flush=True)
    for pair in pairs:
        verdict = replay(pair, args.times, environ, cwd, records, original_of(records, pair))
        print(verdict.line(), flush=True)
    return 0


def _replay_known(
    records: Records, pattern: str | None, times: int, environ: dict[str, str]
) -> int:
    """Replay every failing seed not fixed yet, at the current commit, and print a table."""
    seeds = still_open(
        records.known_seeds(), lambda test_id: pattern is None or fnmatchcase(test_id, pattern)
    )
    if not seeds:
        print(f"seedboard: no failing seed to replay{f' among {pattern}' if pattern else ''}")
        return 0
    print(f"seedboard: replaying {len(seeds)} known failing seeds at the current commit")
    cwd = Path.cwd()
    rows = [("STATUS", "TEST", "SEED", "")]
    unloadable: dict[str, str] = {}
    for known in seeds:
        test_id = known.pair.test_id
        if test_id not in unloadable:
            try:
                check_loadable(test_id, environ, cwd)
                unloadable[test_id] = ""
            except ReplayError as error:
                unloadable[test_id] = str(error)
        if unloadable[test_id]:
            rows.append(("not replayed", test_id, str(known.pair.seed), unloadable[test_id]))
            continue
        verdict = replay(known.pair, times, environ, cwd, records, known.original)
        status, detail = known_row(verdict)
        rows.append((status, test_id, str(known.pair.seed), detail))
    for line in table(rows):
        print(line.rstrip(), flush=True)
    # A regression corpus: a CI job gates on it as on its tests.
    return 1 if any(row[0] == STILL_FAILING for row in rows) else 0


def _bisect(args: argparse.Namespace, url: str) -> int:
    """Bisect a run's failing test against the tests before it; one line and 1 on a mistake."""
    from seedboard.bisect import BisectError, bisect, hunt_of, trial_in_order, verdict_lines

    try:
        run_seed, results = _placed_results(args, url)
        hunt = hunt_of(args.run_id, run_seed, results, args.test_id)
        print(
            f"seedboard: bisecting {hunt.victim} of run {hunt.run_id}: "
            f"{len(hunt.predecessors)} tests ran before it",
            flush=True,
        )
        runs = trial_in_order(hunt, os.environ, Path.cwd())
        found = bisect(hunt, runs, lambda line: print(line, flush=True))
    except BisectError as error:
        print(f"seedboard: {error}", file=sys.stderr)
        return 1
    for line in verdict_lines(hunt, found):
        print(line, flush=True)
    if found.polluter is None:
        return 0
    try:
        where = _record_polluter(args, url, hunt, found.polluter)
    except BisectError as error:
        print(f"seedboard: {error}", file=sys.stderr)
        return 1
    print(f"seedboard: recorded in {where}: {hunt.victim} is order-dependent")
    return 0


def _record_polluter(args: argparse.Namespace, url: str, hunt: Hunt, polluter: str) -> str:
    """Record the verdict where the run was read from; where that is, for people."""
    from seedboard.bisect import record_on_server

    if args.url:
        record_on_server(args.url, os.environ.get(TOKEN_ENV), hunt, polluter)
        return str(args.url)
    from seedboard.db.engine import open_database
    from seedboard.db.order import record_order_dependency
    from seedboard.domain import OrderDependency

    database = open_database(url)
    try:
        found = OrderDependency(hunt.run_id, hunt.victim, polluter, hunt.seed, _now())
        database.write(record_order_dependency, found)
    finally:
        database.dispose()
    return describe_url(url)


def _placed_results(args: argparse.Namespace, url: str) -> tuple[int | None, list[Placed]]:
    """The run's seed and its results' places, from the server or the database."""
    from seedboard.bisect import BisectError, placed_from_server, placed_in_run

    if args.url:
        return placed_from_server(args.url, os.environ.get(TOKEN_ENV), args.run_id)
    from seedboard.db.engine import open_database
    from seedboard.db.migrate import ensure_schema
    from seedboard.db.runs import get_run

    database = open_database(url)
    try:
        ensure_schema(database)
        detail = database.read(get_run, args.run_id)
    finally:
        database.dispose()
    if detail is None:
        raise BisectError(f"no run {args.run_id} in {describe_url(url)}")
    return detail.summary.start.run_seed, placed_in_run(detail.results)


@contextmanager
def _records(url: str) -> Iterator[Records]:
    """Where trial records in this environment: the server if one is set, else ``url``."""
    server = os.environ.get(URL_ENV)
    if server:
        yield ServerRecords(server, os.environ.get(TOKEN_ENV))
        return
    from seedboard.db.engine import open_database
    from seedboard.db.migrate import ensure_schema

    database = open_database(url)
    try:
        ensure_schema(database)
        yield DatabaseRecords(database, url)
    finally:
        database.dispose()


def _server_named(args: argparse.Namespace) -> str | None:
    """The server a command that changes data acts on: ``--url``, else ``SEEDBOARD_URL``
    unless ``--db`` names a database."""
    return args.url or (None if args.db else os.environ.get(URL_ENV))


def _delete_runs(args: argparse.Namespace, url: str) -> int:
    """Delete each run named, on the server if one is named, else in the database."""
    server = _server_named(args)
    problems: list[str | None] | None
    if server:
        token = os.environ.get(TOKEN_ENV)
        problems = [delete_on_server(server, token, run_id) for run_id in args.run_ids]
        where = server
    else:
        problems, where = _on_database_do(url, partial(_delete, args.run_ids)), describe_url(url)
        if problems is None:
            return 1
    for run_id, problem in zip(args.run_ids, problems, strict=True):
        if problem is None:
            print(f"seedboard: deleted run {run_id} from {where}")
        else:
            print(f"seedboard: {problem}", file=sys.stderr)
    return 1 if any(problems) else 0


def _import_files(args: argparse.Namespace, url: str) -> int:
    """Import each file as a run, on the server if one is named, else into the database;
    a file that cannot be imported is said in one line, and the others still go in."""
    from seedboard.imports.load import Labels, Unreadable, file_format, opened_source
    from seedboard_reporter.metadata import source_info

    found = source_info(os.environ, Path.cwd())
    labels = Labels(
        branch=args.branch or found.branch,
        commit=args.commit or found.commit,
        build_url=args.build_url or found.build_url,
    )
    given = None if args.format is None else FileFormat(args.format)
    server = _server_named(args)
    where = server or describe_url(url)
    failed = 0
    for argument in args.files:
        try:
            with opened_source(argument) as source:
                format = file_format(source, given)
                done: Imported | None
                if server:
                    done = _import_to_server(server, source, format, labels)
                else:
                    done = _import_into_database(url, source, format, labels)
        except Unreadable as error:
            print(f"seedboard: {error}", file=sys.stderr)
            failed += 1
            continue
        if done is None:
            return 1
        said = "imported" if done.new else "already imported as"
        print(
            f"seedboard: {source.name}: {said} run {done.run_id} ({done.results} results) "
            f"into {where}"
        )
    return 1 if failed else 0


def _import_to_server(
    server: str, source: ImportSource, format: FileFormat, labels: ImportLabels
) -> Imported:
    from seedboard.imports.send import import_to_server

    return import_to_server(server, os.environ.get(TOKEN_ENV), source, format, labels)


def _import_into_database(
    url: str, source: ImportSource, format: FileFormat, labels: ImportLabels
) -> Imported | None:
    from seedboard.imports.store import import_file

    now = datetime.now(UTC)
    return _on_database_do(
        url, lambda database: database.write(import_file, source, format, labels, now)
    )


def _delete(run_ids: list[str], database: Database) -> list[str | None]:
    """Delete each run; for each, None once deleted, else what went wrong."""
    from seedboard.db.deletes import delete_run

    return [
        None if database.write(delete_run, run_id) else f"no run with id {run_id!r}"
        for run_id in run_ids
    ]


PRUNE_BATCH = 100
"""Runs listed at a time when pruning; each is deleted in a transaction of its own, so
that ingest never waits long behind a prune."""


def _age(text: str) -> date:
    """The first day kept: ``--older-than 180d`` (or ``26w``) counts back from today, UTC;
    a date names that day."""
    found = re.fullmatch(r"([0-9]{1,5})([dw])", text.strip())
    if found is not None:
        days = int(found[1]) * (7 if found[2] == "w" else 1)
        return _now().date() - timedelta(days=days)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an age: {text!r}; give days (180d), weeks (26w) or a date (2026-06-01)"
        ) from None


def _prune(args: argparse.Namespace, url: str) -> int:
    """Delete every run started before ``--older-than``'s day, oldest first, a run at a time."""
    kept_from: date = args.older_than
    server = _server_named(args)
    if server:
        token = os.environ.get(TOKEN_ENV)
        try:
            pruned, problem = _prune_on_server(server, token, kept_from - timedelta(days=1))
        except OSError as error:
            pruned, problem = 0, f"cannot reach {server}: {error}"
        where = server
    else:
        moment = datetime.combine(kept_from, time(), UTC)
        done = _on_database_do(url, partial(_prune_database, moment))
        if done is None:
            return 1
        pruned, problem, where = done, None, describe_url(url)
    print(f"seedboard: deleted {pruned} runs started before {kept_from} from {where}")
    if problem is not None:
        print(f"seedboard: {problem}", file=sys.stderr)
        return 1
    return 0


def _prune_database(moment: datetime, database: Database) -> int:
    from seedboard.db.deletes import delete_run, runs_started_before

    pruned = 0
    while run_ids := database.read(runs_started_before, moment, PRUNE_BATCH):
        pruned += sum(database.write(delete_run, run_id) for run_id in run_ids)
    return pruned


def _prune_on_server(server: str, token: str | None, last_day: date) -> tuple[int, str | None]:
    """Runs deleted on the server, and what stopped it early, if anything."""
    pruned = 0
    while run_ids := runs_until_on_server(server, token, last_day, PRUNE_BATCH):
        for run_id in run_ids:
            problem = delete_on_server(server, token, run_id)
            if problem is not None:
                return pruned, problem
            pruned += 1
    return pruned, None


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
    status = _on_database_do(url, lambda database: command(database, *args))
    return 1 if status is None else status


def _on_database_do(url: str, work: Callable[[Database], T]) -> T | None:
    """``work`` on the (created or upgraded) database; None, said why, if it cannot be used."""
    from sqlalchemy.exc import SQLAlchemyError

    from seedboard.db.engine import open_database
    from seedboard.db.migrate import ensure_schema

    database = open_database(url)
    try:
        ensure_schema(database)
        return work(database)
    except SQLAlchemyError as error:
        print(f"seedboard: cannot use {describe_url(url)}: {one_line(error)}", file=sys.stderr)
        return None
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
