"""The site's routes: each read fetches a view and replies with its page or JSON twin.

Every page has a JSON twin under ``/api/v1`` at the same resource: both
routes are one handler, which fetches a view (``seedboard.web.views``) and
hands it to ``reply``, the one place a view becomes HTML or JSON.  Writes,
login and static files are delegated to their own modules; errors from any
route are mapped in ``seedboard.web.problems``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import msgspec
from jinja2 import Environment
from klein import Klein, KleinRenderable
from klein.resource import KleinResource
from msgspec import Struct
from twisted.python.failure import Failure
from twisted.python.filepath import FilePath
from twisted.web.server import Request
from werkzeug.routing import PathConverter

from seedboard.db.compare import NoSuchRun, previous_run
from seedboard.db.pool import Pool
from seedboard.db.runs import ReplayFilter, RunFilters, get_run, list_runs
from seedboard.domain import RunSummary
from seedboard.services.ci_report import run_report
from seedboard.services.clusters import Cluster, failure_clusters
from seedboard.services.compare import compare_runs, compare_with_previous
from seedboard.services.flaky import WINDOW, flaky_tests
from seedboard.services.history import history_and_triage
from seedboard.services.quarantines import (
    owned_among,
    owned_tests,
    page_links,
    run_page_links,
    test_page_links,
)
from seedboard.services.seeds import known_seeds
from seedboard.services.trends import trends
from seedboard.triage.ci_report import is_flaky_class
from seedboard.triage.listing import SortKey, sort_key_type
from seedboard.triage.report import TestTriage
from seedboard.triage.trends import durations
from seedboard.web import answers
from seedboard.web.auth import Access
from seedboard.web.badge import badge_message, badge_svg, svg_headers
from seedboard.web.cache import ReadCache
from seedboard.web.lanes import HeavyLane
from seedboard.web.linked_views import (
    LinkedClustersView,
    LinkedCompareView,
    LinkedFlakyView,
    LinkedRunView,
    LinkedTestView,
    LinkedTrendsView,
    clustered_tests,
    clusters_among,
    compared_tests,
    comparison_among,
    trends_among,
)
from seedboard.web.login import Login
from seedboard.web.openapi import openapi_document
from seedboard.web.problems import Problem, bad_request, not_found, problem_of
from seedboard.web.quarantines import QuarantineWrites
from seedboard.web.queries import (
    BadgeQuery,
    ClustersQuery,
    CompareQuery,
    FlakyQuery,
    LoginQuery,
    OptionalCompareQuery,
    ReportQuery,
    RunQuery,
    RunsQuery,
    SeedsQuery,
    TestQuery,
    TrendsQuery,
    wanted_owner,
)
from seedboard.web.requests import html_headers, is_api, json_headers, query
from seedboard.web.static import serve_static
from seedboard.web.templates import static_directory
from seedboard.web.to_json import encode_json, error_answer, known_seeds_answer
from seedboard.web.urls import NO_RANGES, CommitRanges, cursor_key, test_id_in_path
from seedboard.web.views import (
    ClustersView,
    CompareView,
    FlakyView,
    RunsView,
    RunView,
    TestView,
    TrendsView,
    View,
)
from seedboard.web.webhooks import WebhookRoutes
from seedboard.web.writes import Writes

PICKABLE_RUNS = 50
"""Recent runs the compare page offers to pick from."""


class AnyPathConverter(PathConverter):
    """Like werkzeug's ``path``, but also matching a leading ``/``: any test id is routable,
    ``.`` and ``..`` as ``path_to_test`` links them (``urls.test_id_in_path``)."""

    regex = ".+"
    part_isolating = False

    def to_python(self, value: str) -> str:
        return test_id_in_path(value)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Dashboard:
    """The web dashboard and API over one database, reached only through ``pool``.

    With ``private``, reading needs a token too: a bearer header, or a login
    session started with one at ``/login``.  The heavy reads (flaky tests, trends,
    comparisons) go through ``heavy``, their own lane (by default one over ``pool``
    with the default limits), and are shared while identical.
    """

    app = Klein()
    app.url_map.converters["any_path"] = AnyPathConverter

    def __init__(
        self,
        pool: Pool,
        templates: Environment,
        clock: Callable[[], datetime] = utc_now,
        private: bool = False,
        static: Path | None = None,
        heavy: HeavyLane | None = None,
        ranges: CommitRanges = NO_RANGES,
    ) -> None:
        self._pool = pool
        self._ranges = ranges
        self._heavy = heavy or HeavyLane(pool)
        self._cache = ReadCache(pool, clock, compute=self._heavy.read)
        self._templates = templates
        self._static = FilePath(str(static or static_directory()))
        self._clock = clock
        self._access = self.access = Access(pool, clock, private)  # the site checks writers too
        self._writes = Writes(pool, self._access, clock)
        self._quarantines = QuarantineWrites(pool, self._access, clock)
        self._webhooks = WebhookRoutes(pool, self._access, clock)
        self._login = Login(pool, self._access, clock, self.render)
        self._openapi = encode_json(openapi_document())

    def resource(self) -> KleinResource:
        """What the site serves: the routes, behind a check that the address is UTF-8."""
        return DashboardResource(self)

    # Reads: each page and its JSON twin.

    @app.route("/", methods=["GET"])
    @app.route("/api/v1/runs", methods=["GET"])
    async def runs(self, request: Request) -> bytes:
        await self._access.require_reader(request)
        wanted = query(request, RunsQuery)
        page = await self._pool.read(list_runs, wanted.limit, wanted.before, wanted.filters())
        return self.reply(request, RunsView(page, wanted))

    @app.route("/runs/<run_id>", methods=["GET"])
    @app.route("/api/v1/runs/<run_id>", methods=["GET"])
    async def run(self, request: Request, run_id: str) -> bytes:
        await self._access.require_reader(request)
        wanted = query(request, RunQuery)
        detail = await self._pool.read(get_run, run_id)
        if detail is None:
            raise not_found(f"No run with id {run_id!r}.")
        listed = [r.test_id for r in detail.results]
        if is_api(request):
            previous = await self._pool.read(previous_run, run_id)
            previous_id = (previous and previous.id) or None
            comparison = None
        else:
            comparison = await self._pool.read(compare_with_previous, run_id)
            previous_id = None if comparison is None else comparison.a.id
        others = [] if comparison is None else comparison.diff.removed_tests
        links = await self._pool.read(run_page_links, run_id, listed, others, self._clock())
        owner = wanted_owner(wanted.owner)
        owned = None if owner is None else owned_among(links, owner)
        if comparison is not None and owned is not None:
            comparison = comparison_among(comparison, owned)
        view = RunView(detail, previous_id, comparison, wanted, owned)
        return self.reply(request, LinkedRunView(view, links))

    @app.route("/compare", methods=["GET"])
    @app.route("/api/v1/compare", methods=["GET"])
    async def compare(self, request: Request) -> bytes:
        await self._access.require_reader(request)
        if not is_api(request):
            given = query(request, OptionalCompareQuery)
            if given.a is None and given.b is None:
                view = CompareView(None, None, None, await self._pickable())
                return self.reply(request, LinkedCompareView(view))
        runs = query(request, CompareQuery)
        try:
            comparison = await self._cache.read(compare_runs, runs.a, runs.b, keep=False)
        except NoSuchRun as missing:
            field = "a" if missing.run_id == runs.a else "b"
            raise Problem(
                404, "not_found", f"No run with id {missing.run_id!r}.", field=field
            ) from None
        links = await self._pool.read(page_links, compared_tests(comparison), self._clock())
        owner = wanted_owner(runs.owner)
        if owner is not None:
            comparison = comparison_among(comparison, owned_among(links, owner))
        pickable = [] if is_api(request) else await self._pickable(comparison.b.start.branch)
        view = CompareView(runs.a, runs.b, comparison, pickable)
        return self.reply(request, LinkedCompareView(view, links, owner))

    async def _pickable(self, branch: str | None = None) -> list[RunSummary]:
        """The runs the compare page offers to pick from: the latest of ``branch`` (the
        later run's, once there is one), replays left out."""
        chosen = RunFilters(branch=branch, replay=ReplayFilter.EXCLUDE)
        page = await self._pool.read(list_runs, PICKABLE_RUNS, None, chosen)
        return page.runs

    @app.route("/tests/<any_path:test_id>", methods=["GET"])
    @app.route("/api/v1/tests/<any_path:test_id>", methods=["GET"])
    async def test(self, request: Request, test_id: str) -> bytes:
        """The test's latest results and its triage over the default window, on every
        branch, in one read."""
        await self._access.require_reader(request)
        limit = query(request, TestQuery).limit
        found = await self._pool.read(history_and_triage, test_id, limit)
        if found is None:
            raise not_found(f"No test with id {test_id!r}.")
        history, triage = found
        view = TestView(history, triage, durations(history.runs), WINDOW, self._ranges)
        links, changes = await self._pool.read(test_page_links, test_id, self._clock())
        return self.reply(request, LinkedTestView(view, links, changes))

    @app.route("/flaky", methods=["GET"])
    @app.route("/api/v1/flaky", methods=["GET"])
    async def flaky(self, request: Request) -> bytes:
        await self._access.require_reader(request)
        wanted = query(request, FlakyQuery)
        after = _flaky_page_start(wanted)
        tests = await self._cache.read(
            flaky_tests, wanted.window, wanted.branch, weight=_flaky_weight
        )
        owner = wanted_owner(wanted.owner)
        if owner is not None:
            owned = await self._pool.read(owned_tests, owner)
            tests = [t for t in tests if t.test_id in owned]
        view = FlakyView(tests, wanted, after, self._ranges)
        links = await self._pool.read(page_links, view.listed(), self._clock())
        return self.reply(request, LinkedFlakyView(view, links, owner))

    @app.route("/trends", methods=["GET"])
    @app.route("/api/v1/trends", methods=["GET"])
    async def trends(self, request: Request) -> bytes:
        await self._access.require_reader(request)
        wanted = query(request, TrendsQuery)
        found = await self._cache.read(trends, wanted.days, self._today(), wanted.branch)
        listed = [t.test_id for t in found.most_flaky]
        links = await self._pool.read(page_links, listed, self._clock())
        owner = wanted_owner(wanted.owner)
        if owner is not None:
            found = trends_among(found, owned_among(links, owner))
        return self.reply(request, LinkedTrendsView(TrendsView(found), links, owner))

    @app.route("/clusters", methods=["GET"])
    @app.route("/api/v1/clusters", methods=["GET"])
    async def clusters(self, request: Request) -> bytes:
        await self._access.require_reader(request)
        wanted = query(request, ClustersQuery)
        found = await self._cache.read(
            failure_clusters, wanted.window, wanted.branch, wanted.limit, weight=_clusters_weight
        )
        links = await self._pool.read(page_links, clustered_tests(found), self._clock())
        owner = wanted_owner(wanted.owner)
        if owner is not None:
            found = clusters_among(found, owned_among(links, owner))
        return self.reply(request, LinkedClustersView(ClustersView(found, wanted), links, owner))

    @app.route("/api/v1/seeds", methods=["GET"])
    async def seeds(self, request: Request) -> bytes:
        """Every failing seed and where it stands: what ``seedboard replay`` reads."""
        await self._access.require_reader(request)
        wanted = query(request, SeedsQuery)
        # Every result of every failing seed: a heavy read, kept until the next write.
        found = await self._cache.read(known_seeds, wanted.test, weight=len)
        return self.json(request, known_seeds_answer(found))

    @app.route("/api/v1/report", methods=["GET"])
    async def report(self, request: Request) -> bytes:
        """A run's summary for CI, as ``seedboard report`` prints it."""
        await self._access.require_reader(request)
        wanted = query(request, ReportQuery)
        found = await self._heavy.read(run_report, wanted.run)
        if found is None:
            if wanted.run is None:
                raise not_found("No run recorded yet.")
            raise Problem(404, "not_found", f"No run with id {wanted.run!r}.", field="run")
        return self.json(request, msgspec.convert(found, answers.RunReport, from_attributes=True))

    @app.route("/badge.svg", methods=["GET"])
    async def badge(self, request: Request) -> bytes:
        """The README badge: flaky tests on the branch, or passing."""
        await self._access.require_reader(request)
        wanted = query(request, BadgeQuery)
        # The flaky console's own read, shared through the cache: every test not stable.
        tests = await self._cache.read(flaky_tests, WINDOW, wanted.branch, weight=_flaky_weight)
        flaky = sum(1 for t in tests if is_flaky_class(t.verdict.classification))
        message, colour = badge_message(flaky)
        svg_headers(request, self._access.private)
        return badge_svg("flaky tests", message, colour)

    @app.route("/api/v1/openapi.json", methods=["GET"])
    def openapi(self, request: Request) -> bytes:
        # Public even on a private server: it describes the API, not the data.
        json_headers(request)
        return self._openapi

    @app.route("/static/<any_path:name>", methods=["GET"])
    async def static_file(self, request: Request, name: str) -> bytes:
        # Stylesheets are public even on a private server: the login page needs them
        # before anyone has logged in, and they hold no data.
        if not name.endswith(".css"):
            await self._access.require_reader(request)
        return serve_static(request, self._static, name)

    # Writes (seedboard.web.writes).

    @app.route("/api/v1/runs/<run_id>", methods=["PUT"])
    async def create_run(self, request: Request, run_id: str) -> bytes:
        return self.json(request, await self._writes.create_run(request, run_id))

    @app.route("/api/v1/runs/<run_id>/batches/<number>", methods=["PUT"])
    async def add_batch(self, request: Request, run_id: str, number: str) -> bytes:
        return self.json(request, await self._writes.add_batch(request, run_id, number))

    @app.route("/api/v1/runs/<run_id>/finish", methods=["POST"])
    async def finish(self, request: Request, run_id: str) -> bytes:
        return self.json(request, await self._writes.finish(request, run_id))

    @app.route("/api/v1/runs/<run_id>", methods=["DELETE"])
    async def delete_run(self, request: Request, run_id: str) -> bytes:
        return self.json(request, await self._writes.delete(request, run_id))

    @app.route("/runs/<run_id>/delete", methods=["POST"])
    async def delete_run_form(self, request: Request, run_id: str) -> bytes:
        return await self._writes.delete_from_page(request, run_id)

    @app.route("/api/v1/runs/<run_id>/order-dependencies", methods=["POST"])
    async def record_order_dependency(self, request: Request, run_id: str) -> bytes:
        return self.json(request, await self._writes.record_order_dependency(request, run_id))

    # Quarantines, issue links and owners (seedboard.web.quarantines).

    @app.route("/api/v1/quarantines", methods=["GET"])
    async def quarantines(self, request: Request) -> bytes:
        return self.json(request, await self._quarantines.listing(request))

    @app.route("/api/v1/quarantines", methods=["POST"])
    async def add_quarantine(self, request: Request) -> bytes:
        return self.json(request, await self._quarantines.add(request))

    @app.route("/api/v1/quarantines/<any_path:test>", methods=["DELETE"])
    async def remove_quarantine(self, request: Request, test: str) -> bytes:
        return self.json(request, await self._quarantines.remove(request, test))

    @app.route("/api/v1/issues/<any_path:test_id>", methods=["PUT"])
    async def link_issue(self, request: Request, test_id: str) -> bytes:
        return self.json(request, await self._quarantines.link_issue(request, test_id))

    @app.route("/api/v1/runs/<run_id>/owners", methods=["PUT"])
    async def record_owners(self, request: Request, run_id: str) -> bytes:
        return self.json(request, await self._quarantines.owners(request, run_id))

    @app.route("/quarantine", methods=["POST"])
    async def quarantine_form(self, request: Request) -> bytes:
        return await self._quarantines.from_page(request)

    # Webhooks (seedboard.web.webhooks).

    @app.route("/api/v1/webhooks", methods=["GET"])
    async def list_webhooks(self, request: Request) -> bytes:
        return self.json(request, await self._webhooks.list(request))

    @app.route("/api/v1/webhooks", methods=["POST"])
    async def add_webhook(self, request: Request) -> bytes:
        return self.json(request, await self._webhooks.add(request))

    @app.route("/api/v1/webhooks/<webhook_id>", methods=["DELETE"])
    async def remove_webhook(self, request: Request, webhook_id: str) -> bytes:
        return self.json(request, await self._webhooks.remove(request, webhook_id))

    # Logging in (seedboard.web.login).

    @app.route("/login", methods=["GET"])
    async def login_form(self, request: Request) -> bytes:
        return await self._login.form(request, query(request, LoginQuery).next)

    @app.route("/login", methods=["POST"])
    async def log_in(self, request: Request) -> bytes:
        return await self._login.log_in(request)

    @app.route("/logout", methods=["POST"])
    async def log_out(self, request: Request) -> bytes:
        return await self._login.log_out(request)

    # Answers.

    @app.handle_errors(Exception)
    def failed(self, request: Request, failure: Failure) -> bytes:
        """Errors from the routes and from routing itself (no such page, wrong method)."""
        return self.refuse(request, problem_of(request, failure))

    def refuse(self, request: Request, problem: Problem) -> bytes:
        """Answer with ``problem``: JSON under /api, else the error page."""
        request.setResponseCode(problem.status)
        for name, value in problem.headers:
            request.responseHeaders.setRawHeaders(name, [value])
        if is_api(request):
            return self.json(request, error_answer(problem.code, problem.message, problem.field))
        return self.render(request, "error.html", problem=problem)

    def reply(self, request: Request, view: View) -> bytes:
        """A view as its JSON twin under /api, else as its page."""
        if is_api(request):
            return self.json(request, view.answer())
        return self.render(request, view.template, **view.context())

    def render(self, request: Request, template: str, **context: Any) -> bytes:
        html_headers(request)
        page = self._templates.get_template(template).render(
            now=self._clock(), logout_csrf=self._access.logout_csrf(request), **context
        )
        return page.encode("utf-8")

    def json(self, request: Request, value: Struct) -> bytes:
        json_headers(request)
        return encode_json(value)

    def _today(self) -> date:
        return self._clock().astimezone(UTC).date()


class DashboardResource(KleinResource):
    """The dashboard's routes; an address that is not UTF-8 once percent-decoded, or holds
    a NUL, gets the site's own 400 (JSON under /api) rather than Klein's plain-text one
    or a database error."""

    def __init__(self, dashboard: Dashboard) -> None:
        super().__init__(dashboard.app)
        self._dashboard = dashboard

    def render(self, request: Request) -> KleinRenderable:
        try:
            path = b"/".join(request.postpath or []).decode("utf-8")
            request.getRequestHostname().decode("utf-8")
        except UnicodeDecodeError:
            return self._dashboard.refuse(
                request, bad_request("The address must be UTF-8 text once percent-decoded.")
            )
        if "\x00" in path:  # no id holds one, and PostgreSQL cannot even compare with it
            return self._dashboard.refuse(
                request, bad_request("The address must not contain NUL characters.")
            )
        return super().render(request)  # type: ignore[arg-type]


def _clusters_weight(clusters: list[Cluster]) -> int:
    """What clusters cost to keep: their tests are most of it."""
    return sum(1 + len(c.tests) for c in clusters)


def _flaky_page_start(wanted: FlakyQuery) -> SortKey | None:
    """The sort key the asked-for page starts after."""
    if wanted.after is None:
        return None
    try:
        return cursor_key(wanted.after, sort_key_type(wanted.sort))
    except ValueError:
        raise bad_request(
            f"after must be the `after` of a `next` link of this order ({wanted.sort.value}).",
            field="after",
        ) from None


def _flaky_weight(tests: list[TestTriage]) -> int:
    """What flaky tests cost to keep: their seeds are most of it (up to one per result)."""
    return sum(1 + len(t.seeds) for t in tests)
