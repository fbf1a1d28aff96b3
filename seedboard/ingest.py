"""The write API's bodies, declared once as msgspec Structs, and their parsing into domain records.

Pure: bytes and strings in, ``RunStart``/``ResultColumns``/``datetime`` out, or an
``Invalid`` naming the field at fault.  The Structs are the contract: they are
decoded strictly (``seedboard.decoding``), and the OpenAPI document takes their
JSON Schema, so what is published and what is enforced cannot disagree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Final

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType, defstruct
from msgspec.structs import asdict, fields

from seedboard.decoding import (
    ONE_LINE_PATTERN,
    Invalid,
    decode,
    decode_quickly,
    decode_slowly,
    no_key_twice,
    string_fields,
    unset_to_none,
)
from seedboard.domain import OrderDependency, Outcome, ResultColumns, RunStart
from seedboard.settings import is_run_id
from seedboard.triage.notices import EventKind

MAX_RESULTS = 50_000
"""Results in one batch: a reporter sends batches of about a thousand."""

DEFAULT_MAX_BODY = 16 * 1024 * 1024
"""The largest request body a server accepts unless told otherwise (``serve --max-body``)."""

MAX_BIGINT = 2**63 - 1
MIN_BIGINT = -(2**63)
MAX_INT = 2**31 - 1
"""Bounds of the database's BIGINT and INTEGER columns, so no value overflows a column."""

_DIGITS = re.compile("[0-9]{1,10}")


# What a field may hold.

_LOCAL_TIME = "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,9})?"
TIME_PATTERN = f"^{_LOCAL_TIME}(Z|[+-][0-9]{{2}}:[0-9]{{2}})$"
"""RFC 3339 times, as Python's ``isoformat()`` writes them: ``fromisoformat`` alone takes more."""

Time = Annotated[
    str,
    Meta(
        pattern=TIME_PATTERN,
        description="An RFC 3339 time with its zone, such as 2026-11-25T16:49:36.423877Z",
    ),
]
Seed = Annotated[int, Meta(ge=0, le=MAX_BIGINT)]
BigInt = Annotated[int, Meta(ge=MIN_BIGINT, le=MAX_BIGINT)]
Line = Annotated[int, Meta(ge=0, le=MAX_INT)]
Position = Annotated[
    int,
    Meta(
        ge=0,
        le=MAX_INT,
        description="Where the test ran in its run's order: how many tests started before "
        "it (under trial -j, in the manager's order)",
    ),
]
# A run's metadata is shown on one line and goes into shell commands (the replay
# command, ``seedboard replay``): no control characters, newlines and tabs included.
Name = Annotated[str, Meta(max_length=255, pattern=ONE_LINE_PATTERN)]
Version = Annotated[str, Meta(max_length=64, pattern=ONE_LINE_PATTERN)]
Commit = Annotated[str, Meta(max_length=64, pattern=ONE_LINE_PATTERN)]
Command = Annotated[
    str,
    Meta(
        pattern=ONE_LINE_PATTERN,
        description="The command line the run was started with, shell-quoted, on one line",
    ),
]
Url = Annotated[str, Meta(pattern=ONE_LINE_PATTERN)]
TestId = Annotated[str, Meta(min_length=1)]
Seconds = Annotated[float, Meta(ge=0)]


class RunBody(Struct, forbid_unknown_fields=True):
    """The body of ``PUT /api/v1/runs/{run_id}``: what is known about a run when it begins."""

    started_at: Time
    host: Name
    python_version: Version
    twisted_version: Version
    command: Command
    order_seed: BigInt | None
    branch: Name | None
    commit: Commit | None
    build_url: Url | None
    # Added after v1 was first published, so optional: older reporters omit them.
    run_seed: Seed | UnsetType | None = UNSET
    is_replay: bool | UnsetType | None = UNSET


