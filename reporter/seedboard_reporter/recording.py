"""How a run records, for trial's reporter and pytest's plugin alike: its id, the seed
its tests' seeds derive from, and the recorder that spools its results.

Free of Twisted, as everything pytest's process imports must be: every module a test
process holds costs it time, in each full pass of the garbage collector over their
objects (Twisted alone cost a suite of 5,000 fast pytest tests 8%).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from seedboard.seeds import SeedError, fresh_seed, seed_from_environment
from seedboard.settings import (
    DEFAULT_FLUSH_TIMEOUT,
    FLUSH_ENV,
    RUN_ID_ENV,
    RUN_SEED_ENV,
    URL_ENV,
    WAIT_ENV,
    database_url_from,
    describe_url,
    is_run_id,
    spool_root,
)
from seedboard_reporter.recorder import RunFacts
from seedboard_reporter.spool_file import SpoolRecorder


def flush_timeout(environ: Mapping[str, str]) -> float:
    """``SEEDBOARD_FLUSH_TIMEOUT`` in seconds; the default when unset or not a number."""
    try:
        value = float(environ.get(FLUSH_ENV, ""))
    except ValueError:
        return DEFAULT_FLUSH_TIMEOUT
    return value if value >= 0 else DEFAULT_FLUSH_TIMEOUT


def waits(environ: Mapping[str, str]) -> bool:
    """``SEEDBOARD_WAIT=1``: wait for the database import before trial exits."""
    return environ.get(WAIT_ENV, "").strip().lower() in {"1", "true", "yes"}


def governing_run_seed(environ: MutableMapping[str, str], parallel: bool = False) -> int | None:
    """The seed every unpinned test's seed derives from, choosing one when none is set.

    A forced ``SEEDBOARD_SEED`` governs instead.  With ``parallel`` (``trial -j``) the
    workers started before any reporter, so only a run seed the user set reaches them.
    """
    try:
        if seed_from_environment(environ) is not None:
            return None
        given = seed_from_environment(environ, RUN_SEED_ENV)
    except SeedError:
        return None  # seedboard.testing reports it on every test
    if given is not None or parallel:
        return given
    chosen = fresh_seed()
    environ[RUN_SEED_ENV] = str(chosen)  # read by seedboard.testing before each test
    return chosen


def chosen_run_id(environ: Mapping[str, str]) -> str:
    """``SEEDBOARD_RUN_ID`` when it is a run id, else a fresh one: a malformed id would
    only be refused by the database or the server, and the run lost."""
    given = environ.get(RUN_ID_ENV, "").strip()
    return given if is_run_id(given) else uuid4().hex


def open_recorder(
    environ: Mapping[str, str],
    cwd: Path,
    argv: list[str],
    order_seed: int | None,
    run_seed: int | None = None,
) -> SpoolRecorder:
    """A recorder for this run: to ``SEEDBOARD_URL`` if set, else into the database
    (through a spool file, imported once the run ends)."""
    run_id = chosen_run_id(environ)
    facts = RunFacts(
        run_id, datetime.now(UTC), dict(environ), cwd, list(argv), order_seed, run_seed
    )
    server = environ.get(URL_ENV, "").strip()
    spool = spool_root(environ, cwd)
    if not server:
        url = database_url_from(environ, cwd)
        return SpoolRecorder(spool, facts, url, describe_url(url), waits(environ))
    where = describe_url(server)
    sending = {"url": server, "spool": str(spool), "flush_timeout": flush_timeout(environ)}
    return SpoolRecorder(spool, facts, None, where, False, {**sending, "where": where})
