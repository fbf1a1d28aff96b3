"""``trial --reporter=seedboard-output``: seedboard's terminal output alone, nothing
recorded: the floor of what ``--reporter=seedboard`` costs while it prints trial's
tree output.  On ``PYTHONPATH`` for ``bench/overhead.py``'s runs only, never
installed (this folder, like the reporter's own, has no ``__init__.py``)."""

from __future__ import annotations

from twisted.plugins.seedboard_trial import _Reporter

SeedboardOutput = _Reporter(
    "Seedboard output alone (benchmark)",
    "seedboard_reporter.output",
    description="seedboard's tree output, recording nothing: bench/overhead.py's floor",
    longOpt="seedboard-output",
    shortOpt=None,
    klass="TreeOutput",
)
