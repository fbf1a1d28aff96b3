"""Comparing runs: two runs' stored outcomes (``seedboard.db.compare``) diffed by
``seedboard.triage.compare``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from seedboard.db.compare import compared_run, previous_run, run_outcomes
from seedboard.db.queries import test_names
from seedboard.domain import RunSummary
from seedboard.triage.compare import RunDiff, compare_keyed


@dataclass(frozen=True, slots=True)
class Comparison:
    """Run ``b`` set against the older run ``a``."""

    a: RunSummary
    b: RunSummary
    diff: RunDiff


def compare_runs(conn: Connection, a: str, b: str) -> Comparison:
    """Run ``b`` against ``a``; ``seedboard.db.compare.NoSuchRun`` names the first of
    them that does not exist."""
    old, new = compared_run(conn, a), compared_run(conn, b)
    diff = compare_keyed(
        run_outcomes(conn, a), run_outcomes(conn, b), lambda keys: test_names(conn, keys)
    )
    return Comparison(a=old, b=new, diff=diff)


def compare_with_previous(conn: Connection, run_id: str) -> Comparison | None:
    """The run against its previous run on its branch; None when it has none."""
    previous = previous_run(conn, run_id)
    if previous is None:
        return None
    return compare_runs(conn, previous.id, run_id)
