"""Errors a request is answered with, and the one place exceptions become them.

A ``Problem`` is an HTTP status, an API error code, a message, and the field
of the request at fault when there is one.  ``problem_of`` maps what a handler
or routing raised (an ``Invalid`` body, an unknown run, storage trouble, a
werkzeug 404/405) to a ``Problem``; anything else is an internal error, logged
with its traceback and answered without it.
"""

from __future__ import annotations

from collections.abc import Sequence

from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.server import Request
from werkzeug.exceptions import HTTPException, NotFound

from seedboard.db.compare import NoSuchRun
from seedboard.db.order import UnknownTest
from seedboard.db.runs import ImpossibleTime, RunFinished, UnknownCursor, UnknownRun
from seedboard.db.trouble import RETRY_AFTER_SECONDS, storage_trouble
from seedboard.decoding import Invalid

EXPIRED_FORM = (
    "This form has expired or did not come from this site; go back, reload it and try again."
)

log = Logger(namespace="seedboard.web")


class Problem(Exception):
    """A request answered with an error instead: HTTP status, API error code, message.

    ``field`` names the part of the request at fault, when there is one.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: Sequence[tuple[str, str]] = (),
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.field = field


def not_found(message: str = "There is no page at this address.") -> Problem:
    return Problem(404, "not_found", message)


def bad_request(message: str, field: str | None = None) -> Problem:
    return Problem(400, "bad_request", message, field=field)


def unauthorized() -> Problem:
    return Problem(
        401,
        "unauthorized",
        "Send a valid token in an 'Authorization: Bearer <token>' header.",
        [("WWW-Authenticate", "Bearer")],
    )


def forbidden(message: str) -> Problem:
    return Problem(403, "forbidden", message)


def see_other(location: str) -> Problem:
    return Problem(303, "see_other", "Log in first.", [("Location", location)])


def unsupported_media_type(message: str) -> Problem:
    return Problem(415, "unsupported_media_type", message)


def too_large(limit: int) -> Problem:
    return Problem(
        413, "too_large", f"The request body is larger than this server's limit of {limit} bytes."
    )


def unavailable(message: str) -> Problem:
    """Storage trouble (disk full, read-only, locked): nothing was done; try again later."""
    return Problem(503, "unavailable", message, [("Retry-After", str(RETRY_AFTER_SECONDS))])


def run_finished(error: RunFinished) -> Problem:
    """A conflict with the run's lifecycle: it has finished, and a finished run is closed."""
    when = error.finished_at.isoformat().replace("+00:00", "Z")
    if error.field == "finished_at":
        message = f"Run {error.run_id!r} finished at {when}; it cannot finish at another time."
    else:
        message = f"Run {error.run_id!r} finished at {when}; a finished run takes no new batch."
    return Problem(409, "run_finished", message, field=error.field)


INTERNAL_ERROR = Problem(
    500, "internal_error", "Something went wrong on the server; the details are in its log."
)


def problem_of(request: Request, failure: Failure) -> Problem:
    """What to answer for ``failure``, raised while answering ``request``."""
    error = failure.value
    if isinstance(error, Problem):
        return error
    if isinstance(error, Invalid):
        return Problem(400, error.code, error.message, field=error.field)
    if isinstance(error, UnknownRun):
        return Problem(
            400,
            "unknown_run",
            f"No run with id {error.run_id!r}; create it first with "
            f"PUT /api/v1/runs/{error.run_id}.",
            field="run_id",
        )
    if isinstance(error, UnknownTest):
        return Problem(
            400,
            "unknown_test",
            f"No test named {error.name!r} has been recorded.",
            field=error.field,
        )
    if isinstance(error, RunFinished):
        return run_finished(error)
    if isinstance(error, ImpossibleTime):
        return Problem(400, "invalid", error.message, field=error.field)
    if isinstance(error, UnknownCursor):
        return bad_request(
            f"No run with id {error.run_id!r}: before must be the id of the last run "
            "of the previous page.",
            field="before",
        )
    if isinstance(error, NoSuchRun):
        return not_found(f"No run with id {error.run_id!r}.")
    if isinstance(error, NotFound):
        return not_found()
    trouble = storage_trouble(error)
    if trouble is not None:
        log.warn(
            "Database unavailable answering {method} {path}: {error}",
            method=request.method.decode("latin-1"),
            path=request.path.decode("latin-1"),
            error=error,
        )
        return unavailable(trouble)
    if isinstance(error, HTTPException):
        # Keeps what routing says, e.g. the Allow header of a 405 or a redirect's Location.
        headers = [h for h in error.get_headers() if h[0].lower() != "content-type"]
        code = (error.name or "error").lower().replace(" ", "_")
        return Problem(error.code or 500, code, error.description or "", headers)
    # The path, not the URI: a token someone put in the query string stays out of logs.
    log.failure(
        "Unexpected error answering {method} {path}",
        failure,
        method=request.method.decode("latin-1"),
        path=request.path.decode("latin-1"),
    )
    return INTERNAL_ERROR
