"""Import cost: what trial loads on every run must not pull in the server's libraries."""

from __future__ import annotations

import json
import subprocess

from twisted.trial.unittest import SynchronousTestCase

from tests.support import PYTHON, REPO, environment

HEAVY = ("klein", "jinja2", "sqlalchemy", "alembic", "werkzeug", "treq")

PROBE = """
import json, sys
import seedboard.testing
import seedboard_reporter.reporter
from twisted.plugin import getPlugins
from twisted.trial.itrial import IReporter
names = [p.longOpt for p in getPlugins(IReporter)]
heavy = sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[1:]))
print(json.dumps({"heavy": heavy, "plugins": names}))
"""


class ImportCostTests(SynchronousTestCase):
    def test_trial_side_stays_light(self) -> None:
        """seedboard.testing, the reporter and the plugin import no Klein/Jinja2/SQLAlchemy."""
        done = subprocess.run(
            [PYTHON, "-c", PROBE, *HEAVY],
            cwd=REPO,
            env=environment(),
            capture_output=True,
            text=True,
            check=True,
        )
        found = json.loads(done.stdout)
        self.assertIn("seedboard", found["plugins"])
        self.assertEqual(found["heavy"], [])

    def test_reporter_skips_the_domain_module(self) -> None:
        """Building a reporter's rows needs no seedboard.domain: its dataclasses compile
        their methods at import, a cost every trial run would pay."""
        probe = "import sys, seedboard_reporter.reporter; print('seedboard.domain' in sys.modules)"
        done = subprocess.run(
            [PYTHON, "-c", probe],
            cwd=REPO,
            env=environment(),
            capture_output=True,
            text=True,
            check=True,
        )
        self.assertEqual(done.stdout.strip(), "False")

    def test_probe_detects_heavy_imports(self) -> None:
        """The probe itself notices a heavy import (so the test above can fail)."""
        done = subprocess.run(
            [PYTHON, "-c", "import seedboard.db.engine\n" + PROBE, *HEAVY],
            cwd=REPO,
            env=environment(),
            capture_output=True,
            text=True,
            check=True,
        )
        self.assertEqual(json.loads(done.stdout)["heavy"], ["sqlalchemy"])
