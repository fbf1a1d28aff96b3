"""What notifications add to a run's finish: the finish alone, the finish with no webhook
(two more queries), the finish with a webhook (a note to judge the run), and then the
judging (a read, on a reader thread) and the writing of its events (on the writer).

Each round records a run of ``--tests`` tests (one in fifty failing, a different fifty
each run, so classes change) into a SQLite file already holding ``--history`` such
runs, then times its finish in one of the three ways, in turn.  Batches are not
touched by notifications, so ``bench/ingest.py`` measures nothing of this.

    .venv/bin/python bench/notify.py [--tests 2000] [--history 50] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from seedboard.db.engine import Database, open_database
from seedboard.db.migrate import ensure_schema
from seedboard.db.runs import create_run, finish_run
from seedboard.db.webhooks import add_webhook, remove_webhooks
from seedboard.domain import Outcome, Result, RunStart
from seedboard.services.notify import finish_run_with_events, judge_next, store_judged
from seedboard.services.results import add_results

START = datetime(2026, 1, 1, tzinfo=UTC)


def record(db: Database, number: int, tests: int) -> str:
    """A run whose every 50th test, shifted by ``number``, fails with a seed."""
    run_id = uuid.uuid4().hex
    started = START + timedelta(minutes=number)
    db.write(create_run, RunStart(run_id, started, "bench", "3.11", "24.7", "trial pkg"))
    results = [
        Result(
            test_id=f"pkg.test_mod.Tests.test_{i:05d}",
            outcome=Outcome.FAILURE if (i + number) % 50 == 0 else Outcome.SUCCESS,
            duration=0.001,
            seed=(i + number) % 7,
            exception_type="twisted.trial.unittest.FailTest" if (i + number) % 50 == 0 else None,
            message="1 != 2" if (i + number) % 50 == 0 else None,
        )
        for i in range(tests)
    ]
    db.write(add_results, run_id, results)
    return run_id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--history", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        db = open_database(f"sqlite:///{Path(work) / 'notify.db'}")
        ensure_schema(db)
        for number in range(args.history):
            run_id = record(db, number, args.tests)
            db.write(finish_run, run_id, START + timedelta(minutes=number, seconds=30))
        times: dict[str, list[float]] = {"finish": [], "no webhook": [], "webhook": []}
        judging: list[float] = []
        storing: list[float] = []
        number = args.history
        for _ in range(args.rounds):
            for mode in times:
                run_id = record(db, number, args.tests)
                finished = START + timedelta(minutes=number, seconds=30)
                if mode == "webhook":
                    db.write(
                        add_webhook, "http://127.0.0.1:9/", ["class-changed"], "json", None, START
                    )
                began = time.perf_counter()
                if mode == "finish":
                    db.write(finish_run, run_id, finished)
                else:
                    db.write(finish_run_with_events, run_id, finished)
                times[mode].append(time.perf_counter() - began)
                if mode == "webhook":
                    began = time.perf_counter()
                    judged = db.read(judge_next)
                    judging.append(time.perf_counter() - began)
                    assert judged is not None
                    began = time.perf_counter()
                    db.write(store_judged, judged, finished)
                    storing.append(time.perf_counter() - began)
                    db.write(remove_webhooks, "http://127.0.0.1:9/")
                number += 1
        db.dispose()
    print(f"{args.tests} tests a run, {args.history} runs before, {args.rounds} rounds")
    base = statistics.median(times["finish"])
    for mode, found in times.items():
        median = statistics.median(found)
        print(f"{mode:>12}: median {median * 1000:8.2f} ms  ({median / base:5.2f} x finish)")
    for what, found in (("judging", judging), ("storing", storing)):
        median = statistics.median(found)
        where = "a reader thread" if what == "judging" else "the writer"
        print(f"{what:>12}: median {median * 1000:8.2f} ms  (later, on {where})")


if __name__ == "__main__":
    main()
