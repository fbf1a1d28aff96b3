"""The quarantines a run goes by, read once at its start, on a thread of their own.

From the server (``GET /api/v1/quarantines``) when the run records on one, kept in the
spool folder for a run that finds the server down; else from the database: a SQLite
file with the standard library's ``sqlite3`` (trial's process never imports
SQLAlchemy), any other database through a short ``python -m seedboard.quarantine_list``.
Whatever goes wrong, the run goes on without quarantines, and says why at its end.

``seedboard.triage.quarantine`` is imported only where there are quarantines: most runs
have none, and every module in trial's process costs each test about 600 instructions
(trial walks ``sys.modules`` before every test; bench/README.md, issue 18).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from seedboard.errors import one_line
from seedboard.settings import (
    QUARANTINE_CACHE,
    QUARANTINE_ENFORCE,
    QUARANTINE_ENV,
    TOKEN_ENV,
    URL_ENV,
    database_url_from,
    spool_root,
)
from seedboard_reporter.spool_file import make_folder

if TYPE_CHECKING:
    from seedboard.triage.quarantine import Rule

FETCH_TIMEOUT = 5.0
"""How long the server may take to answer."""
WAIT = 30.0
"""How long a run's first failure waits for the list before it is judged without it: the
helper process for a PostgreSQL database starts Python and SQLAlchemy first."""
QUERY = "SELECT pattern, expires_at, reason, issue_url FROM quarantines WHERE lifted_at IS NULL"


class Quarantines:
    """The active quarantines, being read in the background from where the run records."""

    def __init__(self, environ: Mapping[str, str], cwd: Path) -> None:
        self._environ = dict(environ)
        self._cwd = cwd
        self._rules: list[Rule] = []
        self.problem: str | None = None
        """Why the list could not be read fresh (it may come from the cache then)."""
        self._thread = threading.Thread(target=self._read, name="seedboard-quarantines")
        self._thread.daemon = True
        if self._is_sqlite_file():
            self._thread.run()  # a local read of a few milliseconds: every line is marked
        else:
            self._thread.start()

    def _is_sqlite_file(self) -> bool:
        if self._environ.get(URL_ENV, "").strip():
            return False
        return database_url_from(self._environ, self._cwd).startswith("sqlite:///")

    @property
    def patience(self) -> float:
        """How long the end of a run with failures waits for the list just to mark them:
        the database's helper process, not a server, whose run already waits for it at
        its end (``SEEDBOARD_FLUSH_TIMEOUT``) and which may hang."""
        return 0.0 if self._environ.get(URL_ENV, "").strip() else WAIT

    def ready(self, wait: float = 0.0) -> bool:
        """Whether the list has been read, waiting up to ``wait`` seconds for it."""
        if self._thread.ident is None:  # read at once, without a thread
            return True
        if wait > 0:
            self._thread.join(wait)
        return not self._thread.is_alive()

    def covering(self, test_id: str) -> Rule | None:
        """The quarantine covering ``test_id`` now, if any; None until the list is read."""
        if not self.ready() or not self._rules:
            return None
        from seedboard.triage.quarantine import covering

        return covering(self._rules, test_id, datetime.now(UTC))

    def _read(self) -> None:
        try:
            server = self._environ.get(URL_ENV, "").strip()
            self._rules = self._from_server(server) if server else self._from_database()
        except Exception as error:  # never the run's problem
            self.problem = f"cannot read the quarantines: {one_line(error)}"

    def _from_server(self, server: str) -> list[Rule]:
        cache = spool_root(self._environ, self._cwd) / QUARANTINE_CACHE
        token = self._environ.get(TOKEN_ENV)
        request = urllib.request.Request(
            server.rstrip("/") + "/api/v1/quarantines",
            headers={"Authorization": f"Bearer {token}"} if token else {},
        )
        try:
            with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as answer:
                rules = _rules_from_json(json.load(answer))
        except (OSError, ValueError) as error:
            self.problem = f"cannot read the quarantines from {server}: {one_line(error)}"
            return _cached(cache)
        _keep(cache, rules)
        return rules

    def _from_database(self) -> list[Rule]:
        url = database_url_from(self._environ, self._cwd)
        if url.startswith("sqlite:///"):
            return sqlite_rules(Path(url.removeprefix("sqlite:///")))
        found = subprocess.run(
            [sys.executable, "-m", "seedboard.quarantine_list", url],
            capture_output=True,
            timeout=WAIT,
            check=True,
        )
        return _rules_from_json(json.loads(found.stdout))


def sqlite_rules(path: Path) -> list[Rule]:
    """The unlifted quarantines of a SQLite database; none if it has no such table yet."""
    if not path.exists():
        return []
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=FETCH_TIMEOUT)
    try:
        rows = connection.execute(QUERY).fetchall()
    except sqlite3.OperationalError as error:
        if "no such table" in str(error):
            return []
        raise
    finally:
        connection.close()
    if not rows:
        return []
    from seedboard.triage.quarantine import Rule

    return [
        Rule(pattern, _stored_time(expires), reason, issue)
        for pattern, expires, reason, issue in rows
    ]


def _rules_from_json(value: Any) -> list[Rule]:
    """``rules_from_json``, imported only when the answer (or the cache) lists any."""
    listed = value.get("quarantines") if isinstance(value, Mapping) else value
    if not listed:
        return []
    from seedboard.triage.quarantine import rules_from_json

    return rules_from_json(value)


def _rules_to_json(rules: list[Rule]) -> bytes:
    if not rules:
        return b"[]"  # what rules_to_json writes for none, without importing it
    from seedboard.triage.quarantine import rules_to_json

    return rules_to_json(rules)


def _stored_time(text: str | None) -> datetime | None:
    """A time as SQLAlchemy stores it in SQLite: UTC, without its zone."""
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)


def _cached(cache: Path) -> list[Rule]:
    try:
        return _rules_from_json(json.loads(cache.read_bytes()))
    except (OSError, ValueError):
        return []


def _keep(cache: Path, rules: list[Rule]) -> None:
    """Keep the list for a run that finds the server down; a failure to is no problem."""
    try:
        make_folder(cache.parent)
        part = cache.with_suffix(".part")
        part.write_bytes(_rules_to_json(rules))
        os.replace(part, cache)
    except OSError:
        pass


MARK = "[quarantined]"
T = TypeVar("T")


class Marks:
    """Which of a run's failures are quarantined: marked in the output, and, when the run
    enforces quarantine, left out of its status."""

    def __init__(self, quarantines: Quarantines | None, enforce: bool) -> None:
        self._quarantines = quarantines
        self.enforce = enforce
        self.quarantined: set[str] = set()
        """The ids of the tests whose failures were quarantined."""
        self._unjudged: list[str] = []
        """Failed before the list was read: judged by ``settle``."""

    def judge(self, test_id: str) -> bool:
        """Whether a failure of ``test_id`` is quarantined, as far as is known yet: a test
        never waits for the list (a failure before it is read is judged at the end)."""
        if self._quarantines is None:
            return False
        if not self._quarantines.ready():
            self._unjudged.append(test_id)
            return False
        return self._judged(test_id)

    def settle(self) -> None:
        """Before the run's summary: judge the failures that came before the list, waiting
        for it longest when the exit status depends on it."""
        if self._quarantines is None or not self._unjudged:
            return
        if not self._quarantines.ready(WAIT if self.enforce else self._quarantines.patience):
            if self.enforce:
                self._quarantines.problem = "the quarantine list took too long to read"
            return
        for test_id in self._unjudged:
            self._judged(test_id)
        self._unjudged = []

    def _judged(self, test_id: str) -> bool:
        assert self._quarantines is not None
        try:
            if self._quarantines.covering(test_id) is None:
                return False
        except Exception as error:  # never the run's problem
            self._quarantines.problem = f"cannot judge quarantines: {one_line(error)}"
            return False
        self.quarantined.add(test_id)
        return True

    def split(self, results: list[T], ids: list[str]) -> tuple[list[T], list[T]]:
        """``results`` (trial's (test, …) tuples) as (not quarantined, quarantined)."""
        plain: list[T] = []
        marked: list[T] = []
        for result, identity in zip(results, ids, strict=True):
            (marked if identity in self.quarantined else plain).append(result)
        return plain, marked

    def all_quarantined(self, ids: list[str]) -> bool:
        return all(identity in self.quarantined for identity in ids)

    def lines(self) -> list[str]:
        """What the run's last lines say about quarantine."""
        said = []
        problem = self._quarantines and self._quarantines.problem
        if problem and self.enforce:  # otherwise a mark missing changes nothing
            said.append(f"seedboard: {problem}")
        if self.quarantined:
            count = len(self.quarantined)
            tests = "test" if count == 1 else "tests"
            if self.enforce:
                said.append(
                    f"seedboard: {count} quarantined {tests} failed; the run's status ignores "
                    f"them ({QUARANTINE_ENV}={QUARANTINE_ENFORCE})"
                )
            else:
                said.append(
                    f"seedboard: {count} quarantined {tests} failed, marked {MARK}; set "
                    f"{QUARANTINE_ENV}={QUARANTINE_ENFORCE} for them not to fail the run"
                )
        return said
