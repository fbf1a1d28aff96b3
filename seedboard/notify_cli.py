"""The ``webhook`` and ``report`` commands: who hears about changes, and a run's summary
for CI.  Each works on a database (``--db``) or a server (``--url`` and the token in
``SEEDBOARD_TOKEN``); a server computes the report, and the command renders it as it
renders one computed from a database."""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seedboard.errors import UnusableDatabase
from seedboard.remote import TIMEOUT, get_json
from seedboard.settings import PUBLIC_URL_ENV, TOKEN_ENV, URL_ENV, describe_url

if TYPE_CHECKING:
    from seedboard.db.engine import Database
    from seedboard.triage.ci_report import RunReport

VERBS = ("webhook", "report")
FORMATS = ("markdown", "text", "json")


def add_verbs(
    verbs: argparse._SubParsersAction,  # type: ignore[type-arg]
    database_option: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add ``webhook add|list|remove`` and ``report`` to the command's verbs."""
    webhook = verbs.add_parser("webhook", help="send events (class changes, new failures) to URLs")
    webhook_verbs = webhook.add_subparsers(dest="webhook_verb", required=True, metavar="COMMAND")
    add = webhook_verbs.add_parser("add", help="send events to a URL")
    add.add_argument("webhook_url", metavar="URL")
    add.add_argument(
        "--events",
        help="comma-separated kinds: class-changed, new-failure-group, run-failed, "
        "quarantine-expired (default: all)",
    )
    add.add_argument("--format", choices=("json", "slack"), default="json")
    add.add_argument(
        "--secret-file",
        type=Path,
        metavar="FILE",
        help="sign each body with the secret in FILE (X-Seedboard-Signature)",
    )
    listing = webhook_verbs.add_parser("list", help="list webhooks (never their secrets)")
    remove = webhook_verbs.add_parser("remove", help="stop sending to a webhook")
    remove.add_argument("target", metavar="ID|URL")
    for parser in (add, listing, remove):
        _where(parser, database_option)

    report = verbs.add_parser(
        "report", help="a run's summary for CI: new and known failures, fixed tests"
    )
    report.add_argument("run_id", nargs="?", metavar="RUN_ID", help="default: the latest run")
    report.add_argument("--format", choices=FORMATS, default="markdown")
    _where(report, database_option)


def _where(
    parser: argparse.ArgumentParser, database_option: Callable[[argparse.ArgumentParser], None]
) -> None:
    database_option(parser)
    parser.add_argument(
        "--url",
        default=None,
        help=f"a server instead (default: ${URL_ENV} unless --db is given), with the token "
        f"in ${TOKEN_ENV}",
    )


class CommandError(Exception):
    """One line for stderr, and exit status 1."""


def run(args: argparse.Namespace, database_url: str) -> int:
    server = args.url or (None if args.db else os.environ.get(URL_ENV))
    try:
        if args.verb == "report":
            return _report(args, database_url, server)
        if args.webhook_verb == "add":
            return _add(args, database_url, server)
        if args.webhook_verb == "list":
            return _list(database_url, server)
        return _remove(args.target, database_url, server)
    except CommandError as error:
        print(f"seedboard: {error}", file=sys.stderr)
        return 1


# Webhooks.


def _add(args: argparse.Namespace, database_url: str, server: str | None) -> int:
    from seedboard.decoding import Invalid
    from seedboard.ingest import parse_webhook

    body: dict[str, Any] = {"url": args.webhook_url, "format": args.format}
    if args.events:
        body["events"] = [kind.strip() for kind in args.events.split(",") if kind.strip()]
    if args.secret_file is not None:
        try:
            body["secret"] = args.secret_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"cannot read the secret from {args.secret_file}: {error}") from None
    encoded = json.dumps(body).encode("utf-8")
    try:
        spec = parse_webhook(encoded)  # the API's own checks, before anything is sent
    except Invalid as error:
        raise CommandError(f"{_option(error.field)}: {error.message}") from None
    if server:
        added = _call(server, "POST", "/api/v1/webhooks", encoded)
        print(f"seedboard: webhook {added['id']} added on {server}: {_describe(added)}")
        return 0
    from seedboard.db.webhooks import add_webhook

    info = _on_database(
        database_url,
        lambda db: db.write(
            add_webhook, spec.url, spec.events, spec.format, spec.secret, datetime.now(UTC)
        ),
    )
    print(
        f"seedboard: webhook {info.id} added in {describe_url(database_url)}: "
        f"{_describe({'url': info.url, 'events': info.events, 'format': info.format})}"
    )
    return 0


def _option(field: str | None) -> str:
    return {"url": "URL", "secret": "--secret-file"}.get(field or "url", f"--{field}")


def _describe(hook: dict[str, Any]) -> str:
    return f"{hook['url']} ({hook['format']}; {', '.join(hook['events'])})"


