"""Rows read as the domain's records, matched by field name.

A ``Reading`` selects one column per field of a record, in the record's own order,
so no query depends on the order in which a record declares its fields: a field
added, moved or renamed either finds its column by name or fails at import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import ColumnElement
from sqlalchemy.orm import QueryableAttribute

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")

Column = ColumnElement[Any] | QueryableAttribute[Any]
Convert = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Reading(Generic[R]):
    """The columns that make ``record``s, one per field in its order, and the conversions
    of the values that the database hands over in another form (text for an outcome)."""

    record: type[R]
    columns: tuple[Column, ...]
    conversions: tuple[tuple[int, Convert], ...]
    """(index in ``columns``, conversion) of each converted field."""

    def records(self, rows: Iterable[Sequence[Any]]) -> list[R]:
        """One record per row of ``columns``' values."""
        # Column by column, one map per field: for the thousands of rows of a run this
        # is no slower than unpacking tuples, and several times faster than named rows.
        values: list[Iterable[Any]] = list(zip(*rows, strict=True))
        if not values:
            return []
        for index, convert in self.conversions:
            values[index] = map(convert, values[index])
        return list(map(self.record, *values))


def reading(
    record: type[R], columns: Mapping[str, Column], convert: Mapping[str, Convert] | None = None
) -> Reading[R]:
    """How to read ``record``s: ``columns`` names the column of each of its fields, and
    ``convert`` the conversion of those the database hands over in another form.

    Raises ``TypeError`` unless ``columns`` names every field and nothing else.
    """
    convert = convert or {}
    names = [f.name for f in fields(record)]
    if set(columns) != set(names) or not set(convert) <= set(names):
        raise TypeError(
            f"columns for {record.__name__} must name its fields {names}, "
            f"not {sorted(columns)} (converting {sorted(convert)})"
        )
    return Reading(
        record,
        tuple(columns[name] for name in names),
        tuple((index, convert[name]) for index, name in enumerate(names) if name in convert),
    )
