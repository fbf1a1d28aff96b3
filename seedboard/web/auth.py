"""Who is asking: bearer tokens from the Authorization header, login sessions, CSRF checks.

Tokens and sessions are checked against the database by the app (through the
pool); this module only reads them from requests and makes new sessions.  A
token is never read from the query string or a cookie, and never put in one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qs

from twisted.web.server import Request

from seedboard.db.sessions import StoredSession

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
