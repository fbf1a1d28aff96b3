"""Tests for the dashboard's paths: every test id gets a link that leads back to it."""

from __future__ import annotations

from urllib.parse import unquote

from twisted.trial.unittest import SynchronousTestCase

from seedboard.web.urls import path_to_test, test_id_in_path

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
