"""Logging in and out with a token, for reading a private server in a browser.

The login form is protected by a double-submit CSRF secret (a cookie no other
site can read or set, and the same value in the form); the logout form by the
session's own secret.  A post without the cookie or the session is refused
before its body is parsed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from twisted.web.server import Request

from seedboard.db.pool import Pool
from seedboard.db.sessions import save_session
from seedboard.db.tokens import hash_token
from seedboard.web.auth import (
    LOGIN_CSRF_COOKIE,
    LOGIN_FORM_LIFETIME,
    SESSION_COOKIE,
    SESSION_LIFETIME,
    Access,
    new_session,
    random_secret,
    safe_next,
    same_secret,
)
from seedboard.web.problems import EXPIRED_FORM, forbidden, not_found
from seedboard.web.requests import clear_cookie, cookie, form_fields, redirect, set_cookie

Render = Callable[..., bytes]
"""Renders a template for a request: ``render(request, template, **context)``."""


class Login:
    """``/login`` and ``/logout``; a server open to read has neither."""

    def __init__(
        self, pool: Pool, access: Access, clock: Callable[[], datetime], render: Render
    ) -> None:
        self._pool = pool
        self._access = access
        self._clock = clock
        self._render = render

    async def form(self, request: Request, next_path: str | None) -> bytes:
        self._require_private()
        await self._access.session(request)  # someone logged in gets the log-out button too
        return self._form(request, safe_next(next_path))

    async def log_in(self, request: Request) -> bytes:
        self._require_private()
        expected = cookie(request, LOGIN_CSRF_COOKIE)
        if expected is None:  # refused before the body is parsed
            raise forbidden(EXPIRED_FORM)
        form = form_fields(request)
        if not same_secret(expected, form.get("csrf")):
            raise forbidden(EXPIRED_FORM)
        next_path = safe_next(form.get("next"))
        token_hash = hash_token(form.get("token", "").strip())
        if not await self._access.is_active(token_hash):
            request.setResponseCode(401)
            request.responseHeaders.setRawHeaders(b"www-authenticate", [b"Bearer"])
            return self._form(request, next_path, "That token is not valid.")
        await self._access.end_session(request)
        session = new_session(token_hash, self._clock())
        await self._pool.write(save_session, session.id_hash, session.stored, self._clock())
        set_cookie(request, SESSION_COOKIE, session.id, "/", SESSION_LIFETIME)
        clear_cookie(request, LOGIN_CSRF_COOKIE, "/login")
        return redirect(request, next_path)

    async def log_out(self, request: Request) -> bytes:
        self._require_private()
        session = await self._access.session(request)
        if session is None:  # refused before the body is parsed
            raise forbidden(EXPIRED_FORM)
        if not same_secret(session.stored.csrf, form_fields(request).get("csrf")):
            raise forbidden(EXPIRED_FORM)
        await self._access.end_session(request)
        return redirect(request, "/login")

    def _require_private(self) -> None:
        if not self._access.private:
            raise not_found("This server is open to read; there is nothing to log in to.")

    def _form(self, request: Request, next_path: str, problem: str | None = None) -> bytes:
        csrf = random_secret()
        set_cookie(request, LOGIN_CSRF_COOKIE, csrf, "/login", LOGIN_FORM_LIFETIME)
        request.responseHeaders.setRawHeaders(b"cache-control", [b"no-store"])
        context: dict[str, Any] = {"csrf": csrf, "next": next_path, "problem": problem}
        return self._render(request, "login.html", **context)
