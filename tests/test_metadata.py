"""Tests for run metadata: CI variables, git, overrides, command line."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from seedboard_reporter.metadata import (
    SourceInfo,
    ci_source,
    command_line,
    git_source,
    source_info,
)
from seedboard_reporter.reporter import order_seed


class CISourceTests(SynchronousTestCase):
    def test_github_actions(self) -> None:
        """GitHub Actions: head ref for pull requests, SHA, and the run's URL."""
        env = {
            "GITHUB_ACTIONS": "true",
            "GITHUB_HEAD_REF": "fix-flake",
            "GITHUB_REF_NAME": "12/merge",
            "GITHUB_SHA": "abc",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REPOSITORY": "o/r",
            "GITHUB_RUN_ID": "99",
        }
        self.assertEqual(
            ci_source(env),
            SourceInfo("fix-flake", "abc", "https://github.com/o/r/actions/runs/99"),
        )

    def test_github_push(self) -> None:
        """On a push there is no head ref: the ref name is the branch."""
        env = {"GITHUB_ACTIONS": "true", "GITHUB_HEAD_REF": "", "GITHUB_REF_NAME": "main"}
        self.assertEqual(ci_source(env).branch, "main")

    def test_gitlab(self) -> None:
        """GitLab CI: ref name, commit SHA and job URL."""
        env = {
            "GITLAB_CI": "true",
            "CI_COMMIT_REF_NAME": "dev",
            "CI_COMMIT_SHA": "def",
            "CI_JOB_URL": "https://gitlab.example/j/1",
        }
        self.assertEqual(ci_source(env), SourceInfo("dev", "def", "https://gitlab.example/j/1"))

    def test_jenkins_strips_remote(self) -> None:
        """Jenkins' GIT_BRANCH comes as origin/name; the branch is name."""
        env = {"JENKINS_URL": "https://j/", "GIT_BRANCH": "origin/rel-2", "GIT_COMMIT": "123"}
        self.assertEqual(ci_source(env), SourceInfo("rel-2", "123", None))

    def test_other_systems(self) -> None:
        """CircleCI, Travis, Buildkite, Azure and Bitbucket are read too."""
        cases = [
            ({"CIRCLECI": "true", "CIRCLE_BRANCH": "b", "CIRCLE_SHA1": "c"}, ("b", "c")),
            ({"TRAVIS": "true", "TRAVIS_BRANCH": "b", "TRAVIS_COMMIT": "c"}, ("b", "c")),
            ({"BUILDKITE": "true", "BUILDKITE_BRANCH": "b", "BUILDKITE_COMMIT": "c"}, ("b", "c")),
            (
                {
                    "TF_BUILD": "True",
                    "BUILD_SOURCEBRANCH": "refs/heads/b",
                    "BUILD_SOURCEVERSION": "c",
                },
                ("b", "c"),
            ),
            (
                {"BITBUCKET_BUILD_NUMBER": "5", "BITBUCKET_BRANCH": "b", "BITBUCKET_COMMIT": "c"},
                ("b", "c"),
            ),
        ]
        for env, expected in cases:
            found = ci_source(env)
            self.assertEqual((found.branch, found.commit), expected, env)

    def test_not_in_ci(self) -> None:
        """Outside CI nothing is known from the environment."""
        self.assertEqual(ci_source({"HOME": "/root"}), SourceInfo())


class SourceInfoTests(SynchronousTestCase):
    def make_repo(self) -> Path:
        repo = Path(self.mktemp())
        repo.mkdir()

        def git(*args: str) -> str:
            return subprocess.run(
                ["git", *args], cwd=repo, check=True, capture_output=True, text=True
            ).stdout.strip()

        git("init", "-q", "-b", "topic")
        git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "x")
        self.commit = git("rev-parse", "HEAD")
        return repo

    def test_git_checkout(self) -> None:
        """A git checkout gives its branch and commit."""
        repo = self.make_repo()
        self.assertEqual(git_source(repo), SourceInfo("topic", self.commit))

    def test_not_a_checkout(self) -> None:
        """Outside a checkout (or without git) nothing is known, and nothing fails."""
        with tempfile.TemporaryDirectory() as plain:
            self.assertEqual(git_source(Path(plain)), SourceInfo())

    def test_overrides_win(self) -> None:
        """SEEDBOARD_BRANCH/COMMIT/BUILD_URL beat CI variables, which beat git."""
        repo = self.make_repo()
        env = {
            "SEEDBOARD_BRANCH": "mine",
            "GITLAB_CI": "1",
            "CI_COMMIT_REF_NAME": "ci-branch",
            "CI_COMMIT_SHA": "ci-sha",
        }
        self.assertEqual(source_info(env, repo), SourceInfo("mine", "ci-sha", None))
        self.assertEqual(source_info({}, repo), SourceInfo("topic", self.commit, None))


class CommandLineTests(SynchronousTestCase):
    def test_trial_script(self) -> None:
        """A virtualenv's full path to trial is shown as trial, arguments quoted."""
        self.assertEqual(
            command_line(["/venv/bin/trial", "--reporter=seedboard", "my pkg"]),
            "trial --reporter=seedboard 'my pkg'",
        )

    def test_control_characters_replaced(self) -> None:
        """An argument holding a newline, tab or escape is recorded with U+FFFD in their
        place: the server refuses control characters, and the run must not be lost."""
        recorded = command_line(["/venv/bin/trial", "a\nb", "\tc\x1b"])
        self.assertEqual(recorded, "trial 'a\ufffdb' '\ufffdc\ufffd'")

    def test_module(self) -> None:
        """python -m twisted.trial is shown as such."""
        self.assertEqual(
            command_line(["/x/twisted/trial/__main__.py", "pkg"]), "python -m twisted.trial pkg"
        )

    def test_order_seed(self) -> None:
        """Only a shuffled run has an order seed."""
        self.assertEqual(order_seed({"random": 77}), 77)
        self.assertIsNone(order_seed({"random": None}))
        self.assertIsNone(order_seed(None))
