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


@dataclass(frozen=True, slots=True)
class _Answer:
    changes: int
    made_at: datetime
    value: Any


class ReadCache:
    """Store reads answered again while the database has not changed, most recent kept."""

    def __init__(self, pool: Pool, clock: Callable[[], datetime], size: int = SIZE) -> None:
        self._pool = pool
        self._clock = clock
        self._size = size
        self._answers: OrderedDict[tuple[Hashable, ...], _Answer] = OrderedDict()

    async def read(self, fn: Callable[Concatenate[Connection, ...], T], *args: Hashable) -> T:
        """``pool.read(fn, *args)``, or its kept answer if nothing has changed since."""
        changes = await self._pool.read(change_count)
        key = (fn, *args)
        kept = self._answers.get(key)
        now = self._clock()
        if kept is not None and kept.changes == changes and now - kept.made_at < MAX_AGE:
            self._answers.move_to_end(key)
            value: T = kept.value
            return value
        value = await self._pool.read(fn, *args)
        self._answers[key] = _Answer(changes, now, value)
        self._answers.move_to_end(key)
        while len(self._answers) > self._size:
            self._answers.popitem(last=False)
        return value
