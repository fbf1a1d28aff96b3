"""Which tests a test id names, as trial's loader finds them: ``seedboard replay`` asks
before it runs anything, so that a name trial cannot find or import is a mistake of the
command rather than a recorded error.

Run as ``python -m seedboard.loading TEST_ID`` in the directory and environment trial
will run in (``-m`` puts that directory on the path, as ``python -m twisted.trial``
does); it prints one JSON object: ``{"tests": [ids], "errors": [lines]}``.
"""

from __future__ import annotations

import json
import sys
import unittest
from collections.abc import Iterator, Sequence

from twisted.trial.runner import ErrorHolder, TestLoader

from seedboard.errors import one_line


def tests_named(name: str) -> tuple[list[str], list[str]]:
    """The ids of the tests ``name`` loads, and a line for each name that failed to load."""
    found: list[str] = []
    errors: list[str] = []
    for test in _each_test(TestLoader().loadByNames([name], recurse=True)):
        if isinstance(test, ErrorHolder):
            errors.append(f"{test.description}: {_error_line(test.error)}")
        else:
            found.append(test.id())
    return found, errors


def _each_test(suite: unittest.TestSuite | unittest.TestCase) -> Iterator[unittest.TestCase]:
    if isinstance(suite, unittest.TestSuite):
        for inner in suite:
            yield from _each_test(inner)
    else:
        yield suite


def _error_line(error: object) -> str:
    """``ExceptionType: message`` of the error trial holds (a Failure or an exc_info)."""
    value = getattr(error, "value", None)
    if value is None and isinstance(error, tuple) and len(error) > 1:
        value = error[1]
    if isinstance(value, BaseException):
        return one_line(value)
    return str(error).strip().splitlines()[0] if str(error).strip() else "cannot load"


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m seedboard.loading TEST_ID", file=sys.stderr)
        return 2
    found, errors = tests_named(argv[0])
    print(json.dumps({"tests": found, "errors": errors}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
