"""Imports: what trial loads on every run stays light, and every name comes from its home."""

from __future__ import annotations

import json
import subprocess

from twisted.trial.unittest import SynchronousTestCase

from tests.source import bindings, first_party_imports, module_file, modules, parse
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


PENDING_REEXPORTS: set[tuple[str, str, str]] = set()
"""Imports through a re-export, each kept until its importer imports from
``seedboard.settings`` (its owner's change; seeds.py then drops its ``as``)."""


class ImportHomeTests(SynchronousTestCase):
    def test_names_come_from_their_module(self) -> None:
        """Every ``from seedboard… import name`` names the module that defines ``name``:
        nothing is passed on through another module (the uploader, the spool)."""
        found = []
        for path in modules("seedboard", "reporter", "tests", "bench", "alembic"):
            where = str(path.relative_to(REPO))
            for line, module, name in first_party_imports(parse(path)):
                problem = _import_problem(module, name)
                if problem and (where, module, name) not in PENDING_REEXPORTS:
                    found.append(f"{where}:{line}: {name} from {module}: {problem}")
        self.assertEqual(found, [])

    def test_the_check_finds_a_reexport(self) -> None:
        """The check above tells a re-exported name from one defined where it is imported."""
        self.assertEqual(
            _import_problem("seedboard.seeds", "SEED_ENV"), "imported there from elsewhere"
        )
        self.assertIsNone(_import_problem("seedboard.settings", "SEED_ENV"))
        self.assertIsNone(_import_problem("seedboard.db", "runs"))
        self.assertEqual(_import_problem("seedboard.settings", "NOWHERE"), "not defined there")


def _import_problem(module: str, name: str) -> str | None:
    """Why importing ``name`` from ``module`` is not importing it from its home, if it is not."""
    source = module_file(module)
    if source is None or module_file(f"{module}.{name}") is not None:
        return None  # not ours, or a submodule
    bound = bindings(parse(source))
    if name in bound.defined:
        return None
    return "imported there from elsewhere" if name in bound.imported else "not defined there"
