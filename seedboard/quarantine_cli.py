"""``seedboard quarantine add|list|remove`` and ``seedboard issue``: on the database, or on a
server through its JSON API with the token in ``SEEDBOARD_TOKEN``.

Every value is checked here, before anything is opened, by the rules the server applies
(``seedboard.triage.quarantine``): a mistake is one line on stderr and status 2.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from seedboard.settings import TOKEN_ENV, URL_ENV, describe_url
from seedboard.triage.quarantine import (
    QuarantineError,
    checked_issue_url,
    checked_pattern,
    checked_reason,
    expiry,
)

if TYPE_CHECKING:
    from seedboard.db.engine import Database
    from seedboard.domain import Quarantine

TIMEOUT = 30.0
OnDatabase = Callable[[str, Callable[["Database"], Any]], Any]
"""``cli._on_database_do``: work on the (created or upgraded) database, or None."""


def add_verbs(
    verbs: argparse._SubParsersAction[argparse.ArgumentParser],
    database_option: Callable[[argparse.ArgumentParser], None],
) -> None:
    """The ``quarantine`` and ``issue`` commands, on the parser of ``seedboard``."""
    quarantine = verbs.add_parser(
        "quarantine", help="quarantine flaky tests: still run and recorded, not failing CI"
    )
    quarantine_verbs = quarantine.add_subparsers(
        dest="quarantine_verb", required=True, metavar="COMMAND"
    )
    add = quarantine_verbs.add_parser(
        "add", help="quarantine a test id or a pattern (mypkg.test_net.*), or change one"
    )
    add.add_argument("test", metavar="TEST_ID", help="a test id, or a pattern of test ids")
    add.add_argument("--reason", help="why, for the history and the pages")
    add.add_argument("--issue", metavar="URL", help="the issue tracking it (http or https)")
    add.add_argument(
        "--expires",
        metavar="AGE|DATE",
        help="lift it by itself after an age (14d, 2w, 12h) or at a date (2026-12-31, UTC)",
    )
    listing = quarantine_verbs.add_parser("list", help="the quarantines in force")
    remove = quarantine_verbs.add_parser("remove", help="lift a quarantine")
    remove.add_argument("test", metavar="TEST_ID", help="the test id or pattern quarantined")
    remove.add_argument("--reason", help="why, for the history")
    issue = verbs.add_parser("issue", help="link a test to the issue tracking it")
    issue.add_argument("test", metavar="TEST_ID")
    issue.add_argument("url", metavar="URL", help="the issue's address; '' to unlink")
    for parser in (add, listing, remove, issue):
        database_option(parser)
        parser.add_argument(
            "--url",
            dest="server",
            default=None,
            help=f"act on this server (default: ${URL_ENV} unless --db is given), with the "
            f"token in ${TOKEN_ENV}",
        )


def run(args: argparse.Namespace, url: str, on_database: OnDatabase) -> int:
    """Run ``quarantine …`` or ``issue``; 2 for a value refused, 1 if it cannot be done."""
    server = args.server or (None if args.db else os.environ.get(URL_ENV))
    try:
        if args.verb == "issue":
            return _issue(args, url, server, on_database)
        if args.quarantine_verb == "add":
            return _add(args, url, server, on_database)
        if args.quarantine_verb == "remove":
            return _remove(args, url, server, on_database)
        return _list(url, server, on_database)
    except QuarantineError as error:
        print(f"seedboard: --{error.field}: {error}", file=sys.stderr)
        return 2
    except urllib.error.HTTPError as error:
        print(f"seedboard: {server} refused: {_refusal(error)}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"seedboard: cannot reach {server}: {error}", file=sys.stderr)
        return 1


def actor() -> str:
    """Who changes a quarantine from the command on a database: the login name."""
    try:
        return getpass.getuser()[:100] or "unknown"
    except (OSError, KeyError):
        return "unknown"


def _add(args: argparse.Namespace, url: str, server: str | None, on_db: OnDatabase) -> int:
    now = datetime.now(UTC)
    pattern = checked_pattern(args.test)
    reason = checked_reason(args.reason)
    issue = checked_issue_url(args.issue)
    expires = expiry(args.expires, now)
    if server:
        body = {"test": pattern, "reason": reason, "issue_url": issue, "expires": args.expires}
        answer = _send(server, "POST", "/api/v1/quarantines", {k: v for k, v in body.items() if v})
        created, where = bool(answer.get("created")), server
    else:
        from seedboard.domain import Quarantine
        from seedboard.services.quarantines import add_quarantine

        wanted = Quarantine(pattern, reason, issue, expires, actor(), now)
        created = on_db(url, _write(add_quarantine, wanted))
        if created is None:
            return 1
        where = describe_url(url)
    until = f" until {_readable(expires)}" if expires else ""
    print(f"seedboard: {'quarantined' if created else 'updated'} {pattern}{until} in {where}")
    return 0


def _remove(args: argparse.Namespace, url: str, server: str | None, on_db: OnDatabase) -> int:
    pattern = checked_pattern(args.test)
    reason = checked_reason(args.reason)
    if server:
        path = "/api/v1/quarantines/" + urllib.parse.quote(pattern, safe="")
        try:
            _send(server, "DELETE", path + _reason_query(reason), None)
            removed: bool | None = True
        except urllib.error.HTTPError as error:
            if error.code != 404:
                raise
            removed = False
        where = server
    else:
        from seedboard.services.quarantines import remove_quarantine

        now = datetime.now(UTC)
        removed = on_db(url, _write(remove_quarantine, pattern, actor(), reason, now))
        if removed is None:
            return 1
        where = describe_url(url)
    if not removed:
        print(f"seedboard: {pattern} is not quarantined in {where}", file=sys.stderr)
        return 1
    print(f"seedboard: lifted the quarantine of {pattern} in {where}")
    return 0


def _list(url: str, server: str | None, on_db: OnDatabase) -> int:
    if server:
        from seedboard.triage.quarantine import rules_from_json

        rules = rules_from_json(_send(server, "GET", "/api/v1/quarantines", None))
        rows = [
            (r.pattern, _readable(r.expires_at), r.issue_url or "", r.reason or "") for r in rules
        ]
    else:
        found: list[Quarantine] | None = on_db(url, _active_now)
        if found is None:
            return 1
        rows = [
            (q.pattern, _readable(q.expires_at), q.issue_url or "", q.reason or "") for q in found
        ]
    if not rows:
        print("seedboard: no test is quarantined", file=sys.stderr)
        return 0
    for line in _table([("TEST", "EXPIRES", "ISSUE", "REASON"), *rows]):
        print(line)
    return 0


def _issue(args: argparse.Namespace, url: str, server: str | None, on_db: OnDatabase) -> int:
    test = checked_pattern(args.test)
    issue = checked_issue_url(args.url, "url")
    if server:
        path = "/api/v1/issues/" + urllib.parse.quote(test, safe="")
        _send(server, "PUT", path, {"issue_url": issue})
        where = server
    else:
        from seedboard.db.quarantines import set_issue

        done = on_db(url, _write(set_issue, test, issue, actor(), datetime.now(UTC)))
        if done is None:
            return 1
        where = describe_url(url)
    said = f"linked {test} to {issue}" if issue else f"unlinked {test} from its issue"
    print(f"seedboard: {said} in {where}")
    return 0


def _write(fn: Callable[..., Any], *args: Any) -> Callable[[Database], Any]:
    return lambda database: database.write(fn, *args)


def _active_now(database: Database) -> list[Quarantine]:
    from seedboard.db.quarantines import active_quarantines

    return database.read(active_quarantines, datetime.now(UTC))


def _reason_query(reason: str | None) -> str:
    return "?" + urllib.parse.urlencode({"reason": reason}) if reason else ""


def _send(server: str, method: str, path: str, value: object) -> Any:
    """A request to the server's API; its JSON answer.  ``HTTPError`` for an error status."""
    token = os.environ.get(TOKEN_ENV)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if value is not None:
        data = json.dumps(value).encode("utf-8")
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(
        server.rstrip("/") + path, data=data, headers=headers, method=method
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
        return json.load(answer)


def _refusal(error: urllib.error.HTTPError) -> str:
    """The server's error in one line: its message and the field at fault."""
    if error.code in (401, 403):
        return f"set {TOKEN_ENV} to a valid token ({error.code})"
    try:
        detail = json.load(error)["error"]
        field = f" ({detail['field']})" if detail.get("field") else ""
        return f"{detail['message']}{field}"
    except (ValueError, KeyError, TypeError, OSError):
        return f"status {error.code}"


def _readable(moment: datetime | None) -> str:
    return "never" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [
        "  ".join(
            [*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]]
        ).rstrip()
        for row in rows
    ]
