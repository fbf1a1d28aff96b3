"""Store functions for runs and their results.

Each takes a connection first and blocks; ``Database.read``/``write`` supply
the connection, the server runs them on its database threads.  Only domain
records come out, never rows.  Results are stored as given: their fingerprints
are computed above, by ``seedboard.services.results``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from itertools import repeat
from operator import attrgetter, itemgetter
from typing import Any

import msgspec
from sqlalchemy import (
    ColumnElement,
    Connection,
    Dialect,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy import Row as SQLRow

from seedboard.db.aggregates import count_results, new_results
from seedboard.db.bulk import Call, Row, insert_new, insert_rows, lookup, rows_by_key, together
from seedboard.db.changes import NOTE, note_change
from seedboard.db.driver import sqlite_rows
from seedboard.db.models import Result, Run, Test
from seedboard.db.rows import Column, reading
from seedboard.domain import (
    BAD_OUTCOMES,
    OUTCOME_OF,
    RESULT_FIELDS,
    Outcome,
    OutcomeCounts,
    ResultColumns,
    RunDetail,
    RunPage,
    RunStart,
    RunSummary,
)
from seedboard.domain import Result as ResultRecord

_runs = Run.__table__
_results = Result.__table__

_FAILURES_FIRST = {
    Outcome.ERROR: 0,
    Outcome.FAILURE: 0,
    Outcome.UNEXPECTED_SUCCESS: 1,
    Outcome.EXPECTED_FAILURE: 2,
    Outcome.SKIP: 3,
    Outcome.SUCCESS: 4,
}


class OutcomeFilter(StrEnum):
    """Runs by how they went: with a bad outcome (failure, error, unexpected success), or not."""

    FAILING = "failing"
    GREEN = "green"


class ReplayFilter(StrEnum):
    """Only the runs ``seedboard replay`` made, none of them, or every run."""

    ONLY = "only"
    EXCLUDE = "exclude"
    INCLUDE = "include"


@dataclass(frozen=True, slots=True)
class RunFilters:
    """Which runs a list shows; a filter left as None lets every run through."""

    branch: str | None = None
    outcome: OutcomeFilter | None = None
    since: date | None = None
    """The first UTC day shown, inclusive."""
    until: date | None = None
    """The last UTC day shown, inclusive."""
    replay: ReplayFilter | None = None
    test: str | None = None
    """Runs that ran a test whose id contains this text."""


NO_FILTERS = RunFilters()


class UnknownRun(LookupError):
    """Results or an end were sent for a run that was never created."""

    def __init__(self, run_id: str) -> None:
        super().__init__(f"no run with id {run_id!r}")
        self.run_id = run_id


class RunFinished(Exception):
    """A new batch, or a finish at another time, for a run that has finished: a finished
    run is closed.  ``field`` names what the request got wrong: ``run_id`` for a batch,
    ``finished_at`` for a finish."""

    def __init__(self, run_id: str, finished_at: datetime, field: str) -> None:
        super().__init__(f"run {run_id!r} finished at {finished_at.isoformat()}")
        self.run_id = run_id
        self.finished_at = finished_at
        self.field = field


class ImpossibleTime(ValueError):
    """A time a run cannot have: a finish before its start, or a time far ahead of the clock."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(f"{field}: {message}")
        self.message = message
        self.field = field


MAX_AHEAD = timedelta(days=1)
"""How far ahead of the server's clock a run's start or finish may be.  A time further
ahead is a client's clock gone wrong or a made-up time, and is refused: it would sit at
the top of every list, with durations no one can read.  A day leaves room for clocks
that are merely off, by hours or time zones."""


def not_ahead(when: datetime, now: datetime, field: str) -> None:
    """Raise ``ImpossibleTime`` if ``when`` is more than ``MAX_AHEAD`` after ``now``."""
    if when > now + MAX_AHEAD:
        raise ImpossibleTime(
            f"is more than {MAX_AHEAD.days} day ahead of the server's clock "
            f"({now.astimezone(UTC).isoformat()})",
            field,
        )


def create_run(conn: Connection, run: RunStart, now: datetime | None = None) -> bool:
    """Store a new run; False if it exists already (a retried create is harmless).

    With the server's clock ``now``, a start more than ``MAX_AHEAD`` after it is refused
    (``ImpossibleTime``).
    """
    if now is not None:
        not_ahead(run.started_at, now, "started_at")
    created = insert_new(conn, Run, {**asdict(run), **OutcomeCounts().as_dict()})
    if created:
        note_change(conn)
    return created


