"""The test page and the flaky console with what a team attached to their tests: owners,
issue links, quarantines; each wraps the view it extends, on the page and in its JSON twin."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from msgspec import Struct
from msgspec.structs import replace

from seedboard.services.quarantines import NO_LINKS, PageLinks
from seedboard.triage.quarantine import looks_fixed
from seedboard.web import answers
from seedboard.web.quarantines import quarantine_entry
from seedboard.web.views import FlakyView, RunView, TestView


def linked_triage(triage: answers.Triage, links: PageLinks, fixed: bool) -> answers.Triage:
    """A test's triage answer with its owners, issue and quarantine."""
    quarantine = None if links.quarantine is None else quarantine_entry(links.quarantine)
    return replace(
        triage,
        owners=list(links.owners),
        issue_url=links.issue_url,
        quarantine=quarantine,
        looks_fixed=fixed,
    )


@dataclass(frozen=True, slots=True)
class LinkedTestView:
    template: ClassVar[str] = "test.html"
    view: TestView
    links: PageLinks = NO_LINKS

    @property
    def looks_fixed(self) -> bool:
        """Quarantined, and passing its latest results: offered for lifting."""
        outcomes = (run.outcome.value for run in self.view.history.runs)
        return self.links.quarantine is not None and looks_fixed(outcomes)

    def context(self) -> dict[str, Any]:
        return {**self.view.context(), "links": self.links, "looks_fixed": self.looks_fixed}

    def answer(self) -> Struct:
        found = self.view.answer()
        assert isinstance(found, answers.TestHistory)
        return replace(found, triage=linked_triage(found.triage, self.links, self.looks_fixed))


@dataclass(frozen=True, slots=True)
class LinkedFlakyView:
    template: ClassVar[str] = "flaky.html"
    view: FlakyView
    links: dict[str, PageLinks] = field(default_factory=dict)
    owner: str | None = None

    def _looks_fixed(self) -> set[str]:
        """The quarantined tests whose latest results (the sparkline's) all passed."""
        return {
            t.test_id
            for t in self.view.tests
            if t.test_id in self.links
            and self.links[t.test_id].quarantine is not None
            and looks_fixed(outcome.value for outcome in reversed(t.recent))
        }

    def context(self) -> dict[str, Any]:
        return {
            **self.view.context(),
            "links": self.links,
            "owner": self.owner,
            "looks_fixed": self._looks_fixed(),
        }

    def answer(self) -> Struct:
        found = self.view.answer()
        assert isinstance(found, answers.FlakyPage)
        fixed = self._looks_fixed()
        tests = [
            linked_triage(t, self.links.get(t.test_id, NO_LINKS), t.test_id in fixed)
            for t in found.tests
        ]
        return replace(found, tests=tests)


@dataclass(frozen=True, slots=True)
class LinkedRunView:
    """A run's page with the owners, issues and quarantines of its failing tests; its JSON
    twin is the run's own (each test's are on its JSON)."""

    template: ClassVar[str] = "run.html"
    view: RunView
    links: dict[str, PageLinks] = field(default_factory=dict)

    def context(self) -> dict[str, Any]:
        return {**self.view.context(), "failing_links": self.links}

    def answer(self) -> Struct:
        return self.view.answer()
