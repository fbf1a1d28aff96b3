"""Store functions for quarantines, their history, tests' issue links and owners.

A quarantine is never deleted: removing it (or its expiry) sets ``lifted_at``,
and every change is written to ``quarantine_history`` in the same transaction.
Expiry needs no clock running in the background: a quarantine past its
``expires_at`` is not active to any reader.  ``lift_expired`` lifts it in the
history; it is called only by ``seedboard.services.notify.expire_quarantines``,
which writes each lift's "quarantine expired" event in the same transaction (the
server's delivery loop, and every quarantine change first, call that).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, and_, delete, insert, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from seedboard.db.changes import note_change
from seedboard.db.models import (
    QuarantineHistory,
    QuarantineRow,
    Result,
    Run,
    Test,
    TestIssue,
    TestOwners,
)
from seedboard.db.runs import UnknownRun
from seedboard.domain import Quarantine, QuarantineChange, TestLinks, owned_by

EXPIRY_ACTOR = "expiry"
"""Who the history says lifted a quarantine that expired."""
HISTORY_LIMIT = 50

_Q = QuarantineRow


def _active(now: datetime) -> ColumnElement[bool]:
    return and_(_Q.lifted_at.is_(None), or_(_Q.expires_at.is_(None), _Q.expires_at > now))


def _quarantine(row: Any) -> Quarantine:
    return Quarantine(
        pattern=row.pattern,
        reason=row.reason,
        issue_url=row.issue_url,
        expires_at=row.expires_at,
        created_by=row.created_by,
        created_at=row.created_at,
        lifted_at=row.lifted_at,
    )


_COLUMNS = (
    _Q.id,
    _Q.pattern,
    _Q.reason,
    _Q.issue_url,
    _Q.expires_at,
    _Q.created_by,
    _Q.created_at,
    _Q.lifted_at,
)


def active_quarantines(conn: Connection, now: datetime) -> list[Quarantine]:
    """Every quarantine in force at ``now``, by pattern."""
    rows = conn.execute(select(*_COLUMNS).where(_active(now)).order_by(_Q.pattern, _Q.id))
    return [_quarantine(row) for row in rows]


def _expired(now: datetime) -> ColumnElement[bool]:
    return and_(_Q.lifted_at.is_(None), _Q.expires_at.is_not(None), _Q.expires_at <= now)


def any_expired(conn: Connection, now: datetime) -> bool:
    """Whether a quarantine's expiry has passed but it is not lifted yet: a read, so that
    checking every second costs the writer nothing."""
    return conn.execute(select(_Q.id).where(_expired(now)).limit(1)).first() is not None


def lift_expired(conn: Connection, now: datetime) -> list[Quarantine]:
    """Lift every quarantine whose expiry has passed, in the history too; those this
    transaction lifted.  Call it through ``services.notify.expire_quarantines``, which
    writes their events."""
    rows = conn.execute(select(_Q.id, *_COLUMNS).where(_expired(now))).all()
    lifted = []
    for row in rows:
        # Only if still in force: on PostgreSQL two writers (the server's loop, a command)
        # may both have read it; the one whose update changes the row writes the event.
        changed = conn.execute(
            update(_Q)
            .where(_Q.id == row.id, _Q.lifted_at.is_(None))
            .values(lifted_at=row.expires_at)
        ).rowcount
        if changed:
            _note(conn, row.pattern, "expire", EXPIRY_ACTOR, row.expires_at, None, "expired")
            lifted.append(_quarantine(row))
    if lifted:
        note_change(conn)
    return lifted


def add_quarantine(conn: Connection, wanted: Quarantine) -> bool:
    """Quarantine ``wanted.pattern``, or change the quarantine in force on it (reason,
    issue, expiry: those given replace the old); True if it is new.  A quarantine that
    expired is not in force: it is lifted with its event, not here."""
    now = wanted.created_at
    found = conn.execute(
        select(*_COLUMNS).where(_active(now), _Q.pattern == wanted.pattern)
    ).first()
    if found is None:
        conn.execute(
            insert(_Q).values(
                pattern=wanted.pattern,
                reason=wanted.reason,
                issue_url=wanted.issue_url,
                expires_at=wanted.expires_at,
                created_by=wanted.created_by,
                created_at=now,
            )
        )
        detail = _describe(None, wanted)
        _note(conn, wanted.pattern, "add", wanted.created_by, now, wanted.reason, detail)
    else:
        old = _quarantine(found)
        new = Quarantine(
            old.pattern,
            wanted.reason or old.reason,
            wanted.issue_url or old.issue_url,
            wanted.expires_at or old.expires_at,
            old.created_by,
            now,
        )
        conn.execute(
            update(_Q)
            .where(_Q.id == found.id)
            .values(reason=new.reason, issue_url=new.issue_url, expires_at=new.expires_at)
        )
        detail = _describe(old, new)
        _note(conn, wanted.pattern, "update", wanted.created_by, now, wanted.reason, detail)
    if wanted.issue_url is not None:
        set_issue(conn, wanted.pattern, wanted.issue_url, wanted.created_by, now, quiet=True)
    note_change(conn)
    return found is None


def remove_quarantine(
    conn: Connection, pattern: str, actor: str, reason: str | None, now: datetime
) -> bool:
    """Lift the quarantine in force on ``pattern``; False if there is none."""
    lifted = conn.execute(
        update(_Q).where(_active(now), _Q.pattern == pattern).values(lifted_at=now)
    ).rowcount
    if not lifted:
        return False
    _note(conn, pattern, "remove", actor, now, reason, "lifted")
    note_change(conn)
    return True


def quarantine_history(
    conn: Connection,
    pattern: str | None = None,
    limit: int = HISTORY_LIMIT,
    patterns: Sequence[str] | None = None,
) -> list[QuarantineChange]:
    """The latest changes, newest first: of one pattern, of ``patterns``, or of all."""
    h = QuarantineHistory
    query = select(h.pattern, h.action, h.actor, h.at, h.reason, h.detail)
    if pattern is not None:
        query = query.where(h.pattern == pattern)
    if patterns is not None:
        query = query.where(h.pattern.in_(list(patterns)))
    rows = conn.execute(query.order_by(h.at.desc(), h.id.desc()).limit(limit))
    return [QuarantineChange(r.pattern, r.action, r.actor, r.at, r.reason, r.detail) for r in rows]


def history_patterns(conn: Connection) -> list[str]:
    """Every test id or pattern that was ever quarantined."""
    h = QuarantineHistory
    return list(conn.execute(select(h.pattern).distinct().order_by(h.pattern)).scalars())


def set_issue(
    conn: Connection,
    test: str,
    issue_url: str | None,
    actor: str,
    now: datetime,
    quiet: bool = False,
) -> None:
    """Link ``test`` to its issue, or unlink it (``issue_url`` None)."""
    conn.execute(delete(TestIssue).where(TestIssue.test == test))
    if issue_url is not None:
        conn.execute(
            insert(TestIssue).values(test=test, issue_url=issue_url, set_by=actor, set_at=now)
        )
    if not quiet:
        note_change(conn)


def record_owners(
    conn: Connection, run_id: str | None, owners: Mapping[str, Sequence[str]], now: datetime
) -> None:
    """Keep each test's owners as the run found them; a test without owners now has none.
    ``UnknownRun`` if the run was never recorded."""
    if run_id is not None and conn.execute(select(Run.id).where(Run.id == run_id)).first() is None:
        raise UnknownRun(run_id)
    if not owners:
        return
    names = list(owners)
    for start in range(0, len(names), 500):
        chunk = names[start : start + 500]
        conn.execute(delete(TestOwners).where(TestOwners.test.in_(chunk)))
        rows = [
            {"test": name, "owners": " ".join(owners[name]), "run_id": run_id, "recorded_at": now}
            for name in chunk
            if owners[name]
        ]
        if rows:
            conn.execute(insert(TestOwners), rows)
    note_change(conn)


def links_of(conn: Connection, tests: Sequence[str]) -> dict[str, TestLinks]:
    """The owners and issue of each of ``tests`` that has either."""
    found: dict[str, TestLinks] = {}
    names = list(dict.fromkeys(tests))
    for start in range(0, len(names), 500):
        chunk = names[start : start + 500]
        owned = select(TestOwners.test, TestOwners.owners).where(TestOwners.test.in_(chunk))
        issues = select(TestIssue.test, TestIssue.issue_url).where(TestIssue.test.in_(chunk))
        _add_links(conn, found, owned, issues)
    return found


def links_of_run(conn: Connection, run_id: str) -> dict[str, TestLinks]:
    """``links_of`` the run's tests, read by joining its results, one query each rather
    than one per 500 tests: a run page lists thousands."""
    run_key = select(Run.key).where(Run.id == run_id).scalar_subquery()
    found: dict[str, TestLinks] = {}
    owned = (
        select(TestOwners.test, TestOwners.owners)
        .join(Test, Test.name == TestOwners.test)
        .join(Result, Result.test_id == Test.id)
        .where(Result.run_key == run_key)
    )
    issues = (
        select(TestIssue.test, TestIssue.issue_url)
        .join(Test, Test.name == TestIssue.test)
        .join(Result, Result.test_id == Test.id)
        .where(Result.run_key == run_key)
    )
    _add_links(conn, found, owned, issues)
    return found


def _add_links(
    conn: Connection,
    found: dict[str, TestLinks],
    owned: Select[str, str],
    issues: Select[str, str],
) -> None:
    """Add to ``found`` the (test, owners) ``owned`` reads and the (test, issue) ``issues``
    reads."""
    # Most suites have no CODEOWNERS, or no issue linked: a read of one row skips the join.
    if _any(conn, TestOwners.test):
        for name, text in conn.execute(owned):
            found[name] = TestLinks(tuple(text.split()))
    if _any(conn, TestIssue.test):
        for name, url in conn.execute(issues):
            found[name] = TestLinks(found.get(name, TestLinks()).owners, url)


def _any(conn: Connection, column: InstrumentedAttribute[str]) -> bool:
    return conn.execute(select(column).limit(1)).first() is not None


def tests_owned_by(conn: Connection, owner: str) -> set[str]:
    """The tests whose owners include ``owner`` (compared without case, as GitHub does)."""
    rows = conn.execute(select(TestOwners.test, TestOwners.owners))
    return {name for name, text in rows if owned_by(text.split(), owner)}


def _note(
    conn: Connection,
    pattern: str,
    action: str,
    actor: str,
    at: datetime,
    reason: str | None,
    detail: str,
) -> None:
    conn.execute(
        insert(QuarantineHistory).values(
            pattern=pattern, action=action, actor=actor, at=at, reason=reason, detail=detail
        )
    )


def _describe(old: Quarantine | None, new: Quarantine) -> str:
    """What a change did, in words, for the history."""
    fields = (
        ("reason", old and old.reason, new.reason),
        ("issue", old and old.issue_url, new.issue_url),
        ("expires", old and _when(old.expires_at), _when(new.expires_at)),
    )
    said = [f"{name} {before or '-'} -> {after or '-'}" for name, before, after in fields]
    if old is None:
        said = [f"{name} {after}" for name, _, after in fields if after]
        return "quarantined" + (f": {', '.join(said)}" if said else "")
    changed = [
        text for text, (_, before, after) in zip(said, fields, strict=True) if before != after
    ]
    return "changed: " + ", ".join(changed) if changed else "unchanged"


def _when(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")
