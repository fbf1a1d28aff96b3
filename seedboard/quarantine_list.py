"""``python -m seedboard.quarantine_list URL``: the active quarantines of a database as JSON,
for the reporter, which reads databases other than SQLite files through this process
rather than import SQLAlchemy into trial's."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from seedboard.triage.quarantine import Rule, rules_to_json


def main(url: str) -> int:
    from seedboard.db.engine import open_database
    from seedboard.db.migrate import HEAD, current_revision
    from seedboard.db.quarantines import active_quarantines

    database = open_database(url)
    try:
        # A database not upgraded yet has no quarantines: nothing to read, nothing to change.
        if database.read(current_revision) != HEAD:
            found = []
        else:
            found = database.read(active_quarantines, datetime.now(UTC))
    finally:
        database.dispose()
    rules = [Rule(q.pattern, q.expires_at, q.reason, q.issue_url) for q in found]
    sys.stdout.buffer.write(rules_to_json(rules))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