class ResultBody(Struct, forbid_unknown_fields=True, gc=False):
    """One test's result; the fields are ``seedboard.domain.Result``'s, less the fingerprint.

    Not tracked by the garbage collector (it holds only scalars, so it can be in no
    cycle): a batch makes thousands, and tracking them cost a tenth of its decoding.
    """

    test_id: TestId
    outcome: Outcome
    duration: Seconds
    seed: Seed | UnsetType | None = UNSET
    exception_type: str | UnsetType | None = UNSET
    message: str | UnsetType | None = UNSET
    traceback: str | UnsetType | None = UNSET
    file: str | UnsetType | None = UNSET
    line: Line | UnsetType | None = UNSET
    # Added after v1 was first published, so optional: older reporters omit it.
    position: Position | UnsetType | None = UNSET


BATCH_SIZE = Meta(min_length=1, max_length=MAX_RESULTS)


class BatchBody(Struct, forbid_unknown_fields=True):
    """The body of ``PUT /api/v1/runs/{run_id}/batches/{number}``."""

    results: Annotated[list[ResultBody], BATCH_SIZE]


class FinishBody(Struct, forbid_unknown_fields=True):
    """The body of ``POST /api/v1/runs/{run_id}/finish``."""

    finished_at: Time


class OrderDependencyBody(Struct, forbid_unknown_fields=True):
    """The body of ``POST /api/v1/runs/{run_id}/order-dependencies``: a polluter that
    ``seedboard bisect`` found for a test that failed in the run."""

    victim: Annotated[TestId, Meta(description="The test that failed in the run.")]
    polluter: Annotated[
        TestId, Meta(description="The test whose presence before it makes it fail.")
    ]
    seed: Annotated[
        Seed | None, Meta(description="The failing result's seed, which the bisection used.")
    ] = None


class QuarantineBody(Struct, forbid_unknown_fields=True):
    """The body of ``POST /api/v1/quarantines``: quarantine a test or a pattern of them, or
    change the quarantine in force on it."""

    test: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=1000,
            description="A test id, or a pattern of them with * ? [ ] (mypkg.test_net.*).",
        ),
    ]
    reason: Annotated[str | None, Meta(description="Why; kept in the history.")] = None
    issue_url: Annotated[
        str | None, Meta(description="The issue tracking it, an http(s) address.")
    ] = None
    expires: Annotated[
        str | None,
        Meta(
            description="When it lifts by itself: an age from now (14d, 2w, 12h), a date "
            "(2026-12-31, UTC) or an RFC 3339 time; null for never."
        ),
    ] = None


class IssueBody(Struct, forbid_unknown_fields=True):
    """The body of ``PUT /api/v1/issues/{test_id}``: the issue tracking a test."""

    issue_url: Annotated[str | None, Meta(description="An http(s) address; null unlinks.")]


class OwnersBody(Struct, forbid_unknown_fields=True):
    """The body of ``PUT /api/v1/runs/{run_id}/owners``: each test's owners as the
    reporter read them from CODEOWNERS."""

    owners: Annotated[
        dict[str, list[Annotated[str, Meta(min_length=1, max_length=255)]]],
        Meta(description="Test id to its owners (@org/team, @user or an email)."),
    ]


_WEBHOOK_URL = re.compile(r"https?://[^\s/?#@]+(/[^\s]*)?")


class WebhookFormat(StrEnum):
    """How a webhook's bodies are written."""

    JSON = "json"
    SLACK = "slack"


class WebhookBody(Struct, forbid_unknown_fields=True):
    """The body of ``POST /api/v1/webhooks``: where to send events, which, and how."""

    url: Annotated[
        str,
        Meta(
            max_length=2000,
            description="An http or https address, without user or password in it.",
        ),
    ]
    events: Annotated[
        list[EventKind],
        Meta(min_length=1, description="The kinds of event to send (default: every kind)."),
    ] = msgspec.field(default_factory=lambda: list(EventKind))
    format: Annotated[
        WebhookFormat,
        Meta(description="json: the event's facts, signed; slack: a message for a Slack hook."),
    ] = WebhookFormat.JSON
    secret: (
        Annotated[
            str,
            Meta(
                min_length=1,
                max_length=1000,
                description="Signs each body (X-Seedboard-Signature); never shown back.",
            ),
        ]
        | None
    ) = None


