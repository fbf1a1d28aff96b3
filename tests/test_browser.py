"""The dashboard in a real headless Chromium, as a person uses it.

Real ``trial --reporter=seedboard`` runs of the sample suites, plus stored runs
for what they cannot give (a test id and message that are HTML, and enough runs
to page through), go into one database that a real ``seedboard serve`` serves.
The tests click through it, page, copy replay commands to the clipboard, and
check that hostile text stays text, that no page loads anything from
elsewhere or logs an error, and that the one stylesheet styles every page under
the strict Content-Security-Policy.

Screenshots of every page, also at 390x844 and in dark mode, are written to
``screenshots/`` at the top of the checkout (gitignored), or to the folder
``$SEEDBOARD_SCREENSHOTS`` names, for a person to look at.

Needs Debian's Chromium (``apt-get install chromium chromium-driver``): without
it these tests are skipped, except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import re
import shutil
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Locator, Page, expect
from twisted.trial.unittest import SynchronousTestCase

from seedboard.db.engine import Database, open_database
from seedboard.db.migrate import ensure_schema
from seedboard.db.quarantines import record_owners
from seedboard.domain import Outcome
from seedboard.web.urls import path_to_test
from tests.browser_support import Browser, require_chromium, screenshot
from tests.contract import fetch_json
from tests.support import REPO, record_run, result, run_start, start_server
from tests.test_triage_runs import fails_with_run_seed
from tests.test_trial_runs import trial

SAMPLES = REPO / "tests" / "samples"
TRIAGE = "triagepkg.test_triage.TriageTests."
ALWAYS_FAILS = TRIAGE + "test_always_fails"
TRIAGE_TEAM = "@org/team-triage"

HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned=2">'
HOSTILE_TEST = "hostilepkg.test_names.NameTests.test_" + HOSTILE
HOSTILE_MESSAGE = "expected a plain name, got " + HOSTILE

STORED_RUNS = 60
RELEASE = "release-2"
PAGE_SIZE = 50


@dataclass(frozen=True)
class History:
    """What the shared database holds; run ids newest first."""

    db: Path
    runs: list[str]
    triage_runs: list[str]
    release_runs: list[str]


_SHARED: dict[str, History] = {}


def shared_history(case: SynchronousTestCase) -> History:
    """The database every test here reads, made once, in the first test's temporary folder."""
    if "history" not in _SHARED:
        _SHARED["history"] = make_history(Path(case.mktemp()).resolve())
    return _SHARED["history"]


def make_history(folder: Path) -> History:
    """3 real runs of samplepkg and 4 of triagepkg, then 60 older stored runs."""
    project = folder / "project"
    shutil.copytree(SAMPLES, project)
    db = project / "browser.db"
    env = {
        "SEEDBOARD_DB": str(db),
        "SEEDBOARD_BRANCH": "main",
        "SEEDBOARD_SAMPLE_COUNTER": str(project / "counter"),
    }
    sample_runs = [recorded_run(project, "samplepkg", env) for _ in range(3)]
    # Run seeds that make the seed-dependent sample fail, pass, pass, fail.
    failing = [r for r in range(1, 500) if fails_with_run_seed(r)][:2]
    passing = [r for r in range(1, 500) if not fails_with_run_seed(r)][:2]
    triage_runs = [
        recorded_run(project, "triagepkg", {**env, "SEEDBOARD_RUN_SEED": str(run_seed)})
        for run_seed in (failing[0], passing[0], passing[1], failing[1])
    ]

    database = open_database(f"sqlite:///{db}")
    try:
        ensure_schema(database)
        stored = store_older_runs(database)
        # As the reporter records them from a CODEOWNERS: one owner for the broken test.
        owners = {ALWAYS_FAILS: [TRIAGE_TEAM]}
        database.write(record_owners, triage_runs[-1], owners, datetime.now(UTC))
    finally:
        database.dispose()
    return History(
        db=db,
        runs=[*reversed(triage_runs), *reversed(sample_runs), *(run for run, _ in stored)],
        triage_runs=triage_runs,
        release_runs=[run for run, branch in stored if branch == RELEASE],
    )


def recorded_run(project: Path, package: str, env: dict[str, str]) -> str:
    """Run ``package`` with the seedboard reporter; the id of the run it recorded."""
    done = trial(project, "--reporter=seedboard", package, **env)
    last = done.stdout.rstrip().splitlines()[-1]
    assert last.startswith("seedboard: recorded run "), done.stdout + done.stderr
    return last.split()[3]


