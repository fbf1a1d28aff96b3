"""What a run records about itself: host, versions, command line, branch, commit.

Branch, commit and build URL come from ``SEEDBOARD_BRANCH``/``_COMMIT``/
``_BUILD_URL`` first, then the variables of the common CI systems, then git.
Worked out off the tests' path: by embedded mode's importer (``seedboard.spooled``),
from the spool file's header and the environment trial gave it; in server mode on
the recorder's thread, from the ``RunFacts`` the reporter keeps.
"""

from __future__ import annotations

import platform
import re
import shlex
import socket
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import twisted

from seedboard.domain import CONTROL_CHARACTERS, RunStart
from seedboard.settings import BRANCH_ENV, BUILD_URL_ENV, COMMIT_ENV, REPLAY_ENV

GIT_TIMEOUT = 2.0

_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")


def one_line(text: str) -> str:
    """``text`` with each control character (newline, tab, escape...) as U+FFFD: the
    server refuses them in a run's metadata, which is shown on one line and put into
    shell commands, and a run should not be lost for an odd argument."""
    return _CONTROL.sub("\ufffd", text)


def _one_line_or_none(text: str | None) -> str | None:
    return None if text is None else one_line(text)


@dataclass(frozen=True)
class SourceInfo:
    """Where the code under test came from."""

    branch: str | None = None
    commit: str | None = None
    build_url: str | None = None

    def or_else(self, other: SourceInfo) -> SourceInfo:
        return SourceInfo(
            branch=self.branch or other.branch,
            commit=self.commit or other.commit,
            build_url=self.build_url or other.build_url,
        )