def store_results(
    conn: Connection, run_id: str, results: Sequence[ResultRecord] | ResultColumns
) -> None:
    """Append results to a run, as given, with bulk inserts, keeping its counts current.

    Raises ``UnknownRun`` for a run never created, ``RunFinished`` for one finished.
    """
    run = lock_run(conn, run_id)
    if run.finished_at is not None:
        raise RunFinished(run_id, run.finished_at, "run_id")
    append_results(conn, run, results)


ON_TEST: dict[str, Column] = {"test_id": Test.name, "file": Test.file, "line": Test.line}
"""The fields of a result that are kept on its test's row, once per test; every other
field of ``seedboard.domain.Result`` is the results column of the same name."""
ON_RESULT = tuple(name for name in RESULT_FIELDS if name not in ON_TEST)
"""The fields of a result kept on its own row, in ``Result``'s order."""
_INSERTED = ("run_key", "test_id", *ON_RESULT)
"""A result's row: its run, its test's key, and its own fields."""
_TEXT = attrgetter("_value_")
"""An outcome's text; a value that is no ``Outcome`` (a caller's bug) fails on it.  Read
from the member itself: ``Enum.value`` is a property run in Python, 0.14 ms a batch of
1,000 of the writer's time (bench/README.md)."""

_RESULTS = reading(
    ResultRecord,
    {**ON_TEST, **{name: getattr(Result, name) for name in ON_RESULT}},
    convert={"outcome": OUTCOME_OF.__getitem__},
)


def append_results(
    conn: Connection,
    run: RunTimes,
    results: Sequence[ResultRecord] | ResultColumns,
    stored_tests: list[Row] | None = None,
) -> None:
    """``store_results`` for a run known to exist: one bulk insert, one update of its counts.

    ``stored_tests`` are the rows of ``test_lookup`` for these results, if the caller
    looked them up already.
    """
    columns = results if isinstance(results, ResultColumns) else ResultColumns.of(results)
    if not len(columns):
        return
    test_ids = _test_ids(conn, columns, stored_tests)
    keys = list(map(test_ids.__getitem__, columns.test_id))
    outcomes = columns.outcome
    # Outcomes go to the driver as their text: SQLite binds a str subclass (an
    # Outcome) through its adapters, half as slowly again as a str.  A column left as
    # None (fingerprints not computed) is stored as NULL in every row.
    texts = list(map(_TEXT, outcomes))
    values = [texts if name == "outcome" else columns.values(name) for name in ON_RESULT]
    rows = zip(repeat(run.key), keys, *values)
    new = new_results(conn, run.key, keys, texts)
    insert_rows(conn, Result, _INSERTED, list(rows))
    added = Counter(outcomes)
    counts = {f"added_{o.value}": n for o, n in added.items()}
    # Together: none needs another's answer (on PostgreSQL, one round trip for three).
    calls = [Call(_ADD_COUNTS, {**_NONE_ADDED, **counts, "run": run.key}), NOTE]
    if not run.is_replay:  # trends leave replays out
        calls.insert(0, count_results(conn, run.started_at.date(), run.branch, new))
    together(conn, calls)


_ADD_COUNTS = (
    update(Run)
    .where(Run.key == bindparam("run"))
    .values(
        {
            getattr(Run, o.value): getattr(Run, o.value) + bindparam(f"added_{o.value}")
            for o in Outcome
        }
    )
)
"""A batch's outcomes added to its run's counts; built once, as every batch runs it."""
_NONE_ADDED = {f"added_{o.value}": 0 for o in Outcome}


def finish_run(
    conn: Connection, run_id: str, finished_at: datetime, now: datetime | None = None
) -> None:
    """Record when a run ended, closing it to new results.

    Finishing again at the same time changes nothing (a retried finish is harmless); at
    another time it raises ``RunFinished``.  A finish before the run's start, or (given
    the server's clock ``now``) more than ``MAX_AHEAD`` after ``now``, raises
    ``ImpossibleTime``; one for a run never created, ``UnknownRun``.
    """
    if now is not None:
        not_ahead(finished_at, now, "finished_at")
    run = lock_run(conn, run_id)
    if finished_at < run.started_at:
        raise ImpossibleTime(
            f"is before the run started ({run.started_at.isoformat()})", "finished_at"
        )
    if run.finished_at is not None:
        if run.finished_at == finished_at:
            return
        raise RunFinished(run_id, run.finished_at, "finished_at")
    conn.execute(update(Run).where(Run.id == run_id).values(finished_at=finished_at))
    note_change(conn)


