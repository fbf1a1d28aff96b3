"""Tests for reading CODEOWNERS: GitHub's and GitLab's patterns, the last match winning."""

from __future__ import annotations

from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from seedboard_reporter.owners import Owners, owners_of, parse

CODEOWNERS = """\
# Lines are read in order; the last match wins.
*                       @org/everyone
*.js                    @js-owner
/build/logs/            @doctocat
docs/*                  docs@example.com
apps/                   @octocat
/scripts/ @doctocat @octocat
**/logs                 @octocat
/apps/github
[Section] @ignored
path\\ with\\ space.py   @spaces  # a comment
"""


class PatternTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.rules = parse(CODEOWNERS)

    def owners(self, path: str) -> tuple[str, ...]:
        return owners_of(self.rules, path)

    def test_last_match_wins(self) -> None:
        """A later pattern overrides an earlier one; none matching falls back to ``*``."""
        self.assertEqual(self.owners("src/x.py"), ("@org/everyone",))
        self.assertEqual(self.owners("src/x.js"), ("@js-owner",))
        self.assertEqual(self.owners("scripts/a/b.js"), ("@doctocat", "@octocat"))

    def test_anchoring(self) -> None:
        """A leading or inner slash anchors at the root; a bare name matches at any depth."""
        self.assertEqual(self.owners("build/logs/x.txt"), ("@octocat",))  # **/logs came later
        self.assertEqual(self.owners("a/apps/b.py"), ("@octocat",))
        self.assertEqual(self.owners("docs/intro.md"), ("docs@example.com",))
        self.assertEqual(self.owners("docs/deep/intro.md"), ("@org/everyone",))

    def test_no_owners_means_none(self) -> None:
        """A pattern without owners takes them away; GitLab sections are skipped."""
        self.assertEqual(self.owners("apps/github/x.py"), ())
        self.assertEqual(self.owners("apps/other.py"), ("@octocat",))
        self.assertEqual(self.owners("path with space.py"), ("@spaces",))


class OwnersTests(SynchronousTestCase):
    def test_finds_the_file_and_judges_tests(self) -> None:
        """The file in .github/ of the repository above the working directory is used."""
        root = Path(self.mktemp()).resolve()
        (root / ".git").mkdir(parents=True)
        (root / ".github").mkdir()
        (root / ".github" / "CODEOWNERS").write_text("/pkg/ @team\n")
        (root / "pkg").mkdir()
        owners = Owners(root / "pkg")
        self.assertTrue(owners.active)
        owners.note("pkg.test_a.T.test_x", "test_a.py")
        owners.note("other", None)
        self.assertEqual(owners.tests, {"pkg.test_a.T.test_x": ("@team",), "other": ()})

    def test_no_file(self) -> None:
        """Without CODEOWNERS nothing is noted or sent."""
        folder = Path(self.mktemp()).resolve()
        folder.mkdir()
        self.assertFalse(Owners(folder).active)
