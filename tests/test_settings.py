"""Tests for turning --db / SEEDBOARD_DB into a URL, and printing it safely."""

from __future__ import annotations

from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from seedboard.settings import database_url, database_url_from, describe_url


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
