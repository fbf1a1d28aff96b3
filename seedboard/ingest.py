"""The write API's bodies and path parts turned into domain records, or an ``Invalid`` error.

Pure: bytes and strings in, ``RunStart``/``ResultColumns``/``datetime`` out, no I/O.  Each body
is described by a table of ``Field``s; the checks run from those tables and the
OpenAPI document is built from them, so what is published and what is enforced
cannot disagree.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, cast

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
_DIGITS = re.compile("[0-9]+")

_LOCAL_TIME = "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,9})?"
TIME_PATTERN = f"^{_LOCAL_TIME}(Z|[+-][0-9]{{2}}:[0-9]{{2}})$"
"""RFC 3339 times, as Python's ``isoformat()`` writes them: ``fromisoformat`` alone takes more."""
_TIME = re.compile(TIME_PATTERN.strip("^$"))
_NAIVE_TIME = re.compile(_LOCAL_TIME)


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


@dataclass(frozen=True, slots=True)
class Text:
    min_length: int = 0
    max_length: int | None = None

    def check(self, value: object, path: str, name: str) -> str:
        if not isinstance(value, str):
            raise Invalid("must be a string", _join(path, name))
        if len(value) < self.min_length:
            raise Invalid("must not be empty", _join(path, name))
        if self.max_length is not None and len(value) > self.max_length:
            raise Invalid(f"must be at most {self.max_length} characters", _join(path, name))
        if "\x00" in value:
            # PostgreSQL's text cannot hold NUL; refused on every database alike.
            raise Invalid("must not contain NUL characters (U+0000)", _join(path, name))
        if not value.isascii() and not _encodable(value):
            # JSON's \ud800 escapes decode to lone surrogates, which no database can store.
            raise Invalid("must be valid Unicode text", _join(path, name))
        return value


@dataclass(frozen=True, slots=True)
class Integer:
    minimum: int
    maximum: int

    def check(self, value: object, path: str, name: str) -> int:
        # Exactly int: JSON true is no number, and 3.0 is no integer.
        if type(value) is not int:
            raise Invalid("must be an integer", _join(path, name))
        if not self.minimum <= value <= self.maximum:
            raise Invalid(f"must be between {self.minimum} and {self.maximum}", _join(path, name))
        return value


@dataclass(frozen=True, slots=True)
class Number:
    minimum: float

    def check(self, value: object, path: str, name: str) -> float:
        if type(value) is float:
            number = value  # the common case, without the conversions below
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise Invalid("must be a number", _join(path, name))
        else:
            try:
                number = float(value)
            except OverflowError:
                raise Invalid("is out of range", _join(path, name)) from None
        if not math.isfinite(number):
            raise Invalid("is out of range", _join(path, name))
        if number < self.minimum:
            raise Invalid(f"must be at least {self.minimum:g}", _join(path, name))
        return number


@dataclass(frozen=True, slots=True)
class Time:
    """An ISO 8601 time with a zone (``TIME_PATTERN``), read as aware UTC."""

    def check(self, value: object, path: str, name: str) -> datetime:
        if not isinstance(value, str):
            raise Invalid("must be an ISO 8601 time string", _join(path, name))
        if _TIME.fullmatch(value) is None:
            if _NAIVE_TIME.fullmatch(value) is not None:
                raise Invalid("must include a time zone, such as Z or +00:00", _join(path, name))
            raise Invalid(
                "must be an ISO 8601 time such as 2026-11-25T16:49:36.423877Z",
                _join(path, name),
            )
        try:
            return datetime.fromisoformat(value).astimezone(UTC)
        except ValueError:
            raise Invalid("is not a valid date and time", _join(path, name)) from None
        except OverflowError:
            raise Invalid("is out of range", _join(path, name)) from None


