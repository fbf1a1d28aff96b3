"""The heavy reads' limits, with their defaults: ``seedboard serve``'s options set them
(standard library only, so that the command can name the defaults without loading the
server)."""

from __future__ import annotations

import math
from dataclasses import dataclass

HEAVY_READERS = 1
"""Heavy reads at once: their work is mostly Python, so more mostly share one
interpreter lock; on PostgreSQL, where the database does more of it, two may help."""
HEAVY_QUEUE = 8
HEAVY_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class HeavyLimits:
    """How many heavy reads run at once (each on a database thread of its own), how many
    more may wait, and the seconds each has from its arrival to its answer."""

    readers: int = HEAVY_READERS
    queue: int = HEAVY_QUEUE
    timeout: float = HEAVY_TIMEOUT

    @property
    def retry_after(self) -> str:
        """Seconds worth waiting before trying again: by then the queue has moved on."""
        return str(max(1, math.ceil(self.timeout)))


DEFAULT_LIMITS = HeavyLimits()
