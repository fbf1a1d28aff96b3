"""Store functions for order dependencies: the polluters ``seedboard bisect`` found."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, insert, select
from sqlalchemy.orm import aliased

from seedboard.db.changes import note_change
from seedboard.db.models import OrderDependency as Found
from seedboard.db.models import Run, Test
from seedboard.db.runs import UnknownRun
from seedboard.domain import OrderDependency


class UnknownTest(LookupError):
    """A verdict named a test the database has never seen; ``field`` says which one."""

    def __init__(self, name: str, field: str) -> None:
        super().__init__(f"no test named {name!r}")
        self.name = name
        self.field = field


def record_order_dependency(conn: Connection, found: OrderDependency) -> None:
    """Store a bisection's verdict; ``UnknownRun`` or ``UnknownTest`` if it names what was
    never recorded."""
    if conn.execute(select(Run.id).where(Run.id == found.run_id)).first() is None:
        raise UnknownRun(found.run_id)
    keys = dict(
        conn.execute(
            select(Test.name, Test.id).where(Test.name.in_([found.victim, found.polluter]))
        ).all()
    )
    for name, field in ((found.victim, "victim"), (found.polluter, "polluter")):
        if name not in keys:
            raise UnknownTest(name, field)
    conn.execute(
        insert(Found).values(
            run_id=found.run_id,
            victim_id=keys[found.victim],
            polluter_id=keys[found.polluter],
            seed=found.seed,
            found_at=found.found_at,
        )
    )
    note_change(conn)


_victim = aliased(Test)
_polluter = aliased(Test)


def latest_order_dependencies(conn: Connection, keys: Sequence[int]) -> dict[int, OrderDependency]:
    """The latest polluter found for each of the tests (by their keys) that has one."""
    if not keys:
        return {}
    rows = conn.execute(
        select(
            Found.victim_id,
            Found.run_id,
            _victim.name.label("victim"),
            _polluter.name.label("polluter"),
            Found.seed,
            Found.found_at,
            Run.run_seed,
        )
        .join(_victim, _victim.id == Found.victim_id)
        .join(_polluter, _polluter.id == Found.polluter_id)
        .join(Run, Run.id == Found.run_id)
        .where(Found.victim_id.in_(list(keys)))
        .order_by(Found.found_at, Found.id)
    ).all()
    # In time order, so a later finding replaces an earlier one.
    return {
        row.victim_id: OrderDependency(
            run_id=row.run_id,
            victim=row.victim,
            polluter=row.polluter,
            seed=row.seed,
            found_at=row.found_at,
            run_seed=row.run_seed,
        )
        for row in rows
    }
