"""Putting embedded mode's spool files into the database, through the store.

A run in embedded mode writes its results to a spool file
(``seedboard_reporter.spool_file``); at its end trial starts ``python -m
seedboard.spooled FILE`` in a session of its own and exits.  Every command that
reads the database (``seedboard serve`` first of all) calls ``import_pending``
before it reads, so a page never misses a run that has ended.

The writes are the server's own: ``create_run``, ``add_batch`` per batch number,
``finish_run``, one transaction each.  Each is idempotent (a known run, a stored
batch number, the same finish), so an import killed half-way is simply done
again: nothing is lost, nothing stored twice.  The file is deleted once all of it
is stored.  An importer holds the file's ``flock`` while it works: two importers
never store one file at once, and none takes the file of a run still going.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from seedboard.errors import one_line
from seedboard.settings import describe_url
from seedboard_reporter.recorder import Row
from seedboard_reporter.spool_file import (
    LEGACY_SUFFIX,
    SUFFIX,
    BadSpool,
    Spooled,
    has_finish,
    read_header,
    read_spool,
)


@dataclass(frozen=True)
class Imported:
    """One spool file stored: its run, how many results, whether the run had ended."""

    run_id: str
    results: int
    finished: bool


class ImportFailed(Exception):
    """A spool file that could not be stored; the message says why, on one line."""


def import_file(path: Path, wait: bool = True) -> Imported | None:
    """Store the spool file at ``path`` and delete it.

    None if there is nothing to do: the file is gone (imported by another process),
    or, unless ``wait``, someone holds it (its run is going on, or being imported).
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            return None
        if os.fstat(fd).st_nlink == 0:  # imported and deleted while we waited
            return None
        with open(fd, "rb", closefd=False) as file:
            spooled = read_spool(file.read())
        imported = _store(spooled)
        path.unlink()  # still holding the lock: nobody is reading it
        return imported
    except BadSpool as error:
        raise ImportFailed(f"{path} is not a spool file: {error}") from None
    finally:
        os.close(fd)


def _store(spooled: Spooled) -> Imported:
    from sqlalchemy.exc import SQLAlchemyError

    from seedboard.db.engine import open_database
    from seedboard.db.migrate import ensure_schema

    url = spooled.header["database"]
    database = open_database(url)
    try:
        ensure_schema(database)
        _write(spooled, database.write)
    except SQLAlchemyError as error:
        raise ImportFailed(f"cannot record in {describe_url(url)}: {one_line(error)}") from None
    finally:
        database.dispose()
    run_id = spooled.header["run_id"]
    return Imported(run_id, len(spooled.rows), spooled.finished_at is not None)


def _write(spooled: Spooled, write: Callable[..., Any]) -> None:
    from seedboard.db import runs
    from seedboard.services.notify import finish_run_with_events
    from seedboard.services.results import add_batch
    from seedboard_reporter.metadata import run_start

    header = spooled.header
    run_id = header["run_id"]
    write(
        runs.create_run,
        run_start(
            run_id,
            datetime.fromisoformat(header["started_at"]),
            os.environ,
            Path(header["cwd"]),
            header["argv"],
            header["order_seed"],
            header["run_seed"],
        ),
    )
    size = header["batch_size"]
    for number, start in enumerate(range(0, len(spooled.rows), size)):
        results = _columns(spooled.rows[start : start + size])
        write(add_batch, run_id, number, results, datetime.now(UTC))
    if spooled.finished_at is not None:
        # Webhooks' events are noted with the finish; a server delivers them.
        write(finish_run_with_events, run_id, datetime.fromisoformat(spooled.finished_at))


def _columns(rows: Sequence[Sequence[Any]]) -> Any:
    from seedboard.domain import Outcome, ResultColumns

    if len(rows[0]) != len(Row._fields):
        raise BadSpool(f"a result has {len(rows[0])} fields, not {len(Row._fields)}")
    columns = [list(column) for column in zip(*rows, strict=True)]
    columns[Row._fields.index("outcome")] = list(map(Outcome, columns[1]))
    return ResultColumns(*columns)


def pending(root: Path, url: str) -> Iterator[Path]:
    """The spool files under ``root`` meant for the database at ``url``, oldest first."""
    if not root.is_dir():
        return
    found: list[tuple[float, Path]] = []
    for path in [*root.glob(f"*{SUFFIX}"), *root.glob(f"*{LEGACY_SUFFIX}")]:
        with contextlib.suppress(OSError, ValueError, BadSpool):
            with path.open("rb") as file:
                header = read_header(file)
            if header.get("database") == url:
                found.append((path.stat().st_mtime, path))
    for _, path in sorted(found):
        yield path


def import_pending(
    root: Path, url: str, wait_for_runs: bool = False
) -> tuple[list[Imported], list[str]]:
    """Store every spool file for ``url`` whose run has ended (or whose process died),
    waiting for an import already going on; a run still going is left to its end,
    unless ``wait_for_runs``.  What was stored, and a line for each file that could not
    be."""
    imported: list[Imported] = []
    problems: list[str] = []
    for path in pending(root, url):
        try:
            done = import_file(path, wait=wait_for_runs or _has_ended(path))
        except ImportFailed as error:
            problems.append(str(error))
            continue
        except OSError as error:
            problems.append(f"cannot import {path}: {error.strerror}")
            continue
        if done is not None:
            imported.append(done)
    return imported, problems


def _has_ended(path: Path) -> bool:
    """Whether the file's run has ended: its last frame is the finish (then whoever holds
    it is an importer, worth waiting for; else it is the run itself, not to wait for)."""
    try:
        return has_finish(path.read_bytes())
    except OSError:
        return False


def main(argv: list[str]) -> int:
    """``python -m seedboard.spooled FILE``, started by the reporter as its run ends:
    import the run, then what killed runs left for the same database.  One line for a
    problem, exit status 1."""
    [name] = argv
    path = Path(name)
    try:
        with path.open("rb") as file:
            url = read_header(file)["database"]
        import_file(path)
    except FileNotFoundError:
        return 0  # imported already, by a command that reads
    except (ImportFailed, OSError, BadSpool) as error:
        print(f"{error}; the run stays in {name} for the next seedboard command", flush=True)
        return 1
    import_pending(path.parent, url)  # their problems are theirs, said when asked
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
