"""Each test's owners, from the repository's ``CODEOWNERS``, recorded at the end of the run.

GitHub's and GitLab's syntax: one pattern and its owners a line, ``#`` comments, the
last matching pattern wins, a pattern without owners means none; GitLab's
``[Section]`` headers are read as plain lines (their default owners left out).
A test's file, relative to the repository, is matched; files are judged once each.

The owners are sent after the run is recorded: to the server
(``PUT /api/v1/runs/<id>/owners``), or into the database through a short
``python -m seedboard.owners_record`` (trial's process never imports SQLAlchemy).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from seedboard.errors import one_line
from seedboard.settings import TOKEN_ENV, URL_ENV, database_url_from

PLACES = ("CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS")
"""Where GitHub and GitLab look, in the order they look."""
TIMEOUT = 10.0

Rule = tuple[re.Pattern[str], tuple[str, ...]]


def repository_root(cwd: Path) -> Path:
    """The nearest folder at or above ``cwd`` holding ``.git``; else ``cwd``."""
    for folder in (cwd, *cwd.parents):
        if (folder / ".git").exists():
            return folder
    return cwd


def find_codeowners(root: Path) -> Path | None:
    for place in PLACES:
        if (root / place).is_file():
            return root / place
    return None


def parse(text: str) -> list[Rule]:
    """The rules of a CODEOWNERS file, in order."""
    rules = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith(("[", "^[")):
            continue
        pattern, *owners = _split(line)
        rules.append((pattern_regex(pattern), tuple(o for o in owners if not o.startswith("#"))))
    return rules


def _split(line: str) -> list[str]:
    """A line's words; ``\\ `` escapes a space in a pattern, ``#`` starts a comment."""
    words = re.findall(r"(?:\\.|[^\s\\])+", line.split(" #", 1)[0])
    return [word.replace("\\ ", " ") for word in words]


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """A CODEOWNERS pattern (gitignore's rules) as a regular expression over paths."""
    anchored = pattern.startswith("/") or "/" in pattern.rstrip("/")
    only_files_in = pattern.endswith("/*")  # GitHub: docs/* leaves docs/x/y out
    body = pattern.strip("/")
    parts = []
    index = 0
    while index < len(body):
        if body.startswith("**/", index):
            parts.append("(?:.*/)?")
            index += 3
        elif body.startswith("**", index):
            parts.append(".*")
            index += 2
        elif body[index] == "*":
            parts.append("[^/]*")
            index += 1
        elif body[index] == "?":
            parts.append("[^/]")
            index += 1
        else:
            parts.append(re.escape(body[index]))
            index += 1
    prefix = "" if anchored else "(?:.*/)?"
    suffix = "" if only_files_in else "(?:/.*)?"
    return re.compile(f"{prefix}{''.join(parts)}{suffix}")


def owners_of(rules: list[Rule], path: str) -> tuple[str, ...]:
    """The owners of ``path`` (relative, with ``/``): the last matching rule's."""
    for regex, owners in reversed(rules):
        if regex.fullmatch(path):
            return owners
    return ()


class Owners:
    """The owners of the tests a run records, by test id."""

    def __init__(self, cwd: Path) -> None:
        self._cwd = cwd
        self._root = repository_root(cwd)
        self._rules: list[Rule] = []
        self.problem: str | None = None
        try:
            found = find_codeowners(self._root)
            if found is not None:
                self._rules = parse(found.read_text(encoding="utf-8", errors="replace"))
        except (OSError, re.error) as error:
            self.problem = f"cannot read CODEOWNERS: {one_line(error)}"
        self._by_file: dict[str | None, tuple[str, ...]] = {}
        self.tests: dict[str, tuple[str, ...]] = {}

    @property
    def active(self) -> bool:
        return bool(self._rules)

    def note(self, test_id: str, file: str | None) -> None:
        """Remember the owners of a test just recorded."""
        owners = self._by_file.get(file)
        if owners is None:
            owners = self._by_file[file] = self._judge(file)
        self.tests[test_id] = owners

    def _judge(self, file: str | None) -> tuple[str, ...]:
        if not file:
            return ()
        path = (self._cwd / file).resolve()
        try:
            relative = path.relative_to(self._root)
        except ValueError:
            return ()
        return owners_of(self._rules, relative.as_posix())

    def send(self, environ: Mapping[str, str], run_id: str) -> str | None:
        """Record the owners with the run; None once done, else why not."""
        if not self.tests:
            return None
        body = json.dumps({"owners": {t: list(o) for t, o in self.tests.items()}}).encode()
        try:
            server = environ.get(URL_ENV, "").strip()
            if server:
                _put(server, environ.get(TOKEN_ENV), run_id, body)
            else:
                url = database_url_from(environ, self._cwd)
                subprocess.run(
                    [sys.executable, "-m", "seedboard.owners_record", url, run_id],
                    input=body,
                    capture_output=True,
                    timeout=TIMEOUT * 6,
                    check=True,
                )
        except subprocess.CalledProcessError as error:
            said = error.stderr.decode("utf-8", "replace").strip().splitlines()
            return f"cannot record the tests' owners: {said[-1] if said else error}"
        except Exception as error:
            return f"cannot record the tests' owners: {one_line(error)}"
        return None


def _put(server: str, token: str | None, run_id: str, body: bytes) -> None:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        f"{server.rstrip('/')}/api/v1/runs/{run_id}/owners",
        data=body,
        headers=headers,
        method="PUT",
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT):
        pass
