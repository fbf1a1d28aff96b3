"""How a test's random seed is chosen, written into a message and read back.

Shared by ``seedboard.testing`` (which seeds tests) and the reporter (which
records seeds, including those of tests that use the classic recipe).  Pure and
standard library only; the variables' names are ``seedboard.settings``'s.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections.abc import Mapping

from seedboard.settings import RUN_SEED_ENV, SEED_ENV

SEED_ATTRIBUTE = "_random_seed"
"""Where ``@seed(N)`` puts N on a test method; the classic recipe used this name."""

MAX_SEED = 2**63 - 1
"""Seeds are stored as signed 64-bit integers."""

_SEED_IN_MESSAGE = re.compile(r"random seed: (\d+)")


class SeedError(ValueError):
    """A seed that is not a usable integer."""


def check_seed(value: object, source: str) -> int:
    """Return ``value`` as a seed, or raise a SeedError naming ``source``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise SeedError(f"{source} must be an integer, got {value!r}")
    if not 0 <= value <= MAX_SEED:
        raise SeedError(f"{source} must be between 0 and {MAX_SEED}, got {value}")
    return value


def seed_from_environment(environ: Mapping[str, str], name: str = SEED_ENV) -> int | None:
    """The seed in the environment variable ``name`` (``SEEDBOARD_SEED``), if set."""
    raw = environ.get(name)
    return None if raw is None else _parse_seed(raw, name)


@functools.lru_cache(maxsize=64)
def _parse_seed(raw: str, name: str) -> int | None:
    # Cached: read before every test, and the variable rarely changes within a run.
    # Errors are not cached, so a bad value is reported on every test.
    raw = raw.strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise SeedError(f"{name} must be an integer, got {raw!r}") from None
    return check_seed(value, name)


def derived_seed(run_seed: int, test_id: str) -> int:
    """A test's 32-bit seed within a run: the first 4 bytes of the SHA-256 of
    ``"<run seed>:<test id>"``, so the same run seed and test id give the same seed."""
    sha = _run_sha(run_seed).copy()
    sha.update(test_id.encode())
    return int.from_bytes(sha.digest()[:4], "big")


@functools.lru_cache(maxsize=8)
def _run_sha(run_seed: int) -> hashlib._Hash:
    # Hashed once per run and copied for each test: a new OpenSSL hash costs more
    # than the hashing itself (bench/README.md, issue 18).
    return hashlib.sha256(f"{run_seed}:".encode())


def fresh_seed() -> int:
    """A new 32-bit seed from the OS, so parallel workers never share one."""
    return int.from_bytes(os.urandom(4), "big")


def pinned_seed(method: object) -> int | None:
    """The seed pinned on a test method by ``@seed(N)`` or the classic recipe."""
    value = getattr(method, SEED_ATTRIBUTE, None)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def choose_seed(method: object, environ: Mapping[str, str], test_id: str) -> int:
    """Pinned seed first, then ``SEEDBOARD_SEED``, then one derived from
    ``SEEDBOARD_RUN_SEED``, else a fresh one."""
    pinned = pinned_seed(method)
    if pinned is not None:
        return pinned
    forced = seed_from_environment(environ)
    if forced is not None:
        return forced
    run_seed = seed_from_environment(environ, RUN_SEED_ENV)
    return derived_seed(run_seed, test_id) if run_seed is not None else fresh_seed()


def seed_note(seed: int) -> str:
    """The text appended to a failure message, as the classic recipe prints it."""
    return f"(random seed: {seed})"


def seed_in_message(message: str | None) -> int | None:
    """The seed a failure message reports, if it has one."""
    if not message:
        return None
    found = _SEED_IN_MESSAGE.findall(message)
    if not found:
        return None
    value = int(found[-1])
    return value if value <= MAX_SEED else None
