"""Tests for browsing on the dashboard: filtering the runs list, the run page's summary and
comparison with the previous run, comparing any two runs, and a test's timeline and durations."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import treq

from seedboard.db.runs import OutcomeFilter, ReplayFilter
from seedboard.domain import Outcome
from seedboard.web.urls import path_to_test
from tests.contract import schema_errors
from tests.support import result
from tests.test_web import NOW, SCRIPT, DashboardCase, run_links

ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"


def older_link(page: str) -> str | None:
    """The "Older runs" link of a runs page, unescaped, if it has one."""
    found = re.findall(r'href="([^"]+)" rel="next">Older runs', page)
    return html.unescape(found[0]) if found else None


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def section(page: str, name: str) -> list[str]:
    """The test ids listed in one section of a comparison, in page order."""
    found = re.search(rf'(?s)<section class="diff-{name}".*?</section>', page)
    assert found is not None, name
    return [html.unescape(t) for t in re.findall(r"<li><a [^>]*><code>([^<]*)</code>", found[0])]


def section_count(page: str, name: str) -> int:
    found = re.search(rf'(?s)<section class="diff-{name}".*?<span class="count">\((\d+)\)', page)
    assert found is not None, name
    return int(found[1])


class FilteredCase(DashboardCase):
    """Six runs: two branches, failing and green, a replay, over three days."""

    def setUp(self) -> None:
        super().setUp()
        day = 24 * 60
        self.old_green = self.record([result("pkg.a.test_x")], minutes_ago=2 * day + 1)
        self.old_failing = self.record(
            [result("pkg.a.test_x", Outcome.FAILURE)], minutes_ago=2 * day, branch="dev"
        )
        self.replay = self.record([result("pkg.a.test_x")], minutes_ago=day + 5, is_replay=True)
        self.green = self.record([result("pkg.b.test_y")], minutes_ago=day)
        self.failing = self.record(
            [result("pkg.b.test_y", Outcome.ERROR), result("pkg.a.test_x")], minutes_ago=10
        )
        self.dev_green = self.record([result("pkg.c.test_z")], minutes_ago=5, branch="dev")

    def listed(self, query: str) -> list[str]:
        """The run ids on the HTML page and in the JSON for the same query, checked equal."""
        page = run_links(self.page("/?" + query))
        api = [run["id"] for run in self.api("/api/v1/runs?" + query)["runs"]]
        self.assertEqual(page, api, query)
        return api


class RunFilterTests(FilteredCase):
    def test_branch(self) -> None:
        """``branch=`` keeps that branch's runs."""
        self.assertEqual(self.listed("branch=dev"), [self.dev_green, self.old_failing])

    def test_outcome(self) -> None:
        """``outcome=failing`` and ``outcome=green`` split the runs between them."""
        self.assertEqual(self.listed("outcome=failing"), [self.failing, self.old_failing])
        self.assertEqual(
            self.listed("outcome=green&replay=include"),
            [self.dev_green, self.green, self.replay, self.old_green],
        )

    def test_dates(self) -> None:
        """``since`` and ``until`` are inclusive UTC days."""
        # NOW is 2026-11-25 17:00 UTC.
        self.assertEqual(self.listed("until=2026-11-23"), [self.old_failing, self.old_green])
        self.assertEqual(self.listed("since=2026-11-25"), [self.dev_green, self.failing])
        self.assertEqual(
            self.listed("since=2026-11-24&until=2026-11-24&replay=include"),
            [self.green, self.replay],
        )

    def test_replay(self) -> None:
        """Replays are left out unless asked for: ``replay=only`` lists them alone,
        ``replay=include`` with every other run."""
        self.assertEqual(self.listed("replay=only"), [self.replay])
        self.assertNotIn(self.replay, self.listed(""))
        self.assertEqual(self.listed(""), self.listed("replay=exclude"))
        self.assertEqual(len(self.listed("")), 5)
        self.assertEqual(len(self.listed("replay=include")), 6)

    def test_replay_rows_name_their_test(self) -> None:
        """A listed replay of one test names and links that test; every row counts its
        tests."""
        page = self.page("/?replay=only")
        self.assertIn(
            '<span class="replayed">of <a href="/tests/pkg.a.test_x"><code>pkg.a.test_x</code>',
            page,
        )
        whole = self.record(
            [result("pkg.a.test_x"), result("pkg.b.test_y")], minutes_ago=1, is_replay=True
        )
        row = re.search(
            rf'(?s)<tr>\s*<td><a href="/runs/{whole}">.*?</tr>', self.page("/?replay=only")
        )
        assert row is not None
        self.assertNotIn('class="replayed"', row.group())
        self.assertIn('<td class="num">2</td>', row.group())

    def test_test(self) -> None:
        """``test=`` keeps runs that ran a test whose id contains the text."""
        self.assertEqual(self.listed("test=b.test_y"), [self.failing, self.green])
        self.assertEqual(self.listed("test=test_%25"), [])

    def test_combined(self) -> None:
        """Filters combine."""
        self.assertEqual(
            self.listed("branch=main&outcome=green&replay=exclude&test=test_x&since=2026-11-23"),
            [self.old_green],
        )
        self.assertEqual(self.listed("branch=dev&outcome=failing&since=2026-11-24"), [])

    def test_empty_values_ignored(self) -> None:
        """An empty parameter, as an unfilled form field sends it, is its default: only
        replays are left out."""
        self.assertEqual(len(self.listed("branch=&outcome=&since=&until=&replay=&test=")), 5)

    def test_pages_keep_filters(self) -> None:
        """Following ``next`` keeps the filters and visits every match once, in HTML and JSON."""
        expected = [self.dev_green, self.green, self.replay, self.old_green]
        seen: list[str] = []
        path: str | None = "/api/v1/runs?outcome=green&replay=include&limit=1"
        while path is not None:
            body = self.api(path)
            seen += [run["id"] for run in body["runs"]]
            path = body["next"]
            if path is not None:
                self.assertEqual(query_of(path)["outcome"], "green")
                self.assertEqual(query_of(path)["replay"], "include")
        self.assertEqual(seen, expected)
        seen, page_path = [], "/?outcome=green&replay=include&limit=1"
        for _ in expected:
            page = self.page(page_path)
            seen += run_links(page)
            link = older_link(page)
            if link is None:
                break
            self.assertEqual(query_of(link)["outcome"], "green")
            page_path = link
        self.assertEqual(seen, expected)

    def test_next_link_shape(self) -> None:
        """``next`` puts the cursor and limit first, then every filter given."""
        body = self.api("/api/v1/runs?test=.test&limit=1&branch=dev&since=2026-11-01")
        self.assertEqual(
            body["next"],
            f"/api/v1/runs?before={self.dev_green}&limit=1&branch=dev&since=2026-11-01&test=.test",
        )

    def test_unknown_before(self) -> None:
        """A ``before`` that is no run's id is a 400 naming ``before``, not an empty page."""
        body = self.api("/api/v1/runs?before=nope", status=400)
        self.assertEqual(body["error"]["code"], "bad_request")
        self.assertEqual(body["error"]["field"], "before")
        self.assertIn("before", body["error"]["message"])
        self.assertIn("before must be", self.page("/?before=nope", status=400))

    def test_bad_dates(self) -> None:
        """A date that is not YYYY-MM-DD, or no real day, is a 400 naming its parameter."""
        for name, value in [("since", "yesterday"), ("until", "2026-02-30"), ("since", "20261101")]:
            body = self.api(f"/api/v1/runs?{name}={value}", status=400)
            self.assertEqual(body["error"]["field"], name)
            self.assertIn(f"{name} must be a date written YYYY-MM-DD", body["error"]["message"])
        self.assertIn("until must be a date", self.page("/?until=soon", status=400))

    def test_bad_choices(self) -> None:
        """Unknown ``outcome`` or ``replay`` values are a 400 saying what is allowed."""
        body = self.api("/api/v1/runs?outcome=red", status=400)
        self.assertEqual(
            body["error"],
            {
                "code": "bad_request",
                "message": "outcome must be failing or green",
                "field": "outcome",
            },
        )
        body = self.api("/api/v1/runs?replay=yes", status=400)
        self.assertEqual(body["error"]["message"], "replay must be only or exclude or include")

    def test_form(self) -> None:
        """The page has a GET form showing the filters in force, escaped."""
        page = self.page(f"/?branch={SCRIPT}&outcome=failing&since=2026-11-01&replay=only")
        self.assertIn('<form method="get" action="/" class="filters"', page)
        self.assertIn(f'name="branch" value="{ESCAPED_SCRIPT}"', page)
        self.assertIn('<option value="failing" selected>', page)
        self.assertIn('<option value="only" selected>', page)
        self.assertIn('name="since" value="2026-11-01"', page)
        self.assertNotIn(SCRIPT, page)
        self.assertIn('<a href="/">Clear filters</a>', page)

    def test_no_match(self) -> None:
        """When filters match nothing the page says so, not that nothing was recorded."""
        page = self.page("/?branch=nowhere")
        self.assertIn("No runs match these filters.", page)
        self.assertNotIn("No runs recorded yet", page)

    def test_json_link_keeps_filters(self) -> None:
        """The page's JSON link asks for the same runs."""
        page = self.page("/?branch=dev&outcome=failing")
        self.assertIn('href="/api/v1/runs?branch=dev&amp;outcome=failing"', page)


