"""Who is asking: bearer tokens from the Authorization header, login sessions, CSRF checks.

Tokens themselves are checked against the database by the app (through the
pool); this module only reads them from requests, and keeps the sessions of
people who logged in with one.  A token is never read from the query string or
a cookie, and never put in one.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qs

from twisted.web.server import Request

SESSION_COOKIE = "seedboard_session"
LOGIN_CSRF_COOKIE = "seedboard_login_csrf"
SESSION_LIFETIME = timedelta(hours=12)
LOGIN_FORM_LIFETIME = timedelta(hours=1)
SECRET_BYTES = 32

FORM_TYPE = "application/x-www-form-urlencoded"


def header_text(request: Request, name: bytes) -> str | None:
    """A request header's last value as text; Latin-1, so that no byte a client sends fails."""
    values = request.requestHeaders.getRawHeaders(name)
    return None if not values else values[-1].decode("latin-1")


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

    ``id`` goes in the session cookie; ``csrf`` in the logout form.
    """

    id: str
    token_hash: str
    csrf: str
    expires_at: datetime


class Sessions:
    """Login sessions in memory, by random id; a restart logs everyone out."""

    def __init__(
        self, clock: Callable[[], datetime], lifetime: timedelta = SESSION_LIFETIME
    ) -> None:
        self._clock = clock
        self._lifetime = lifetime
        self._sessions: dict[str, Session] = {}

    def start(self, token_hash: str) -> Session:
        self._forget_expired()
        session = Session(
            random_secret(), token_hash, random_secret(), self._clock() + self._lifetime
        )
        self._sessions[session.id] = session
        return session

    def find(self, session_id: str | None) -> Session | None:
        if session_id is None:
            return None
        session = self._sessions.get(session_id)
        if session is not None and session.expires_at <= self._clock():
            self.end(session_id)
            return None
        return session

    def end(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)

    def __len__(self) -> int:
        return len(self._sessions)

    def _forget_expired(self) -> None:
        now = self._clock()
        for session_id, session in list(self._sessions.items()):
            if session.expires_at <= now:
                del self._sessions[session_id]


# Cookies and forms.


def cookie(request: Request, name: str) -> str | None:
    value = request.getCookie(name.encode("ascii"))
    if not value:
        return None
    try:
        text: str = value.decode("ascii")
    except UnicodeDecodeError:
        return None
    return text


def set_cookie(request: Request, name: str, value: str, path: str, lifetime: timedelta) -> None:
    """A cookie scripts cannot read and other sites cannot send, Secure when over TLS."""
    request.addCookie(
        name,
        value,
        path=path,
        max_age=str(int(lifetime.total_seconds())),
        secure=request.isSecure(),
        httpOnly=True,
        sameSite="strict",
    )


def clear_cookie(request: Request, name: str, path: str) -> None:
    set_cookie(request, name, "", path, timedelta(0))


def form_fields(request: Request) -> dict[str, str]:
    """The fields of a URL-encoded form body; never the query string, which gets logged."""
    content_type = header_text(request, b"content-type") or ""
    if content_type.split(";")[0].strip().lower() != FORM_TYPE:
        return {}
    body = request_body(request)
    try:
        parsed = parse_qs(body.decode("utf-8"), strict_parsing=False)
    except UnicodeDecodeError:
        return {}
    return {name: values[0] for name, values in parsed.items()}


def request_body(request: Request) -> bytes:
    if request.content is None:
        return b""
    body: bytes = request.content.read()
    return body


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