def _list(database_url: str, server: str | None) -> int:
    if server:
        hooks = _call(server, "GET", "/api/v1/webhooks")["webhooks"]
    else:
        from seedboard.db.webhooks import list_webhooks

        found = _on_database(database_url, lambda db: db.read(list_webhooks))
        hooks = [
            {
                "id": h.id,
                "url": h.url,
                "events": h.events,
                "format": h.format,
                "signed": h.signed,
            }
            for h in found
        ]
    if not hooks:
        print("seedboard: no webhooks; add one with: seedboard webhook add URL", file=sys.stderr)
        return 0
    rows = [("ID", "FORMAT", "SIGNED", "EVENTS", "URL")]
    rows += [
        (
            str(h["id"]),
            h["format"],
            "yes" if h["signed"] else "no",
            ",".join(h["events"]),
            h["url"],
        )
        for h in hooks
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[4]]))
    return 0


def _remove(target: str, database_url: str, server: str | None) -> int:
    by_id: int | str = int(target) if target.isascii() and target.isdigit() else target
    if server:
        if isinstance(by_id, int):
            ids = [by_id]
        else:
            hooks = _call(server, "GET", "/api/v1/webhooks")["webhooks"]
            ids = [h["id"] for h in hooks if h["url"] == by_id]
        for hook_id in ids:
            _call(server, "DELETE", f"/api/v1/webhooks/{hook_id}")
        removed = len(ids)
    else:
        from seedboard.db.webhooks import remove_webhooks

        removed = _on_database(database_url, lambda db: db.write(remove_webhooks, by_id))
    if not removed:
        raise CommandError(f"no webhook {target}")
    print(f"seedboard: removed {removed} webhook{'s' if removed > 1 else ''} ({target})")
    return 0


# The report.


def _report(args: argparse.Namespace, database_url: str, server: str | None) -> int:
    from seedboard.triage import ci_report
    from seedboard.web.urls import path_to_run, path_to_test

    if server:
        report = _report_from_server(server, args.run_id)
        base = os.environ.get(PUBLIC_URL_ENV) or server
    else:
        from seedboard.services.ci_report import run_report

        report = _on_database(database_url, lambda db: db.read(run_report, args.run_id))
        base = os.environ.get(PUBLIC_URL_ENV) or ""
        if report is None:
            raise CommandError(
                f"no run {args.run_id} in {describe_url(database_url)}"
                if args.run_id
                else f"no run recorded in {describe_url(database_url)} yet"
            )
    links = ci_report.Links(base, path_to_test, path_to_run)
    if args.format == "json":
        import msgspec

        from seedboard.web.answers import RunReport as Answer

        sys.stdout.write(
            msgspec.json.encode(msgspec.convert(report, Answer, from_attributes=True)).decode()
            + "\n"
        )
    elif args.format == "text":
        sys.stdout.write(ci_report.text(report, links))
    else:
        sys.stdout.write(ci_report.markdown(report, links))
    return 0


def _report_from_server(server: str, run_id: str | None) -> RunReport:
    import msgspec

    from seedboard.triage.ci_report import RunReport
    from seedboard.web.answers import RunReport as Answer

    query = "" if run_id is None else "?" + urllib.parse.urlencode({"run": run_id})
    found = _call(server, "GET", f"/api/v1/report{query}")
    return msgspec.convert(msgspec.convert(found, Answer), RunReport, from_attributes=True)


# Where the work is done.


def _on_database(url: str, work: Callable[[Database], Any]) -> Any:
    from sqlalchemy.exc import SQLAlchemyError

    from seedboard.db.engine import open_database
    from seedboard.db.migrate import ensure_schema

    database = open_database(url)
    try:
        ensure_schema(database)
        return work(database)
    except SQLAlchemyError as error:
        from seedboard.errors import one_line

        raise CommandError(f"cannot use {describe_url(url)}: {one_line(error)}") from None
    except UnusableDatabase as error:
        raise CommandError(str(error)) from None
    finally:
        database.dispose()


def _call(server: str, method: str, path: str, body: bytes | None = None) -> Any:
    """A JSON API call with the token; its answer, or a ``CommandError`` saying why not."""
    url = server.rstrip("/") + path
    token = os.environ.get(TOKEN_ENV)
    try:
        if method == "GET":
            return get_json(url, token)
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(url, data=body, headers=headers, method=method)
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
            return json.load(answer)
    except urllib.error.HTTPError as error:
        raise CommandError(f"{server} answered {error.code}: {_message(error)}") from None
    except OSError as error:
        raise CommandError(f"cannot reach {server}: {error}") from None


def _message(error: urllib.error.HTTPError) -> str:
    try:
        detail = json.load(error)["error"]
    except (ValueError, KeyError, TypeError, OSError):
        return str(error.reason)
    if error.code == 401:
        return f"set {TOKEN_ENV} to a valid token"
    field = detail.get("field")
    return f"{field}: {detail['message']}" if field else str(detail["message"])