class EmptyRunsTests(DashboardCase):
    def test_nothing_recorded(self) -> None:
        """With no runs at all the page explains how to record one."""
        page = self.page("/")
        self.assertIn("No runs recorded yet.", page)
        self.assertIn("trial --reporter=seedboard yourpackage", page)
        self.assertNotIn("No runs match", page)


class RunSummaryTests(DashboardCase):
    def test_summary_bar(self) -> None:
        """The run page draws its outcome counts as one stacked bar with a text legend."""
        run_id = self.record(
            [result("a", Outcome.FAILURE), result("b"), result("c"), result("d", Outcome.SKIP)]
        )
        page = self.page(f"/runs/{run_id}")
        [bar] = re.findall(r'(?s)<svg class="chart stacked".*?</svg>', page)
        self.assertIn('aria-label="4 results by outcome"', bar)
        titles = re.findall(r"<title>([^<]+)</title>", bar)
        self.assertEqual(titles, ["4 results by outcome", "1 failure", "2 success", "1 skip"])
        legend = page.partition('<p class="legend">')[2].partition("</p>")[0]
        for text in ("1 failure", "2 success", "1 skip"):
            self.assertIn(text, legend)

    def test_metadata(self) -> None:
        """The run page shows its kind, branch, commit linked to its build, and seeds."""
        run_id = self.record(
            [result()],
            branch="feature/x",
            build_url="https://ci.example/7",
            run_seed=4242,
            order_seed=99,
            is_replay=True,
        )
        page = self.page(f"/runs/{run_id}")
        self.assertIn('<a href="/?branch=feature/x">feature/x</a>', page)
        self.assertIn(
            '<a href="https://ci.example/7" rel="noopener noreferrer" title="the build that ran '
            'it"><code>0123456789abcdef0123456789abcdef01234567</code></a>',
            page,
        )
        self.assertIn("4242", page)
        self.assertIn("<code>--random=99</code>", page)
        self.assertIn("made by <code>seedboard replay</code>", page)


