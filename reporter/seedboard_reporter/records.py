"""Turning what trial hands a reporter (tests, Failures, reasons) into result records."""

from __future__ import annotations

from pathlib import Path
from types import CodeType
from typing import NamedTuple

from twisted.python.failure import Failure

from seedboard.seeds import pinned_seed, seed_in_message
from seedboard_reporter.recorder import Row
from seedboard_reporter.trial_private import TEST_METHOD_NAME, original_test, test_method

SUCCESS = "success"
FAILURE = "failure"
ERROR = "error"
SKIP = "skip"
EXPECTED_FAILURE = "expected_failure"
UNEXPECTED_SUCCESS = "unexpected_success"
"""The outcomes a row records: ``seedboard.domain.Outcome``'s values (a test keeps
them equal), named here so that trial's process never imports the domain module,
whose dataclasses compile their methods as it is imported."""


class Problem(NamedTuple):
    """The exception part of a result: its type, message and traceback."""

    exception_type: str | None = None
    message: str | None = None
    traceback: str | None = None


def problem_of(failure: Failure) -> Problem:
    kind = failure.type
    module = getattr(kind, "__module__", "builtins")
    name = getattr(kind, "__qualname__", str(kind))
    return Problem(
        exception_type=name if module == "builtins" else f"{module}.{name}",
        message=storable(failure.getErrorMessage()),
        traceback=storable(failure.getTraceback()),
    )


def reason_of(reason: object) -> Problem:
    """A skip reason or a todo, which carry a message and no exception."""
    text = getattr(reason, "reason", reason)
    return Problem(message=None if text is None else storable(str(text)))


def storable(text: str) -> str:
    """The text with NUL characters shown as U+FFFD: no database column takes NUL
    everywhere (PostgreSQL refuses it), and the server refuses it too."""
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


def seed_of(test: object, message: str | None) -> int | None:
    """Seed from seedboard's TestCase, else the classic ``_random_seed``, else the message."""
    return _seed(original_test(test), message)


def _seed(test: object, message: str | None) -> int | None:
    chosen = getattr(test, "seedboard_seed", None)
    if isinstance(chosen, int):
        return chosen
    pinned = pinned_seed(test_method(test))
    return pinned if pinned is not None else seed_in_message(message)


class Locations:
    """Where test methods start: their files as shown (relative to ``cwd`` when inside
    it), each file's worked out once, and their first lines."""

    def __init__(self, cwd: str) -> None:
        self.cwd = cwd
        self._shown: dict[str, str] = {}

    def of(self, test: object) -> tuple[str | None, int | None]:
        """The test method's file and first line; (None, None) if it has none."""
        try:  # the usual test method, a plain function: the fast path, once per test
            function = getattr(type(test), getattr(test, TEST_METHOD_NAME))
            code = None if "__wrapped__" in function.__dict__ else function.__code__
        except (AttributeError, TypeError):
            code = None
        if code is None:
            code = _unusual_code(test)
            if code is None:
                return None, None
        filename = code.co_filename
        return self._shown.get(filename) or self._show(filename), code.co_firstlineno

    def _show(self, filename: str) -> str:
        path = Path(filename)
        shown = self._shown[filename] = (
            str(path.relative_to(self.cwd))
            if path.is_absolute() and path.is_relative_to(self.cwd)
            else filename
        )
        return shown


def _unusual_code(test: object) -> CodeType | None:
    """The code of a test method that is decorated, or not a plain function."""
    name = getattr(test, TEST_METHOD_NAME, None)
    method = getattr(type(test), name, None) if isinstance(name, str) else None
    code = getattr(_unwrapped(method), "__code__", None)
    return code if isinstance(code, CodeType) else None


def _unwrapped(method: object) -> object:
    """The function under a method and its decorators: ``inspect.unwrap``, minus its
    bookkeeping."""
    function = getattr(method, "__func__", method)
    for _ in range(_MAX_WRAPPERS):
        wrapped = getattr(function, "__wrapped__", None)
        if wrapped is None:
            break
        function = wrapped
    return function


_MAX_WRAPPERS = 100
"""Decorators a test method may be wrapped in before we give up unwrapping."""


def test_id(test: object) -> str:
    identify = getattr(test, "id", None)
    return str(identify()) if callable(identify) else str(test)


_new_row = tuple.__new__


def make_row(
    test: object,
    identity: str,
    outcome: str,
    problem: Problem,
    duration: float,
    where: Locations,
    position: int | None = None,
) -> Row:
    """A result as a row, built once per test: this runs between a suite's tests.

    ``test`` is the test itself (``original_test``), not an adapter around it;
    ``identity`` is its id (``test_id``), which the caller may know already;
    ``outcome`` is an ``Outcome``'s value: reading ``.value`` off an enum member
    costs a Python call, too much to pay once per test; ``position`` is where the
    test started in the run's order."""
    file, line = where.of(test)
    seed = getattr(test, "seedboard_seed", None)  # seedboard's TestCase: the usual case
    # Row's fields in order, built by tuple.__new__ in C: calling Row(...) would run
    # its Python __new__ once per test.  tests/test_records.py reads each field back.
    return _new_row(
        Row,
        (
            identity,
            outcome,
            duration,
            seed if isinstance(seed, int) else _seed(test, problem.message),
            problem.exception_type,
            problem.message,
            problem.traceback,
            file,
            line,
            position,
        ),
    )
