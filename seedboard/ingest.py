"""The write API's bodies, declared once as msgspec Structs, and their parsing into domain records.

Pure: bytes and strings in, ``RunStart``/``ResultColumns``/``datetime`` out, or an
``Invalid`` naming the field at fault.  The Structs are the contract: msgspec
decodes and checks a body against them at C speed, and the OpenAPI document
takes their JSON Schema, so what is published and what is enforced cannot
disagree.

msgspec is lenient where the API is not, so three checks are added around it
(see ``decode``): a key twice in one object, NUL characters and lone
surrogates.  Bodies that could hold one of these take a slower path through the
standard library's parser, which finds and names it exactly.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Final, TypeVar, cast

import msgspec
import msgspec.inspect
from msgspec import Meta, Struct
from msgspec.structs import astuple

from seedboard.domain import Outcome, ResultColumns, RunStart

MAX_RESULTS = 50_000
"""Results in one batch: a reporter sends batches of about a thousand."""

DEFAULT_MAX_BODY = 16 * 1024 * 1024
"""The largest request body a server accepts unless told otherwise (``serve --max-body``)."""

MAX_BIGINT = 2**63 - 1
MIN_BIGINT = -(2**63)
MAX_INT = 2**31 - 1
"""Bounds of the database's BIGINT and INTEGER columns, so no value overflows a column."""

RUN_ID_PATTERN = "^[0-9a-f]{32}$"
_RUN_ID = re.compile(RUN_ID_PATTERN.strip("^$"))
_DIGITS = re.compile("[0-9]{1,10}")


class Invalid(ValueError):
    """A request the server refuses: what is wrong, and which field, when one is at fault.

    ``code`` is ``bad_json`` when the body is no JSON at all, else ``invalid``.
    """

    def __init__(self, message: str, field: str | None = None, code: str = "invalid") -> None:
        super().__init__(message if field is None else f"{field}: {message}")
        self.message = message
        self.field = field
        self.code = code


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
Name = Annotated[str, Meta(max_length=255)]
Version = Annotated[str, Meta(max_length=64)]
Commit = Annotated[str, Meta(max_length=64)]
TestId = Annotated[str, Meta(min_length=1)]
Seconds = Annotated[float, Meta(ge=0)]


class RunBody(Struct, forbid_unknown_fields=True):
    """The body of ``PUT /api/v1/runs/{run_id}``: what is known about a run when it begins."""

    started_at: Time
    host: Name
    python_version: Version
    twisted_version: Version
    command: str
    order_seed: BigInt | None
    branch: Name | None
    commit: Commit | None
    build_url: str | None
    # Added after v1 was first published, so optional: older reporters omit them.
    run_seed: Seed | None = None
    is_replay: bool | None = None


class ResultBody(Struct, forbid_unknown_fields=True):
    """One test's result; the fields are ``seedboard.domain.Result``'s, less the fingerprint."""

    test_id: TestId
    outcome: Outcome
    duration: Seconds
    seed: Seed | None = None
    exception_type: str | None = None
    message: str | None = None
    traceback: str | None = None
    file: str | None = None
    line: Line | None = None


class BatchBody(Struct, forbid_unknown_fields=True):
    """The body of ``PUT /api/v1/runs/{run_id}/batches/{number}``."""

    results: Annotated[list[ResultBody], Meta(min_length=1, max_length=MAX_RESULTS)]


class FinishBody(Struct, forbid_unknown_fields=True):
    """The body of ``POST /api/v1/runs/{run_id}/finish``."""

    finished_at: Time


REQUEST_BODIES: Final = (RunBody, BatchBody, FinishBody)
"""Every request body, for the OpenAPI document."""

RESULT_NAMES: Final = ResultBody.__struct_fields__

# Parsing.


def parse_run(run_id: str, body: bytes) -> RunStart:
    """The run a ``PUT /api/v1/runs/<run_id>`` creates."""
    checked_id = parse_run_id(run_id)
    run = decode(body, RunBody)
    values = dict(_items(run))
    values["started_at"] = _utc(run.started_at, "started_at")
    values["is_replay"] = bool(run.is_replay)
    return RunStart(id=checked_id, **values)


def parse_batch(body: bytes) -> ResultColumns:
    """The results of a ``PUT /api/v1/runs/<run_id>/batches/<number>``, as columns: a
    batch holds thousands, and the store wants them so."""
    batch = _decode_quickly(body, BatchBody)
    if batch is not None:
        columns = _columns(batch)
        if _no_key_twice(body, _batch_quotes(columns)):
            return columns
    return _columns(_decode_slowly(body, BatchBody))


def _columns(batch: BatchBody) -> ResultColumns:
    rows = map(astuple, batch.results)
    return ResultColumns(**dict(zip(RESULT_NAMES, zip(*rows, strict=True), strict=True)))


def parse_finish(body: bytes) -> datetime:
    """When the run of a ``POST /api/v1/runs/<run_id>/finish`` ended."""
    return _utc(decode(body, FinishBody).finished_at, "finished_at")


