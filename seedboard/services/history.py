"""A test's page: its stored history (``seedboard.db.history``) and its triage
(``seedboard.services.flaky``), read together."""

from __future__ import annotations

from sqlalchemy import Connection

from seedboard.db.history import test_history
from seedboard.domain import TestHistory
from seedboard.services.flaky import test_triage
from seedboard.triage.report import TestTriage


def history_and_triage(
    conn: Connection, name: str, limit: int
) -> tuple[TestHistory, TestTriage] | None:
    """A test's page in one read: its latest ``limit`` results and its triage over
    the default window; None if never seen."""
    history = test_history(conn, name, limit)
    triage = None if history is None else test_triage(conn, name)
    return None if history is None or triage is None else (history, triage)
