"""trial, telling on stderr when its process started the first test, stopped the
last one, and entered and left the reporter's ``done()``.

    python bench/trial_phases.py TRIAL-ARGUMENTS

``bench/overhead.py --phases`` runs it, with the moment it started the process
and the moment the process was gone, to split a run's wall time into phases.
Moments are ``time.monotonic()``, one clock for every process of the machine.
"""

from __future__ import annotations

import atexit
import json
import sys
import time
from typing import Any

from twisted.trial.reporter import Reporter

MARKER = "trial-phases: "


def _watch(reporter: Any, moments: dict[str, float]) -> None:
    """Note the moments of ``reporter``'s own methods, whatever its class: set on the
    instance, the wrappers see the most derived methods and none of their super() calls."""
    start_test, stop_test, done = reporter.startTest, reporter.stopTest, reporter.done

    def startTest(test: object) -> None:
        moments.setdefault("first_test", time.monotonic())
        start_test(test)

    def stopTest(test: object) -> None:
        stop_test(test)
        moments["last_test"] = time.monotonic()

    def watched_done() -> None:
        moments.setdefault("done", time.monotonic())
        done()
        moments["done_end"] = time.monotonic()

    reporter.startTest, reporter.stopTest, reporter.done = startTest, stopTest, watched_done


def main() -> None:
    moments: dict[str, float] = {}
    build = Reporter.__init__

    def __init__(self: Reporter, *args: Any, **kwargs: Any) -> None:
        build(self, *args, **kwargs)
        _watch(self, moments)

    Reporter.__init__ = __init__  # type: ignore[method-assign]
    atexit.register(lambda: sys.stderr.write(MARKER + json.dumps(moments) + "\n"))
    sys.argv = ["trial", *sys.argv[1:]]
    from twisted.scripts.trial import run

    run()


if __name__ == "__main__":
    main()
