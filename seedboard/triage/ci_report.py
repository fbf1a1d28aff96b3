"""A run's summary for CI (``seedboard report``): what failed that is new, what is known
to be flaky, what is quarantined, what got fixed, and the comparison with the branch's
previous run, written as Markdown (``$GITHUB_STEP_SUMMARY``, a merge request note) or
plain text.

Pure: ``seedboard.services.ci_report`` judges the run's failures; the server's JSON
answer carries these same records, so the command renders a server's report and a
database's with the same functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from seedboard.domain import Sample
from seedboard.triage.classify import Classification
from seedboard.triage.report import TestTriage

MAX_SHOWN = 30
"""Failures detailed per section; more are counted."""


@dataclass(frozen=True, slots=True)
class ReportedFailure:
    """A test that failed in the run, judged on its window."""

    test_id: str
    classification: str
    failure_rate: float
    runs: int
    group: str | None
    """The summary of its failure group in the run (exception and masked message)."""
    seed: int | None
    snippet: str | None
    command: str | None


@dataclass(frozen=True, slots=True)
class ReportedRun:
    id: str
    branch: str | None
    commit: str | None
    is_replay: bool
    results: int
    failures: int


@dataclass(frozen=True, slots=True)
class ReportedComparison:
    """The run against its branch's previous run."""

    previous: str
    new_failures: int
    fixed: int
    still_failing: int
    new_tests: int
    removed_tests: int


@dataclass(frozen=True, slots=True)
class RunReport:
    run: ReportedRun
    new_failures: list[ReportedFailure] = field(default_factory=list)
    """Failed here, and not in the previous run (every failure, without a previous run)."""
    known_flaky: list[ReportedFailure] = field(default_factory=list)
    """Failed here and in the previous run too: known (flaky, or still broken), not new."""
    quarantined: list[ReportedFailure] = field(default_factory=list)
    """Failed here, and quarantined: they do not block."""
    fixed: list[str] = field(default_factory=list)
    """Failed in the previous run, passed here."""
    comparison: ReportedComparison | None = None


_FLAKY = frozenset(
    {
        Classification.SEED_DEPENDENT,
        Classification.NONDETERMINISTIC,
        Classification.UNCONFIRMED,
        Classification.FLAKY,
        Classification.ORDER_DEPENDENT,
    }
)


def reported_failure(triaged: TestTriage, in_run: Sequence[Sample]) -> ReportedFailure:
    """A failing test of the run: its class over its window, and the failure and seed it
    had in the run (its snippet and replay command, when the failure has a seed)."""
    failing = [sample for sample in in_run if sample.outcome.is_bad]
    chosen = next((s for s in failing if s.seed is not None), failing[0] if failing else None)
    group = None
    if chosen is not None:
        group = next(
            (g.summary for g in triaged.groups if g.fingerprint == chosen.fingerprint), None
        )
    seed = None if chosen is None else chosen.seed
    report = next((s for s in triaged.seeds if s.seed == seed), None)
    verdict = triaged.verdict
    return ReportedFailure(
        test_id=triaged.test_id,
        classification=verdict.classification.value,
        failure_rate=round(verdict.failure_rate, 4),
        runs=verdict.runs,
        group=group,
        seed=seed,
        snippet=None if report is None else report.snippet,
        command=None if report is None else report.command,
    )


def is_flaky_class(classification: str) -> bool:
    return classification in _FLAKY


def blocking(report: RunReport) -> int:
    """Failures that are not quarantined."""
    return len(report.new_failures) + len(report.known_flaky)


# Rendering.


@dataclass(frozen=True, slots=True)
class Links:
    """Where the pages are: a server's address, and how its paths are written
    (``seedboard.web.urls``).  Without an address, nothing is linked."""

    base_url: str = ""
    test_path: Callable[[str], str] = lambda test_id: ""
    run_path: Callable[[str], str] = lambda run_id: ""

    def to_test(self, test_id: str) -> str:
        return self.base_url.rstrip("/") + self.test_path(test_id) if self.base_url else ""

    def to_run(self, run_id: str) -> str:
        return self.base_url.rstrip("/") + self.run_path(run_id) if self.base_url else ""


NO_LINKS = Links()


