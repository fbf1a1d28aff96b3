"""Store functions for API tokens: making them, listing, revoking, and finding one by hash.

Only a token's SHA-256 is stored.  Tokens are 256 random bits, so a fast hash
is right (nothing to brute-force), and a request's token is checked by looking
its hash up: the comparison never runs over the secret itself.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import Connection, Dialect, bindparam, insert, select, update

from seedboard.db.driver import sqlite_rows
from seedboard.db.models import Token

TOKEN_BYTES = 32


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A token as listed: never its text or hash."""

    name: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class DuplicateToken(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"an active token named {name!r} exists already")
        self.name = name


class UnknownToken(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no token named {name!r}")
        self.name = name


def new_token() -> str:
    """A fresh token: 256 random bits, URL-safe text."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(conn: Connection, name: str, token_hash: str, now: datetime) -> None:
    """Store a token under ``name``; a revoked token of that name is replaced."""
    row = conn.execute(select(Token.id, Token.revoked_at).where(Token.name == name)).first()
    if row is None:
        conn.execute(insert(Token).values(name=name, hash=token_hash, created_at=now))
    elif row.revoked_at is None:
        raise DuplicateToken(name)
    else:
        conn.execute(
            update(Token)
            .where(Token.id == row.id)
            .values(hash=token_hash, created_at=now, revoked_at=None)
        )


def list_tokens(conn: Connection) -> list[TokenInfo]:
    query = select(Token.name, Token.created_at, Token.revoked_at).order_by(Token.name)
    return [TokenInfo(row.name, row.created_at, row.revoked_at) for row in conn.execute(query)]


def revoke_token(conn: Connection, name: str, now: datetime) -> bool:
    """Revoke the token named ``name``; False if it was revoked already."""
    row = conn.execute(select(Token.id, Token.revoked_at).where(Token.name == name)).first()
    if row is None:
        raise UnknownToken(name)
    if row.revoked_at is not None:
        return False
    conn.execute(update(Token).where(Token.id == row.id).values(revoked_at=now))
    return True


def active_token(conn: Connection, token_hash: str) -> str | None:
    """The name of the unrevoked token with this hash, if there is one.

    Every write asks, once a batch: on SQLite on the driver's own cursor, since
    SQLAlchemy's execution around this one-row lookup cost nine times the lookup
    (bench/README.md, "the server's overhead around SQLite's statements").
    """
    if conn.dialect.name != "sqlite":
        name: str | None = conn.execute(_ACTIVE, {"hash": token_hash}).scalar()
        return name
    rows = sqlite_rows(conn, _active_sql(conn.dialect), (token_hash,))
    return str(rows[0][0]) if rows else None


_ACTIVE = select(Token.name).where(Token.hash == bindparam("hash"), Token.revoked_at.is_(None))
"""``active_token``'s query, built once."""


@cache
def _active_sql(dialect: Dialect) -> str:
    return str(_ACTIVE.compile(dialect=dialect))
