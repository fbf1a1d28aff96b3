"""What each read of the site found, and how it is shown: one view per resource.

A handler fetches a view; ``Dashboard.reply`` renders it as its page (the
view's template and ``context``) or as its JSON twin (the view's ``answer``),
by the request's path.  A page and its twin are one fetch, so they cannot
disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from msgspec import Struct

from seedboard.domain import Result, RunDetail, RunPage, RunSummary, TestHistory
from seedboard.services.clusters import Cluster
from seedboard.services.compare import Comparison
from seedboard.services.flaky import WINDOW
from seedboard.triage.classify import Classification
from seedboard.triage.listing import FlakySort, SortKey, chosen, console, page
from seedboard.triage.report import TestTriage
from seedboard.triage.run_results import group_results, select_results
from seedboard.triage.trends import MAX_DAYS, SPARKLINE, Durations, Trends
from seedboard.web import to_json
from seedboard.web.queries import (
    FLAKY_LIMIT,
    MAX_LIMIT,
    MAX_WINDOW,
    RUNS_LIMIT,
    ClustersQuery,
    FlakyQuery,
    RunQuery,
    RunsQuery,
)
from seedboard.web.urls import CommitRanges, cursor_text, filter_query, page_url, with_query


class View(Protocol):
    template: ClassVar[str]

    def context(self) -> dict[str, Any]:
        """The template's variables."""
        ...

    def answer(self) -> Struct:
        """The JSON twin."""
        ...


@dataclass(frozen=True, slots=True)
class RunsView:
    template: ClassVar[str] = "runs.html"
    page: RunPage
    query: RunsQuery

    def _filter_query(self) -> list[tuple[str, str]]:
        return filter_query(self.query.filters())

    def context(self) -> dict[str, Any]:
        query, limit = self._filter_query(), self.query.limit
        kept = query if limit == RUNS_LIMIT else [*query, ("limit", str(limit))]
        return {
            "page": self.page,
            "before": self.query.before,
            "filters": self.query.filters(),
            "filtered": bool(query),
            "limit": limit,
            "default_limit": RUNS_LIMIT,
            "newest": with_query("/", kept),
            "older": page_url("/", self.page.next_cursor, limit, query),
            "api": with_query("/api/v1/runs", kept),
        }

    def answer(self) -> Struct:
        next_url = page_url(
            "/api/v1/runs", self.page.next_cursor, self.query.limit, self._filter_query()
        )
        return to_json.run_page(self.page.runs, next_url)


@dataclass(frozen=True, slots=True)
class RunView:
    template: ClassVar[str] = "run.html"
    detail: RunDetail
    previous: str | None
    comparison: Comparison | None
    """With the previous run, for the page only: the JSON twin names that run."""
    query: RunQuery
    owned: frozenset[str] | None = None
    """The tests of the owner asked for (``query.owner``), read by the handler."""

    def _chosen(self) -> list[Result]:
        return select_results(self.detail.results, self.query.outcome, self.query.q, self.owned)

    def context(self) -> dict[str, Any]:
        chosen = self._chosen()
        return {
            "run": self.detail.summary,
            "results": chosen,
            "grouped": group_results(chosen),
            "total": len(self.detail.results),
            "filtered": bool(self.query.outcome or self.query.q or self.owned is not None),
            "chosen_outcomes": frozenset(self.query.outcome),
            "q": self.query.q or "",
            "owner": self.query.owner or "",
            "has_seeds": any(result.seed is not None for result in self.detail.results),
            "comparison": self.comparison,
        }

    def answer(self) -> Struct:
        return to_json.run_detail(self.detail.summary, self._chosen(), self.previous)


@dataclass(frozen=True, slots=True)
class CompareView:
    template: ClassVar[str] = "compare.html"
    a: str | None
    b: str | None
    comparison: Comparison | None
    pickable: Sequence[RunSummary] = ()
    """Recent runs the page offers in its pickers (the JSON twin has none)."""

    def context(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "comparison": self.comparison, "pickable": self.pickable}

    def answer(self) -> Struct:
        assert self.comparison is not None  # the API requires both runs
        return to_json.comparison_answer(self.comparison)


