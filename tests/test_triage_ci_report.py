"""A run's CI report as Markdown and text."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from seedboard.triage.ci_report import (
    MAX_SHOWN,
    Links,
    ReportedComparison,
    ReportedFailure,
    ReportedRun,
    RunReport,
    markdown,
    text,
)

RUN = ReportedRun("a" * 32, "main", "1a2b3c4d5e6f7a8b", False, 10, 2)
NEW = ReportedFailure(
    "pkg.T.test_x",
    "seed-dependent",
    0.5,
    4,
    "FailTest: `x` != <n>",
    7,
    "from seedboard.testing import seed\n\nclass T(...):\n    @seed(7)\n    def test_x(self):",
    "SEEDBOARD_SEED=7 trial pkg.T.test_x",
)
KNOWN = ReportedFailure("pkg.T.test_y", "broken", 1.0, 4, "FailTest: no", None, None, None)
COMPARED = ReportedComparison("b" * 32, 1, 1, 1, 0, 0)


class MarkdownTests(SynchronousTestCase):
    def test_sections_and_snippet(self) -> None:
        """New and known failures get sections; the snippet is a Python code block; inline
        code holding a backtick stays inline code."""
        report = RunReport(RUN, [NEW], [KNOWN], [], ["pkg.T.test_z"], COMPARED)
        found = markdown(report)
        self.assertIn("2 of 10 results failed on main at 1a2b3c4d5e6f: 1 new, 1 known.", found)
        self.assertIn("### New failures (1)", found)
        self.assertIn("### Known failures (1)", found)
        self.assertIn("### Fixed (1)", found)
        self.assertIn("`` FailTest: `x` != <n> ``", found)
        self.assertIn("  - failure: `FailTest: no`\n\n### Fixed (1)", found)
        self.assertIn("    ```python\n    from seedboard.testing import seed\n\n", found)
        self.assertIn("        @seed(7)", found)
        self.assertNotIn("](", found)  # no address: no links

    def test_links_with_an_address(self) -> None:
        """With the server's address, the run, the previous run and each test are links."""
        links = Links("https://sb.example/", lambda t: f"/tests/{t}", lambda r: f"/runs/{r}")
        found = markdown(RunReport(RUN, [NEW], comparison=COMPARED), links)
        self.assertIn(f"[{'a' * 12}](https://sb.example/runs/{'a' * 32})", found)
        self.assertIn("[`pkg.T.test_x`](https://sb.example/tests/pkg.T.test_x)", found)

    def test_all_passed_and_long_lists(self) -> None:
        """A green run says so; a long section is cut at MAX_SHOWN with a count."""
        green = ReportedRun("c" * 32, None, None, False, 5, 0)
        self.assertIn("All 5 results passed on no branch.", markdown(RunReport(green)))
        many = [KNOWN] * (MAX_SHOWN + 3)
        self.assertIn("…and 3 more.", markdown(RunReport(RUN, many)))


class TextTests(SynchronousTestCase):
    def test_plain(self) -> None:
        """Plain text carries the same facts without Markdown."""
        found = text(RunReport(RUN, [NEW], comparison=COMPARED))
        self.assertIn("New failures (1):", found)
        self.assertIn("replay: SEEDBOARD_SEED=7 trial pkg.T.test_x", found)
        self.assertIn("        @seed(7)", found)
        self.assertNotIn("###", found)