class UnknownCursor(LookupError):
    """A page was asked for after a run that does not exist."""

    def __init__(self, run_id: str) -> None:
        super().__init__(f"no run with id {run_id!r} to page from")
        self.run_id = run_id


def list_runs(
    conn: Connection, limit: int, before: str | None = None, filters: RunFilters = NO_FILTERS
) -> RunPage:
    """Runs newest first that pass ``filters``; ``before`` is the id of the last run of
    the previous page, and ``UnknownCursor`` is raised if there is no such run."""
    query = (
        select(_runs)
        .where(*run_conditions(filters))
        .order_by(Run.started_at.desc(), Run.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(_older_than(conn, before))
    rows = conn.execute(query).all()
    runs = [summary_of(row) for row in rows[:limit]]
    replays = [run.id for run in runs if run.start.is_replay]
    return RunPage(
        runs=runs,
        next_cursor=runs[-1].id if len(rows) > limit else None,
        replayed=_replayed_tests(conn, replays) if replays else {},
    )


def _replayed_tests(conn: Connection, run_ids: list[str]) -> dict[str, str]:
    """The one test each of these replays ran, for those that ran one."""
    query = (
        select(Run.id, func.min(Test.name))
        .select_from(Run)
        .join(Result, Result.run_key == Run.key)
        .join(Test, Test.id == Result.test_id)
        .where(Run.id.in_(run_ids))
        .group_by(Run.id)
        .having(func.count(func.distinct(Result.test_id)) == 1)
    )
    return {run_id: name for run_id, name in conn.execute(query).all()}


def run_conditions(filters: RunFilters) -> list[ColumnElement[bool]]:
    """The WHERE conditions selecting the runs that pass ``filters``."""
    conditions: list[ColumnElement[bool]] = []
    if filters.branch is not None:
        conditions.append(Run.branch == filters.branch)
    if filters.outcome is not None:
        bad = Run.failure + Run.error + Run.unexpected_success
        conditions.append(bad > 0 if filters.outcome is OutcomeFilter.FAILING else bad == 0)
    if filters.since is not None:
        conditions.append(Run.started_at >= start_of_day(filters.since))
    if filters.until is not None:
        conditions.append(Run.started_at < start_of_day(filters.until + timedelta(days=1)))
    if filters.replay in (ReplayFilter.ONLY, ReplayFilter.EXCLUDE):
        conditions.append(Run.is_replay.is_(filters.replay is ReplayFilter.ONLY))
    if filters.test is not None:
        # Matching test ids first, then each run, as the runs are walked newest first,
        # asked by the (run_key, test_id) index: a page stops at its last run, where
        # the runs that ran a test, read from its results, would be all of history.
        tests = select(Test.id).where(Test.name.contains(filters.test, autoescape=True))
        conditions.append(exists().where(Result.run_key == Run.key, Result.test_id.in_(tests)))
    return conditions


def start_of_day(day: date) -> datetime:
    """Midnight UTC at the start of ``day``."""
    return datetime.combine(day, time(), UTC)


def _older_than(conn: Connection, run_id: str) -> ColumnElement[bool]:
    anchor = conn.execute(select(Run.started_at, Run.id).where(Run.id == run_id)).first()
    if anchor is None:
        raise UnknownCursor(run_id)
    return listed_after(anchor.started_at, anchor.id)


def listed_after(started_at: datetime, run_id: str) -> ColumnElement[bool]:
    """Runs listed after this one, newest first: started earlier, or at the same time
    with a lower id (ids break ties, so no run is ever on two pages).

    The first condition repeats what the rest implies, as a bound the databases
    can start the ``(started_at, id)`` index at: without it SQLite walks every
    newer run first, so a later page cost more the deeper it was in history.
    """
    earlier = or_(Run.started_at < started_at, and_(Run.started_at == started_at, Run.id < run_id))
    return and_(Run.started_at <= started_at, earlier)


def get_run(conn: Connection, run_id: str) -> RunDetail | None:
    """A run with every result, failures first; None if there is no such run."""
    row = conn.execute(select(_runs).where(Run.id == run_id)).first()
    if row is None:
        return None
    query = (
        select(*_RESULTS.columns)
        .join(Test, Test.id == Result.test_id)
        .where(Result.run_key == row.key)
    )
    results = _RESULTS.records(conn.execute(query))
    results.sort(key=lambda r: (_FAILURES_FIRST[r.outcome], r.test_id))
    return RunDetail(summary=summary_of(row), results=results)


def run_summary(conn: Connection, run_id: str) -> RunSummary | None:
    """A run's metadata and counts without its results; None if there is no such run."""
    row = conn.execute(select(_runs).where(Run.id == run_id)).first()
    return None if row is None else summary_of(row)


def failing_seeds(
    conn: Connection, run_id: str | None = None
) -> tuple[RunStart, list[tuple[str, int]]] | None:
    """A run's failing (test id, seed) pairs: of ``run_id``, else of the latest run
    that is not a replay.  None when there is no such run."""
    query = select(_runs)
    if run_id is None:
        query = query.where(Run.is_replay.is_(False)).order_by(Run.started_at.desc(), Run.id.desc())
    else:
        query = query.where(Run.id == run_id)
    row = conn.execute(query.limit(1)).first()
    if row is None:
        return None
    pairs = conn.execute(
        select(Test.name, Result.seed)
        .join(Test, Test.id == Result.test_id)
        .where(
            Result.run_key == row.key,
            Result.seed.is_not(None),
            Result.outcome.in_([o.value for o in BAD_OUTCOMES]),
        )
        .distinct()
        .order_by(Test.name, Result.seed)
    ).all()
    return summary_of(row).start, [(name, seed) for name, seed in pairs if seed is not None]


@dataclass(frozen=True, slots=True)
class RunTimes:
    """What storing a batch needs to know of its run, read once with its lock."""

    key: int
    started_at: datetime
    finished_at: datetime | None
    branch: str | None
    is_replay: bool


def locking_run(run_id: str) -> Call:
    """``lock_run``'s statement, to run ``together`` with others; ``run_times`` reads its rows."""
    return Call(_LOCK_RUN, {"run_id": run_id})


def run_times(run_id: str, rows: Sequence[Sequence[Any]]) -> RunTimes:
    """The run ``locking_run`` found; raises ``UnknownRun`` if there is no such run."""
    if not rows:
        raise UnknownRun(run_id)
    return RunTimes(*rows[0])


def lock_run(conn: Connection, run_id: str) -> RunTimes:
    """A run's key, when it started and finished, its branch and whether it is a replay,
    its row locked until the transaction ends; raises ``UnknownRun`` if there is no such
    run.

    The lock (``FOR UPDATE`` on PostgreSQL; SQLite's writes take the whole database
    anyway) holds a finish back until a batch read as open is stored, and a batch until
    a finish is stored, so none slips past the check.
    """
    return run_times(run_id, conn.execute(_LOCK_RUN, {"run_id": run_id}).all())


_LOCK_RUN = (
    select(Run.key, Run.started_at, Run.finished_at, Run.branch, Run.is_replay)
    .where(Run.id == bindparam("run_id"))
    .with_for_update()
)
"""``lock_run``'s query, built once: every batch runs it."""


TESTS_LOCK = 0x5EED_7E57
"""PostgreSQL advisory lock key: held shared by a transaction storing results, from
before it looks up their tests, and exclusively by one dropping tests (``share_tests``)."""


def test_lookup(conn: Connection, names: Sequence[str]) -> list[Call]:
    """On PostgreSQL, the statements of ``_test_ids``' lookup of these tests (the lock
    ``share_tests`` takes, then the lookup), to run ``together`` with others; their last
    one's rows go to ``append_results``."""
    return [
        Call(_SHARE_TESTS[False], {"key": TESTS_LOCK}),
        lookup(conn, Test.name, names, *_TEST_ROW),
    ]


_TEST_ROW = (Test.id, Test.name, Test.file, Test.line)


def share_tests(conn: Connection, exclusive: bool = False) -> None:
    """Keep the tests a transaction looks up from being dropped before it commits.

    On PostgreSQL, results have no foreign key to their test (revision 0016): a test
    dropped by ``deletes.delete_run`` between a batch's lookup and its commit would
    leave the batch's results pointing at nothing.  Storers hold this lock shared,
    so they never wait on each other; a delete holds it ``exclusive``, so it waits
    for them to commit, and they for it, and each sees the other's rows.  SQLite's
    writers take the whole database anyway.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(_SHARE_TESTS[exclusive], {"key": TESTS_LOCK})


_SHARE_TESTS = {
    False: select(func.pg_advisory_xact_lock_shared(bindparam("key"))),
    True: select(func.pg_advisory_xact_lock(bindparam("key"))),
}


def _test_ids(
    conn: Connection, results: ResultColumns, stored: list[Row] | None = None
) -> dict[str, int]:
    """Ids of the results' tests, adding new tests and moving ones whose line changed;
    ``stored``, the rows of ``test_lookup`` if run already."""
    located = dict(zip(results.test_id, zip(results.file, results.line, strict=True), strict=True))
    names = list(located)
    found = None
    if stored is None:
        share_tests(conn)
        found = _found_in_order(conn, located)
        if found is None:
            stored = rows_by_key(conn, Test.name, names, *_TEST_ROW)
    ids, moved = found if found is not None else _ids_and_moved(stored or [], located)
    if len(ids) < len(names):
        # Sorted, so that two workers adding the same new tests take their locks in one order.
        new = sorted(name for name in names if name not in ids)
        rows = [(n, *located[n]) for n in new]
        insert_rows(conn, Test, ("name", "file", "line"), rows, skip_existing=True)
        # Another worker may have added some first, and elsewhere.
        added = rows_by_key(conn, Test.name, new, *_TEST_ROW)
        ids.update((name, test_id) for test_id, name, _, _ in added)
        moved += _moved(added, located)
    if moved:
        moved.sort()  # one lock order for every worker
        conn.execute(
            update(Test)
            .where(Test.id == bindparam("test_pk"))
            .values(file=bindparam("file"), line=bindparam("line")),
            [{"test_pk": ids[name], "file": file, "line": line} for name, file, line in moved],
        )
    return ids


Located = dict[str, tuple[str | None, int | None]]
"""Each test of a batch and where its results place it (file, line)."""
Moved = tuple[str, str | None, int | None]
"""A test stored elsewhere than its results place it: (name, file, line)."""


def _ids_and_moved(
    stored: Sequence[Sequence[Any]], located: Located
) -> tuple[dict[str, int], list[Moved]]:
    """The ids of the stored (id, name, file, line) tests, and those the results move."""
    return {name: test_id for test_id, name, _, _ in stored}, _moved(stored, located)


def _found_in_order(
    conn: Connection, located: Located
) -> tuple[dict[str, int], list[Moved]] | None:
    """On SQLite, the ids of the tests stored already and those moved, looked up by one
    JSON array of the names; None elsewhere (``rows_by_key``).

    Rows come back by their name's position in the array, not by name: making a
    thousand stored names into Python strings cost as much as finding them, and when
    every test is found where the batch places it (a suite's every run after its
    first) the ids and places are matched to the names without a Python loop.
    """
    if conn.dialect.name != "sqlite":
        return None
    names = list(located)
    try:
        # msgspec writes a thousand names a sixth as slowly as json.dumps.
        array = msgspec.json.encode(names).decode()
    except UnicodeEncodeError:
        return None  # a lone surrogate, which no database stores: rows_by_key's way
    if "\\u0000" in array:
        return None  # SQLite's JSON functions cut text at a NUL: rows_by_key's IN list
    rows = sqlite_rows(conn, _tests_in_order(conn.dialect), (array,))
    if len(rows) == len(names):
        places = list(zip(map(itemgetter(2), rows), map(itemgetter(3), rows), strict=True))
        if places == list(located.values()):
            return dict(zip(names, map(itemgetter(1), rows), strict=True)), []
    return _ids_and_moved(
        [(test_id, names[at], file, line) for at, test_id, file, line in rows], located
    )


@cache
def _tests_in_order(dialect: Dialect) -> str:
    """``_found_in_order``'s SQL: (position, id, file, line) of each stored test of the
    names, in the array's order."""
    array = func.json_each(bindparam("names")).table_valued("key", "value").alias("names")
    query = (
        select(array.c.key, Test.id, Test.file, Test.line)
        .select_from(array)
        .join(Test, Test.name == array.c.value)
        .order_by(array.c.key)
    )
    return str(query.compile(dialect=dialect))


def _moved(stored: Sequence[Sequence[Any]], located: Located) -> list[Moved]:
    """(name, file, line) of the stored (id, name, file, line) tests that the results
    place elsewhere; a result without a file moves nothing."""
    return [
        (name, *place)
        for _, name, file, line in stored
        if (place := located[name])[0] is not None and place != (file, line)
    ]


def summary_of(run: SQLRow[Any]) -> RunSummary:
    """A run row as a summary; ``RunStart``'s fields are named as the columns."""
    return RunSummary(
        start=RunStart(**{f.name: getattr(run, f.name) for f in fields(RunStart)}),
        finished_at=run.finished_at,
        counts=OutcomeCounts(**{o.value: getattr(run, o.value) for o in Outcome}),
    )