def markdown(report: RunReport, links: Links = NO_LINKS) -> str:
    """The report as GitHub-flavoured Markdown, linking pages when ``links`` can."""
    run = report.run
    lines = [f"## seedboard: run {_link(run.id[:12], links.to_run(run.id))}", ""]
    lines.append(_headline(report))
    lines.append("")
    if report.comparison is not None:
        c = report.comparison
        previous = _link(c.previous[:12], links.to_run(c.previous))
        lines += [
            f"Compared with the previous run on {_branch(run)} ({previous}): "
            f"{c.new_failures} new failures, {c.fixed} fixed, {c.still_failing} still failing, "
            f"{c.new_tests} new tests, {c.removed_tests} removed.",
            "",
        ]
    for title, failures in _sections(report):
        if not failures:
            continue
        lines += [f"### {title} ({len(failures)})", ""]
        for failure in failures[:MAX_SHOWN]:
            lines += _markdown_failure(failure, links)
        if len(failures) > MAX_SHOWN:
            lines += [f"…and {len(failures) - MAX_SHOWN} more.", ""]
    if report.fixed:
        lines += [f"### Fixed ({len(report.fixed)})", ""]
        lines += [f"- `{test}`" for test in report.fixed[:MAX_SHOWN]]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _markdown_failure(failure: ReportedFailure, links: Links) -> list[str]:
    name = _link(f"`{failure.test_id}`", links.to_test(failure.test_id))
    lines = [
        f"- {name}: **{failure.classification}**, failed {failure.failure_rate:.0%} "
        f"of {failure.runs} runs"
    ]
    if failure.group:
        lines.append(f"  - failure: {_inline(failure.group)}")
    if failure.command:
        lines.append(f"  - replay: `{failure.command}`")
    if failure.snippet:
        lines += [
            "",
            "    ```python",
            *(("    " + line).rstrip() for line in failure.snippet.splitlines()),
        ]
        lines += ["    ```"]
    return [*lines, ""]


def text(report: RunReport, links: Links = NO_LINKS) -> str:
    """The report as plain text, for a terminal or a GitLab note without Markdown."""
    run = report.run
    lines = [f"seedboard: run {run.id}", _headline(report)]
    if report.comparison is not None:
        c = report.comparison
        lines.append(
            f"against {c.previous}: {c.new_failures} new failures, {c.fixed} fixed, "
            f"{c.still_failing} still failing, {c.new_tests} new tests, "
            f"{c.removed_tests} removed"
        )
    for title, failures in _sections(report):
        if not failures:
            continue
        lines += ["", f"{title} ({len(failures)}):"]
        for failure in failures[:MAX_SHOWN]:
            lines.append(
                f"  {failure.test_id}  [{failure.classification}, "
                f"{failure.failure_rate:.0%} of {failure.runs}]"
            )
            if failure.group:
                lines.append(f"    {failure.group}")
            if failure.command:
                lines.append(f"    replay: {failure.command}")
            if failure.snippet:
                lines += [("    " + line).rstrip() for line in failure.snippet.splitlines()]
            if links.base_url:
                lines.append(f"    {links.to_test(failure.test_id)}")
        if len(failures) > MAX_SHOWN:
            lines.append(f"  ...and {len(failures) - MAX_SHOWN} more")
    if report.fixed:
        lines += ["", f"Fixed ({len(report.fixed)}):"]
        lines += [f"  {test}" for test in report.fixed[:MAX_SHOWN]]
    return "\n".join(lines) + "\n"


def _sections(report: RunReport) -> list[tuple[str, list[ReportedFailure]]]:
    return [
        ("New failures", report.new_failures),
        ("Known failures", report.known_flaky),
        ("Quarantined failures", report.quarantined),
    ]


def _headline(report: RunReport) -> str:
    run = report.run
    where = f" on {_branch(run)}" + (f" at {run.commit[:12]}" if run.commit else "")
    if run.failures == 0:
        return f"All {run.results} results passed{where}."
    parts = [f"{len(report.new_failures)} new", f"{len(report.known_flaky)} known"]
    if report.quarantined:
        parts.append(f"{len(report.quarantined)} quarantined")
    return f"{run.failures} of {run.results} results failed{where}: {', '.join(parts)}."


def _branch(run: ReportedRun) -> str:
    return run.branch or "no branch"


def _link(label: str, url: str) -> str:
    return f"[{label}]({url})" if url else label


def _inline(text: str) -> str:
    """Text inside inline code, whatever backticks it holds."""
    fence = "``" if "`" in text else "`"
    return f"{fence} {text} {fence}" if fence == "``" else f"`{text}`"