@dataclass(frozen=True, slots=True)
class TestView:
    template: ClassVar[str] = "test.html"
    history: TestHistory
    triage: TestTriage
    durations: Durations
    window: int
    ranges: CommitRanges

    def context(self) -> dict[str, Any]:
        return {
            "history": self.history,
            "triage": self.triage,
            "window": self.window,
            "durations": self.durations,
            "ranges": self.ranges,
        }

    def answer(self) -> Struct:
        return to_json.history_answer(self.history, self.triage, self.durations, self.ranges)


@dataclass(frozen=True, slots=True)
class FlakyView:
    template: ClassVar[str] = "flaky.html"
    tests: list[TestTriage]
    query: FlakyQuery
    after: SortKey | None
    """Where the page starts: ``query.after`` read back."""
    ranges: CommitRanges

    def _chosen(self) -> list[TestTriage]:
        wanted = self.query
        return chosen(self.tests, wanted.classes, wanted.q, wanted.sort)

    def _arguments(self) -> list[tuple[str, str]]:
        """The query that asks for this page again, but its order and where it starts."""
        wanted = self.query
        pairs = [("window", str(wanted.window))] if wanted.window != WINDOW else []
        pairs += [("branch", wanted.branch)] if wanted.branch else []
        pairs += [("class", c.value) for c in wanted.classes]
        pairs += [("q", wanted.q)] if wanted.q else []
        pairs += [("owner", wanted.owner)] if wanted.owner else []
        return pairs + ([("limit", str(wanted.limit))] if wanted.limit != FLAKY_LIMIT else [])

    def _ordered(self) -> list[tuple[str, str]]:
        """The query of the first page of this order."""
        sort = self.query.sort
        return self._arguments() + ([] if sort is FlakySort.RANK else [("sort", sort.value)])

    def _next(self, path: str, more_after: SortKey | None) -> str | None:
        if more_after is None:
            return None
        return with_query(path, [*self._ordered(), ("after", cursor_text(more_after))])

    def context(self) -> dict[str, Any]:
        wanted, arguments = self.query, self._arguments()
        shown = console(self._chosen(), wanted.classes, wanted.sort, wanted.limit, self.after)
        return {
            "console": shown,
            "total": len(self.tests),
            "ranges": self.ranges,
            "spark_length": SPARKLINE,
            "window": wanted.window,
            "branch": wanted.branch,
            "classes": wanted.classes,
            "q": wanted.q,
            "sort": wanted.sort,
            "sorts": {
                s.value: with_query("/flaky", [*arguments, ("sort", s.value)]) for s in FlakySort
            },
            "filtered": bool(wanted.classes or wanted.q or wanted.owner),
            "broken_asked": Classification.BROKEN in wanted.classes,
            "api": with_query("/api/v1/flaky", self._ordered()),
            "first_page": with_query("/flaky", self._ordered()) if self.after else None,
            "next_page": self._next("/flaky", shown.flaky.more_after),
            "max_window": MAX_WINDOW,
        }

    def listed(self) -> list[str]:
        """The tests the page or its JSON twin shows: those whose links are worth a read."""
        wanted, rows = self.query, self._chosen()
        shown = console(rows, wanted.classes, wanted.sort, wanted.limit, self.after)
        answered = page(rows, wanted.sort, wanted.limit, self.after).rows
        return list(dict.fromkeys(t.test_id for t in [*shown.flaky.rows, *shown.broken, *answered]))

    def answer(self) -> Struct:
        wanted = self.query
        found = page(self._chosen(), wanted.sort, wanted.limit, self.after)
        next_url = self._next("/api/v1/flaky", found.more_after)
        return to_json.flaky_page(wanted.window, wanted.branch, found.rows, next_url, self.ranges)


@dataclass(frozen=True, slots=True)
class TrendsView:
    template: ClassVar[str] = "trends.html"
    trends: Trends

    def context(self) -> dict[str, Any]:
        return {"trends": self.trends, "max_days": MAX_DAYS}

    def answer(self) -> Struct:
        return to_json.trends_answer(self.trends)


@dataclass(frozen=True, slots=True)
class ClustersView:
    template: ClassVar[str] = "clusters.html"
    clusters: list[Cluster]
    query: ClustersQuery

    def context(self) -> dict[str, Any]:
        return {
            "clusters": self.clusters,
            "window": self.query.window,
            "branch": self.query.branch,
            "limit": self.query.limit,
            "max_window": MAX_WINDOW,
            "max_limit": MAX_LIMIT,
        }

    def answer(self) -> Struct:
        return to_json.clusters_answer(self.query.window, self.query.branch, self.clusters)
