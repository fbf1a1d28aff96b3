"""The trial plugin and the command after a real install into a fresh virtualenv.

Two installs, as users make them: a wheel (``pip install .``) and an editable
checkout (``pip install -e .``).  Each gets its own new virtualenv, so nothing
of the development environment can make the plugin appear to work.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from seedboard.db.migrate import HEAD
from tests.support import PYTHON, REPO, environment

SAMPLES = REPO / "tests" / "samples"
INSTALL_TIMEOUT = 600


def run(*command: str | Path, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    # Not the PYTHONPATH ``trial -j`` gives its workers (the development venv's
    # packages): with it, pip in the fresh venv finds Twisted installed already and
    # installs no ``trial`` there.
    given = environment(**env)
    if "PYTHONPATH" not in env:
        given.pop("PYTHONPATH", None)
    return subprocess.run(
        [str(c) for c in command],
        cwd=cwd,
        env=given,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )


class InstalledTests(SynchronousTestCase):
    def fresh_venv(self) -> Path:
        venv = Path(self.mktemp()).resolve()
        done = run(PYTHON, "-m", "venv", venv, cwd=REPO)
        self.assertEqual(done.returncode, 0, done.stderr)
        return venv / "bin"

    def check_installed(self, bin: Path) -> None:
        """trial lists the reporter, a run is recorded, and the command works."""
        listed = run(bin / "trial", "--help-reporters", cwd=REPO)
        self.assertRegex(listed.stdout, r"\n\s+seedboard\s")

        project = Path(self.mktemp()).resolve()
        shutil.copytree(SAMPLES, project)
        recorded = run(
            bin / "trial", "--reporter=seedboard", "samplepkg", cwd=project, PYTHONPATH=str(project)
        )
        self.assertIn(f"(11 results) in {project / 'seedboard.db'}", recorded.stdout)

        upgraded = run(bin / "seedboard", "db", "upgrade", cwd=project)
        self.assertEqual(
            upgraded.stdout, f"seedboard: {project / 'seedboard.db'} is at revision {HEAD}\n"
        )

    def test_wheel_install(self) -> None:
        """From a wheel: the plugin lands in twisted/plugins, templates and migrations ship."""
        wheels = Path(self.mktemp()).resolve()
        built = run(
            PYTHON,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            wheels,
            REPO,
            cwd=REPO,
        )
        self.assertEqual(built.returncode, 0, built.stderr)
        [wheel] = wheels.glob("seedboard-*.whl")
        bin = self.fresh_venv()
        installed = run(bin / "pip", "install", "-q", wheel, cwd=REPO)
        self.assertEqual(installed.returncode, 0, installed.stderr)
        self.check_installed(bin)
        where = run(
            bin / "python",
            "-c",
            "from seedboard.resources import resource_dir; print(resource_dir('templates'))",
            cwd=Path("/"),
        )
        self.assertIn("site-packages/seedboard/templates", where.stdout)

    def test_editable_install(self) -> None:
        """From an editable checkout: trial finds the plugin in reporter/twisted/plugins."""
        bin = self.fresh_venv()
        installed = run(bin / "pip", "install", "-q", "-e", REPO, cwd=REPO)
        self.assertEqual(installed.returncode, 0, installed.stderr)
        self.check_installed(bin)
