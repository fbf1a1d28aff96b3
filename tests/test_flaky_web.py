"""Tests for the copy buttons' script: served from /static/, nothing else is, and the
Content-Security-Policy lets only this site's own scripts run."""

from __future__ import annotations

import re
from pathlib import Path
from typing import cast

import treq
from treq.testing import StubTreq

from seedboard.db.pool import SynchronousPool
from seedboard.domain import Outcome
from seedboard.web.app import Dashboard
from seedboard.web.render import make_environment
from tests.support import result
from tests.test_web import BASE, DashboardCase, HTTPClient


class StaticTests(DashboardCase):
    def fetch(self, path: str, client: HTTPClient | None = None) -> tuple[int, str, bytes]:
        response = self.successResultOf((client or self.client).request("GET", BASE + path))
        body: bytes = self.successResultOf(treq.content(response))
        content_type = (response.headers.getRawHeaders("content-type") or [""])[0]
        return response.code, content_type, body

    def test_copy_js(self) -> None:
        """/static/copy.js is served as JavaScript, not to be sniffed as anything else."""
        response = self.get("/static/copy.js")
        self.assertEqual(response.code, 200)
        self.assertEqual(
            response.headers.getRawHeaders("content-type"), ["text/javascript; charset=utf-8"]
        )
        self.assertEqual(response.headers.getRawHeaders("x-content-type-options"), ["nosniff"])
        script: bytes = self.successResultOf(treq.content(response))
        for needed in (b"navigator.clipboard.writeText", b'execCommand("copy")', b"Copied"):
            self.assertIn(needed, script)

    def test_no_inline_script(self) -> None:
        """No page has an inline script: every script element names a file of this site."""
        run_id = self.record([result("pkg.T.test_x", Outcome.FAILURE, seed=6)], run_seed=3)
        for path in ("/", f"/runs/{run_id}", "/tests/pkg.T.test_x", "/nowhere"):
            page = self.page(path, status=404 if path == "/nowhere" else 200)
            scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
            for attributes, body in scripts:
                self.assertRegex(attributes, r'^ src="/static/[\w.-]+"')
                self.assertEqual(body, "")

    def test_escapes_refused(self) -> None:
        """Paths leading out of the static folder, however encoded, serve nothing."""
        root = Path(self.mktemp())
        (root / "static").mkdir(parents=True)
        (root / "static" / "ok.js").write_text("ok")
        (root / "static" / ".hidden.js").write_text("hidden")
        (root / "secret.js").write_text("secret")
        dashboard = Dashboard(
            SynchronousPool(self.database), make_environment(), static=root / "static"
        )
        client = cast(HTTPClient, StubTreq(dashboard.app.resource()))
        self.assertEqual(self.fetch("/static/ok.js", client)[::2], (200, b"ok"))
        for path in (
            "/static/../secret.js",
            "/static/%2e%2e/secret.js",
            "/static/%2E%2E%2Fsecret.js",
            "/static/..%2fsecret.js",
            "/static/ok/../../secret.js",
            "/static/..%5csecret.js",
            "/static//secret.js",
            "/static/.hidden.js",
            "/static/%00",
            "/static/",
        ):
            status, content_type, body = self.fetch(path, client)
            self.assertEqual(status, 404, path)
            self.assertEqual(content_type, "text/html; charset=utf-8", path)
            self.assertNotIn(b"secret", body, path)

    def test_templates_not_served(self) -> None:
        """The templates beside the static folder are never served, raw or rendered."""
        for path in (
            "/static/../base.html",
            "/static/%2e%2e/base.html",
            "/static/%2e%2e%2fflaky.html",
        ):
            status, _, body = self.fetch(path)
            self.assertEqual(status, 404, path)
            self.assertNotIn(b"{% block", body, path)

    def test_only_known_types(self) -> None:
        """Files of other types in the static folder are not served."""
        root = Path(self.mktemp())
        root.mkdir()
        (root / "notes.txt").write_text("notes")
        dashboard = Dashboard(SynchronousPool(self.database), make_environment(), static=root)
        client = cast(HTTPClient, StubTreq(dashboard.app.resource()))
        self.assertEqual(self.fetch("/static/notes.txt", client)[0], 404)


class SecurityTests(DashboardCase):
    def test_content_security_policy(self) -> None:
        """Scripts may come from this site only, never inline; all else stays as strict."""
        response = self.get("/")
        [policy] = response.headers.getRawHeaders("content-security-policy")
        directives = {
            name: values
            for name, *values in (part.split() for part in policy.split(";") if part.strip())
        }
        self.assertEqual(
            directives,
            {
                "default-src": ["'none'"],
                "script-src": ["'self'"],
                "style-src": ["'unsafe-inline'"],
                "base-uri": ["'none'"],
                "form-action": ["'self'"],
            },
        )