def offered(page: str, name: str) -> list[str]:
    """The run ids the compare page's ``name`` picker offers, in order."""
    picker = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.DOTALL)
    assert picker is not None, name
    return re.findall(r'<option value="([0-9a-f]{32})"', picker.group(1))


def picked(page: str) -> dict[str, str]:
    """The run each of the compare page's pickers has chosen."""
    chosen = {}
    for name in ("a", "b"):
        picker = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.DOTALL)
        assert picker is not None, name
        [chosen[name]] = re.findall(r'<option value="([0-9a-f]{32})" selected>', picker.group(1))
    return chosen


class RunComparisonTests(DashboardCase):
    def setUp(self) -> None:
        super().setUp()
        self.before = self.record(
            [
                result("t.broke"),
                result("t.fixed", Outcome.FAILURE),
                result("t.still", Outcome.ERROR),
                result("t.gone"),
                result("t.same"),
            ],
            minutes_ago=60,
        )
        self.dev = self.record([result("t.broke", Outcome.FAILURE)], minutes_ago=40, branch="dev")
        self.record([result("t.broke", Outcome.FAILURE)], minutes_ago=30, is_replay=True)
        self.after = self.record(
            [
                result("t.broke", Outcome.FAILURE),
                result("t.fixed"),
                result("t.still", Outcome.FAILURE),
                result("t.same"),
                result("t.born"),
            ],
            minutes_ago=10,
        )

    def test_run_page_sections(self) -> None:
        """A run's page compares it with the previous non-replay run of its branch."""
        page = self.page(f"/runs/{self.after}")
        self.assertIn("Compared with the previous run", page)
        self.assertIn(f'href="/runs/{self.before}"', page)
        self.assertEqual(section(page, "new-failures"), ["t.broke"])
        self.assertEqual(section(page, "fixed"), ["t.fixed"])
        self.assertEqual(section(page, "still-failing"), ["t.still"])
        self.assertEqual(section(page, "new-tests"), ["t.born"])
        self.assertEqual(section(page, "removed-tests"), ["t.gone"])
        self.assertEqual(section_count(page, "new-failures"), 1)
        self.assertEqual(section_count(page, "removed-tests"), 1)
        self.assertIn(f'<a href="{path_to_test("t.born")}"><code>t.born</code></a>', page)
        self.assertIn(f'href="/compare?a={self.before}&amp;b={self.after}"', page)

    def test_first_run(self) -> None:
        """The first run of a branch says there is nothing to compare with."""
        page = self.page(f"/runs/{self.before}")
        self.assertIn("No earlier run on <code>main</code> to compare with", page)
        self.assertNotIn('<section class="diff-', page)

    def test_previous_run_json(self) -> None:
        """The run's JSON names its previous run, or null for the first."""
        self.assertEqual(self.api(f"/api/v1/runs/{self.after}")["previous_run"], self.before)
        self.assertIsNone(self.api(f"/api/v1/runs/{self.before}")["previous_run"])

    def test_compare_api(self) -> None:
        """The compare API answers both runs and each section's test ids, sorted."""
        body = self.api(f"/api/v1/compare?a={self.before}&b={self.after}")
        self.assertEqual(body["a"], self.api(f"/api/v1/runs/{self.before}")["run"])
        self.assertEqual(body["b"]["id"], self.after)
        self.assertEqual(
            {k: v for k, v in body.items() if k not in ("a", "b")},
            {
                "new_failures": ["t.broke"],
                "fixed": ["t.fixed"],
                "still_failing": ["t.still"],
                "new_tests": ["t.born"],
                "removed_tests": ["t.gone"],
                "owners": {},
            },
        )

    def test_compare_schema(self) -> None:
        """The compare API's answer fits its documented schema."""
        document = self.api("/api/v1/openapi.json")
        body = self.api(f"/api/v1/compare?a={self.before}&b={self.after}")
        reference = {"$ref": "#/components/schemas/Comparison"}
        self.assertEqual(schema_errors(body, reference, document), [])

    def test_compare_page(self) -> None:
        """/compare shows both runs and the same sections, with a form holding the ids."""
        page = self.page(f"/compare?a={self.after}&b={self.before}")
        self.assertEqual(section(page, "new-failures"), ["t.fixed"])
        self.assertEqual(section(page, "fixed"), ["t.broke"])
        self.assertEqual(section(page, "new-tests"), ["t.gone"])
        self.assertEqual(picked(page), {"a": self.after, "b": self.before})
        self.assertIn(f'href="/api/v1/compare?a={self.after}&amp;b={self.before}"', page)

    def test_compare_form_only(self) -> None:
        """Without runs, /compare offers the latest runs to pick, the newest as b and
        the one before as a, and explains what it does."""
        page = self.page("/compare")
        self.assertIn('<form method="get" action="/compare"', page)
        self.assertIn("Pick two runs", page)
        self.assertEqual(picked(page), {"a": self.dev, "b": self.after})

    def test_compare_picker_offers_the_branch(self) -> None:
        """Once runs are compared, the pickers offer the later run's branch's runs, newest
        first, replays left out; a chosen run of another branch is kept as an option."""
        page = self.page(f"/compare?a={self.dev}&b={self.after}")
        self.assertEqual(offered(page, "b"), [self.after, self.before])
        self.assertEqual(offered(page, "a"), [self.dev, self.after, self.before])
        self.assertEqual(picked(page), {"a": self.dev, "b": self.after})

    def test_compare_missing_argument(self) -> None:
        """Comparing needs both runs: a missing one is a 400 naming it."""
        body = self.api(f"/api/v1/compare?a={self.before}", status=400)
        self.assertEqual(body["error"]["field"], "b")
        self.assertEqual(self.api("/api/v1/compare", status=400)["error"]["field"], "a")
        self.assertIn("b is required", self.page(f"/compare?a={self.before}", status=400))

    def test_compare_unknown_run(self) -> None:
        """A run that does not exist is a 404 naming it."""
        body = self.api(f"/api/v1/compare?a={self.before}&b=nope", status=404)
        self.assertEqual(
            body["error"],
            {"code": "not_found", "message": "No run with id 'nope'.", "field": "b"},
        )
        self.assertIn("No run with id", self.page(f"/compare?a=nope&b={self.after}", status=404))

    def test_escaped(self) -> None:
        """Test ids in a comparison are escaped."""
        old = self.record([result("t.same")], minutes_ago=5)
        new = self.record([result(SCRIPT, Outcome.FAILURE)], minutes_ago=1)
        page = self.page(f"/compare?a={old}&b={new}")
        self.assertNotIn(SCRIPT, page)
        self.assertIn(ESCAPED_SCRIPT, page)


