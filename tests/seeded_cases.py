"""Seeded test cases that tests/test_testing.py runs by hand (not collected by trial)."""

from __future__ import annotations

import functools
import random
from typing import Any

from twisted.internet import reactor, task

from seedboard.testing import SynchronousTestCase, TestCase, seed


class Sampler(SynchronousTestCase):
    """Records what random gave in setUp and in the test."""

    drawn: list[float]

    def setUp(self) -> None:
        self.drawn = [random.random()]

    def test_draw(self) -> None:
        self.drawn.append(random.random())

    @seed(99)
    def test_pinned(self) -> None:
        self.drawn.append(random.random())

    def test_fail(self) -> None:
        self.fail("values differ")

    def test_error(self) -> None:
        raise KeyError("missing")

    def test_errno(self) -> None:
        raise OSError(2, "No such file")


def _wrapping(method: Any) -> Any:
    @functools.wraps(method)
    def wrapper(self: Any) -> Any:
        return method(self)

    return wrapper


class Wrapped(SynchronousTestCase):
    """Test methods as decorators and odd classes leave them."""

    @_wrapping
    @_wrapping
    def test_wrapped(self) -> None:
        pass

    test_builtin = len


class AsyncSampler(TestCase):
    drawn: list[float]

    def setUp(self) -> None:
        self.drawn = []

    def test_deferred(self) -> Any:
        def draw() -> None:
            self.drawn.append(random.random())

        return task.deferLater(reactor, 0.001, draw)

    @seed(7)
    def test_deferred_fails(self) -> Any:
        return task.deferLater(reactor, 0.001, self.fail, "late failure")