def store_older_runs(database: Database) -> list[tuple[str, str]]:
    """60 runs an hour apart, before the real ones; the hostile test in the newest six.

    Every third is on the release branch.  The hostile test fails in three runs and
    passes in three, with other seeds: an unconfirmed test, listed on the flaky page.
    """
    now = datetime.now(UTC)
    stored = []
    for age in range(STORED_RUNS):
        branch = RELEASE if age % 3 == 0 else "main"
        results = [
            result("mypkg.test_a.ATests.test_one", seed=100 + age),
            result("mypkg.test_a.ATests.test_two", seed=200 + age),
        ]
        if age < 6:
            failed = age % 2 == 0
            seed = 10 + age
            results.append(
                result(
                    HOSTILE_TEST,
                    Outcome.FAILURE if failed else Outcome.SUCCESS,
                    seed=seed,
                    file="hostilepkg/test_names.py",
                    line=7,
                    **({"message": f"{HOSTILE_MESSAGE} (random seed: {seed})"} if failed else {}),
                )
            )
        start = run_start(started_at=now - timedelta(hours=age + 1), branch=branch)
        record_run(database, results, start)
        stored.append((start.id, branch))
    return stored


def assert_strict_policy(case: SynchronousTestCase, policy: str) -> None:
    """The policy sent: styles and scripts from this site only, never inline; no framing."""
    directives = {name: values for name, *values in (d.split() for d in policy.split(";"))}
    case.assertNotIn("'unsafe-inline'", policy)
    case.assertEqual(directives["style-src"], ["'self'"])
    case.assertEqual(directives["frame-ancestors"], ["'none'"])


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's header."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


