"""Answers of the slow store reads (flaky tests, trends), kept until the data changes.

Each worker keeps its own answers, on the reactor thread.  Before serving one it
reads the database's change count (``seedboard.db.changes``), which every
worker's writes move; an answer computed after reading the count is at least as
new as that count, so serving it while the count is unchanged never shows older
data than a fresh read would.  ``MAX_AGE`` bounds what a write made behind
seedboard's back (by hand, with SQL) can leave stale.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Concatenate, TypeVar

from sqlalchemy import Connection

from seedboard.db.changes import change_count
from seedboard.db.pool import Pool

T = TypeVar("T")

MAX_AGE = timedelta(minutes=1)
SIZE = 32
"""Answers kept per worker: each page's few common queries, with room to spare."""
BUDGET = 100_000
"""What all kept answers may weigh together, in the units of ``read``'s ``weight`` (about
an object each): tens of megabytes, however odd the arguments asked for."""


def _one(value: object) -> int:
    return 1


@dataclass(frozen=True, slots=True)
class _Answer:
    changes: int
    made_at: datetime
    value: Any
    weight: int


class ReadCache:
    """Store reads answered again while the database has not changed, most recent kept."""

    def __init__(
        self,
        pool: Pool,
        clock: Callable[[], datetime],
        size: int = SIZE,
        budget: int = BUDGET,
    ) -> None:
        self._pool = pool
        self._clock = clock
        self._size = size
        self._budget = budget
        self._weight = 0
        self._answers: OrderedDict[tuple[Hashable, ...], _Answer] = OrderedDict()

    async def read(
        self,
        fn: Callable[Concatenate[Connection, ...], T],
        *args: Hashable,
        weight: Callable[[T], int] = _one,
    ) -> T:
        """``pool.read(fn, *args)``, or its kept answer if nothing has changed since.

        ``weight`` tells how much an answer costs to keep; one heavier than the whole
        budget is not kept.
        """
        changes = await self._pool.read(change_count)
        key = (fn, *args)
        kept = self._answers.get(key)
        now = self._clock()
        if kept is not None and kept.changes == changes and now - kept.made_at < MAX_AGE:
            self._answers.move_to_end(key)
            value: T = kept.value
            return value
        value = await self._pool.read(fn, *args)
        self._keep(key, _Answer(changes, now, value, weight(value)))
        return value

    def _keep(self, key: tuple[Hashable, ...], answer: _Answer) -> None:
        replaced = self._answers.pop(key, None)
        if replaced is not None:
            self._weight -= replaced.weight
        if answer.weight > self._budget:
            return
        self._answers[key] = answer
        self._weight += answer.weight
        while len(self._answers) > self._size or self._weight > self._budget:
            _, dropped = self._answers.popitem(last=False)
            self._weight -= dropped.weight
