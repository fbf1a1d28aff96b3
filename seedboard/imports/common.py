"""What every file format's reader shares: the records it hands on, the facts of the run
it learns on the way, and how it says a file is malformed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from seedboard.domain import Result
from seedboard.seeds import MAX_SEED, seed_in_message


class FileFormat(StrEnum):
    """The formats ``seedboard import`` reads."""

    JUNIT = "junit"
    SUBUNIT = "subunit"


ResultSink = Callable[[Result], None]
"""Where a reader hands each result, in the file's order, as soon as it is read."""


class Malformed(ValueError):
    """A file that is not what its format says, at ``where`` (``line 12``, ``byte 4096``)."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


@dataclass(slots=True)
class Facts:
    """What a file says about the run that made it, gathered while reading it."""

    started_at: datetime | None = None
    finished_at: datetime | None = None
    host: str | None = None
    run_seed: int | None = None
    """A seed the whole run was shuffled or seeded with (pytest-randomly's)."""
    results: int = 0

    def saw_time(self, start: datetime, end: datetime | None = None) -> None:
        if self.started_at is None or start < self.started_at:
            self.started_at = start
        last = end or start
        if self.finished_at is None or last > self.finished_at:
            self.finished_at = last


SEED_PROPERTIES = frozenset({"randomly_seed", "randomly-seed", "--randomly-seed", "random_seed"})
"""Property (or tag) names that carry a run's random seed: pytest-randomly's
``--randomly-seed`` under the names people record it with."""


def seed_of(*texts: str | None) -> int | None:
    """The first ``random seed: N`` in ``texts`` (a message, then a traceback or output)."""
    for text in texts:
        found = seed_in_message(text)
        if found is not None:
            return found
    return None


def seed_value(raw: str) -> int | None:
    """A seed property's value, if it is one (a number seedboard can store)."""
    text = raw.strip()
    if not text.isdigit():
        return None
    value = int(text)
    return value if value <= MAX_SEED else None