def marks(page: str) -> list[str]:
    """The timeline strip's marks, each a link with its title and rect, oldest first."""
    [svg] = re.findall(r'(?s)<svg class="chart strip".*?</svg>', page)
    return re.findall(r"<a href=[^>]*><title>.*?</title><rect [^>]*>.*?</a>", svg)


class TimelineTests(DashboardCase):
    def record_history(self, outcomes: Sequence[tuple[Outcome, int | None, float]]) -> list[str]:
        """Runs of pkg.t, oldest first, one per (outcome, seed, duration)."""
        return [
            self.record(
                [result("pkg.t", outcome, seed=seed, duration=duration)],
                minutes_ago=100 - i,
            )
            for i, (outcome, seed, duration) in enumerate(outcomes)
        ]

    def test_one_mark_per_run(self) -> None:
        """The strip has one linked mark per run, oldest first, titled with seed and run."""
        ids = self.record_history(
            [(Outcome.SUCCESS, 1, 0.2), (Outcome.FAILURE, 2, 0.2), (Outcome.SKIP, None, 0.0)]
        )
        found = marks(self.page("/tests/pkg.t"))
        self.assertEqual(len(found), 3)
        for mark, run_id in zip(found, ids, strict=True):
            self.assertIn(f'<a href="/runs/{run_id}">', mark)
            self.assertIn(f"run {run_id}", mark)
        self.assertIn(
            "<title>failure · seed 2 · 2026-11-25 15:21:00 UTC · commit 0123456789 · run",
            found[1],
        )
        self.assertIn("skip · no seed", found[2])
        self.assertIn('class="mark o-failure"', found[1])
        self.assertIn('class="mark o-skip hollow"', found[2])

    def test_grouped_by_commit(self) -> None:
        """Runs in a row at one commit are one group, behind a band titled with the commit's
        short form, every other band shaded; a run without a commit is a group of its own."""
        commits = ["a" * 40, "a" * 40, "b" * 40, None]
        for i, commit in enumerate(commits):
            self.record(
                [result("pkg.t", Outcome.SUCCESS, seed=i)], minutes_ago=100 - i, commit=commit
            )
        page = self.page("/tests/pkg.t")
        bands = re.findall(r'<rect class="(band[^"]*)"[^>]*><title>([^<]*)</title>', page)
        self.assertEqual(
            bands,
            [
                ("band", f"commit {'a' * 10}: 2 runs"),
                ("band shaded", f"commit {'b' * 10}: 1 run"),
                ("band", "no commit recorded: 1 run"),
            ],
        )
        self.assertEqual(len(marks(page)), 4)
        self.assertIn("grouped by commit", page)

    def test_one_strip_without_commits(self) -> None:
        """With no commit recorded, the timeline is one strip with no groups."""
        for i in range(2):
            self.record(
                [result("pkg.t", Outcome.SUCCESS, seed=i)], minutes_ago=100 - i, commit=None
            )
        page = self.page("/tests/pkg.t")
        self.assertNotIn('class="band', page)
        self.assertEqual(len(marks(page)), 2)

    def test_shapes_differ(self) -> None:
        """Bad outcomes are drawn taller than good ones, so colour is not needed to tell."""
        self.record_history([(Outcome.SUCCESS, 1, 0.2), (Outcome.FAILURE, 2, 0.2)])
        heights = [
            float(re.findall(r'height="([\d.]+)"', mark)[0])
            for mark in marks(self.page("/tests/pkg.t"))
        ]
        self.assertGreater(heights[1], heights[0])

    def test_slowdowns(self) -> None:
        """Runs more than twice the median duration are flagged and listed as slowdowns."""
        outcomes = [(Outcome.SUCCESS, 1, 0.5)] * 4 + [(Outcome.FAILURE, 9, 2.0)]
        outcomes += [(Outcome.SUCCESS, 3, 0.9)]
        ids = self.record_history(outcomes)
        page = self.page("/tests/pkg.t")
        [chart] = re.findall(r'(?s)<svg class="chart bars".*?</svg>', page)
        self.assertEqual(len(re.findall(r"<rect ", chart)), 6)
        self.assertEqual(chart.count('class="bar highlight"'), 1)
        self.assertEqual(chart.count('class="flag"'), 1)
        self.assertIn(f"run {ids[4]} · slowdown, 4.0 times the median", chart)
        self.assertIn("<title>median 500 ms</title>", chart)
        table = page.partition('<table class="slowdowns">')[2].partition("</table>")[0]
        self.assertEqual(run_links(table), [ids[4]])
        self.assertIn('<td class="num">4.0</td>', table)
        body = self.api("/api/v1/tests/pkg.t")
        self.assertEqual(body["median_duration"], 0.5)
        self.assertEqual(body["slowdowns"], [{"run_id": ids[4], "duration": 2.0, "ratio": 4.0}])

    def test_no_slowdowns(self) -> None:
        """Steady durations have no slowdowns, and the page says so."""
        self.record_history([(Outcome.SUCCESS, 1, 0.5), (Outcome.SUCCESS, 2, 0.6)])
        page = self.page("/tests/pkg.t")
        self.assertIn("No slowdowns", page)
        self.assertEqual(self.api("/api/v1/tests/pkg.t")["slowdowns"], [])

    def test_skips_have_no_duration(self) -> None:
        """A test only ever skipped has no duration chart, and says why."""
        self.record_history([(Outcome.SKIP, None, 0.0)])
        page = self.page("/tests/pkg.t")
        self.assertIn("skipped in every run shown", page)
        self.assertNotIn('<svg class="chart bars"', page)

    def test_escaped(self) -> None:
        """A test id with markup is escaped in the charts and titles."""
        self.record([result(SCRIPT, Outcome.FAILURE)])
        page = self.page(path_to_test(SCRIPT))
        self.assertNotIn(SCRIPT, page)

    def test_history_schema(self) -> None:
        """The test's JSON, with its durations, fits the documented schema."""
        self.record_history([(Outcome.SUCCESS, 1, 0.5)] * 3 + [(Outcome.SUCCESS, 1, 5.0)])
        document = self.api("/api/v1/openapi.json")
        body: Any = self.api("/api/v1/tests/pkg.t")
        reference = {"$ref": "#/components/schemas/TestHistory"}
        self.assertEqual(schema_errors(body, reference, document), [])
        self.assertEqual(len(body["slowdowns"]), 1)


