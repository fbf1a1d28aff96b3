"""Headless Chromium for the browser tests, driven with Playwright.

The browser is the machine's own (Debian's ``chromium`` at ``/usr/bin/chromium``):
nothing is downloaded at run time.  Each test gets a ``Browser`` that records
every request its pages make, every console error and every uncaught script
error, so a test can assert that a page stayed on its own server and quiet; and
each page keeps the Content-Security-Policy violations it saw, for a test to read.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import ConsoleMessage, Page, sync_playwright
from twisted.trial.unittest import SkipTest, SynchronousTestCase

from tests.support import REPO

CHROMIUM = Path("/usr/bin/chromium")
INSTALL_HINT = "apt-get install chromium chromium-driver  (Debian's packages)"

# Headless Chromium as root needs --no-sandbox; the rest keeps it from reaching out to the
# network on its own (updates, sync, field trials).  Playwright adds --headless and a fresh
# temporary --user-data-dir itself.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

TIMEOUT_MS = 10_000
"""How long any one browser action may wait: a broken page fails fast, not after 30 s."""

RECORD_VIOLATIONS = """
window.__seedboardViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__seedboardViolations.push(
    `${event.effectiveDirective} refused ${event.blockedURI || "inline"} (at ${event.sourceFile})`
  );
});
"""
"""Run before any page's own code: keeps every Content-Security-Policy violation the page sees."""


def screenshots_folder() -> Path:
    """Where screenshots go: ``$SEEDBOARD_SCREENSHOTS``, else ``screenshots/`` in the checkout."""
    folder = Path(os.environ.get("SEEDBOARD_SCREENSHOTS") or REPO / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def require_chromium() -> None:
    """Skip the test when Chromium is missing, except in CI, where that is a failure."""
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return
    message = f"the browser tests need Chromium at {CHROMIUM}: {INSTALL_HINT}"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        raise AssertionError(f"{message}; .ci/run should have installed it")
    raise SkipTest(message)


class Browser:
    """One headless Chromium for one test, closed when the test ends.

    Every page of every context it opens reports to the same lists:
    ``requests`` (each URL asked for), ``console_errors`` and ``page_errors``.
    """

    def __init__(self, case: SynchronousTestCase, origin: str) -> None:
        require_chromium()
        self.origin = origin
        self.requests: list[str] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        playwright = sync_playwright().start()
        case.addCleanup(playwright.stop)
        self._browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        case.addCleanup(self._browser.close)

    def page(self, **options: Any) -> Page:
        """A page in a new context (``new_context`` options), allowed to use the clipboard."""
        context = self._browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=self.origin)
        context.on("request", lambda request: self.requests.append(request.url))
        context.on("console", self._console)
        context.on("weberror", lambda error: self.page_errors.append(str(error.error)))
        context.add_init_script(RECORD_VIOLATIONS)
        return context.new_page()

    @contextmanager
    def context_page(self, **options: Any) -> Iterator[Page]:
        """A page as ``page`` gives it, its context closed afterwards."""
        page = self.page(**options)
        try:
            yield page
        finally:
            page.context.close()

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(f"{message.text} (at {message.location.get('url')})")

    def policy_violations(self, page: Page) -> list[str]:
        """The Content-Security-Policy violations of the document ``page`` shows now."""
        violations = page.evaluate("window.__seedboardViolations")
        return [str(violation) for violation in violations]

    def foreign_requests(self) -> list[str]:
        """Every request made so far to anywhere but the server under test."""
        return [url for url in self.requests if not url.startswith(self.origin + "/")]

    def assert_quiet(self, case: SynchronousTestCase) -> None:
        """No console error (a CSP violation is one), no script error, nothing fetched elsewhere."""
        case.assertEqual(self.console_errors, [], "console errors")
        case.assertEqual(self.page_errors, [], "uncaught script errors")
        case.assertEqual(self.foreign_requests(), [], "requests to other origins")


def screenshot(page: Page, name: str, full_page: bool = True) -> Path:
    """A PNG of what ``page`` shows now (the whole page, or only what the viewport
    shows), as ``<name>.png`` in the screenshots folder."""
    path = screenshots_folder() / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
