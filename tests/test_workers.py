"""Tests for the logs trial -j workers keep for the reporter."""

from __future__ import annotations

import os
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from seedboard.workers import WORKER_LOG, WorkerLogs, WorkerNote, note_worker_result


class WorkerLogTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.temp = Path(self.mktemp()).resolve()
        for worker in ("0", "1"):
            (self.temp / worker).mkdir(parents=True)
        self.addCleanup(os.chdir, os.getcwd())

    def note_in(self, worker: str, test_id: str, seed: int | None, duration: float) -> None:
        os.chdir(self.temp / worker)
        note_worker_result(test_id, seed, duration)

    def test_notes_from_every_worker(self) -> None:
        """Notes written by any worker are found by test id, once."""
        self.note_in("0", "a.T.test_1", 5, 0.5)
        self.note_in("1", "a.T.test_2", None, 1.5)
        logs = WorkerLogs(self.temp)
        self.assertEqual(logs.take("a.T.test_2"), WorkerNote(None, 1.5))
        self.assertEqual(logs.take("a.T.test_1"), WorkerNote(5, 0.5))
        self.assertIsNone(logs.take("a.T.test_1"))

    def test_reads_new_lines_only_when_needed(self) -> None:
        """Lines written after the first read are picked up later."""
        logs = WorkerLogs(self.temp)
        self.assertIsNone(logs.take("a.T.test_1"))
        self.note_in("0", "a.T.test_1", 7, 0.25)
        self.assertEqual(logs.take("a.T.test_1"), WorkerNote(7, 0.25))

    def test_partial_and_broken_lines(self) -> None:
        """A line still being written waits; a garbled line is skipped."""
        log = self.temp / "0" / WORKER_LOG
        log.write_text('not json\n{"test": "a.T.test_1", "seed": 1, "duration": 2}\n{"test": "a.T')
        logs = WorkerLogs(self.temp)
        self.assertEqual(logs.take("a.T.test_1"), WorkerNote(1, 2.0))
        with open(log, "a") as more:
            more.write('.test_2", "seed": 3, "duration": 4}\n')
        self.assertEqual(logs.take("a.T.test_2"), WorkerNote(3, 4.0))
