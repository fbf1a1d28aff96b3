"""HTML fragments the templates place: badges, times, commits, copyable text and the long
tables' rows.

The row builders are f-strings of escaped values rather than Jinja macros on purpose: a run
page has thousands of rows, and a macro per cell cost most of the page.  Everything returned
is ``Markup``, built from escaped text only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from urllib.parse import quote

from markupsafe import Markup, escape

from seedboard.domain import Outcome, Result, TestRun
from seedboard.triage.classify import Classification, CommitStats
from seedboard.triage.report import SeedReport, TestTriage
from seedboard.triage.run_results import RunFailureGroup
from seedboard.triage.seed_life import SeedState, describe
from seedboard.triage.snippets import replay_command
from seedboard.web.text import (
    iso_utc,
    outcome_label,
    readable_duration,
    readable_utc,
    short_commit,
    time_ago,
)
from seedboard.web.urls import path_to_run, path_to_test

CLASS_MEANINGS = {
    Classification.BROKEN: "failed in every run of the window, whatever the seed",
    Classification.SEED_DEPENDENT: (
        "fails only with some seeds, and every failing seed run again at its commit failed again"
    ),
    Classification.NONDETERMINISTIC: (
        "some seed both passed and failed at one commit: the seed does not control the failure"
    ),
    Classification.UNCONFIRMED: (
        "passed and failed, but no failing seed has been run again at its commit yet"
    ),
    Classification.FLAKY: "passed and failed at one commit, and no failure has a seed to replay",
    Classification.ORDER_DEPENDENT: (
        "fails because a test that runs before it leaves something behind (seedboard bisect "
        "found it)"
    ),
    Classification.REGRESSED: "passed in every run up to one commit, failed in every run since",
    Classification.FIXED: "failed in every run up to one commit, passed in every run since",
    Classification.STABLE: "never failed in the window",
}
"""One line per class, in the order the flaky page explains them."""


CLASS_MARKS = {
    Classification.BROKEN: "■",
    Classification.SEED_DEPENDENT: "◆",
    Classification.NONDETERMINISTIC: "≈",
    Classification.UNCONFIRMED: "○",
    Classification.FLAKY: "~",
    Classification.ORDER_DEPENDENT: "⇢",
    Classification.REGRESSED: "↓",
    Classification.FIXED: "↑",
    Classification.STABLE: "✓",
}
"""A symbol per class, so a badge never tells its class by colour alone."""


OUTCOME_MARKS = {
    Outcome.SUCCESS: "✓",
    Outcome.FAILURE: "✗",
    Outcome.ERROR: "!",
    Outcome.SKIP: "\u2013",  # an en dash
    Outcome.EXPECTED_FAILURE: "~",
    Outcome.UNEXPECTED_SUCCESS: "?",
}
"""Each outcome's mark, so that a badge never tells outcomes apart by colour alone."""


def outcome_badge(outcome: Outcome, count: int | None = None) -> Markup:
    """An outcome as a badge, its mark and name ("3 failure" with a count)."""
    label = outcome_label(outcome) if count is None else f"{count} {outcome_label(outcome)}"
    return Markup(
        '<span class="badge outcome-{}"><span class="mark" aria-hidden="true">{}</span>{}</span>'
    ).format(outcome.value, OUTCOME_MARKS[outcome], label)


_BADGES = {outcome: outcome_badge(outcome) for outcome in Outcome}


_NO_VALUE = Markup('<span class="muted">—</span>')


def moment(when: datetime, now: datetime) -> Markup:
    """A time as a ``<time>`` element in UTC, and how long ago it was."""
    stamp = iso_utc(when)
    return Markup(
        f'<time datetime="{stamp}" title="{stamp}">{readable_utc(when)}</time>'
        f' <span class="muted">({time_ago(when, now)})</span>'
    )


def optional(value: object) -> Markup:
    """A value, or a muted dash for none."""
    return _NO_VALUE if value is None or value == "" else escape(value)


def commit_code(commit: str | None) -> Markup:
    """A commit by its short form, the whole of it on hover; a muted dash for none."""
    if not commit:
        return _NO_VALUE
    return Markup(_commit_html(commit))


@lru_cache(maxsize=8192)
def _commit_html(commit: str) -> str:
    """Kept per commit: a flaky page names each run's commit for every test it ran."""
    return f'<code title="{escape(commit)}">{escape(short_commit(commit))}</code>'


def history_rows(runs: Sequence[TestRun], now: datetime) -> Markup:
    """A test page's table rows, one per run: written here, not in the template, for
    the reason ``result_rows`` is (a Jinja macro per cell cost most of the page)."""
    return Markup(
        "\n".join(
            f'<tr><td><a href="{escape(path_to_run(run.run_id))}">{moment(run.started_at, now)}'
            f"</a></td><td>{optional(run.branch)}</td><td>{commit_code(run.commit)}</td>"
            f'<td>{_BADGES[run.outcome]}</td><td class="num">{readable_duration(run.duration)}'
            f'</td><td class="num mono">{optional(run.seed)}</td><td>'
            + (f'<p class="message">{escape(run.message)}</p>' if run.message else "")
            + "</td></tr>"
            for run in runs
        )
    )


