"""Tests for API tokens: the store functions and ``seedboard token create/list/revoke``."""

from __future__ import annotations

import contextlib
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import String, select
from twisted.trial.unittest import SynchronousTestCase

from seedboard import cli
from seedboard.db import tokens
from seedboard.db.engine import open_database
from seedboard.db.models import Token
from tests.support import temporary_database

NOW = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)


class TokenStoreTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.db = temporary_database(self)

    def create(self, name: str, token: str) -> None:
        self.db.write(tokens.create_token, name, tokens.hash_token(token), NOW)

    def test_new_tokens(self) -> None:
        """New tokens are 256 random bits of URL-safe text, never the same twice."""
        made = {tokens.new_token() for _ in range(100)}
        self.assertEqual(len(made), 100)
        for token in made:
            self.assertRegex(token, r"^[A-Za-z0-9_-]{43}$")

    def test_lookup_by_hash(self) -> None:
        """An active token is found by its hash, and names its owner."""
        self.create("ci", "secret-1")
        self.assertEqual(self.db.read(tokens.active_token, tokens.hash_token("secret-1")), "ci")
        self.assertIsNone(self.db.read(tokens.active_token, tokens.hash_token("secret-2")))

    def test_only_hash_stored(self) -> None:
        """The tokens table holds the token's SHA-256, never its text."""
        self.create("ci", "plain-token-text")
        rows = self.db.read(lambda conn: conn.execute(select(Token.__table__)).all())
        self.assertNotIn("plain-token-text", repr(rows))
        self.assertEqual(rows[0].hash, tokens.hash_token("plain-token-text"))
        self.assertRegex(rows[0].hash, r"^[0-9a-f]{64}$")

    def test_duplicate_active_name(self) -> None:
        """A second active token of the same name is refused."""
        self.create("ci", "one")
        self.assertRaises(tokens.DuplicateToken, self.create, "ci", "two")

    def test_revoke(self) -> None:
        """A revoked token is no longer found, and is listed as revoked."""
        self.create("ci", "secret")
        later = NOW + timedelta(hours=1)
        self.assertTrue(self.db.write(tokens.revoke_token, "ci", later))
        self.assertFalse(self.db.write(tokens.revoke_token, "ci", later))
        self.assertIsNone(self.db.read(tokens.active_token, tokens.hash_token("secret")))
        self.assertEqual(self.db.read(tokens.list_tokens), [tokens.TokenInfo("ci", NOW, later)])

    def test_revoke_unknown(self) -> None:
        """Revoking a name that was never created is an error."""
        self.assertRaises(tokens.UnknownToken, self.db.write, tokens.revoke_token, "x", NOW)

    def test_name_reused_after_revoke(self) -> None:
        """A revoked token's name can be given to a new token; the old one stays dead."""
        self.create("ci", "old")
        self.db.write(tokens.revoke_token, "ci", NOW)
        self.create("ci", "new")
        self.assertIsNone(self.db.read(tokens.active_token, tokens.hash_token("old")))
        self.assertEqual(self.db.read(tokens.active_token, tokens.hash_token("new")), "ci")
        [info] = self.db.read(tokens.list_tokens)
        self.assertTrue(info.active)


class TokenCommandTests(SynchronousTestCase):
    def setUp(self) -> None:
        path = Path(self.mktemp()).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        self.url = f"sqlite:///{path}"

    def seedboard(self, *argv: str) -> tuple[int, str, str]:
        """Run the command in-process: its exit code, stdout and stderr."""
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main([*argv, "--db", self.url])
        return code, out.getvalue(), err.getvalue()

    def active_name(self, token: str) -> str | None:
        database = open_database(self.url)
        self.addCleanup(database.dispose)
        return database.read(tokens.active_token, tokens.hash_token(token))

    def test_create_prints_only_the_token(self) -> None:
        """``token create`` prints the token alone on stdout, and a hint on stderr."""
        code, out, err = self.seedboard("token", "create", "ci")
        self.assertEqual(code, 0)
        self.assertRegex(out, r"^[A-Za-z0-9_-]{43}\n$")
        self.assertIn("shown only this once", err)
        self.assertEqual(self.active_name(out.strip()), "ci")

    def test_create_duplicate(self) -> None:
        """Creating a second active token of one name fails with a clear message."""
        self.seedboard("token", "create", "ci")
        code, out, err = self.seedboard("token", "create", "ci")
        self.assertEqual((code, out), (1, ""))
        self.assertIn("a token named 'ci' exists already", err)

    def test_list(self) -> None:
        """``token list`` shows names, creation times and status, never tokens or hashes."""
        _, token, _ = self.seedboard("token", "create", "ci")
        self.seedboard("token", "create", "laptop")
        self.seedboard("token", "revoke", "laptop")
        code, out, _ = self.seedboard("token", "list")
        self.assertEqual(code, 0)
        lines = out.splitlines()
        self.assertEqual(lines[0].split(), ["NAME", "CREATED", "STATUS"])
        self.assertRegex(lines[1], r"^ci\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\s+active$")
        self.assertRegex(lines[2], r"^laptop\s+.+ UTC\s+revoked \d{4}-\d\d-\d\d .+ UTC$")
        self.assertNotIn(token.strip(), out)
        self.assertIsNone(re.search(r"[0-9a-f]{64}", out))

    def test_list_empty(self) -> None:
        """With no tokens, ``token list`` prints nothing on stdout and says so on stderr."""
        code, out, err = self.seedboard("token", "list")
        self.assertEqual((code, out), (0, ""))
        self.assertIn("no tokens", err)

    def test_revoke(self) -> None:
        """``token revoke`` stops the token working at once."""
        _, token, _ = self.seedboard("token", "create", "ci")
        code, out, _ = self.seedboard("token", "revoke", "ci")
        self.assertEqual(code, 0)
        self.assertIn("revoked", out)
        self.assertIsNone(self.active_name(token.strip()))

    def test_revoke_unknown(self) -> None:
        """Revoking an unknown name exits 1 and says so."""
        code, _, err = self.seedboard("token", "revoke", "nobody")
        self.assertEqual(code, 1)
        self.assertIn("no token named 'nobody'", err)

    def test_name_limit_is_column_length(self) -> None:
        """The command's limit on names is the tokens.name column's length."""
        column_type = Token.__table__.c.name.type
        assert isinstance(column_type, String)
        self.assertEqual(cli.MAX_TOKEN_NAME, column_type.length)

    def test_bad_names(self) -> None:
        """Empty, padded, unprintable or over-long names are usage errors."""
        for name in ("", " ci", "c\ti", "x" * 101):
            with contextlib.redirect_stderr(io.StringIO()):
                error = self.assertRaises(SystemExit, cli.main, ["token", "create", name])
            self.assertEqual(error.code, 2)
