"""Saying what went wrong in one line (standard library only: the reporter uses it)."""

from __future__ import annotations


def one_line(error: BaseException) -> str:
    """The error's type and first line; for a database error, the driver's own words."""
    cause = getattr(error, "orig", None) or error
    text = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {text[0]}" if text else type(cause).__name__


class UnusableDatabase(ValueError):
    """A database seedboard cannot open, whatever is in it; the message says what to do."""
