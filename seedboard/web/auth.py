"""Who may read and write: bearer tokens, login sessions and their CSRF secrets.

Writing always needs a valid token in the ``Authorization`` header.  On a
private server reading needs one too, or a login session started with one at
``/login``.  A token is never read from the query string or a cookie, and never
put in one; the database keeps only hashes of tokens and session ids.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode
from weakref import WeakKeyDictionary

from twisted.web.server import Request

from seedboard.db.pool import Pool
from seedboard.db.sessions import StoredSession, end_session, find_session
from seedboard.db.tokens import active_token, hash_token
from seedboard.web.problems import see_other, unauthorized
from seedboard.web.requests import clear_cookie, cookie, header_text, is_api

SESSION_COOKIE = "seedboard_session"
LOGIN_CSRF_COOKIE = "seedboard_login_csrf"
SESSION_LIFETIME = timedelta(hours=12)
LOGIN_FORM_LIFETIME = timedelta(hours=1)
SECRET_BYTES = 32

TOKEN_CHECK_REUSE = 1.0
"""Seconds for which a write's token, found active as its headers arrived
(``seedboard.web.early``), is not looked up again when its handler runs.  A batch's
body takes milliseconds to arrive: looking the token up twice doubled what checking
it costs a batch.  A body slower than this (a large one over a slow link) has its
token looked up again, so a token revoked meanwhile is refused."""


@dataclass(frozen=True, slots=True)
class CheckedToken:
    """A token's hash found active, and when (``time.monotonic()``)."""

    hash: str
    at: float


def checked_token(token_hash: str) -> CheckedToken:
    """``token_hash`` found active just now."""
    return CheckedToken(token_hash, time.monotonic())


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if the request has one."""
    header = header_text(request, b"authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or not token.isascii():
        return None
    return token


def _checked_on_arrival(request: Request, token_hash: str) -> bool:
    """Whether the request's token was found active as its headers arrived, less than
    ``TOKEN_CHECK_REUSE`` ago (an ``EarlyRequest`` keeps it as ``checked_token``)."""
    checked = getattr(request, "checked_token", None)
    return (
        isinstance(checked, CheckedToken)
        and checked.hash == token_hash
        and time.monotonic() - checked.at < TOKEN_CHECK_REUSE
    )


def random_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def same_secret(expected: str | None, given: str | None) -> bool:
    """Whether two secrets are present and equal, compared in constant time."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


@dataclass(frozen=True, slots=True)
class Session:
    """A browser logged in with a token; the token's hash lets revocation end it.

    ``id`` goes in the session cookie and only its hash in the database;
    ``stored.csrf`` goes in the logout form.
    """

    id: str
    stored: StoredSession

    @property
    def id_hash(self) -> str:
        return session_id_hash(self.id)


def new_session(token_hash: str, now: datetime, lifetime: timedelta = SESSION_LIFETIME) -> Session:
    return Session(random_secret(), StoredSession(token_hash, random_secret(), now + lifetime))


def session_id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def safe_next(path: str | None) -> str:
    """Where to go after logging in: a path on this site, never another site."""
    if (
        not path
        or not path.startswith("/")
        or path.startswith(("//", "/\\"))
        or not path.isprintable()
    ):
        return "/"
    return path


class Access:
    """Checks requests against the tokens and sessions in the database, through ``pool``."""

    def __init__(self, pool: Pool, clock: Callable[[], datetime], private: bool) -> None:
        self._pool = pool
        self._clock = clock
        self.private = private
        # The session each request came with, once looked up: pages render it synchronously.
        self._sessions: WeakKeyDictionary[Request, Session] = WeakKeyDictionary()

    async def require_writer(self, request: Request) -> None:
        """Writing always needs a valid token in the Authorization header, never a session."""
        token = bearer_token(request)
        if token is None:
            raise unauthorized()
        token_hash = hash_token(token)
        if _checked_on_arrival(request, token_hash):
            return
        if not await self.is_active(token_hash):
            raise unauthorized()

    async def require_reader(self, request: Request) -> None:
        """On a private server: a valid token or login, else a 401 (API) or the login page."""
        if not self.private:
            return
        request.responseHeaders.setRawHeaders(b"cache-control", [b"private, no-store"])
        if await self._may_read(request):
            return
        if is_api(request):
            raise unauthorized()
        raise see_other("/login?" + urlencode({"next": request.uri.decode("latin-1")}))

    async def is_active(self, token_hash: str) -> bool:
        """Whether a token is known and unrevoked: an indexed lookup, on a reader thread."""
        return await self._pool.read(active_token, token_hash) is not None

    async def session(self, request: Request) -> Session | None:
        """The unexpired session of the request's cookie, as any worker stored it."""
        session_id = cookie(request, SESSION_COOKIE)
        if session_id is None:
            return None
        stored = await self._pool.read(find_session, session_id_hash(session_id), self._clock())
        if stored is None:
            return None
        session = self._sessions[request] = Session(session_id, stored)
        return session

    def logout_csrf(self, request: Request) -> str | None:
        """The logout form's secret, when the request came logged in (looked up before)."""
        session = self._sessions.get(request)
        return None if session is None else session.stored.csrf

    async def end_session(self, request: Request) -> None:
        session = await self.session(request)
        if session is not None:
            await self._pool.write(end_session, session.id_hash)
            self._sessions.pop(request, None)
            clear_cookie(request, SESSION_COOKIE, "/")

    async def _may_read(self, request: Request) -> bool:
        token = bearer_token(request)
        if token is not None:
            return await self.is_active(hash_token(token))
        session = await self.session(request)
        if session is None:
            return False
        if not await self.is_active(session.stored.token_hash):
            # The token was revoked: its sessions end with it.
            await self._pool.write(end_session, session.id_hash)
            return False
        return True