def parse_run_id(text: str) -> str:
    if _RUN_ID.fullmatch(text) is None:
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


# Decoding: msgspec first, the standard library to name what msgspec lets pass.
#
# msgspec refuses lone surrogates, but keeps the last of a repeated key and
# accepts NUL.  A NUL can only arrive as the escape \u0000, so a body holding
# one is looked at closely.  Repeated keys are found by counting quotes: in
# JSON, every key and every string is two quotes, and every other quote is
# escaped inside a string (\").  The decoded value says how many keys and
# strings a body without repeats has (with each null, which the value cannot
# tell from an absent field, counted in the body); more quotes than that, less
# the escaped ones, means a key came twice.  Any doubt sends the body the slow
# way, which is exact.

S = TypeVar("S", bound=Struct)


def decode(body: bytes, kind: type[S]) -> S:
    """``body`` as a ``kind`` (a Struct with scalar fields), or an ``Invalid`` naming
    what is wrong with it."""
    value = _decode_quickly(body, kind)
    if value is not None and _no_key_twice(body, _quotes(value)):
        return value
    return _decode_slowly(body, kind)


def _decode_quickly(body: bytes, kind: type[S]) -> S | None:
    """``body`` decoded by msgspec; None when it needs a closer look (``_decode_slowly``)."""
    if b"\\u0000" in body:
        return None
    try:
        return msgspec.json.decode(body, type=kind)
    except (msgspec.ValidationError, msgspec.DecodeError):
        # The standard library's parser says where and why; it also finds a key given
        # twice, which may be what made the value wrong.
        return None


def _no_key_twice(body: bytes, quotes: int) -> bool:
    """Whether a decoded body has no key twice, given the ``quotes`` its decoded value
    accounts for (``_quotes``) before the nulls in the body.  A "null" inside a string,
    or an escaped backslash before a closing quote, only sends the body the slow way."""
    found = body.count(b'"')
    expected = quotes + 2 * body.count(b"null")
    if found == expected:
        return True
    return found - body.count(b'\\"') == expected and b'\\\\"' not in body


def _quotes(value: Struct) -> int:
    """The quotes of ``value`` written as JSON, but for the keys of null fields."""
    quotes = _QUOTES[type(value)]
    return sum(quotes[name] for name, field in _items(value) if field is not None)


def _batch_quotes(columns: ResultColumns) -> int:
    """``_quotes`` for a batch, from its columns: a None there is a null or absent."""
    count = len(columns)
    quotes = _QUOTES[BatchBody]["results"]
    for name, each in _QUOTES[ResultBody].items():
        column: Sequence[object] = getattr(columns, name)
        quotes += each * (count - column.count(None))
    return quotes


def _field_quotes(kind: type[Struct]) -> dict[str, int]:
    """The quotes each field of ``kind`` is written with when not null: two for its key,
    two more when its value is a string."""
    return {
        field.name: 2 + 2 * any(isinstance(one, _STRINGS) for one in _types(field.type))
        for field in cast(msgspec.inspect.StructType, msgspec.inspect.type_info(kind)).fields
    }


_STRINGS = (msgspec.inspect.StrType, msgspec.inspect.EnumType)


def _types(kind: msgspec.inspect.Type) -> Iterator[msgspec.inspect.Type]:
    while isinstance(kind, msgspec.inspect.Metadata):
        kind = kind.type
    if isinstance(kind, msgspec.inspect.UnionType):
        for one in kind.types:
            yield from _types(one)
    else:
        yield kind


_QUOTES: Final[dict[type[Struct], dict[str, int]]] = {
    kind: _field_quotes(kind) for kind in (*REQUEST_BODIES, ResultBody)
}


def _decode_slowly(body: bytes, kind: type[S]) -> S:
    value = parse_json(body)
    _refuse_bad_text(value, "")
    try:
        return msgspec.convert(value, kind)
    except msgspec.ValidationError as error:
        raise invalid(error) from None