@dataclass(frozen=True, slots=True)
class WebhookSpec:
    """A webhook to add, checked."""

    url: str
    events: tuple[str, ...]
    format: str
    secret: str | None


REQUEST_BODIES: Final = (
    RunBody,
    BatchBody,
    FinishBody,
    OrderDependencyBody,
    QuarantineBody,
    IssueBody,
    OwnersBody,
    WebhookBody,
)
"""Every request body, for the OpenAPI document."""

RESULT_NAMES: Final = ResultBody.__struct_fields__

# Parsing.


def parse_run(run_id: str, body: bytes) -> RunStart:
    """The run a ``PUT /api/v1/runs/<run_id>`` creates."""
    checked_id = parse_run_id(run_id)
    run = decode(body, RunBody)
    values: dict[str, Any] = {
        name: None if value is UNSET else value for name, value in asdict(run).items()
    }
    values["started_at"] = _utc(run.started_at, "started_at")
    values["is_replay"] = bool(run.is_replay)
    return RunStart(id=checked_id, **values)


def parse_batch(body: bytes) -> ResultColumns:
    """The results of a ``PUT /api/v1/runs/<run_id>/batches/<number>``, as columns: a
    batch holds thousands, and the store wants them so."""
    # The reporter writes every field of every result: decoded against a Struct that
    # requires them all, no field can be left out, so none needs looking for.
    complete = decode_quickly(body, _CompleteBatch)
    if complete is not None:
        columns = _columns(complete.results)
        if no_key_twice(body, _quotes(columns, _NONE_LEFT_OUT)):
            return columns
    batch = decode_quickly(body, BatchBody)
    if batch is not None:
        columns = _columns(batch.results)
        absent = _left_out(columns)
        if no_key_twice(body, _quotes(columns, absent)):
            return _unset_to_none(columns, absent)
    columns = _columns(decode_slowly(body, BatchBody).results)
    return _unset_to_none(columns, _left_out(columns))


def _left_out(columns: ResultColumns) -> dict[str, int]:
    """How many results left out each optional field."""
    return {name: getattr(columns, name).count(UNSET) for name in _OPTIONAL_FIELDS}


def _columns(results: Sequence[Any]) -> ResultColumns:
    """The results (``ResultBody`` or ``_CompleteResult``) as one list per field; a
    field left out is still ``UNSET`` (``_unset_to_none``).

    Written out field by field: a comprehension per field costs half of transposing
    the rows with ``zip(*map(astuple, results))``, the most of a batch's parsing after
    msgspec's decoding.  ``tests/test_decoding.py`` reads every field back, so one left
    out here fails it.
    """
    return ResultColumns(
        test_id=[r.test_id for r in results],
        outcome=[r.outcome for r in results],
        duration=[r.duration for r in results],
        seed=[r.seed for r in results],
        exception_type=[r.exception_type for r in results],
        message=[r.message for r in results],
        traceback=[r.traceback for r in results],
        file=[r.file for r in results],
        line=[r.line for r in results],
        position=[r.position for r in results],
    )


def _quotes(columns: ResultColumns, absent: dict[str, int]) -> int:
    """``decoding.quotes`` for a batch whose optional fields were left out ``absent``
    times each: two for "results", and for each result two per field present and two
    more per string."""
    count = len(columns)
    keys = count * len(RESULT_NAMES) - sum(absent.values())
    strings = count * len(_REQUIRED_TEXT)
    for name in _OPTIONAL_TEXT:
        strings += count - absent[name] - getattr(columns, name).count(None)
    return 2 + 2 * keys + 2 * strings


