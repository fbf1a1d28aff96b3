"""Tests for the styles: one stylesheet file, no inline style anywhere, and the
Content-Security-Policy that this lets be strict (no ``'unsafe-inline'``, no framing)."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any, cast

import treq
from treq.testing import StubTreq
from twisted.trial.unittest import SynchronousTestCase

from seedboard.db.pool import SynchronousPool
from seedboard.domain import Outcome
from seedboard.resources import resource_dir
from seedboard.web.app import Dashboard
from seedboard.web.requests import CONTENT_SECURITY_POLICY
from seedboard.web.templates import make_environment, static_directory
from tests.support import result
from tests.test_web import BASE, NOW, SCRIPT, DashboardCase

STYLESHEET = "/static/seedboard.css"


def directives(policy: str) -> dict[str, list[str]]:
    """A Content-Security-Policy by directive: ``{"style-src": ["'self'"], ...}``."""
    return {name: values for name, *values in (part.split() for part in policy.split(";"))}


class StyleFinder(HTMLParser):
    """What a page says about styles: its stylesheet links, style elements, style attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stylesheets: list[str | None] = []
        self.style_elements = 0
        self.style_attributes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "link" and attributes.get("rel") == "stylesheet":
            self.stylesheets.append(attributes.get("href"))
        if tag == "style":
            self.style_elements += 1
        if "style" in attributes:
            self.style_attributes.append(tag)

    handle_startendtag = handle_starttag


def styles_of(page: str) -> StyleFinder:
    finder = StyleFinder()
    finder.feed(page)
    finder.close()
    return finder


class PolicyTests(SynchronousTestCase):
    def test_no_unsafe_inline(self) -> None:
        """The policy allows no inline script or style, nor eval, anywhere."""
        policy = CONTENT_SECURITY_POLICY.decode("ascii")
        self.assertNotIn("unsafe-inline", policy)
        self.assertNotIn("unsafe-eval", policy)
        self.assertEqual(directives(policy)["style-src"], ["'self'"])
        self.assertEqual(directives(policy)["script-src"], ["'self'"])

    def test_no_framing(self) -> None:
        """No page may be framed by any site, so its forms cannot be clickjacked."""
        policy = CONTENT_SECURITY_POLICY.decode("ascii")
        self.assertEqual(directives(policy)["frame-ancestors"], ["'none'"])


class InlineStyleTests(DashboardCase):
    def pages(self) -> list[tuple[str, int]]:
        """Every kind of page with its status, each with what it can show: failures, seeds,
        charts, diffs; and a page that is not there."""
        earlier = self.record([result("pkg.T.test_" + SCRIPT, seed=5)], minutes_ago=90)
        failing = [result("pkg.T.test_" + SCRIPT, Outcome.FAILURE, seed=6)]
        later = self.record(failing, run_seed=3, branch="main")
        found = [
            "/",
            f"/runs/{later}",
            "/tests/pkg.T.test_%3Cscript%3Ealert(1)%3C%2Fscript%3E",
            "/flaky",
            "/trends",
            "/clusters",
            "/compare",
            f"/compare?a={earlier}&b={later}",
        ]
        return [*((path, 200) for path in found), ("/nowhere", 404)]

    def test_pages_link_the_stylesheet(self) -> None:
        """Every page, errors too, links the one stylesheet and has no style of its own."""
        for path, status in self.pages():
            styles = styles_of(self.page(path, status=status))
            self.assertEqual(styles.stylesheets, [STYLESHEET], path)
            self.assertEqual(styles.style_elements, 0, path)
            self.assertEqual(styles.style_attributes, [], path)

    def test_every_page_sends_the_policy(self) -> None:
        """Every HTML answer carries the policy, the 404 page too."""
        for path, status in self.pages():
            response = self.get(path)
            self.assertEqual(response.code, status, path)
            self.assertEqual(
                response.headers.getRawHeaders("content-security-policy"),
                [CONTENT_SECURITY_POLICY.decode("ascii")],
                path,
            )

    def test_login_page(self) -> None:
        """A private server's login page links the stylesheet and sends the policy too."""
        dashboard = Dashboard(
            SynchronousPool(self.database), make_environment(), clock=lambda: NOW, private=True
        )
        client = cast(Any, StubTreq(dashboard.app.resource()))
        response = self.successResultOf(client.request("GET", BASE + "/login"))
        self.assertEqual(response.code, 200)
        policy = response.headers.getRawHeaders("content-security-policy")
        self.assertEqual(policy, [CONTENT_SECURITY_POLICY.decode("ascii")])
        page = self.successResultOf(treq.content(response)).decode("utf-8")
        styles = styles_of(page)
        self.assertEqual(
            (styles.stylesheets, styles.style_elements, styles.style_attributes),
            ([STYLESHEET], 0, []),
        )

    def test_templates_have_no_inline_style(self) -> None:
        """No template writes a style element or attribute: the stylesheet holds them all."""
        templates = sorted(resource_dir("templates").glob("*.html"))
        self.assertIn("base.html", [template.name for template in templates])
        for template in templates:
            source = template.read_text(encoding="utf-8")
            self.assertNotIn("<style", source, template.name)
            self.assertNotIn("style=", source, template.name)


class StylesheetTests(DashboardCase):
    def test_served_as_css(self) -> None:
        """/static/seedboard.css is served as CSS, not to be sniffed as anything else."""
        response = self.get(STYLESHEET)
        self.assertEqual(response.code, 200)
        content_type = response.headers.getRawHeaders("content-type")
        self.assertEqual(content_type, ["text/css; charset=utf-8"])
        self.assertEqual(response.headers.getRawHeaders("x-content-type-options"), ["nosniff"])
        served: bytes = self.successResultOf(treq.content(response))
        self.assertEqual(served, (static_directory() / "seedboard.css").read_bytes())

    def test_light_and_dark(self) -> None:
        """The stylesheet gives the colours a light value and a dark one."""
        css = (static_directory() / "seedboard.css").read_text(encoding="utf-8")
        self.assertIn("color-scheme: light dark", css)
        self.assertIn("@media (prefers-color-scheme: dark)", css)
