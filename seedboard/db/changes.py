"""A count of the writes that change what pages show.

Every store function that writes runs, results or their aggregates calls
``note_change`` in its own transaction, so the count moves exactly when such a
write commits, whichever process made it.  A worker caching a slow page keeps
the count it read before computing the page, and serves the page again only
while the count is unchanged: the page is never older than the count says.
The row is updated last in each transaction, after any other row it locks, so
that writers on PostgreSQL always lock in the same order.
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from seedboard.db.bulk import Call
from seedboard.db.models import Changes

_NOTE = update(Changes).values(count=Changes.count + 1)
"""Built once: every write runs it."""
NOTE = Call(_NOTE, {})
"""``note_change`` as a statement to run ``together`` with others, last."""


def note_change(conn: Connection) -> None:
    conn.execute(_NOTE)


def change_count(conn: Connection) -> int:
    return conn.execute(select(Changes.count)).scalar_one()