class NowTests(DashboardCase):
    def test_times_relative_and_absolute(self) -> None:
        """Run times on the compare page are given absolutely and relative to now."""
        a = self.record([result()], minutes_ago=120)
        b = self.record([result()], minutes_ago=3)
        page = self.page(f"/compare?a={a}&b={b}")
        self.assertIn("2 h ago", page)
        self.assertIn("3 min ago", page)
        self.assertIn(NOW.strftime("%Y-%m-%d"), page)


class LookTests(FilteredCase):
    def pages(self) -> list[str]:
        return [
            self.page(path)
            for path in (
                "/",
                f"/runs/{self.failing}",
                "/tests/pkg.a.test_x",
                "/flaky",
                "/trends",
                f"/compare?a={self.green}&b={self.failing}",
            )
        ]

    def test_focus_and_narrow_screens(self) -> None:
        """Focus is always visible, and narrow screens get their own rules (in the stylesheet
        every page links)."""
        self.assertIn('<link rel="stylesheet" href="/static/seedboard.css">', self.page("/"))
        styles = self.successResultOf(treq.text_content(self.get("/static/seedboard.css")))
        self.assertIn(":focus-visible { outline:", styles)
        self.assertIn("@media (max-width: 640px)", styles)
        self.assertIn("@media (prefers-color-scheme: dark)", styles)

    def test_tables_scroll(self) -> None:
        """Every table sits in a wrapper that scrolls sideways on narrow screens."""
        for page in self.pages():
            tables = page.count("<table")
            wrapped = len(re.findall(r'<div class="table-wrap">\s*<table', page))
            self.assertEqual(wrapped, tables)

    def test_charts_themed(self) -> None:
        """Charts take their colours from the page's CSS, so dark mode applies to them."""
        for page in self.pages():
            for svg in re.findall(r"(?s)<svg .*?</svg>", page):
                self.assertNotRegex(svg, r'(fill|stroke|style)="')

    def test_charts_fit(self) -> None:
        """Bar and line charts are drawn at most 720 units wide, however many bars."""
        for page in self.pages():
            for width in re.findall(
                r'<svg class="chart (?:bars|line)[^"]*"[^>]*width="([\d.]+)"', page
            ):
                self.assertLessEqual(float(width), 720)

    def test_controls_are_links_or_buttons(self) -> None:
        """Nothing is clickable but links, buttons, form fields and summaries."""
        for page in self.pages():
            self.assertNotIn("onclick", page)
            self.assertNotRegex(page, r"<(div|span|td)[^>]*tabindex")