def copyable(text: str, element_id: str, block: bool = False) -> Markup:
    """Text in an element of its own, with a button that copies it (``static/copy.js``):
    a function, like ``result_rows``, since a flaky page has a thousand of them."""
    tag = "pre" if block else "code"
    target = escape(element_id)
    return Markup(
        f'<div class="copyable"><{tag} id="{target}">{escape(text)}</{tag}>'
        f'<button type="button" class="copy" data-copy="#{target}">Copy</button></div>'
    )


Owners = Mapping[str, Sequence[str]]
"""Each test with owners, with them: what the rows show beside each test's id."""
NO_OWNERS: Owners = {}


def result_rows(
    results: Sequence[Result], order_seed: int | None, first: int = 1, owners: Owners = NO_OWNERS
) -> Markup:
    """A run page's table rows: each result, with its owners, and under one with a
    failure, reason or traceback, a row of details (with its replay command when it failed
    with a seed); the results are numbered from ``first``, for their elements' ids.

    Written here rather than in the template: a run has thousands of rows, and a
    Jinja loop (or ``Markup.format``) costs several times these f-strings of
    escaped values, joined once.
    """
    rows: list[str] = []
    add = rows.append
    for index, result in enumerate(results, first):
        seed = _NO_VALUE if result.seed is None else result.seed
        add(
            f'<tr><td class="test-id">{_test_link(result.test_id)}'
            f"{_owner_links(tuple(owners.get(result.test_id, ())))}</td>"
            f"<td>{_BADGES[result.outcome]}</td>"
            f'<td class="num">{readable_duration(result.duration)}</td>'
            f'<td class="num mono">{seed}</td></tr>'
        )
        if result.message or result.traceback or result.exception_type:
            add(_details_row(result, index, order_seed))
    return Markup("\n".join(rows))


def failure_group_rows(
    groups: Sequence[RunFailureGroup], order_seed: int | None, owners: Owners = NO_OWNERS
) -> Markup:
    """A run page's failure groups as table rows: the group's one line, its first test's
    traceback, its count, and the tests it hit, each with its owners and its replay
    command when it has a seed.  A function, like ``result_rows``: one group may hold
    thousands."""
    rows, first = [], 1
    for group in groups:
        rows.append(_group_row(group, first, order_seed, owners))
        first += len(group.results)
    return Markup("\n".join(rows))


def _group_row(
    group: RunFailureGroup, first_index: int, order_seed: int | None, owners: Owners
) -> str:
    """One group's row; its results are numbered on from ``first_index``, as the run
    page numbers every result once, whichever table shows it."""
    first, count = group.first, len(group.results)
    parts = [
        f'<tr class="failure-group"><td><code class="group-summary">{escape(group.summary)}</code>'
    ]
    # The summary is masked; the first test's own words say what it was.
    if first.exception_type:
        parts.append(f' <code class="muted">{escape(first.exception_type)}</code>')
    if first.message:
        parts.append(f'<p class="message">{escape(first.message)}</p>')
    if first.traceback:
        parts.append(
            "<details><summary>Traceback of the first test</summary>"
            f"<pre>{escape(first.traceback)}</pre></details>"
        )
    parts.append(f'</td><td class="num count">{count}</td><td>')
    items = "".join(
        _group_test(result, f"result-{index}-command", order_seed, owners)
        for index, result in enumerate(group.results, first_index)
    )
    listed = f'<ul class="group-tests">{items}</ul>'
    if count > _OPEN_GROUP_TESTS:
        listed = f"<details><summary>{count} tests</summary>{listed}</details>"
    parts.append(listed)
    parts.append("</td></tr>")
    return "".join(parts)


_OPEN_GROUP_TESTS = 3
"""A group hitting more tests than this lists them folded, so the groups stay one screen."""


def _group_test(result: Result, element_id: str, order_seed: int | None, owners: Owners) -> str:
    item = f"<li>{_test_link(result.test_id)}{_owner_links(tuple(owners.get(result.test_id, ())))}"
    item += f" {_BADGES[result.outcome]}"
    if result.seed is not None:
        command = replay_command(result.test_id, result.seed, order_seed)
        item += f' <span class="mono">seed {result.seed}</span>{copyable(command, element_id)}'
    return item + "</li>"


@lru_cache(maxsize=8192)
def _test_link(test_id: str) -> str:
    """A link to a test's page, named by its id: the same tests fill every run page."""
    return f'<a href="{escape(path_to_test(test_id))}"><code>{escape(test_id)}</code></a>'


