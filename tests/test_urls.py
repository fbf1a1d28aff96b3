"""Tests for the dashboard's paths: every test id gets a link that leads back to it."""

from __future__ import annotations

from urllib.parse import unquote

from twisted.trial.unittest import SynchronousTestCase

from seedboard.web.urls import CommitRangeError, commit_ranges, path_to_test, test_id_in_path

DOT_SEGMENTS = {".", "..", "%2e", "%2e%2e", ".%2e", "%2e."}
"""Path segments the URL standard removes, compared without case: browsers drop them."""


def segment_of(test_id: str) -> str:
    path = path_to_test(test_id)
    prefix = "/tests/"
    assert path.startswith(prefix), path
    return path[len(prefix) :]


class PathToTestTests(SynchronousTestCase):
    def test_round_trip(self) -> None:
        """Each id's link, percent-decoded as the server does, gives the id back."""
        ids = [".", "..", "...", ".~", "..~", "..~~", "~", ".x", "a.b", "a/..", "/..", "%2E", "x y"]
        for test_id in ids:
            self.assertEqual(test_id_in_path(unquote(segment_of(test_id))), test_id, test_id)

    def test_no_dot_segments(self) -> None:
        """No link is a segment that browsers remove, whatever the id."""
        for test_id in (".", "..", "%2E", "%2e%2e", ".%2E", "/.", "../"):
            segment = segment_of(test_id)
            self.assertNotIn(segment.lower(), DOT_SEGMENTS, test_id)
            self.assertNotIn("/", segment, test_id)

    def test_dots_escaped_with_a_tilde(self) -> None:
        """``.`` and ``..`` are linked with a tilde after them; ids that look like that
        get one more; every other id is only percent-encoded."""
        self.assertEqual(path_to_test("."), "/tests/.~")
        self.assertEqual(path_to_test(".."), "/tests/..~")
        self.assertEqual(path_to_test("..~"), "/tests/..~~")
        self.assertEqual(path_to_test("..."), "/tests/...")
        self.assertEqual(path_to_test("a/.."), "/tests/a%2F..")

    def test_plain_forms_still_name_the_dots(self) -> None:
        """``/tests/..`` and ``/tests/%2E%2E`` (as a script may send them) name ``..``."""
        self.assertEqual(test_id_in_path(".."), "..")
        self.assertEqual(test_id_in_path(unquote("%2E")), ".")


class CommitRangeTests(SynchronousTestCase):
    def test_github(self) -> None:
        """A GitHub repository links /compare/A...B, with or without .git or a slash."""
        for repository in (
            "https://github.com/o/r",
            "https://github.com/o/r.git",
            "https://github.com/o/r/",
        ):
            ranges = commit_ranges(repository, None)
            self.assertEqual(ranges.url("aaa", "bbb"), "https://github.com/o/r/compare/aaa...bbb")

    def test_gitlab(self) -> None:
        """A GitLab repository, on gitlab.com or a host named gitlab, links /-/compare/A...B."""
        for base in ("https://gitlab.com/g/sub/r", "https://gitlab.example.org/g/r"):
            ranges = commit_ranges(base, None)
            self.assertEqual(ranges.url("aaa", "bbb"), f"{base}/-/compare/aaa...bbb")

    def test_template_wins(self) -> None:
        """A template fills {from} and {to}, whatever the repository says."""
        ranges = commit_ranges("https://github.com/o/r", "https://git.example.org/log/{from}..{to}")
        self.assertEqual(ranges.url("a/b", "c"), "https://git.example.org/log/a%2Fb..c")

    def test_nothing_known(self) -> None:
        """Without a repository or template, and for a missing commit, there is no link."""
        self.assertIsNone(commit_ranges(None, None).url("aaa", "bbb"))
        self.assertIsNone(commit_ranges("https://github.com/o/r", None).url(None, "bbb"))

    def test_bad_settings(self) -> None:
        """An unknown host, a page that is no repository, a template without both
        placeholders or not http(s) are refused, naming what to give."""
        for repository, template in [
            ("https://git.example.org/o/r", None),
            ("https://github.com/", None),
            ("git@github.com:o/r.git", None),
            (None, "https://x.example/{from}"),
            (None, "javascript:alert('{from}{to}')"),
        ]:
            with self.assertRaises(CommitRangeError) as raised:
                commit_ranges(repository, template)
            self.assertIn(
                "{from}"
                if template or "git.example" in str(repository)
                else "https://github.com/OWNER/NAME",
                str(raised.exception),
            )
