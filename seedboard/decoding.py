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
from collections.abc import Callable, Iterator
from enum import Enum
from typing import Any, Final, TypeVar, cast

import msgspec
import msgspec.inspect
from msgspec import Struct
from msgspec.structs import astuple


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
    if b"\\u0000" in body:
        return None
    try:
        return msgspec.json.decode(body, type=kind)
    except (msgspec.ValidationError, msgspec.DecodeError):
        # The standard library's parser says where and why; it also finds a key given
        # twice, which may be what made the value wrong.
        return None


def no_key_twice(body: bytes, quotes: int) -> bool:
    """Whether a decoded body has no key twice, given the ``quotes`` its decoded value
    accounts for (``quotes``) before the nulls in the body.  A "null" inside a string,
    or an escaped backslash before a closing quote, only sends the body the slow way."""
    found = body.count(b'"')
    if found == quotes:
        return True  # the common case, as the reporter writes: no null, no quote in a text
    expected = quotes + 2 * body.count(b"null")
    if found == expected:
        return True
    return found - body.count(b'\\"') == expected and b'\\\\"' not in body


def quotes(value: Struct) -> int:
    """The quotes of ``value`` written as JSON, but for the keys of null fields."""
    each = field_quotes(type(value))
    return sum(each[name] for name, field in _items(value) if field is not None)


@functools.cache
def field_quotes(kind: type[Struct]) -> dict[str, int]:
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


def decode_slowly(body: bytes, kind: type[S]) -> S:
    value = parse_json(body)
    _refuse_bad_text(value, "")
    try:
        return msgspec.convert(value, kind)
    except msgspec.ValidationError as error:
        raise invalid(error, kind) from None


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
_LONGEST_INTEGER = len(str(-(2**63)))
"""No field holds an integer longer than a 64-bit one."""


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
    (re.compile(r"Expected `str` matching regex"), lambda m: _EXPECTED["time"]),
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
        enum = enumerations(kind)[path.rpartition(".")[2]]
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
                found[field.name] = one.cls
            elif isinstance(one, msgspec.inspect.ListType | msgspec.inspect.StructType):
                inner = one.item_type if isinstance(one, msgspec.inspect.ListType) else one
                if isinstance(inner, msgspec.inspect.StructType):
                    found.update(enumerations(inner.cls))
    return found


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
