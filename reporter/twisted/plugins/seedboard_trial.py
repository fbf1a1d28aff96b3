"""Registers the ``seedboard`` reporter with trial: ``trial --reporter=seedboard``.

A Twisted plugin drop-in: this folder has no ``__init__.py`` on purpose.  The
reporter class is named, not imported, so listing plugins stays cheap.
"""

from __future__ import annotations

from twisted.plugin import IPlugin
from twisted.trial.itrial import IReporter
from zope.interface import implementer


@implementer(IPlugin, IReporter)
class _Reporter:
    def __init__(
        self,
        name: str,
        module: str,
        description: str,
        longOpt: str | None,
        shortOpt: str | None,
        klass: str,
    ) -> None:
        self.name = name
        self.module = module
        self.description = description
        self.longOpt = longOpt
        self.shortOpt = shortOpt
        self.klass = klass

    @property
    def stream(self) -> None:
        # IReporter declares these; trial reads them from the reporter it builds.
        return None

    @property
    def tbformat(self) -> None:
        return None

    @property
    def args(self) -> None:
        return None

    @property
    def shouldStop(self) -> bool:
        return False

    @property
    def testsRun(self) -> int:
        return 0


Seedboard = _Reporter(
    "Seedboard Reporter",
    "seedboard_reporter.reporter",
    description="trial's verbose output, with every result and seed recorded by seedboard",
    longOpt="seedboard",
    shortOpt=None,
    klass="SeedboardReporter",
)
