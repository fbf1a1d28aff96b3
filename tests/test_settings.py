"""Tests for seedboard's environment names, and turning --db / SEEDBOARD_DB into a URL."""

from __future__ import annotations

import re
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from seedboard import settings
from seedboard.settings import database_url, database_url_from, describe_url
from tests.source import code_strings, modules, parse
from tests.support import REPO

ENVIRONMENT_NAME = re.compile(r"SEEDBOARD_[A-Z0-9_]*")


class EnvironmentNameTests(SynchronousTestCase):
    def test_names_are_distinct(self) -> None:
        """Each ``*_ENV`` of settings names a variable of its own, under ``SEEDBOARD_``."""
        names = {key: value for key, value in vars(settings).items() if key.endswith("_ENV")}
        self.assertEqual(len(set(names.values())), len(names), names)
        for key, value in names.items():
            self.assertRegex(value, f"^{ENVIRONMENT_NAME.pattern}$", key)

    def test_only_settings_spells_them(self) -> None:
        """No module but seedboard.settings writes a ``"SEEDBOARD_…"`` literal; docstrings
        and prose that mentions a variable (help text) are documentation, not names."""
        own = REPO / "seedboard" / "settings.py"
        found = [
            f"{path.relative_to(REPO)}:{literal.line}: {literal.text!r}"
            for path in modules("seedboard", "reporter")
            if path != own
            for literal in code_strings(parse(path))
            if ENVIRONMENT_NAME.match(literal.text)
        ]
        self.assertEqual(found, [], "import these names from seedboard.settings")

    def test_the_check_finds_a_name(self) -> None:
        """The scan above notices a name spelled in code, and skips a docstring."""
        tree = parse(REPO / "seedboard" / "settings.py")
        texts = [literal.text for literal in code_strings(tree)]
        self.assertIn(settings.DB_ENV, [text for text in texts if ENVIRONMENT_NAME.match(text)])
        self.assertNotIn(settings.__doc__, texts)


class DatabaseURLTests(SynchronousTestCase):
    def test_default_file_in_directory(self) -> None:
        """No setting means seedboard.db in the given directory."""
        self.assertEqual(database_url(None, Path("/work")), "sqlite:////work/seedboard.db")
        self.assertEqual(database_url("  ", Path("/work")), "sqlite:////work/seedboard.db")

    def test_paths(self) -> None:
        """Relative paths are taken from the directory; absolute ones as they are."""
        self.assertEqual(database_url("x/runs.db", Path("/w")), "sqlite:////w/x/runs.db")
        self.assertEqual(database_url("/data/r.db", Path("/w")), "sqlite:////data/r.db")

    def test_urls_pass_through(self) -> None:
        """A SQLAlchemy URL is used as given."""
        url = "postgresql+psycopg://u:p@127.0.0.1/test"
        self.assertEqual(database_url(url, Path("/w")), url)
        self.assertEqual(database_url_from({"SEEDBOARD_DB": url}, Path("/w")), url)

    def test_describe_hides_password(self) -> None:
        """Printed URLs never show a password; SQLite shows its file."""
        self.assertEqual(
            describe_url("postgresql+psycopg://u:secret@h/db"), "postgresql+psycopg://u:***@h/db"
        )
        self.assertEqual(describe_url("sqlite:////w/seedboard.db"), "/w/seedboard.db")
        self.assertEqual(describe_url("https://ci:hunter2@sb.example"), "https://ci:***@sb.example")