def _first(environ: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = environ.get(name, "").strip()
        if value:
            return value
    return None


def _strip_ref(branch: str | None) -> str | None:
    if branch is None:
        return None
    for prefix in ("refs/heads/", "origin/"):
        branch = branch.removeprefix(prefix)
    return branch


def _github(env: Mapping[str, str]) -> SourceInfo:
    url = None
    if all(env.get(n) for n in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")):
        url = (
            f"{env['GITHUB_SERVER_URL']}/{env['GITHUB_REPOSITORY']}"
            f"/actions/runs/{env['GITHUB_RUN_ID']}"
        )
    return SourceInfo(
        _first(env, "GITHUB_HEAD_REF", "GITHUB_REF_NAME"), _first(env, "GITHUB_SHA"), url
    )


def _gitlab(env: Mapping[str, str]) -> SourceInfo:
    branch = _first(env, "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "CI_COMMIT_REF_NAME")
    return SourceInfo(branch, _first(env, "CI_COMMIT_SHA"), _first(env, "CI_JOB_URL"))


def _circle(env: Mapping[str, str]) -> SourceInfo:
    return SourceInfo(
        _first(env, "CIRCLE_BRANCH"), _first(env, "CIRCLE_SHA1"), _first(env, "CIRCLE_BUILD_URL")
    )


def _travis(env: Mapping[str, str]) -> SourceInfo:
    return SourceInfo(
        _first(env, "TRAVIS_PULL_REQUEST_BRANCH", "TRAVIS_BRANCH"),
        _first(env, "TRAVIS_PULL_REQUEST_SHA", "TRAVIS_COMMIT"),
        _first(env, "TRAVIS_BUILD_WEB_URL"),
    )


def _jenkins(env: Mapping[str, str]) -> SourceInfo:
    branch = _strip_ref(_first(env, "CHANGE_BRANCH", "BRANCH_NAME", "GIT_BRANCH"))
    return SourceInfo(branch, _first(env, "GIT_COMMIT"), _first(env, "BUILD_URL"))


def _buildkite(env: Mapping[str, str]) -> SourceInfo:
    return SourceInfo(
        _first(env, "BUILDKITE_BRANCH"),
        _first(env, "BUILDKITE_COMMIT"),
        _first(env, "BUILDKITE_BUILD_URL"),
    )


def _azure(env: Mapping[str, str]) -> SourceInfo:
    branch = _strip_ref(_first(env, "SYSTEM_PULLREQUEST_SOURCEBRANCH", "BUILD_SOURCEBRANCH"))
    url = None
    if all(env.get(n) for n in ("SYSTEM_COLLECTIONURI", "SYSTEM_TEAMPROJECT", "BUILD_BUILDID")):
        url = (
            f"{env['SYSTEM_COLLECTIONURI']}{env['SYSTEM_TEAMPROJECT']}"
            f"/_build/results?buildId={env['BUILD_BUILDID']}"
        )
    return SourceInfo(branch, _first(env, "BUILD_SOURCEVERSION"), url)


def _bitbucket(env: Mapping[str, str]) -> SourceInfo:
    url = None
    if env.get("BITBUCKET_GIT_HTTP_ORIGIN") and env.get("BITBUCKET_BUILD_NUMBER"):
        url = (
            f"{env['BITBUCKET_GIT_HTTP_ORIGIN']}/addon/pipelines/home#!/results/"
            f"{env['BITBUCKET_BUILD_NUMBER']}"
        )
    return SourceInfo(_first(env, "BITBUCKET_BRANCH"), _first(env, "BITBUCKET_COMMIT"), url)


CI_SYSTEMS: Sequence[tuple[str, Callable[[Mapping[str, str]], SourceInfo]]] = (
    ("GITHUB_ACTIONS", _github),
    ("GITLAB_CI", _gitlab),
    ("CIRCLECI", _circle),
    ("TRAVIS", _travis),
    ("JENKINS_URL", _jenkins),
    ("BUILDKITE", _buildkite),
    ("TF_BUILD", _azure),
    ("BITBUCKET_BUILD_NUMBER", _bitbucket),
)
"""Each CI system, by the variable that says a job runs on it."""


def overrides(environ: Mapping[str, str]) -> SourceInfo:
    return SourceInfo(
        _first(environ, BRANCH_ENV),
        _first(environ, COMMIT_ENV),
        _first(environ, BUILD_URL_ENV),
    )


def ci_source(environ: Mapping[str, str]) -> SourceInfo:
    for marker, read in CI_SYSTEMS:
        if environ.get(marker):
            return read(environ)
    return SourceInfo()


def git_source(cwd: Path) -> SourceInfo:
    """Branch and commit of the checkout at ``cwd``, if it is one."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD", "--abbrev-ref", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return SourceInfo()
    lines = done.stdout.split()
    if done.returncode != 0 or len(lines) != 2:
        return SourceInfo()
    commit, branch = lines
    return SourceInfo(branch=None if branch == "HEAD" else branch, commit=commit)


def source_info(environ: Mapping[str, str], cwd: Path) -> SourceInfo:
    known = overrides(environ).or_else(ci_source(environ))
    if known.branch and known.commit:
        return known
    return known.or_else(git_source(cwd))


def command_line(argv: Sequence[str]) -> str:
    """The command as a user would retype it: ``trial …``, not a venv's full path."""
    program = Path(argv[0]).name if argv else "trial"
    if program == "__main__.py":
        program = "python -m twisted.trial"
    return one_line(" ".join([program, *(shlex.quote(arg) for arg in argv[1:])]))


def run_start(
    run_id: str,
    started_at: datetime,
    environ: Mapping[str, str],
    cwd: Path,
    argv: Sequence[str],
    order_seed: int | None,
    run_seed: int | None = None,
) -> RunStart:
    source = source_info(environ, cwd)
    return RunStart(
        id=run_id,
        started_at=started_at,
        host=one_line(socket.gethostname()),
        python_version=platform.python_version(),
        twisted_version=twisted.__version__,
        command=command_line(argv),
        order_seed=order_seed,
        branch=_one_line_or_none(source.branch),
        commit=_one_line_or_none(source.commit),
        build_url=_one_line_or_none(source.build_url),
        run_seed=run_seed,
        is_replay=environ.get(REPLAY_ENV) == "1",
    )
