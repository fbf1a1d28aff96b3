"""``python -m seedboard.owners_record URL RUN_ID`` with ``{"owners": {...}}`` on stdin: the
tests' owners a run read from CODEOWNERS, recorded in a database for the reporter, which
never imports SQLAlchemy into trial's process."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from seedboard.decoding import decode
from seedboard.errors import one_line
from seedboard.ingest import OwnersBody


def main(url: str, run_id: str) -> int:
    from seedboard.db.engine import open_database
    from seedboard.db.quarantines import record_owners

    try:
        body = decode(sys.stdin.buffer.read(), OwnersBody)
        database = open_database(url)
        try:
            database.write(record_owners, run_id, body.owners, datetime.now(UTC))
        finally:
            database.dispose()
    except Exception as error:  # said on one line: the reporter prints the last
        print(one_line(error), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