class BrowseOpenAPITests(FilteredCase):
    def operation(self, path: str) -> Any:
        return self.api("/api/v1/openapi.json")["paths"][path]["get"]

    def parameters(self, path: str) -> dict[str, Any]:
        return {p["name"]: p for p in self.operation(path)["parameters"]}

    def test_run_filters_documented(self) -> None:
        """Every runs filter is documented, with the values the server accepts."""
        parameters = self.parameters("/api/v1/runs")
        self.assertEqual(
            set(parameters),
            {"limit", "before", "branch", "outcome", "since", "until", "replay", "test"},
        )
        self.assertEqual(parameters["outcome"]["schema"]["enum"], [o.value for o in OutcomeFilter])
        self.assertEqual(parameters["replay"]["schema"]["enum"], [r.value for r in ReplayFilter])
        self.assertEqual(parameters["since"]["schema"]["format"], "date")

    def test_compare_and_trends_documented(self) -> None:
        """Compare needs a and b; trends takes days (1..365, 30 by default) and a branch."""
        compare = self.parameters("/api/v1/compare")
        self.assertTrue(compare["a"]["required"] and compare["b"]["required"])
        days = self.parameters("/api/v1/trends")["days"]["schema"]
        self.assertEqual((days["minimum"], days["maximum"], days["default"]), (1, 365, 30))
        self.assertIn("branch", self.parameters("/api/v1/trends"))
        for path in ("/api/v1/compare", "/api/v1/trends"):
            self.assertEqual(self.operation(path)["security"], [{}, {"bearer": []}])

    def test_answers_fit(self) -> None:
        """Filtered pages, comparisons, trends and their errors fit the documented schemas."""
        document = self.api("/api/v1/openapi.json")
        for path, schema, status in [
            ("/api/v1/runs?branch=dev&outcome=failing&limit=1", "RunPage", 200),
            (f"/api/v1/runs/{self.failing}", "RunDetail", 200),
            (f"/api/v1/compare?a={self.green}&b={self.failing}", "Comparison", 200),
            ("/api/v1/trends?days=3", "Trends", 200),
            ("/api/v1/runs?before=nope", "Error", 400),
            ("/api/v1/runs?since=someday", "Error", 400),
            ("/api/v1/compare?a=nope&b=nope", "Error", 404),
            ("/api/v1/trends?days=400", "Error", 400),
        ]:
            body = self.api(path, status=status)
            reference = {"$ref": f"#/components/schemas/{schema}"}
            self.assertEqual(schema_errors(body, reference, document), [], path)


