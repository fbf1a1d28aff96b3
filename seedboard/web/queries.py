"""The query arguments each read of the site takes, declared once as msgspec Structs.

A Struct's fields are the arguments: their types, defaults, bounds and
descriptions.  ``read_query`` parses a request's arguments by it, and the
OpenAPI document lists them from it, so they cannot disagree.  One policy for
all: an absent or empty argument takes its default; anything out of range is a
400 naming its ``field``.
"""

from __future__ import annotations

import functools
import re
from datetime import date
from typing import Annotated, Final, TypeVar, cast

import msgspec
import msgspec.inspect
from msgspec import Meta, Struct

from seedboard.db.runs import OutcomeFilter, ReplayFilter, RunFilters
from seedboard.decoding import Invalid, enumerations, invalid
from seedboard.domain import Outcome
from seedboard.services.clusters import WINDOW as CLUSTERS_WINDOW
from seedboard.services.flaky import WINDOW
from seedboard.triage.classify import Classification
from seedboard.triage.listing import FlakySort
from seedboard.triage.trends import DEFAULT_DAYS, MAX_DAYS

RUNS_LIMIT = 50
HISTORY_LIMIT = 100
FLAKY_LIMIT = 200
CLUSTERS_LIMIT = 100
MAX_LIMIT = 500
MAX_WINDOW = 500

Q = TypeVar("Q", bound=Struct)


Limit = Annotated[
    int, Meta(ge=1, le=MAX_LIMIT, description=f"How many to answer, 1 to {MAX_LIMIT}.")
]
Day = Annotated[date, Meta(description="A UTC day, YYYY-MM-DD.")]
Branch = Annotated[str | None, Meta(description="Only runs of this branch.")]
Owner = Annotated[
    Annotated[str, Meta(max_length=255)] | None,
    Meta(description="Only tests this owner (`@org/team`, `@user`) owns in CODEOWNERS."),
]


class Query(Struct, kw_only=True, forbid_unknown_fields=False):
    """Arguments of a read; arguments it does not know are ignored, as browsers add some."""


def wanted_owner(owner: str | None) -> str | None:
    """The ``owner`` a page was asked to keep, if any: blank is none, as a form sends it."""
    return (owner or "").strip() or None


class RunsQuery(Query):
    """The runs list: a page of runs, newest first, chosen by the filters."""

    limit: Limit = RUNS_LIMIT
    before: Annotated[
        str | None,
        Meta(
            description="The id of the last run of the previous page (`next` carries it, with "
            "the filters). An id of no run is refused: `bad_request` with field `before`."
        ),
    ] = None
    branch: Branch = None
    outcome: Annotated[
        OutcomeFilter | None,
        Meta(
            description="`failing`: runs with a failure, error or unexpected success; "
            "`green`: the others."
        ),
    ] = None
    since: Annotated[Day | None, Meta(description="Runs started on this UTC day or later.")] = None
    until: Annotated[Day | None, Meta(description="Runs started on this UTC day or earlier.")] = (
        None
    )
    replay: Annotated[
        ReplayFilter,
        Meta(
            description="`exclude` (the default): all but the runs `seedboard replay` made; "
            "`only`: just those; `include`: every run."
        ),
    ] = ReplayFilter.EXCLUDE
    test: Annotated[str | None, Meta(description="Runs that have a result of this test id.")] = None

    def filters(self) -> RunFilters:
        # The last day there is has no day after it: until then is no bound at all.
        until = None if self.until == date.max else self.until
        return RunFilters(
            branch=self.branch,
            outcome=self.outcome,
            since=self.since,
            until=until,
            replay=self.replay,
            test=self.test,
        )


class RunQuery(Query):
    """A run's results: which of them to show."""

    outcome: Annotated[
        list[Outcome],
        Meta(
            description="Only results with this outcome; repeat it for several (any, when absent)."
        ),
    ] = []
    q: Annotated[
        str | None, Meta(description="Only results whose test id contains this text, in any case.")
    ] = None
    owner: Owner = None


class TestQuery(Query):
    """A test's page: its latest results."""

    limit: Limit = HISTORY_LIMIT


class FlakyQuery(Query):
    """The flaky tests."""

    window: Annotated[
        int,
        Meta(
            ge=1, le=MAX_WINDOW, description="How many of each test's latest results to judge on."
        ),
    ] = WINDOW
    branch: Branch = None
    limit: Annotated[
        int, Meta(ge=1, le=MAX_LIMIT, description=f"Tests per page, 1 to {MAX_LIMIT}.")
    ] = FLAKY_LIMIT
    classes: Annotated[
        list[Classification],
        Meta(
            description="Only tests of this class; repeat it for several "
            "(`?class=flaky&class=seed-dependent`)."
        ),
    ] = msgspec.field(default_factory=list, name="class")
    q: Annotated[
        str | None, Meta(description="Only tests whose id contains this text, in any case.")
    ] = None
    sort: Annotated[
        FlakySort,
        Meta(
            description="The column to order by, most first (`test`: by id); `rank`, the "
            "default, puts the most worrying first."
        ),
    ] = FlakySort.RANK
    after: Annotated[
        str | None,
        Meta(
            description="Where the page starts: the `after` of the previous page's `next` "
            "link, for the same order. Another order's, or any other text, is refused: "
            "`bad_request` with field `after`."
        ),
    ] = None
    owner: Owner = None


