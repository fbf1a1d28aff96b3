"""Quarantine changes, each with the expiries due before it; and what pages show of
quarantines, owners and issues, read in one trip to the database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from seedboard.db import quarantines as store
from seedboard.db.quarantines import (
    active_quarantines,
    history_patterns,
    links_of,
    links_of_run,
    quarantine_history,
    tests_owned_by,
)
from seedboard.domain import Quarantine, QuarantineChange, TestLinks, owned_by
from seedboard.services.notify import expire_quarantines
from seedboard.triage.quarantine import covers


def add_quarantine(conn: Connection, wanted: Quarantine) -> bool:
    """``seedboard.db.quarantines.add_quarantine``, after lifting the quarantines that
    expired, each with its event, in the same transaction: a change made before the
    server's loop looked must not make an expiry go unsaid."""
    expire_quarantines(conn, wanted.created_at)
    return store.add_quarantine(conn, wanted)


def remove_quarantine(
    conn: Connection, pattern: str, actor: str, reason: str | None, now: datetime
) -> bool:
    """``seedboard.db.quarantines.remove_quarantine``, after lifting the quarantines that
    expired, each with its event, in the same transaction."""
    expire_quarantines(conn, now)
    return store.remove_quarantine(conn, pattern, actor, reason, now)


@dataclass(frozen=True, slots=True)
class PageLinks:
    """A listed test's owners and issue, and the quarantine covering it."""

    owners: tuple[str, ...] = ()
    issue_url: str | None = None
    quarantine: Quarantine | None = None


NO_LINKS = PageLinks()
NO_TEST_LINKS = TestLinks()


def page_links(conn: Connection, tests: Sequence[str], now: datetime) -> dict[str, PageLinks]:
    """Each of ``tests`` that has owners, an issue or a quarantine, with them."""
    return _page_links(tests, links_of(conn, tests), active_quarantines(conn, now))


def run_page_links(
    conn: Connection, run_id: str, tests: Sequence[str], others: Sequence[str], now: datetime
) -> dict[str, PageLinks]:
    """``page_links`` of a run's ``tests`` (all of them, read by a join on the run) and of
    ``others`` (a few more its page lists: those of the previous run it lacks)."""
    links = {**links_of_run(conn, run_id), **links_of(conn, others)}
    return _page_links([*tests, *others], links, active_quarantines(conn, now))


def _page_links(
    tests: Sequence[str], links: Mapping[str, TestLinks], quarantines: Sequence[Quarantine]
) -> dict[str, PageLinks]:
    found: dict[str, PageLinks] = {}
    for test in tests:
        quarantine = covering_quarantine(quarantines, test) if quarantines else None
        own = links.get(test, NO_TEST_LINKS)
        issue = own.issue_url or (quarantine.issue_url if quarantine else None)
        if own.owners or issue or quarantine:
            found[test] = PageLinks(own.owners, issue, quarantine)
    return found


def test_page_links(
    conn: Connection, test: str, now: datetime
) -> tuple[PageLinks, list[QuarantineChange]]:
    """A test's owners, issue and quarantine, and the history of every quarantine that
    ever covered it (its own, or a pattern's), newest first."""
    links = page_links(conn, [test], now).get(test, NO_LINKS)
    patterns = [p for p in history_patterns(conn) if covers(p, test)]
    return links, quarantine_history(conn, patterns=patterns) if patterns else []


def covering_quarantine(quarantines: Sequence[Quarantine], test: str) -> Quarantine | None:
    """The quarantine of the test itself, else the first pattern covering it."""
    exact = [q for q in quarantines if q.pattern == test]
    return next(iter(exact or [q for q in quarantines if covers(q.pattern, test)]), None)


def owned_among(links: Mapping[str, PageLinks], owner: str) -> frozenset[str]:
    """Which of the tests ``links`` were read for ``owner`` owns: a page filtering by owner
    reads the links of the tests it lists, and keeps those."""
    return frozenset(test for test, found in links.items() if owned_by(found.owners, owner))


def owners_of(links: Mapping[str, PageLinks]) -> dict[str, list[str]]:
    """Each test with owners, with them: what a page's JSON says beside its tests."""
    return {test: list(found.owners) for test, found in links.items() if found.owners}


def owned_tests(conn: Connection, owner: str) -> set[str]:
    return tests_owned_by(conn, owner)


def quarantined_among(conn: Connection, tests: Sequence[str], when: datetime) -> set[str]:
    """Which of ``tests`` a quarantine in force at ``when`` covers."""
    quarantines = active_quarantines(conn, when)
    return {t for t in tests if covering_quarantine(quarantines, t) is not None}
