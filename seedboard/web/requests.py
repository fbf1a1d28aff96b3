"""Reading requests and writing the headers every answer carries: request helpers only.

Headers, bodies, cookies, forms and query arguments are read here, so that
nothing else touches Twisted's request object for them; whether a request is
allowed is ``auth``'s job.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar
from urllib.parse import parse_qs

from msgspec import Struct
from twisted.web.server import Request

from seedboard.web.problems import too_large, unsupported_media_type
from seedboard.web.queries import read_query

Q = TypeVar("Q", bound=Struct)

FORM_TYPE = "application/x-www-form-urlencoded"

FORM_MAX_BODY = 16 * 1024
"""The largest body of a form post (login, logout, any future form) and of any other
request that is not an API write; the site refuses more as the headers arrive."""

FORM_MAX_FIELDS = 20
"""More fields than a form of this site has: such a body is not one of its forms."""

# The only scripts and styles are this site's own files, never inline ones, and
# nothing is loaded from elsewhere or may frame a page: an escaping mistake
# becomes a blocked script instead of an exploit, and no other site can dress
# up the login form.
CONTENT_SECURITY_POLICY = (
    b"default-src 'none'; script-src 'self'; style-src 'self'; "
    b"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def is_api(request: Request) -> bool:
    """Whether the answer is JSON: the one place HTML and the API part ways."""
    return request.path == b"/api" or request.path.startswith(b"/api/")


def query(request: Request, kind: type[Q]) -> Q:
    """The request's query arguments as ``kind`` (``seedboard.web.queries``)."""
    return read_query(request.args, kind)


def header_text(request: Request, name: bytes) -> str | None:
    """A request header's last value as text; Latin-1, so that no byte a client sends fails."""
    values = request.requestHeaders.getRawHeaders(name)
    return None if not values else values[-1].decode("latin-1")


def request_body(request: Request) -> bytes:
    if request.content is None:
        return b""
    body: bytes = request.content.read()
    return body


def json_body(request: Request) -> bytes:
    """The body of a write: JSON in UTF-8, not compressed, else a 415."""
    if not _is_json_type(header_text(request, b"content-type")):
        raise unsupported_media_type("Send the body as application/json, in UTF-8.")
    if (header_text(request, b"content-encoding") or "identity").strip().lower() != "identity":
        raise unsupported_media_type("Send the body without a Content-Encoding.")
    return request_body(request)


def _is_json_type(header: str | None) -> bool:
    """Whether a Content-Type is JSON, with no charset or UTF-8 as its charset."""
    if header is None:
        return False
    media_type, *parameters = (part.strip().lower() for part in header.split(";"))
    charsets = [p.partition("=")[2].strip('"') for p in parameters if p.startswith("charset=")]
    return media_type == "application/json" and all(c in ("utf-8", "utf8") for c in charsets)


def form_fields(request: Request) -> dict[str, str]:
    """The fields of a URL-encoded form body; never the query string, which gets logged.

    At most ``FORM_MAX_BODY`` bytes and ``FORM_MAX_FIELDS`` fields are parsed:
    a longer body is a 413, one with more fields has none of this site's.
    """
    content_type = header_text(request, b"content-type") or ""
    if content_type.split(";")[0].strip().lower() != FORM_TYPE or request.content is None:
        return {}
    body: bytes = request.content.read(FORM_MAX_BODY + 1)
    if len(body) > FORM_MAX_BODY:
        raise too_large(FORM_MAX_BODY)
    try:
        parsed = parse_qs(body.decode("utf-8"), max_num_fields=FORM_MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {name: values[0] for name, values in parsed.items()}


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


def redirect(request: Request, location: str) -> bytes:
    request.setResponseCode(303)
    request.responseHeaders.setRawHeaders(b"location", [location.encode("utf-8")])
    return b""


def html_headers(request: Request) -> None:
    headers = request.responseHeaders
    headers.setRawHeaders(b"content-type", [b"text/html; charset=utf-8"])
    headers.setRawHeaders(b"content-security-policy", [CONTENT_SECURITY_POLICY])
    headers.setRawHeaders(b"x-content-type-options", [b"nosniff"])


def json_headers(request: Request) -> None:
    headers = request.responseHeaders
    headers.setRawHeaders(b"content-type", [b"application/json; charset=utf-8"])
    headers.setRawHeaders(b"x-content-type-options", [b"nosniff"])