class BrowserTests(SynchronousTestCase):
    def setUp(self) -> None:
        require_chromium()
        self.history = shared_history(self)
        cwd = Path(self.mktemp()).resolve()
        cwd.mkdir(parents=True)
        self.base = start_server(self, cwd, "--db", str(self.history.db), "--port", "0")
        self.browser = Browser(self, self.base)

    # Helpers.

    def open(self, page: Page, path: str) -> Page:
        """Go to ``path`` on the server; it must answer 200."""
        response = page.goto(self.base + path)
        assert response is not None
        self.assertEqual(response.status, 200, f"GET {path}")
        return page

    def path(self, page: Page) -> str:
        """The page's URL without the origin: path and query."""
        parts = urlsplit(page.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def api(self, path: str) -> Any:
        return fetch_json(self, self.base + path)

    def listed_runs(self, page: Page) -> list[str]:
        """The run ids the runs list shows, top to bottom: each row's first link to a run."""
        hrefs = page.locator("main table tbody tr").evaluate_all(FIRST_RUN_LINKS)
        return [str(href).removeprefix("/runs/") for href in hrefs]

    def result_link(self, page: Page, test_id: str, outcome: str) -> Locator:
        """On a run page, the link to ``test_id`` in its row of results with that outcome."""
        row = page.locator("main tr").filter(has=page.locator(f".badge.outcome-{outcome}"))
        return row.get_by_role("link", name=test_id, exact=True)

    def nav_link(self, page: Page, name: str) -> Locator:
        return page.get_by_role("navigation", name="Main").get_by_role("link", name=name)

    def flaky_entry(self, page: Page, test_id: str) -> Locator:
        """The flaky console's row for one test."""
        return page.locator("table.console tbody tr").filter(
            has=page.get_by_role("link", name=test_id, exact=True)
        )

    def assert_class(self, badge: Locator, classification: str) -> None:
        """A triage badge names its class in words, not only by its colour and symbol."""
        expect(badge).to_have_class(re.compile(rf"\bclass-{classification}\b"))
        expect(badge).to_contain_text(classification)

    def assert_text_not_markup(self, page: Page, *texts: str) -> None:
        """Each text shows as text; none of the hostile markup ran or became an element."""
        shown = page.locator("body").inner_text()
        for text in texts:
            self.assertIn(text, shown)
        self.assertEqual(page.evaluate("typeof window.__pwned"), "undefined")
        self.assertEqual(page.locator("img[onerror], img[src=x]").count(), 0)
        self.assertEqual(page.locator("script:not([src])").count(), 0)

    # The tests.

    def test_navigation(self) -> None:
        """Runs list, newest run, a failing test, then the flaky page (and trends, if linked)."""
        page = self.open(self.browser.page(), "/")
        expect(page.locator("h1")).to_have_text("Runs")
        newest = self.history.triage_runs[-1]
        self.assertEqual(self.listed_runs(page)[0], newest)

        page.locator(f"main table tbody tr a[href='/runs/{newest}']").click()
        self.assertEqual(self.path(page), f"/runs/{newest}")
        expect(page.locator("h1")).to_contain_text("on main")
        expect(page.locator("dl.meta")).to_contain_text(newest)
        # The fourth triage run: its seeds fail the seed-dependent test, the counter the other.
        for test, outcome in (
            ("test_always_fails", "failure"),
            ("test_independent_of_seed", "failure"),
            ("test_seed_dependent", "failure"),
            ("test_passes", "success"),
        ):
            expect(self.result_link(page, TRIAGE + test, outcome)).to_be_visible()

        self.result_link(page, ALWAYS_FAILS, "failure").click()
        expect(page.locator("h1")).to_have_text(ALWAYS_FAILS)
        self.assertTrue(self.path(page).startswith("/tests/"))
        self.assert_class(page.locator(".verdict .badge"), "broken")
        expect(page.locator("dl.meta").first).to_contain_text("4 shown, 4 with a bad outcome")

        self.nav_link(page, "Flaky tests").click()
        self.assertEqual(self.path(page), "/flaky")
        expect(page.locator("h1")).to_have_text("Flaky tests")
        flaky = self.api("/api/v1/flaky")["tests"]
        self.assertEqual(page.locator("table.console tbody tr").count(), len(flaky))
        page.locator("details.broken-tests > summary").click()
        for test in flaky:
            entry = self.flaky_entry(page, test["test_id"])
            self.assert_class(entry.locator(".badge").first, test["classification"])
        classes = {test["test_id"]: test["classification"] for test in flaky}
        self.assertEqual(classes[ALWAYS_FAILS], "broken")
        self.assertEqual(classes[TRIAGE + "test_seed_dependent"], "unconfirmed")
        self.assertEqual(classes[HOSTILE_TEST], "unconfirmed")

        trends = self.nav_link(page, "Trends").first
        if trends.count():
            trends.click()
            expect(page.locator("h1")).to_contain_text("Trends", ignore_case=True)
        self.browser.assert_quiet(self)

    def test_pagination(self) -> None:
        """50 runs a page; "Older runs" shows the rest once each, at an address that reloads."""
        page = self.open(self.browser.page(), "/")
        first = self.listed_runs(page)
        self.assertEqual(first, self.history.runs[:PAGE_SIZE])

        page.get_by_role("link", name="Older runs").click()
        expect(page.locator("h1")).to_have_text("Older runs")
        older_url = page.url
        second = self.listed_runs(page)
        self.assertEqual(second, self.history.runs[PAGE_SIZE:])
        self.assertEqual(set(first) & set(second), set())
        self.assertEqual(page.get_by_role("link", name="Older runs").count(), 0)

        page.reload()
        self.assertEqual(page.url, older_url)
        self.assertEqual(self.listed_runs(page), second)
        page.get_by_role("link", name="Newest runs").click()
        self.assertEqual(self.listed_runs(page), first)
        self.browser.assert_quiet(self)

    def test_branch_filter(self) -> None:
        """Filtering the runs list by branch lists only that branch's runs (if the form exists)."""
        page = self.open(self.browser.page(), "/")
        form = page.locator("main form").filter(has=page.locator("[name=branch]"))
        if not form.count():
            self.skipTest("the runs page has no branch filter yet")
        field = form.locator("[name=branch]")
        if field.evaluate("element => element.tagName") == "SELECT":
            field.select_option(RELEASE)
        else:
            field.fill(RELEASE)
        submit = form.locator("button[type=submit], input[type=submit], button:not([type])")
        with page.expect_navigation():
            if submit.count():
                submit.first.click()
            else:
                field.press("Enter")
        self.assertIn(f"branch={RELEASE}", page.url)
        self.assertEqual(self.listed_runs(page), self.history.release_runs)
        page.reload()
        self.assertEqual(self.listed_runs(page), self.history.release_runs)
        self.browser.assert_quiet(self)

    def test_compare_picker(self) -> None:
        """Two runs are compared by picking them from the latest runs, no ids pasted: the
        page opens on the newest two, and a pick from the lists shows their comparison."""
        page = self.open(self.browser.page(), "/compare")
        newest, before, *_ = self.history.triage_runs[::-1]
        expect(page.locator("select[name=b]")).to_have_value(newest)
        expect(page.locator("select[name=a]")).to_have_value(before)
        oldest_triage = self.history.triage_runs[0]
        page.locator("select[name=a]").select_option(oldest_triage)
        with page.expect_navigation():
            page.get_by_role("button", name="Compare").click()
        self.assertIn(f"a={oldest_triage}", page.url)
        self.assertIn(f"b={newest}", page.url)
        expect(page.get_by_role("heading", name="What changed from a to b")).to_be_visible()
        expect(page.locator("select[name=a]")).to_have_value(oldest_triage)
        screenshot(page, "compare-picker")
        self.browser.assert_quiet(self)

    def test_copy_buttons(self) -> None:
        """A replay command's and a snippet's Copy buttons put exactly the shown text on the
        clipboard, the same as the API gives, and say "Copied" for a moment."""
        [triage] = [t for t in self.api("/api/v1/flaky")["tests"] if t["test_id"] == ALWAYS_FAILS]
        commands = {s["command"] for s in triage["seeds"] if s["command"]}
        snippets = {s["snippet"] for s in triage["seeds"] if s["snippet"]}
        page = self.open(self.browser.page(), path_to_test(ALWAYS_FAILS))

        for shown, expected in (
            (page.locator(".replay-lines code[id$='-command']").first, commands),
            (page.locator(".replay-lines pre[id$='-snippet']").first, snippets),
        ):
            button = shown.locator("xpath=following-sibling::button[1]")
            expect(button).to_have_text("Copy")
            button.click()
            expect(button).to_have_text("Copied")
            copied = page.evaluate("navigator.clipboard.readText()")
            self.assertEqual(copied, shown.text_content())
            self.assertEqual(copied, shown.inner_text())
            self.assertIn(copied, expected)
            expect(button).to_have_text("Copy", timeout=5_000)
        self.assertIn("@seed(", page.evaluate("navigator.clipboard.readText()"))
        self.browser.assert_quiet(self)

    def test_run_page_filter_and_search(self) -> None:
        """On a run page the failures come grouped first; ticking an outcome and searching
        a test id narrow the results, at an address that reloads."""
        newest = self.history.triage_runs[-1]
        page = self.open(
            self.browser.page(viewport={"width": 1280, "height": 800}), f"/runs/{newest}"
        )
        groups = page.locator("table.failure-groups tr.failure-group")
        expect(groups.first).to_be_visible()
        self.assertLess(
            page.locator("table.failure-groups").bounding_box()["y"],  # type: ignore[index]
            page.locator("details.run-details").bounding_box()["y"],  # type: ignore[index]
        )
        form = page.get_by_role("form", name="Filter results")
        form.get_by_label("success", exact=True).check()
        with page.expect_navigation():
            form.get_by_role("button", name="Show").click()
        self.assertIn("outcome=success", page.url)
        expect(page.locator("table.failure-groups")).to_have_count(0)
        expect(self.result_link(page, TRIAGE + "test_passes", "success")).to_be_visible()
        expect(page.locator("#shown")).to_contain_text("1 of 4 results shown.")

        form.get_by_label("success", exact=True).uncheck()
        form.get_by_label("Test id contains").fill("SEED_DEPENDENT")
        with page.expect_navigation():
            form.get_by_label("Test id contains").press("Enter")
        self.assertIn("q=SEED_DEPENDENT", page.url)
        expect(groups).to_have_count(1)
        expect(self.result_link(page, TRIAGE + "test_seed_dependent", "failure")).to_be_visible()
        page.reload()
        expect(form.get_by_label("Test id contains")).to_have_value("SEED_DEPENDENT")
        expect(groups).to_have_count(1)
        screenshot(page, "run-filtered")
        self.browser.assert_quiet(self)

    def test_run_page_owners(self) -> None:
        """A run page shows each test's owners beside it, and its Owner filter keeps only
        that owner's tests, at an address that reloads."""
        newest = self.history.triage_runs[-1]
        page = self.open(self.browser.page(), f"/runs/{newest}")
        group = page.locator("table.failure-groups tr.failure-group").filter(
            has=page.get_by_role("link", name=ALWAYS_FAILS, exact=True)
        )
        expect(group.get_by_role("link", name=TRIAGE_TEAM, exact=True)).to_be_visible()
        form = page.get_by_role("form", name="Filter results")
        form.get_by_label("Owner").fill(TRIAGE_TEAM)
        with page.expect_navigation():
            form.get_by_role("button", name="Show").click()
        self.assertIn("owner=%40org%2Fteam-triage", page.url)
        expect(page.locator("#shown")).to_contain_text("1 of 4 results shown.")
        expect(page.locator("table.failure-groups tr.failure-group")).to_have_count(1)
        expect(page.get_by_role("link", name=TRIAGE + "test_passes")).to_have_count(0)
        page.reload()
        expect(form.get_by_label("Owner")).to_have_value(TRIAGE_TEAM)
        self.browser.assert_quiet(self)

    def test_hostile_text_stays_text(self) -> None:
        """A test id and message made of HTML show as text on every page, and never run."""
        page = self.open(self.browser.page(), "/flaky")
        entry = self.flaky_entry(page, HOSTILE_TEST)
        self.assert_text_not_markup(page, HOSTILE_TEST, "<script>window.__pwned")

        entry.get_by_role("link", name=HOSTILE_TEST).click()
        expect(page.locator("h1")).to_have_text(HOSTILE_TEST)
        self.assert_text_not_markup(page, HOSTILE_TEST, HOSTILE_MESSAGE)

        failed = page.locator("main table tbody tr").filter(has_text=HOSTILE_MESSAGE).first
        failed.locator("a[href^='/runs/']").click()
        expect(page.locator("h1")).to_contain_text("Run ")
        self.assert_text_not_markup(page, HOSTILE_TEST, HOSTILE_MESSAGE)
        self.browser.assert_quiet(self)

    def test_pages_stay_on_their_server(self) -> None:
        """Every page asks only its own server for anything, and logs no error."""
        page = self.browser.page()
        for path, _ in self.every_page(page):
            self.open(page, path)
        self.assertIn(self.base + "/static/copy.js", self.browser.requests)
        self.assertIn(self.base + "/flaky", self.browser.requests)
        self.browser.assert_quiet(self)

    def test_screenshots(self) -> None:
        """Every page renders something whole, also at 390x844 and in dark mode; saved as PNGs."""
        page = self.browser.page(viewport={"width": 1280, "height": 800})
        for path, name in self.every_page(page):
            self.open(page, path)
            self.assert_real_screenshot(page, name, 1280)

        with self.browser.context_page(
            viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
        ) as narrow:
            for path, name in (("/", "runs-narrow"), ("/flaky", "flaky-narrow")):
                self.open(narrow, path)
                self.assertLessEqual(
                    narrow.evaluate("document.documentElement.scrollWidth"), 390, path
                )
                self.assert_real_screenshot(narrow, name, 390)

        with self.browser.context_page(color_scheme="dark") as dark:
            self.open(dark, "/flaky")
            background = dark.evaluate("getComputedStyle(document.body).backgroundColor")
            self.assertEqual(background, "rgb(13, 17, 23)")
            self.assert_real_screenshot(dark, "flaky-dark", 1280)
        self.browser.assert_quiet(self)

    def test_styled_under_the_policy(self) -> None:
        """Every page, the 404 page too, is styled by the stylesheet under the strict
        Content-Security-Policy, in light and dark mode, and the policy refuses nothing."""
        badges = charts = 0
        for scheme, colours in SCHEME_COLOURS.items():
            with self.browser.context_page(color_scheme=scheme) as page:
                for path, name in [*self.every_page(page), ("/nowhere", "not-found")]:
                    where = f"{name} in {scheme} mode"
                    response = page.goto(self.base + path)
                    assert response is not None
                    self.assertEqual(response.status, 404 if name == "not-found" else 200, where)
                    assert_strict_policy(self, response.headers["content-security-policy"])
                    self.assertEqual(self.browser.policy_violations(page), [], where)
                    style = page.evaluate(COMPUTED_STYLES)
                    self.assertEqual(style["sheets"], [self.base + "/static/seedboard.css"], where)
                    self.assertTrue(style["font"].startswith("system-ui"), where)
                    for part in ("background", "text", "header"):
                        self.assertEqual(style[part], colours[part], f"{part}, {where}")
                    for part in ("badge", "chart"):
                        if style[part] is not None:
                            self.assertEqual(style[part], colours["bad"], f"{part}, {where}")
                    badges += style["badge"] is not None
                    charts += style["chart"] is not None
        self.assertGreater(badges, 0, "no page showed a failure badge")
        self.assertGreater(charts, 0, "no page showed a failure in a chart")
        # The 404 page's own status is the one error the console may show.
        not_found = f"status of 404 (Not Found) (at {self.base}/nowhere)"
        errors = self.browser.console_errors
        self.browser.console_errors = [error for error in errors if not error.endswith(not_found)]
        self.assertEqual(len(errors) - len(self.browser.console_errors), len(SCHEME_COLOURS))
        self.browser.assert_quiet(self)

    def every_page(self, page: Page) -> list[tuple[str, str]]:
        """Each kind of page, as (path, name); trends and compare too when the site links them."""
        newest = self.history.triage_runs[-1]
        pages = [
            ("/", "runs"),
            (f"/?before={self.history.runs[PAGE_SIZE - 1]}&limit={PAGE_SIZE}", "runs-older"),
            (f"/runs/{newest}", "run"),
            (self.api(f"/api/v1/runs/{newest}")["results"][0]["url"], "test"),
            ("/flaky", "flaky"),
            (path_to_test(HOSTILE_TEST), "test-hostile"),
        ]
        self.open(page, f"/runs/{newest}")
        for name in ("Trends", "Compare"):
            link = page.get_by_role("link", name=name).first
            if link.count():
                pages.append((str(link.get_attribute("href")), name.lower()))
        return pages

    def assert_real_screenshot(self, page: Page, name: str, width: int) -> None:
        """Save the page as ``<name>.png``: as wide as the window, and a page of content tall."""
        saved = screenshot(page, name)
        shot_width, height = png_size(saved)
        self.assertEqual(shot_width, width, name)
        self.assertGreater(height, 300, name)
        self.assertGreater(saved.stat().st_size, 10_000, name)
        expect(page.locator("main h1")).to_be_visible()


class PrivateLoginTests(SynchronousTestCase):
    """A private server's pages for someone not logged in: the stylesheet is public."""

    def test_login_page_styled(self) -> None:
        """A private server's login page is styled for someone not yet logged in, and the
        policy refuses nothing on it."""
        require_chromium()
        history = shared_history(self)
        cwd = Path(self.mktemp()).resolve()
        cwd.mkdir(parents=True)
        base = start_server(self, cwd, "--db", str(history.db), "--port", "0", "--private")
        browser = Browser(self, base)
        page = browser.page()
        response = page.goto(base + "/flaky")
        assert response is not None
        self.assertEqual(urlsplit(page.url).path, "/login")
        assert_strict_policy(self, response.headers["content-security-policy"])
        self.assertEqual(browser.policy_violations(page), [])
        style = page.evaluate(COMPUTED_STYLES)
        self.assertEqual(style["sheets"], [base + "/static/seedboard.css"])
        self.assertTrue(style["font"].startswith("system-ui"), style["font"])
        self.assertEqual(style["background"], SCHEME_COLOURS["light"]["background"])
        browser.assert_quiet(self)


class FlakyConsoleBrowserTests(SynchronousTestCase):
    """The flaky console on a suite like Twisted's with optional dependencies missing:
    70 broken tests and 5 flaky ones."""

    def setUp(self) -> None:
        require_chromium()
        cwd = Path(self.mktemp()).resolve()
        cwd.mkdir(parents=True)
        url = f"sqlite:///{cwd / 'console.db'}"
        database = open_database(url)
        self.addCleanup(database.dispose)
        ensure_schema(database)
        now = datetime.now(UTC)
        self.flaky = [f"pkg.test_net.NetTests.test_flaky_{n}" for n in range(5)]
        broken = [f"pkg.test_opt.OptionalTests.test_needs_bcrypt_{n:02}" for n in range(70)]
        for age in range(4):
            record_run(
                database,
                [result(t, Outcome.ERROR, seed=age) for t in broken]
                + [
                    result(t, Outcome.FAILURE if (age + n) % 2 else Outcome.SUCCESS, seed=age)
                    for n, t in enumerate(self.flaky)
                ],
                run_start(started_at=now - timedelta(hours=4 - age)),
            )
        self.base = start_server(self, cwd, "--db", url, "--port", "0")
        self.browser = Browser(self, self.base)

    def test_flaky_on_the_first_screen(self) -> None:
        """The 5 flaky tests are all on the first screen; the 70 broken ones wait folded
        below, one click away.  The first screen is the README's picture
        (docs/development.md says how to refresh it)."""
        page = self.browser.page(viewport={"width": 1280, "height": 800})
        page.goto(self.base + "/flaky")
        for test_id in self.flaky:
            link = page.get_by_role("link", name=test_id, exact=True)
            expect(link).to_be_in_viewport()
        screenshot(page, "flaky-console", full_page=False)
        broken = page.locator("details.broken-tests")
        expect(broken.locator("table.console")).to_be_hidden()
        broken.locator("summary").click()
        expect(broken.locator("table.console tbody tr")).to_have_count(70)
        screenshot(page, "flaky-console-broken")
        self.browser.assert_quiet(self)

    def test_pages(self) -> None:
        """With ``?limit=2`` the console shows two flaky tests a page; "Next" walks the
        rest in the same order, the last page has no "Next", and "First page" goes back."""
        page = self.browser.page(viewport={"width": 1280, "height": 800})
        page.goto(self.base + "/flaky")
        flaky_rows = page.locator("table.console").first.locator("tbody tr td.test-id code")
        in_order = flaky_rows.all_inner_texts()
        self.assertEqual(sorted(in_order), sorted(self.flaky))
        page.goto(self.base + "/flaky?limit=2")
        seen = []
        for size in (2, 2, 1):
            expect(flaky_rows).to_have_count(size)
            seen += flaky_rows.all_inner_texts()
            next_link = page.get_by_role("link", name=re.compile(r"^Next \d+"))
            if size == 1:
                expect(next_link).to_have_count(0)
            else:
                with page.expect_navigation():
                    next_link.click()
        self.assertEqual(seen, in_order)
        screenshot(page, "flaky-console-last-page")
        with page.expect_navigation():
            page.get_by_role("link", name="First page").click()
        self.assertEqual(flaky_rows.all_inner_texts(), in_order[:2])
        self.browser.assert_quiet(self)

    def test_filter_search_and_sort(self) -> None:
        """Ticking a class and searching narrow the console, the address keeps them, and a
        column header sorts by it."""
        page = self.browser.page(viewport={"width": 1280, "height": 800})
        page.goto(self.base + "/flaky")
        form = page.get_by_role("form", name="Filter tests")
        form.get_by_role("checkbox", name="broken", exact=True).check()
        form.get_by_role("searchbox").fill("BCRYPT_07")
        with page.expect_navigation():
            form.get_by_role("button", name="Show").click()
        self.assertIn("class=broken", page.url)
        # Asked for, broken tests are the console's own rows, not folded away.
        expect(page.locator("details.broken-tests")).to_have_count(0)
        rows = page.locator("table.console tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("test_needs_bcrypt_07")

        page.goto(self.base + "/flaky?class=unconfirmed&class=flaky&class=nondeterministic")
        with page.expect_navigation():
            page.get_by_role("link", name="Test", exact=True).click()
        self.assertIn("sort=test", page.url)
        shown = page.locator("table.console tbody tr td.test-id code").all_inner_texts()
        self.assertEqual(shown, sorted(self.flaky))
        self.browser.assert_quiet(self)


SCHEME_COLOURS = {
    "light": {
        "background": "rgb(255, 255, 255)",
        "text": "rgb(31, 35, 40)",
        "header": "rgb(246, 248, 250)",
        "bad": "rgb(164, 14, 38)",
    },
    "dark": {
        "background": "rgb(13, 17, 23)",
        "text": "rgb(230, 237, 243)",
        "header": "rgb(21, 27, 35)",
        "bad": "rgb(255, 171, 168)",
    },
}
"""As seedboard.css colours them: the page, its text, the header band, a failure's colour."""

COMPUTED_STYLES = """() => {
    const style = (selector, property) => {
        const element = document.querySelector(selector);
        return element ? getComputedStyle(element)[property] : null;
    };
    return {
        sheets: Array.from(document.styleSheets, sheet => sheet.href),
        font: style("body", "fontFamily"),
        background: style("body", "backgroundColor"),
        text: style("body", "color"),
        header: style("header", "backgroundColor"),
        badge: style(".badge.outcome-failure", "color"),
        chart: style("svg.chart .o-failure", "fill"),
    };
}"""
"""What the stylesheet decides on a page; a badge or chart that the page lacks is null."""

FIRST_RUN_LINKS = """rows => rows.map(
    row => row.querySelector("a[href^='/runs/']")?.getAttribute("href")
).filter(href => href)"""
