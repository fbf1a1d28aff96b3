"""The README badge: ``/badge.svg?branch=main`` says how many tests are flaky, or
"passing".  A small SVG written here, every text escaped, with no script or style
(so the strictest Content-Security-Policy shows it), cached by the CDNs in front of
READMEs for a few minutes."""

from __future__ import annotations

from markupsafe import escape
from twisted.web.server import Request

CACHE_SECONDS = 300
CHARACTER_WIDTH = 7
"""Pixels per character at the badge's 11px font: close enough for a badge."""
GREEN = "#2e8540"
AMBER = "#b45f06"
GREY = "#555"


def badge_message(flaky: int) -> tuple[str, str]:
    """The right half's text and colour."""
    if flaky == 0:
        return "passing", GREEN
    return f"{flaky} flaky", AMBER


def badge_svg(label: str, message: str, colour: str) -> bytes:
    left = len(label) * CHARACTER_WIDTH + 12
    right = len(message) * CHARACTER_WIDTH + 12
    width = left + right
    text = escape(f"{label}: {message}")
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" '
        f'aria-label="{text}"><title>{text}</title>'
        f'<rect width="{left}" height="20" fill="{GREY}"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{escape(colour)}"/>'
        f'<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" '
        f'text-anchor="middle">'
        f'<text x="{left / 2}" y="14">{escape(label)}</text>'
        f'<text x="{left + right / 2}" y="14">{escape(message)}</text></g></svg>'
    )
    return svg.encode("utf-8")


def svg_headers(request: Request, private: bool) -> None:
    headers = request.responseHeaders
    headers.setRawHeaders(b"content-type", [b"image/svg+xml; charset=utf-8"])
    headers.setRawHeaders(b"content-security-policy", [b"default-src 'none'"])
    headers.setRawHeaders(b"x-content-type-options", [b"nosniff"])
    cache = b"private, no-store" if private else f"public, max-age={CACHE_SECONDS}".encode()
    headers.setRawHeaders(b"cache-control", [cache])
