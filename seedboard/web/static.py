"""``/static/``: the few files the pages load themselves, and nothing outside their folder."""

from __future__ import annotations

import contextlib
import re

from twisted.python.filepath import FilePath, InsecurePath
from twisted.web.server import Request

from seedboard.web.problems import not_found

STATIC_TYPES = {".js": b"text/javascript; charset=utf-8", ".css": b"text/css; charset=utf-8"}
"""What ``/static/`` serves, by file extension; any other file is a 404."""
_STATIC_NAME = re.compile(r"[\w-][\w.-]*(?:/[\w-][\w.-]*)*", re.ASCII)
"""Names ``/static/`` answers for: plain segments, none starting with a dot."""


def serve_static(request: Request, root: FilePath[str], name: str) -> bytes:
    """The file ``name`` inside ``root``, with its type and no sniffing."""
    found = static_file(root, name)
    headers = request.responseHeaders
    headers.setRawHeaders(b"content-type", [STATIC_TYPES[found.splitext()[1]]])
    headers.setRawHeaders(b"x-content-type-options", [b"nosniff"])
    return found.getContent()


def static_file(root: FilePath[str], name: str) -> FilePath[str]:
    """The file ``name`` names inside ``root``, of a type served; else a 404.

    ``name`` arrives percent-decoded, so ``%2e%2e`` is ``..`` by now.  Plain
    names only (no dot first: no ``..``, no hidden files; no NUL or backslash),
    and ``descendant`` refuses anything leading out of ``root`` besides.
    """
    found = None
    if _STATIC_NAME.fullmatch(name):
        with contextlib.suppress(InsecurePath):
            found = root.descendant(name.split("/"))
    if found is None or not found.isfile() or found.splitext()[1] not in STATIC_TYPES:
        raise not_found()
    return found
