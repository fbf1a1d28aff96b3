"""Strict JSON into msgspec Structs: a key once, no NUL, and errors that name the field.

msgspec decodes and checks a body against a Struct at C speed, but keeps the
last of a repeated key and accepts NUL characters, which the API refuses (no
database stores NUL; a repeated key hides what a client meant).  ``decode``
adds those checks cheaply, and ``invalid`` words msgspec's errors as the API
always has, naming the field: ``results[3].seed``.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Iterator, Sequence
from enum import Enum
from typing import Any, Final, TypeVar, cast

import msgspec
import msgspec.inspect
from msgspec import UNSET, Struct
from msgspec.structs import astuple

from seedboard.domain import CONTROL_CHARACTERS


class Invalid(ValueError):
    """A request the server refuses: what is wrong, and which field, when one is at fault.

    ``code`` is ``bad_json`` when the body is no JSON at all, else ``invalid``.
    """

    def __init__(self, message: str, field: str | None = None, code: str = "invalid") -> None:
        super().__init__(message if field is None else f"{field}: {message}")
        self.message = message
        self.field = field
        self.code = code


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
    value = decode_quickly(body, kind)
    if value is not None and no_key_twice(body, quotes(value)):
        return value
    return decode_slowly(body, kind)


def decode_quickly(body: bytes, kind: type[S]) -> S | None:
    """``body`` decoded by msgspec; None when it needs a closer look (``decode_slowly``)."""
    if holds_nul_escape(body):
        return None
    try:
        return msgspec.json.decode(body, type=kind)
    except (msgspec.ValidationError, msgspec.DecodeError):
        # The standard library's parser says where and why; it also finds a key given
        # twice, which may be what made the value wrong.
        return None


BACKSLASHES_LOOKED_AT = 64
"""Backslashes ``holds_nul_escape`` looks at one by one before searching the whole body."""


def holds_nul_escape(body: bytes) -> bool:
    """Whether ``body`` holds ``\\u0000``, found by its backslashes: few in most bodies (a
    traceback's newlines), and one byte is found at memory speed, where searching for
    the six bytes took a tenth of a batch's decoding.  Past ``BACKSLASHES_LOOKED_AT``,
    the whole body is searched."""
    at = body.find(b"\\")
    for _ in range(BACKSLASHES_LOOKED_AT):
        if at < 0:
            return False
        if body.startswith(b"u0000", at + 1):
            return True
        at = body.find(b"\\", at + 1)
    return b"\\u0000" in body


def no_key_twice(body: bytes, quotes: int) -> bool:
    """Whether a decoded body has no key twice, given the ``quotes`` its decoded value
    is written with (``quotes``).

    Every quote beyond those is a repeated key (or its value) or a quote escaped
    inside a string.  The escaped ones are counted as ``\\"``, which is exact but
    for an escaped backslash before a closing quote (``\\\\"``): a body with one
    goes the slow way.
    """
    found = body.count(b'"')
    if found == quotes:
        return True  # the common case: no quote inside any text
    return found - body.count(b'\\"') == quotes and b'\\\\"' not in body


def quotes(value: Struct) -> int:
    """The quotes ``value`` is written with in JSON: two for each field present (an
    optional field left out is ``UNSET``, so a null one counts), two more for a string."""
    return sum(2 + 2 * isinstance(field, str) for field in astuple(value) if field is not UNSET)


@functools.cache
def string_fields(kind: type[Struct]) -> frozenset[str]:
    """The fields of ``kind`` whose values JSON writes as strings (text, enumerations)."""
    return frozenset(
        field.name
        for field in cast(msgspec.inspect.StructType, msgspec.inspect.type_info(kind)).fields
        if any(isinstance(one, _STRINGS) for one in _types(field.type))
    )


_STRINGS = (msgspec.inspect.StrType, msgspec.inspect.EnumType)


def _types(kind: msgspec.inspect.Type) -> Iterator[msgspec.inspect.Type]:
    while isinstance(kind, msgspec.inspect.Metadata):
        kind = kind.type
    if isinstance(kind, msgspec.inspect.UnionType):
        for one in kind.types:
            yield from _types(one)
    else:
        yield kind


def unset_to_none(values: Sequence[Any]) -> Sequence[Any]:
    """``values`` with each field left out (``UNSET``) as None, as the domain has it."""
    if UNSET not in values:
        return values
    return tuple(None if value is UNSET else value for value in values)


def decode_slowly(body: bytes, kind: type[S]) -> S:
    value = parse_json(body)
    _refuse_what_msgspec_lets_pass(value, "")
    try:
        return msgspec.convert(value, kind)
    except msgspec.ValidationError as error:
        raise invalid(error, kind) from None


def parse_json(body: bytes) -> object:
    """The body as plain JSON values, UTF-8 only.  What the API refuses but can name the
    field of is kept for ``_refuse_what_msgspec_lets_pass`` to find: an object with a
    key twice (``_Object.repeated``), NaN or Infinity (``NOT_A_NUMBER``), a number no
    field holds (``OUT_OF_RANGE``)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("The body is not UTF-8 text.", code="bad_json") from None
    try:
        return json.loads(
            text,
            parse_constant=_not_a_number,
            object_pairs_hook=_Object.of,
            parse_int=_integer,
            parse_float=_float,
        )
    except RecursionError:
        raise Invalid("The body is not valid JSON: nested too deeply.", code="bad_json") from None
    except ValueError as error:
        raise Invalid(f"The body is not valid JSON: {error}.", code="bad_json") from None


class _Marker:
    """A JSON value the API refuses, kept in its place so that the refusal names it."""

    def __init__(self, refusal: str) -> None:
        self.refusal = refusal


OUT_OF_RANGE: Final = _Marker("is out of range")
"""A number no field holds: an integer of more digits than any (``int()`` refuses
thousands), or one too large for a float (``1e999``)."""
NOT_A_NUMBER: Final = _Marker("must be a number: NaN and Infinity are not JSON")


class _Object(dict[str, object]):
    """A JSON object, and the first key it was given twice, if any."""

    repeated: str | None = None

    @classmethod
    def of(cls, pairs: list[tuple[str, object]]) -> _Object:
        found = cls(pairs)
        if len(found) != len(pairs):
            found.repeated = _first_repeat(pairs)
        return found


_LONGEST_INTEGER = len(str(-(2**63)))
"""No field holds an integer longer than a 64-bit one."""


def _integer(digits: str) -> int | _Marker:
    return OUT_OF_RANGE if len(digits) > _LONGEST_INTEGER else int(digits)


def _float(text: str) -> float | _Marker:
    number = float(text)
    return number if math.isfinite(number) else OUT_OF_RANGE


def _not_a_number(name: str) -> _Marker:
    return NOT_A_NUMBER


def _refuse_what_msgspec_lets_pass(value: object, path: str) -> None:
    """Refuse, naming the field, what msgspec would accept or could not name: a key
    twice, NUL, lone surrogates (which no database stores), numbers out of range."""
    if isinstance(value, str):
        if "\x00" in value:
            # PostgreSQL's text cannot hold NUL; refused on every database alike.
            raise Invalid("must not contain NUL characters (U+0000)", path or None)
        if not _encodable(value):
            # JSON's \ud800 escapes decode to lone surrogates, which no database can store.
            raise Invalid("must be valid Unicode text", path or None)
    elif isinstance(value, _Marker):
        raise Invalid(value.refusal, path or None)
    elif isinstance(value, _Object):
        if value.repeated is not None:
            raise Invalid("appears twice in one object", _join(path, value.repeated))
        for key, item in value.items():
            if not _encodable(key) or "\x00" in key:
                raise Invalid("unknown field", _join(path, _printable(key)))
            _refuse_what_msgspec_lets_pass(item, _join(path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_what_msgspec_lets_pass(item, f"{path}[{index}]")


def _items(value: Struct) -> Iterator[tuple[str, Any]]:
    return zip(value.__struct_fields__, astuple(value), strict=True)


ONE_LINE_PATTERN: Final = f"^[^{CONTROL_CHARACTERS}]*$(?!\\n)"
"""Text fit for one line of a page or a shell: no control character (C0, tab and
newline included, DEL, or C1).  A field declares it with ``Meta(pattern=...)``.  The
lookahead is for Python, whose ``$`` also matches before a final newline."""
ONE_LINE_WORDS: Final = "must be one line without control characters (no newline, tab or escape)"

# msgspec's errors in the API's words.

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
    (re.compile(r"Expected `array` of length >= (\d+)"), lambda m: f"must hold at least {m[1]}"),
    (re.compile(r"Expected `array` of length <= (\d+)"), lambda m: f"must hold at most {m[1]}"),
    (re.compile(r"Expected `(?:int|float)` >= (\S+)"), lambda m: f"must be at least {m[1]}"),
    (re.compile(r"Expected `(?:int|float)` <= (\S+)"), lambda m: f"must be at most {m[1]}"),
    (re.compile(r"(?:Integer value|Number) out of range"), lambda m: "is out of range"),
    (
        re.compile(r"Expected `str` matching regex (.*)", re.DOTALL),
        lambda m: ONE_LINE_WORDS if m[1] == repr(ONE_LINE_PATTERN) else _EXPECTED["time"],
    ),
    (re.compile(r"Invalid RFC3339 encoded date"), lambda m: "must be a date written YYYY-MM-DD"),
)


def invalid(error: msgspec.ValidationError, kind: type[Struct]) -> Invalid:
    """msgspec's ``ValidationError`` about a ``kind`` as an ``Invalid`` naming the field as
    the API does (``results[3].seed``), in the words the API has always used."""
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
        enum = enumerations(kind)[_LIST_INDEX.sub("", path.rpartition(".")[2])]
        return Invalid(f"must be one of {', '.join(member.value for member in enum)}", path)
    for pattern, words in _PHRASES:
        found = pattern.match(what)
        if found is not None:
            return Invalid(words(found), path or None)
    return Invalid(what[:1].lower() + what[1:], path or None)


@functools.cache
def enumerations(kind: type[Struct]) -> dict[str, type[Enum]]:
    """The enumerations of ``kind``'s fields, and of the Structs inside it, by field name."""
    found: dict[str, type[Enum]] = {}
    info = cast(msgspec.inspect.StructType, msgspec.inspect.type_info(kind))
    for field in info.fields:
        for one in _types(field.type):
            if isinstance(one, msgspec.inspect.EnumType):
                found[field.encode_name] = one.cls
            elif isinstance(one, msgspec.inspect.ListType | msgspec.inspect.StructType):
                inner = one.item_type if isinstance(one, msgspec.inspect.ListType) else one
                if isinstance(inner, msgspec.inspect.StructType):
                    found.update(enumerations(inner.cls))
                elif isinstance(inner, msgspec.inspect.EnumType):  # a repeatable choice
                    found[field.encode_name] = inner.cls
    return found


_LIST_INDEX = re.compile(r"\[[0-9]+\]$")
"""An item's index at the end of a path (``class[1]``): an enumeration is its list's."""


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


def _first_repeat(pairs: list[tuple[str, object]]) -> str:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return _printable(key)
        seen.add(key)
    return ""
