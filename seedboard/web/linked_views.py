"""Every page that lists tests, with what a team attached to them: owners, issue links,
quarantines; each wraps the view it extends, on the page and in its JSON twin.  The handler
reads the links of the tests the page lists (``services.quarantines.page_links``), keeps an
owner's when ``?owner=`` asks (the ``*_among`` functions here), and wraps the view."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from dataclasses import replace as dataclass_replace
from typing import Any, ClassVar, Generic, TypeVar

from msgspec import Struct
from msgspec.structs import replace

from seedboard.domain import QuarantineChange
from seedboard.services.clusters import Cluster
from seedboard.services.compare import Comparison
from seedboard.services.quarantines import NO_LINKS, PageLinks, owners_of
from seedboard.triage.compare import diff_among
from seedboard.triage.quarantine import looks_fixed
from seedboard.triage.trends import Trends
from seedboard.web import answers
from seedboard.web.quarantines import change_entry, quarantine_entry
from seedboard.web.views import (
    ClustersView,
    CompareView,
    FlakyView,
    RunView,
    TestView,
    TrendsView,
)

V = TypeVar("V", ClustersView, TrendsView)


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
    history: Sequence[QuarantineChange] = ()
    """Of the quarantines that covered the test, newest first."""

    @property
    def looks_fixed(self) -> bool:
        """Quarantined, and passing its latest results: offered for lifting."""
        outcomes = (run.outcome.value for run in self.view.history.runs)
        return self.links.quarantine is not None and looks_fixed(outcomes)

    def context(self) -> dict[str, Any]:
        return {
            **self.view.context(),
            "links": self.links,
            "looks_fixed": self.looks_fixed,
            "quarantine_history": self.history,
        }

    def answer(self) -> Struct:
        found = self.view.answer()
        assert isinstance(found, answers.TestHistory)
        return replace(
            found,
            triage=linked_triage(found.triage, self.links, self.looks_fixed),
            quarantine_history=[change_entry(c) for c in self.history],
        )


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
    """A run's page with each listed test's owners, and a table of its failing tests'
    owners, issues and quarantines; its JSON twin gives each result's owners."""

    template: ClassVar[str] = "run.html"
    view: RunView
    links: dict[str, PageLinks] = field(default_factory=dict)
    """Of every test of the run that has any."""

    def context(self) -> dict[str, Any]:
        shown = self.view.context()
        failing = {r.test_id for r in shown["results"] if r.outcome.is_bad}
        return {
            **shown,
            "failing_links": {t: found for t, found in self.links.items() if t in failing},
            "owners": owners_of(self.links),
        }

    def answer(self) -> Struct:
        found = self.view.answer()
        assert isinstance(found, answers.RunDetail)
        owners = owners_of(self.links)
        results = [
            replace(r, owners=owners[r.test_id]) if r.test_id in owners else r
            for r in found.results
        ]
        return replace(found, results=results)


@dataclass(frozen=True, slots=True)
class LinkedCompareView:
    """The comparison of two runs with the owners of the tests it lists."""

    template: ClassVar[str] = "compare.html"
    view: CompareView
    links: dict[str, PageLinks] = field(default_factory=dict)
    owner: str | None = None

    def _owners(self) -> dict[str, list[str]]:
        """Of the tests listed: with ``owner``, the others' links were read, not shown."""
        comparison = self.view.comparison
        listed = set() if comparison is None else set(compared_tests(comparison))
        return {t: found for t, found in owners_of(self.links).items() if t in listed}

    def context(self) -> dict[str, Any]:
        return {**self.view.context(), "owners": self._owners(), "owner": self.owner}

    def answer(self) -> Struct:
        found = self.view.answer()
        assert isinstance(found, answers.Comparison)
        return replace(found, owners=self._owners())


@dataclass(frozen=True, slots=True)
class _WithOwners(Generic[V]):
    """A view whose tests are shown with their owners, the links read for them."""

    view: V
    links: dict[str, PageLinks] = field(default_factory=dict)
    owner: str | None = None

    def context(self) -> dict[str, Any]:
        return {**self.view.context(), "links": self.links, "owner": self.owner}


@dataclass(frozen=True, slots=True)
class LinkedClustersView(_WithOwners[ClustersView]):
    """The failure clusters with the owners of each test they hit."""

    template: ClassVar[str] = "clusters.html"

    def answer(self) -> Struct:
        found = self.view.answer()
        assert isinstance(found, answers.Clusters)
        owners = owners_of(self.links)
        clusters = [
            replace(c, tests=[replace(t, owners=owners.get(t.test_id, [])) for t in c.tests])
            for c in found.clusters
        ]
        return replace(found, clusters=clusters)


@dataclass(frozen=True, slots=True)
class LinkedTrendsView(_WithOwners[TrendsView]):
    """The trends with the owners of the most flaky tests."""

    template: ClassVar[str] = "trends.html"

    def answer(self) -> Struct:
        found = self.view.answer()
        assert isinstance(found, answers.Trends)
        owners = owners_of(self.links)
        most = [replace(t, owners=owners.get(t.test_id, [])) for t in found.most_flaky]
        return replace(found, most_flaky=most)


def compared_tests(comparison: Comparison) -> list[str]:
    """Every test a comparison lists, in any section."""
    diff = comparison.diff
    sections = (diff.new_failures, diff.fixed, diff.still_failing, diff.new_tests)
    return list(dict.fromkeys(t for tests in (*sections, diff.removed_tests) for t in tests))


def comparison_among(comparison: Comparison, tests: frozenset[str]) -> Comparison:
    """The comparison listing only ``tests`` (an owner's)."""
    return dataclass_replace(comparison, diff=diff_among(comparison.diff, tests))


def clustered_tests(clusters: Sequence[Cluster]) -> list[str]:
    """Every test the clusters hit."""
    return list(dict.fromkeys(t.test_id for c in clusters for t in c.tests))


def clusters_among(clusters: Sequence[Cluster], tests: frozenset[str]) -> list[Cluster]:
    """The clusters hitting one of ``tests`` (an owner's), each with every test it hits:
    the others say how far the problem reaches."""
    return [c for c in clusters if any(t.test_id in tests for t in c.tests)]


def trends_among(found: Trends, tests: frozenset[str]) -> Trends:
    """The trends with only ``tests`` (an owner's) among the most flaky; the points are
    the whole suite's."""
    return dataclass_replace(
        found, most_flaky=tuple(t for t in found.most_flaky if t.test_id in tests)
    )