def _unset_to_none(columns: ResultColumns, absent: dict[str, int]) -> ResultColumns:
    """The fields left out (``UNSET``) as None, as the domain has them."""
    left_out: dict[str, Any] = {
        name: _without_unset(columns, name, n) for name, n in absent.items() if n
    }
    return replace(columns, **left_out)


def _without_unset(columns: ResultColumns, name: str, absent: int) -> Sequence[Any] | None:
    if absent == len(columns) and name in _COLUMNS_MAY_BE_NONE:
        return None  # no result of this batch sends it (an older client): none to convert
    return unset_to_none(getattr(columns, name))


_OPTIONAL_FIELDS: Final = RESULT_NAMES[len(RESULT_NAMES) - len(ResultBody.__struct_defaults__) :]
"""A Struct's fields with defaults come last: these a result may leave out."""
_NONE_LEFT_OUT: Final = dict.fromkeys(_OPTIONAL_FIELDS, 0)
"""A complete batch's count of results leaving out each optional field."""
_COLUMNS_MAY_BE_NONE: Final = frozenset(
    f.name for f in dataclass_fields(ResultColumns) if f.default is None
)
"""Columns a ``ResultColumns`` may have as None: a field no result of a batch sent."""
_REQUIRED_TEXT: Final = string_fields(ResultBody) - set(_OPTIONAL_FIELDS)
_OPTIONAL_TEXT: Final = string_fields(ResultBody) & set(_OPTIONAL_FIELDS)

_CompleteResult: Final = defstruct(
    "_CompleteResult",
    [(field.name, field.type) for field in fields(ResultBody)],
    forbid_unknown_fields=True,
    gc=False,
)
"""``ResultBody`` with every field required: what the reporter sends."""


class _CompleteBatch(Struct, forbid_unknown_fields=True):
    results: Annotated[list[_CompleteResult], BATCH_SIZE]  # type: ignore[valid-type]


def parse_finish(body: bytes) -> datetime:
    """When the run of a ``POST /api/v1/runs/<run_id>/finish`` ended."""
    return _utc(decode(body, FinishBody).finished_at, "finished_at")


def parse_order_dependency(run_id: str, body: bytes, found_at: datetime) -> OrderDependency:
    """The verdict of a ``POST /api/v1/runs/<run_id>/order-dependencies``, found now."""
    checked_id = parse_run_id(run_id)
    found = decode(body, OrderDependencyBody)
    return OrderDependency(checked_id, found.victim, found.polluter, found.seed, found_at)


def parse_webhook(body: bytes) -> WebhookSpec:
    """The webhook a ``POST /api/v1/webhooks`` (or ``seedboard webhook add``) adds."""
    found = decode(body, WebhookBody)
    if _WEBHOOK_URL.fullmatch(found.url) is None:
        raise Invalid("must be an http:// or https:// address, without a user or password", "url")
    events = tuple(kind.value for kind in EventKind if kind in found.events)
    return WebhookSpec(found.url, events, found.format.value, found.secret)


def parse_run_id(text: str) -> str:
    if not is_run_id(text):
        raise Invalid("must be 32 lowercase hexadecimal characters", "run_id")
    return text


def parse_batch_number(text: str) -> int:
    # Not str.isdigit alone: it also accepts digits of other scripts, and "²"; and at
    # most ten digits, so that int() never meets a number thousands of digits long.
    if not text.isascii() or not text.isdigit():
        raise Invalid("must be a non-negative integer", "number")
    if _DIGITS.fullmatch(text) is None or int(text) > MAX_INT:
        raise Invalid(f"must be at most {MAX_INT}", "number")
    return int(text)


def _utc(text: str, field: str) -> datetime:
    """A ``Time`` as an aware UTC datetime."""
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except ValueError:
        raise Invalid("is not a valid date and time", field) from None
    except OverflowError:
        raise Invalid("is out of range", field) from None
