"""Store functions for login sessions, shared by every server process on the database.

Only a session id's SHA-256 is stored, as with tokens: reading the database
gives no one a way into a browser's session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select

from seedboard.db.models import LoginSession


@dataclass(frozen=True, slots=True)
class StoredSession:
    token_hash: str
    csrf: str
    expires_at: datetime


def save_session(conn: Connection, id_hash: str, session: StoredSession, now: datetime) -> None:
    """Store a new session, and forget expired ones so the table does not grow without end."""
    conn.execute(delete(LoginSession).where(LoginSession.expires_at <= now))
    conn.execute(
        insert(LoginSession).values(
            id_hash=id_hash,
            token_hash=session.token_hash,
            csrf=session.csrf,
            expires_at=session.expires_at,
        )
    )


def find_session(conn: Connection, id_hash: str, now: datetime) -> StoredSession | None:
    """The session with this id hash, unless it has expired."""
    query = select(LoginSession.token_hash, LoginSession.csrf, LoginSession.expires_at).where(
        LoginSession.id_hash == id_hash, LoginSession.expires_at > now
    )
    row = conn.execute(query).first()
    return None if row is None else StoredSession(row.token_hash, row.csrf, row.expires_at)


def end_session(conn: Connection, id_hash: str) -> None:
    conn.execute(delete(LoginSession).where(LoginSession.id_hash == id_hash))


def session_count(conn: Connection) -> int:
    """How many sessions are stored, expired or not."""
    return conn.execute(select(func.count()).select_from(LoginSession)).scalar_one()