@dataclass(frozen=True, slots=True)
class Choice:
    """One of an enumeration's values, read as its member."""

    enum: type[StrEnum]

    @property
    def values(self) -> list[str]:
        return [member.value for member in self.enum]

    def check(self, value: object, path: str, name: str) -> StrEnum:
        # The enumeration's own map by value: calling the enumeration is far slower.
        member = self.enum._value2member_map_.get(value) if isinstance(value, str) else None
        if member is None:
            raise Invalid(f"must be one of {', '.join(self.values)}", _join(path, name))
        return cast(StrEnum, member)


@dataclass(frozen=True, slots=True)
class Items:
    """A list of objects, each described by ``fields`` and read as the list of its
    checked values, in the fields' order."""

    fields: tuple[Field, ...]
    min_items: int
    max_items: int

    def check(self, value: object, path: str, name: str) -> list[list[Any]]:
        where = _join(path, name)
        if not isinstance(value, list):
            raise Invalid("must be a list", where)
        if not self.min_items <= len(value) <= self.max_items:
            raise Invalid(f"must hold {self.min_items} to {self.max_items} items", where)
        # A batch holds thousands: one plan for all, the path built only for an error.
        plan = _plan(self.fields)
        try:
            return [_check_values(item, plan, "") for item in value]
        except Invalid:
            pass
        for i, item in enumerate(value):
            _check_values(item, plan, f"{where}[{i}]")
        raise AssertionError("an item failed its checks once but not again")


@dataclass(frozen=True, slots=True)
class Flag:
    """true or false, and nothing else that JSON might call truthy."""

    def check(self, value: object, path: str, name: str) -> bool:
        if not isinstance(value, bool):
            raise Invalid("must be true or false", _join(path, name))
        return value


Kind = Text | Integer | Number | Time | Choice | Flag | Items


@dataclass(frozen=True, slots=True)
class Field:
    """One key of a JSON object: required means present, nullable means it may be null."""

    name: str
    kind: Kind
    required: bool = True
    nullable: bool = False


def _optional(name: str, kind: Kind) -> Field:
    return Field(name, kind, required=False, nullable=True)


# The bodies.  Names match the domain records' attributes; a test checks they do.

RUN_FIELDS = (
    Field("started_at", Time()),
    Field("host", Text(max_length=255)),
    Field("python_version", Text(max_length=64)),
    Field("twisted_version", Text(max_length=64)),
    Field("command", Text()),
    Field("order_seed", Integer(MIN_BIGINT, MAX_BIGINT), nullable=True),
    Field("branch", Text(max_length=255), nullable=True),
    Field("commit", Text(max_length=64), nullable=True),
    Field("build_url", Text(), nullable=True),
    # Added after v1 was first published, so optional: older reporters omit them.
    _optional("run_seed", Integer(0, MAX_BIGINT)),
    _optional("is_replay", Flag()),
)

RESULT_FIELDS = (
    Field("test_id", Text(min_length=1)),
    Field("outcome", Choice(Outcome)),
    Field("duration", Number(minimum=0)),
    _optional("seed", Integer(0, MAX_BIGINT)),
    _optional("exception_type", Text()),
    _optional("message", Text()),
    _optional("traceback", Text()),
    _optional("file", Text()),
    _optional("line", Integer(0, MAX_INT)),
)

BATCH_FIELDS = (Field("results", Items(RESULT_FIELDS, min_items=1, max_items=MAX_RESULTS)),)

FINISH_FIELDS = (Field("finished_at", Time()),)


# Parsing.


def parse_run(run_id: str, body: bytes) -> RunStart:
    """The run a ``PUT /api/v1/runs/<run_id>`` creates."""
    checked_id = parse_run_id(run_id)
    fields = check_object(decode_json(body), RUN_FIELDS)
    fields["is_replay"] = bool(fields["is_replay"])
    return RunStart(id=checked_id, **fields)


