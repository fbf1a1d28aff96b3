"""Tests for the reporter object itself, built in-process."""

from __future__ import annotations

import io
import os

from twisted.trial.unittest import SynchronousTestCase

from seedboard.settings import RUN_ID_ENV, RUN_SEED_ENV
from seedboard_reporter.recording import chosen_run_id
from seedboard_reporter.reporter import SeedboardReporter


class RunSeedTests(SynchronousTestCase):
    def setUp(self) -> None:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("SEEDBOARD_")}
        clean["SEEDBOARD_DB"] = os.path.abspath(self.mktemp())
        self.patch(os, "environ", clean)

    def test_each_run_chooses_its_own(self) -> None:
        """A run seed the reporter chose lasts for its run only (trial --until-failure
        builds a reporter per pass, and each pass needs fresh seeds)."""
        seeds = []
        for _ in range(2):
            reporter = SeedboardReporter(io.StringIO())
            seeds.append(os.environ[RUN_SEED_ENV])
            reporter.done()
            self.assertNotIn(RUN_SEED_ENV, os.environ)
        self.assertNotEqual(seeds[0], seeds[1])

    def test_users_run_seed_is_kept(self) -> None:
        """A run seed the user set stays set after the run."""
        os.environ[RUN_SEED_ENV] = "42"
        SeedboardReporter(io.StringIO()).done()
        self.assertEqual(os.environ[RUN_SEED_ENV], "42")


class RunIdTests(SynchronousTestCase):
    def test_given_run_id(self) -> None:
        """SEEDBOARD_RUN_ID names the run when it is a run id; otherwise each run gets a
        fresh one, so a malformed id never costs the run."""
        given = "0123456789abcdef0123456789abcdef"
        self.assertEqual(chosen_run_id({RUN_ID_ENV: given}), given)
        for bad in ("", "XYZ", given.upper(), given + "0"):
            made = chosen_run_id({RUN_ID_ENV: bad})
            self.assertRegex(made, "^[0-9a-f]{32}$")
            self.assertNotEqual(made, chosen_run_id({RUN_ID_ENV: bad}))