def group_rows(page: str) -> list[tuple[str, int]]:
    """The run page's failure groups: each one's summary line and count, in page order."""
    found = re.findall(
        r'(?s)<tr class="failure-group"><td><code class="group-summary">([^<]*)</code>.*?'
        r'<td class="num count">(\d+)</td>',
        page,
    )
    return [(html.unescape(summary), int(count)) for summary, count in found]


def result_ids(page: str) -> list[str]:
    """The test ids the run page links to, in page order (groups first, then the rest)."""
    return [html.unescape(t) for t in re.findall(r'href="/tests/([^"]+)"><code>', page)]


def bcrypt_error(test_id: str, seed: int | None = None) -> Any:
    return result(
        test_id,
        Outcome.ERROR,
        seed=seed,
        exception_type="builtins.ModuleNotFoundError",
        message="No module named 'bcrypt'",
        traceback='Traceback (most recent call last):\n  File "pkg/test_auth.py", line 3\n',
    )


class RunTriageTests(DashboardCase):
    """A run page as a triage console: failures grouped, filtered and searched."""

    def setUp(self) -> None:
        super().setUp()
        results = [bcrypt_error(f"pkg.test_auth.T.test_{n:02}") for n in range(12)]
        results += [
            result("pkg.test_math.T.test_sum", Outcome.FAILURE, seed=None),
            result("pkg.test_math.T.test_ok", seed=None),
            result("pkg.test_net.T.test_skipped", Outcome.SKIP, seed=None),
        ]
        self.run_id = self.record(results, run_seed=77)

    def test_identical_errors_one_group(self) -> None:
        """Twelve identical errors are one group of 12, listed before the other failure's
        group; the other results follow."""
        page = self.page(f"/runs/{self.run_id}")
        self.assertEqual(
            group_rows(page),
            [
                ("ModuleNotFoundError: No module named 'bcrypt'", 12),
                ("FailTest: <n> != <n> (…)", 1),
            ],
        )
        ids = result_ids(page)
        self.assertEqual(ids[:12], [f"pkg.test_auth.T.test_{n:02}" for n in range(12)])
        self.assertEqual(
            ids[12:],
            ["pkg.test_math.T.test_sum", "pkg.test_net.T.test_skipped", "pkg.test_math.T.test_ok"],
        )
        self.assertIn("<summary>12 tests</summary>", page)

    def test_results_before_details(self) -> None:
        """The results come before the run's details and the comparison."""
        page = self.page(f"/runs/{self.run_id}")
        self.assertLess(page.index('class="failure-groups"'), page.index("Run details"))
        self.assertLess(page.index("Run details"), page.index('id="compared"'))

    def test_outcome_filter(self) -> None:
        """``?outcome=`` (repeatable) keeps only results with those outcomes, and the form
        shows them checked."""
        page = self.page(f"/runs/{self.run_id}?outcome=skip&outcome=success")
        self.assertEqual(group_rows(page), [])
        self.assertEqual(
            result_ids(page), ["pkg.test_net.T.test_skipped", "pkg.test_math.T.test_ok"]
        )
        self.assertIn('value="skip" checked', page)
        self.assertNotIn('value="failure" checked', page)
        self.assertIn("2 of 15 results shown.", page)

    def test_search(self) -> None:
        """``?q=`` keeps the results whose test id contains it, ignoring case."""
        page = self.page(f"/runs/{self.run_id}?q=TEST_MATH")
        self.assertEqual(group_rows(page), [("FailTest: <n> != <n> (…)", 1)])
        self.assertEqual(result_ids(page), ["pkg.test_math.T.test_sum", "pkg.test_math.T.test_ok"])
        self.assertIn('name="q" value="TEST_MATH"', page)

    def test_filter_and_search(self) -> None:
        """Outcome and search combine; nothing matching says so."""
        page = self.page(f"/runs/{self.run_id}?outcome=error&q=test_0")
        self.assertEqual(group_rows(page), [("ModuleNotFoundError: No module named 'bcrypt'", 10)])
        nothing = self.page(f"/runs/{self.run_id}?outcome=skip&q=auth")
        self.assertIn("No result matches.", nothing)

    def test_json_filter(self) -> None:
        """The JSON twin takes the same arguments."""
        body = self.api(f"/api/v1/runs/{self.run_id}?outcome=failure&outcome=skip&q=pkg.test_")
        self.assertEqual(
            [r["test_id"] for r in body["results"]],
            ["pkg.test_math.T.test_sum", "pkg.test_net.T.test_skipped"],
        )

    def test_bad_outcome(self) -> None:
        """An unknown outcome is a 400 naming ``outcome``, on the page and in JSON."""
        body = self.api(f"/api/v1/runs/{self.run_id}?outcome=failure&outcome=bogus", 400)
        self.assertEqual(body["error"]["code"], "bad_request")
        self.assertEqual(body["error"]["field"], "outcome")
        self.assertIn("outcome must be success or failure", body["error"]["message"])
        self.assertIn("outcome must be", self.page(f"/runs/{self.run_id}?outcome=bogus", 400))

    def test_no_replay_box_without_seeds(self) -> None:
        """A run with a run seed but no result with a seed offers no whole-run replay."""
        self.assertNotIn("Replay this whole run", self.page(f"/runs/{self.run_id}"))

    def test_replay_box_with_seeds(self) -> None:
        """A run with a run seed and a seeded result offers the whole-run replay."""
        seeded = self.record([result("pkg.t.T.test_a", seed=5)], run_seed=77)
        self.assertIn("Replay this whole run", self.page(f"/runs/{seeded}"))
        unseeded = self.record([result("pkg.t.T.test_a", seed=5)])
        self.assertNotIn("Replay this whole run", self.page(f"/runs/{unseeded}"))
