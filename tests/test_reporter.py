"""Tests for the reporter object itself, built in-process."""

from __future__ import annotations

import io
import os
from typing import NoReturn

from twisted.trial.unittest import SynchronousTestCase

from seedboard.settings import RUN_ID_ENV, RUN_SEED_ENV
from seedboard_reporter import reporter as reporter_module
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


def _sample(name: str) -> SynchronousTestCase:
    """A test to run through the reporter, made here so that trial does not collect it."""

    class Sample(SynchronousTestCase):
        def test_passes(self) -> None:
            pass

        def test_fails(self) -> None:
            self.fail("as it should")

    return Sample(name)


def _unreadable(*args: object) -> NoReturn:
    raise ValueError("no row for this one")


class UnreadableResultTests(SynchronousTestCase):
    """A result the reporter cannot turn into a row costs the recording, never the run."""

    def setUp(self) -> None:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("SEEDBOARD_")}
        clean["SEEDBOARD_DB"] = os.path.abspath(self.mktemp())
        self.patch(os, "environ", clean)
        self.patch(reporter_module, "make_row", _unreadable)

    def ran(self, name: str) -> tuple[SeedboardReporter, str]:
        out = io.StringIO()
        reporter = SeedboardReporter(out)
        _sample(name).run(reporter)
        reporter.done()
        return reporter, out.getvalue().splitlines()[-1]

    def test_a_success(self) -> None:
        """The plain success's own path (straight into the spool) says so too."""
        reporter, last = self.ran("test_passes")
        self.assertTrue(reporter.wasSuccessful())
        self.assertIn("was not recorded", last)
        self.assertIn("the reporter could not read a result: ValueError: no row for this one", last)

    def test_a_failure(self) -> None:
        reporter, last = self.ran("test_fails")
        self.assertFalse(reporter.wasSuccessful())
        self.assertEqual(len(reporter.failures), 1)
        self.assertIn("the reporter could not read a result: ValueError: no row for this one", last)
