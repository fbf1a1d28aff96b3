"""Order-dependent failures: narrowing the tests that ran before a victim down to the one
whose presence makes it fail.

Pure: the trial runs are a ``fails`` callable the caller supplies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

Fails = Callable[[Sequence[str]], bool]
"""Whether the victim fails when these tests (in this order) run before it."""


def narrow(predecessors: Sequence[str], fails: Fails) -> str | None:
    """The one test of ``predecessors`` that makes the victim fail, keeping their order.

    The caller has seen the victim fail after all of ``predecessors`` and pass alone.
    Each step runs the first half of the candidates: if the victim fails, the polluter
    is in it, else in the second half, which is not run.  So a single polluter among N
    costs about log2(N) runs, plus one to confirm a candidate never run by itself.
    None when no single test does it (the failure needs several tests before it).
    """
    candidates = list(predecessors)
    confirmed = True  # fails(candidates) is known: so far, the caller's own run
    while len(candidates) > 1:
        half = candidates[: len(candidates) // 2]
        confirmed = fails(half)
        candidates = half if confirmed else candidates[len(half) :]
    if not candidates:
        return None
    if not confirmed and not fails(candidates):
        return None
    return candidates[0]