def parse_batch(body: bytes) -> ResultColumns:
    """The results of a ``PUT /api/v1/runs/<run_id>/batches/<number>``, as columns: a
    batch holds thousands, and the store wants them so."""
    rows = check_object(decode_json(body), BATCH_FIELDS)["results"]
    return ResultColumns(*zip(*rows, strict=True))


def parse_finish(body: bytes) -> datetime:
    """When the run of a ``POST /api/v1/runs/<run_id>/finish`` ended."""
    finished_at: datetime = check_object(decode_json(body), FINISH_FIELDS)["finished_at"]
    return finished_at


def parse_run_id(text: str) -> str:
    if _RUN_ID.fullmatch(text) is None:
        raise Invalid("must be 32 lowercase hexadecimal characters", "run_id")
    return text


def parse_batch_number(text: str) -> int:
    # Not str.isdigit: it also accepts digits of other scripts, and "²".
    if _DIGITS.fullmatch(text) is None:
        raise Invalid("must be a non-negative integer", "number")
    number = int(text)
    if number > MAX_INT:
        raise Invalid(f"must be at most {MAX_INT}", "number")
    return number


def decode_json(body: bytes) -> object:
    """The body as JSON: UTF-8 only, no NaN or Infinity, no key twice in one object."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("The body is not UTF-8 text.", code="bad_json") from None
    try:
        return json.loads(text, parse_constant=_no_constant, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise Invalid("The body is not valid JSON: nested too deeply.", code="bad_json") from None
    except ValueError as error:
        # Also the digit limit of int(): a number thousands of digits long.
        raise Invalid(f"The body is not valid JSON: {error}.", code="bad_json") from None


def check_object(value: object, fields: Sequence[Field], path: str = "") -> dict[str, Any]:
    """The object's values by field name, checked; absent optional fields are None.

    Unknown keys are refused before any value is looked at, then fields in order.
    """
    plan = _plan(fields)
    return dict(zip(plan.names, _check_values(value, plan, path), strict=True))


@dataclass(frozen=True, slots=True)
class _Plan:
    """A table of fields made ready for checking many objects."""

    fields: Sequence[Field]
    names: tuple[str, ...]
    known: frozenset[str]
    steps: tuple[tuple[str, Callable[[object, str, str], Any], bool, bool], ...]
    """Each field's name, check, whether required and whether nullable."""


_plans: dict[int, _Plan] = {}
"""Plans by the identity of their table: the tables are module constants, and hashing
one (every field, every kind) would cost more than checking an object."""


def _plan(fields: Sequence[Field]) -> _Plan:
    plan = _plans.get(id(fields))
    if plan is None or plan.fields is not fields:
        names = tuple(field.name for field in fields)
        steps = tuple((f.name, f.kind.check, f.required, f.nullable) for f in fields)
        plan = _plans[id(fields)] = _Plan(fields, names, frozenset(names), steps)
    return plan


def _check_values(value: object, plan: _Plan, path: str) -> list[Any]:
    """``check_object``'s values in the order of the plan's fields."""
    if not isinstance(value, dict):
        if not path:
            raise Invalid("The body must be a JSON object.")
        raise Invalid("must be a JSON object", path)
    if not plan.known.issuperset(value):
        _refuse_unknown(value, plan.fields, path)
    checked: list[Any] = []
    for name, check, required, nullable in plan.steps:
        raw = value.get(name, _ABSENT)
        if raw is None:
            if not nullable:
                raise Invalid("must not be null", _join(path, name))
            checked.append(None)
        elif raw is _ABSENT:
            if required:
                raise Invalid("is required", _join(path, name))
            checked.append(None)
        else:
            checked.append(check(raw, path, name))
    return checked


_ABSENT = object()
"""Stands for a key the object does not have, where None means JSON null."""


def _refuse_unknown(value: dict[str, object], fields: Sequence[Field], path: str) -> None:
    known = {field.name for field in fields}
    for key in value:
        if key not in known:
            raise Invalid("unknown field", _join(path, key))


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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
            return key
        seen.add(key)
    return ""