def parse_json(body: bytes) -> object:
    """The body as plain JSON values: UTF-8 only, no NaN or Infinity, no key twice in
    one object; a number no field holds is kept as ``OUT_OF_RANGE``."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("The body is not UTF-8 text.", code="bad_json") from None
    try:
        return json.loads(
            text,
            parse_constant=_no_constant,
            object_pairs_hook=_unique_keys,
            parse_int=_integer,
            parse_float=_float,
        )
    except RecursionError:
        raise Invalid("The body is not valid JSON: nested too deeply.", code="bad_json") from None
    except ValueError as error:
        raise Invalid(f"The body is not valid JSON: {error}.", code="bad_json") from None


class _OutOfRange:
    """A number no field holds: an integer of more digits than any (``int()`` refuses
    thousands), or one too large for a float (``1e999``)."""


OUT_OF_RANGE: Final = _OutOfRange()
_LONGEST_INTEGER = len(str(MIN_BIGINT))


def _integer(digits: str) -> int | _OutOfRange:
    return OUT_OF_RANGE if len(digits) > _LONGEST_INTEGER else int(digits)


def _float(text: str) -> float | _OutOfRange:
    number = float(text)
    return number if math.isfinite(number) else OUT_OF_RANGE


def _refuse_bad_text(value: object, path: str) -> None:
    """Refuse what msgspec would accept but no database stores: NUL, lone surrogates."""
    if isinstance(value, str):
        if "\x00" in value:
            # PostgreSQL's text cannot hold NUL; refused on every database alike.
            raise Invalid("must not contain NUL characters (U+0000)", path or None)
        if not _encodable(value):
            # JSON's \ud800 escapes decode to lone surrogates, which no database can store.
            raise Invalid("must be valid Unicode text", path or None)
    elif isinstance(value, _OutOfRange):
        raise Invalid("is out of range", path or None)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not _encodable(key) or "\x00" in key:
                raise Invalid("unknown field", _join(path, _printable(key)))
            _refuse_bad_text(item, _join(path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_bad_text(item, f"{path}[{index}]")


def _items(value: Struct) -> Iterator[tuple[str, Any]]:
    return zip(value.__struct_fields__, astuple(value), strict=True)


def _utc(text: str, field: str) -> datetime:
    """A ``Time`` as an aware UTC datetime."""
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except ValueError:
        raise Invalid("is not a valid date and time", field) from None
    except OverflowError:
        raise Invalid("is out of range", field) from None


# msgspec's errors in the API's words.

_CHOICES: Final = {"outcome": Outcome}

_ERROR = re.compile(r"(?P<what>.*?)(?: - at `\$(?P<path>.*)`)?", re.DOTALL)
_EXPECTED = {
    "str": "must be a string",
    "int": "must be an integer",
    "float": "must be a number",
    "bool": "must be true or false",
    "object": "must be a JSON object",
    "array": "must be a list",
    "time": (
        "must be an RFC 3339 time with its time zone, such as 2026-11-25T16:49:36.423877Z"
        " or 2026-11-25T17:49:36+01:00"
    ),
}
_PHRASES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"Expected `[^`]+`, got `null`"), lambda m: "must not be null"),
    (
        re.compile(r"Expected `(\w+)(?: \| null)?`, got `\w+`"),
        lambda m: _EXPECTED.get(m[1], f"must be of type {m[1]}"),
    ),
    (re.compile(r"Expected `str` of length >= 1"), lambda m: "must not be empty"),
    (
        re.compile(r"Expected `str` of length <= (\d+)"),
        lambda m: f"must be at most {m[1]} characters",
    ),
    (
        re.compile(r"Expected `array` of length [<>]= \d+"),
        lambda m: f"must hold 1 to {MAX_RESULTS} items",
    ),
    (re.compile(r"Expected `(?:int|float)` >= (\S+)"), lambda m: f"must be at least {m[1]}"),
    (re.compile(r"Expected `(?:int|float)` <= (\S+)"), lambda m: f"must be at most {m[1]}"),
    (re.compile(r"(?:Integer value|Number) out of range"), lambda m: "is out of range"),
    (re.compile(r"Expected `str` matching regex"), lambda m: _EXPECTED["time"]),
    (re.compile(r"Invalid RFC3339 encoded date"), lambda m: "must be a date written YYYY-MM-DD"),
)


def invalid(
    error: msgspec.ValidationError, choices: Mapping[str, type[StrEnum]] | None = None
) -> Invalid:
    """msgspec's ``ValidationError`` as an ``Invalid`` naming the field as the API does
    (``results[3].seed``), in the words the API has always used.  ``choices`` are the
    enumerations of fields by name, whose values a wrong one is told."""
    match = _ERROR.fullmatch(str(error))
    assert match is not None  # the pattern matches any text
    what, path = match["what"], (match["path"] or "").removeprefix(".")
    for phrase in ("Object missing required field", "Object contains unknown field"):
        if what.startswith(phrase):
            name = what.removeprefix(phrase).strip(" `")
            message = "is required" if "missing" in phrase else "unknown field"
            return Invalid(message, _join(path, name))
    if not path and what.startswith("Expected `object`"):
        return Invalid("The body must be a JSON object.")
    if what.startswith("Invalid enum value"):
        enum = (choices or _CHOICES)[path.rpartition(".")[2]]
        return Invalid(f"must be one of {', '.join(enum)}", path)
    for pattern, words in _PHRASES:
        found = pattern.match(what)
        if found is not None:
            return Invalid(words(found), path or None)
    return Invalid(what[:1].lower() + what[1:], path or None)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _printable(key: str) -> str:
    """A key fit to name in an error: lone surrogates and NUL written as escapes."""
    return key.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError(f"the key {_first_repeat(pairs)!r} appears twice in one object")
    return result


def _first_repeat(pairs: list[tuple[str, object]]) -> str:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return _printable(key)
        seen.add(key)
    return ""