class TrendsQuery(Query):
    """The trends."""

    days: Annotated[
        int, Meta(ge=1, le=MAX_DAYS, description="How many days, up to today (UTC).")
    ] = DEFAULT_DAYS
    branch: Branch = None
    owner: Annotated[
        Annotated[str, Meta(max_length=255)] | None,
        Meta(
            description="Only the most flaky tests this owner owns in CODEOWNERS (of those "
            "listed without it); the points count every test."
        ),
    ] = None


class ClustersQuery(Query):
    """The failure clusters."""

    window: Annotated[
        int,
        Meta(
            ge=1,
            le=MAX_WINDOW,
            description="How many of the latest runs to look at, replays left out.",
        ),
    ] = CLUSTERS_WINDOW
    branch: Branch = None
    limit: Limit = CLUSTERS_LIMIT
    owner: Annotated[
        Annotated[str, Meta(max_length=255)] | None,
        Meta(description="Only the clusters that hit a test this owner owns in CODEOWNERS."),
    ] = None


class SeedsQuery(Query):
    """The failing seeds."""

    test: Annotated[str | None, Meta(description="Only the seeds of this test id.")] = None


class CompareQuery(Query):
    """Two runs to compare; both are required."""

    a: Annotated[str, Meta(description="The id of the earlier run.")]
    b: Annotated[str, Meta(description="The id of the later run.")]
    owner: Owner = None


class OptionalCompareQuery(Query):
    """The comparison page, which also shows an empty form."""

    a: str | None = None
    b: str | None = None
    owner: Owner = None


class ReportQuery(Query):
    """The run a CI report is about."""

    run: Annotated[
        str | None, Meta(description="The run's id; the latest run that is not a replay if none.")
    ] = None


class BadgeQuery(Query):
    """The badge's branch."""

    branch: Branch = None


class LoginQuery(Query):
    next: str | None = None


QUERIES: Final = (
    RunsQuery,
    RunQuery,
    TestQuery,
    FlakyQuery,
    TrendsQuery,
    ClustersQuery,
    SeedsQuery,
    CompareQuery,
    ReportQuery,
    BadgeQuery,
)


def read_query(args: dict[bytes, list[bytes]], kind: type[Q]) -> Q:
    """A request's query arguments as a ``kind``, or an ``Invalid`` naming the argument."""
    given: dict[str, str | list[str]] = {}
    repeatable = _repeatable(kind)
    for name in kind.__struct_encode_fields__:
        values = args.get(name.encode("ascii"))
        if name in repeatable:
            given[name] = [_text(name, value) for value in values or () if value]
        elif values and values[0]:
            given[name] = _text(name, values[0])
    try:
        return msgspec.convert(given, kind, strict=False)
    except msgspec.ValidationError as error:
        raise _argument_error(error, kind) from None


def _text(name: str, raw: bytes) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("must be UTF-8 text", name, code="bad_request") from None
    if "\x00" in text:
        raise Invalid("must not contain NUL characters", name, code="bad_request")
    return text


@functools.cache
def _repeatable(query: type[Struct]) -> frozenset[str]:
    """The arguments of ``query`` that may be given more than once (lists), by name."""
    info = cast(msgspec.inspect.StructType, msgspec.inspect.type_info(query))
    return frozenset(
        field.encode_name
        for field in info.fields
        if isinstance(_bare(field.type), msgspec.inspect.ListType)
    )


def _bare(kind: msgspec.inspect.Type) -> msgspec.inspect.Type:
    while isinstance(kind, msgspec.inspect.Metadata):
        kind = kind.type
    return kind


@functools.cache
def _bounds(query: type[Struct]) -> dict[str, tuple[int, int]]:
    """The bounds of ``kind``'s integer arguments, by name, for their errors to say."""
    info = cast(msgspec.inspect.StructType, msgspec.inspect.type_info(query))
    bounds = {}
    for field in info.fields:
        kind = _bare(field.type)
        if (
            isinstance(kind, msgspec.inspect.IntType)
            and kind.ge is not None
            and kind.le is not None
        ):
            bounds[field.name] = (kind.ge, kind.le)
    return bounds


def _argument_error(error: msgspec.ValidationError, kind: type[Struct]) -> Invalid:
    found = invalid(error, kind)
    message = found.message
    # An argument given more than once is named as itself, not as one of its items.
    field = re.sub(r"\[[0-9]+\]$", "", found.field or "")
    choices = enumerations(kind)
    if field in choices:
        message = f"must be {' or '.join(member.value for member in choices[field])}"
    elif field in _bounds(kind):
        low, high = _bounds(kind)[field]
        message = f"must be an integer between {low} and {high}"
    elif message == "is required":
        message = "is required: the id of a run"
    return Invalid(f"{field} {message}", field, code="bad_request")
