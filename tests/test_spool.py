"""Tests for the spool: requests kept on disk until the server acknowledges them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from seedboard.settings import spool_root
from seedboard_reporter.spool import RunSpool, spooled_runs


class SpoolModeTests(SynchronousTestCase):
    """Spooled requests hold test output: files 0600, folders 0700, whatever the umask."""

    def spool_under(self, umask: int) -> tuple[Path, RunSpool]:
        base = Path(self.mktemp())
        base.mkdir()
        root = base / ".seedboard" / "spool"
        old = os.umask(umask)
        try:
            spool = RunSpool(root, "r1")
            self.assertTrue(spool.claim())
            self.addCleanup(spool.release)
            spool.add_run(b"{}")
            spool.add_batch(0, b"{}")
            spool.add_finish(b"{}")
        finally:
            os.umask(old)
        return base, spool

    def modes(self, base: Path) -> dict[str, int]:
        return {
            str(path.relative_to(base)): stat.S_IMODE(path.stat().st_mode)
            for path in sorted(base.rglob("*"))
        }

    def test_private_whatever_the_umask(self) -> None:
        """Under a permissive umask (0) and a strange one (0o277: no write for the owner)
        every folder the spool makes is 0700 and every file, the lock included, 0600."""
        for umask in (0, 0o022, 0o277):
            base, _ = self.spool_under(umask)
            modes = self.modes(base)
            self.assertEqual(
                sorted(modes),
                [
                    ".seedboard",
                    ".seedboard/spool",
                    ".seedboard/spool/r1",
                    ".seedboard/spool/r1/.lock",
                    ".seedboard/spool/r1/0-run.json",
                    ".seedboard/spool/r1/1-batch-00000000.json",
                    ".seedboard/spool/r1/2-finish.json",
                ],
            )
            for name, mode in modes.items():
                wanted = 0o600 if name.endswith((".json", ".lock")) else 0o700
                self.assertEqual(mode, wanted, f"umask {umask:o}: {name} is {mode:o}")

    def test_old_files_made_private(self) -> None:
        """A half-written request an older version left readable to all is rewritten 0600."""
        base = Path(self.mktemp())
        folder = base / "r1"
        folder.mkdir(parents=True)
        stale = folder / "0-run.part"
        stale.write_bytes(b"old")
        stale.chmod(0o644)
        RunSpool(base, "r1").add_run(b"{}")
        self.assertEqual(stat.S_IMODE((folder / "0-run.json").stat().st_mode), 0o600)


class SpoolTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.root = Path(self.mktemp())

    def test_pending_in_sending_order(self) -> None:
        """Run first, batches by number, finish last, whatever order they were written in."""
        spool = RunSpool(self.root, "r1")
        spool.add_finish(b"{}")
        spool.add_batch(10, b"[10]")
        spool.add_batch(2, b"[2]")
        spool.add_run(b"{run}")
        self.assertEqual(
            [(r.method, r.path, r.body) for r in spool.pending()],
            [
                ("PUT", "/api/v1/runs/r1", b"{run}"),
                ("PUT", "/api/v1/runs/r1/batches/2", b"[2]"),
                ("PUT", "/api/v1/runs/r1/batches/10", b"[10]"),
                ("POST", "/api/v1/runs/r1/finish", b"{}"),
            ],
        )

    def test_acknowledged_requests_go(self) -> None:
        """An acknowledged request leaves the spool; an empty run folder goes on release."""
        spool = RunSpool(self.root, "r1")
        self.assertTrue(spool.claim())
        request = spool.add_run(b"{}")
        spool.acknowledged(request)
        spool.acknowledged(request)  # twice is harmless
        self.assertEqual(spool.pending(), [])
        spool.release()
        self.assertFalse((self.root / "r1").exists())

    def test_half_written_request_goes(self) -> None:
        """A request a killed process left half written (``*.part``) is no request: a
        replay that finds nothing else to send removes it with the run's folder."""
        killed = RunSpool(self.root, "r1")
        killed.add_run(b"{}")
        (killed.folder / "1-batch-00000000.part").write_bytes(b'{"resu')
        replay = next(spooled_runs(self.root))
        self.assertTrue(replay.claim())
        [request] = replay.pending()
        replay.acknowledged(request)
        replay.release()
        self.assertFalse((self.root / "r1").exists())

    def test_release_keeps_undelivered(self) -> None:
        """A run with requests left stays in the spool for the next run."""
        spool = RunSpool(self.root, "r1")
        spool.claim()
        spool.add_batch(0, b"[]")
        spool.release()
        self.assertEqual([s.run_id for s in spooled_runs(self.root)], ["r1"])
        self.assertEqual(len(RunSpool(self.root, "r1").pending()), 1)

    def test_one_owner_at_a_time(self) -> None:
        """While one process holds a run, another cannot claim it to replay it."""
        owner, other = RunSpool(self.root, "r1"), RunSpool(self.root, "r1")
        self.assertTrue(owner.claim())
        self.assertFalse(other.claim())
        owner.add_run(b"{}")
        owner.release()
        self.assertTrue(other.claim())

    def test_spooled_runs_skip_current(self) -> None:
        """The current run is not offered for replay."""
        for run_id in ("a", "b"):
            RunSpool(self.root, run_id).add_run(b"{}")
        self.assertEqual([s.run_id for s in spooled_runs(self.root, except_run="a")], ["b"])
        self.assertEqual(list(spooled_runs(self.root / "missing")), [])

    def test_root_from_environment(self) -> None:
        """SEEDBOARD_SPOOL moves the spool; by default it is .seedboard/spool."""
        self.assertEqual(spool_root({}, Path("/w")), Path("/w/.seedboard/spool"))
        self.assertEqual(spool_root({"SEEDBOARD_SPOOL": "/s"}, Path("/w")), Path("/s"))


class SharedSpoolTests(SynchronousTestCase):
    def test_claim_survives_tidying(self) -> None:
        """Another process removing the fresh run folder before its lock opens does not
        stop the claim (seen with concurrent reporters sharing one spool)."""
        root = Path(self.mktemp())
        spool = RunSpool(root, "r1")
        real_open = os.open
        removed: list[str] = []

        def open_after_tidy(path: str, flags: int, mode: int = 0o777) -> int:
            if not removed:
                removed.append(str(path))
                os.rmdir(spool.folder)
            return real_open(path, flags, mode)

        self.patch(os, "open", open_after_tidy)
        self.assertTrue(spool.claim())
        self.assertEqual(removed, [str(spool.folder / ".lock")])
        spool.add_run(b"{}")
        self.assertEqual(len(spool.pending()), 1)
        spool.release()

    def test_vanished_folders_are_skipped(self) -> None:
        """A run folder that disappears while the spool is listed is simply not offered."""
        root = Path(self.mktemp())
        RunSpool(root, "a").add_run(b"{}")
        (root / "not-a-folder").write_text("")
        self.assertEqual([s.run_id for s in spooled_runs(root)], ["a"])