@lru_cache(maxsize=1024)
def _owner_links(owners: tuple[str, ...]) -> str:
    """A test's owners, each linking to the flaky tests it owns; the same few teams own
    most tests of a run."""
    return "".join(
        f' <a class="owner muted" href="/flaky?owner={escape(quote(owner, safe="/"))}">'
        f"{escape(owner)}</a>"
        for owner in owners
    )


def _details_row(result: Result, index: int, order_seed: int | None) -> str:
    parts = ['<tr class="details"><td colspan="4">']
    if result.exception_type:
        parts.append(f"<code>{escape(result.exception_type)}</code>")
    if result.message:
        parts.append(f'<p class="message">{escape(result.message)}</p>')
    if result.traceback:
        parts.append(
            f"<details><summary>Traceback</summary><pre>{escape(result.traceback)}</pre></details>"
        )
    if result.outcome.is_bad and result.seed is not None:
        command = replay_command(result.test_id, result.seed, order_seed)
        parts.append('<p class="muted">Replay with <code>seedboard.testing</code>:</p>')
        parts.append(copyable(command, f"result-{index}-command"))
    parts.append("</td></tr>")
    return "".join(parts)


def failing_seed_rows(seeds: Sequence[SeedReport], prefix: str) -> Markup:
    """A triage's failing seeds as table rows, each with its replay command and
    ``@seed`` snippet to copy; ``prefix`` keeps several tests' element ids apart.
    A function, like ``result_rows``: a flaky page has hundreds of them."""
    rows: list[str] = []
    for seed in seeds:
        lines: list[str] = []
        if seed.command:
            lines.append(copyable(seed.command, f"{prefix}-seed-{seed.seed}-command"))
        if seed.snippet:
            lines.append(
                f'<p class="muted">or pin it in the test with <code>@seed({seed.seed})</code>:</p>'
            )
            lines.append(copyable(seed.snippet, f"{prefix}-seed-{seed.seed}-snippet", block=True))
        rows.append(
            f"<tr>{_seed_cells(seed)}<td>{seed_status(seed)}</td>"
            f'<td class="replay-lines">{"".join(lines)}</td></tr>'
        )
    return Markup("\n".join(rows))


def seed_statuses(test: TestTriage) -> Markup:
    """Where a row's failing seeds stand, alike ones counted: ``fixed at 1a2b3c4d5e · 2 seeds
    failing``; the test's page shows each seed."""
    counted = Counter(seed_status(seed) for seed in test.failing_seeds)
    return Markup(
        " · ".join(
            status if count == 1 else f"{count} seeds {status}" for status, count in counted.items()
        )
    )


def seed_status(seed: SeedReport) -> str:
    """Where a failing seed stands, e.g. "fixed at <commit>", the commit in its short form."""
    if seed.status is None:
        return _NO_VALUE
    return _status_html(seed.status, seed.status_commit)


@lru_cache(maxsize=4096)
def _status_html(state: SeedState, commit: str | None) -> str:
    """Kept per state and commit: a flaky page's hundreds of failing seeds share a few."""
    words = escape(describe(state, commit, short_commit(commit) or None))
    return f'<span class="seed-status status-{state.value}">{words}</span>'


def commit_results(commits: Sequence[CommitStats]) -> Markup:
    """A test's passes and failures per commit, oldest first, on one line: a function, like
    ``result_rows``, since a flaky page lists hundreds of tests with up to a window of
    commits each."""
    return Markup(
        " · ".join(
            f"{_commit_html(c.commit) if c.commit else _UNKNOWN_COMMIT} "
            f'<span class="num">{c.passed} passed, {c.failed} failed</span>'
            for c in commits
        )
    )


_UNKNOWN_COMMIT = Markup('<span class="muted">no commit</span>')


def passing_seed_rows(seeds: Sequence[SeedReport]) -> Markup:
    """A triage's seeds that only passed, as table rows."""
    return Markup("\n".join(f"<tr>{_seed_cells(seed)}</tr>" for seed in seeds))


def _seed_cells(seed: SeedReport) -> str:
    """A seed's number, passes and failures: the columns both seed tables begin with."""
    return (
        f'<td class="num mono">{seed.seed}</td><td class="num">{seed.passed}</td>'
        f'<td class="num">{seed.failed}</td>'
    )


DIFF_SECTIONS = (
    ("new_failures", "New failures", "bad now, not bad in the earlier run"),
    ("fixed", "Fixed", "bad in the earlier run, ran and not bad now"),
    ("still_failing", "Still failing", "bad in both runs"),
    ("new_tests", "New tests", "not in the earlier run"),
    ("removed_tests", "Removed tests", "in the earlier run, not in this one"),
)
"""A comparison's sections: the ``RunDiff`` field, its heading and what it holds."""
