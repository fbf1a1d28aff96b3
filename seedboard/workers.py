"""What ``trial -j`` workers tell the reporter that trial itself does not carry.

Under ``trial -j N`` tests run in worker processes and reach the reporter in
the manager process without their seeds, and with durations measured in the
manager (zero).  So each seeded test, in a worker, appends its id, seed and
real duration to a log in the worker's own directory (``_trial_temp/<n>/``),
and the reporter reads those logs as results come in.  Standard library only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

WORKER_LOG = "seedboard-worker.jsonl"


@dataclass(frozen=True)
class WorkerNote:
    seed: int | None
    duration: float


def note_worker_result(test_id: str, seed: int | None, duration: float) -> None:
    """Append one line to this worker's log; the worker runs in its own directory."""
    line = json.dumps({"test": test_id, "seed": seed, "duration": duration})
    with open(WORKER_LOG, "a", encoding="utf-8") as log:
        log.write(line + "\n")


class WorkerLogs:
    """Reads the workers' logs under trial's temporary directory, a little at a time."""

    def __init__(self, temp_directory: Path) -> None:
        self._temp = temp_directory
        self._offsets: dict[Path, int] = {}
        self._notes: dict[str, WorkerNote] = {}

    def take(self, test_id: str) -> WorkerNote | None:
        """The note of ``test_id``'s latest run in a worker, reading new lines if needed."""
        if test_id not in self._notes:
            self._read_new_lines()
        return self._notes.pop(test_id, None)

    def _read_new_lines(self) -> None:
        for log in self._temp.glob(f"*/{WORKER_LOG}"):
            offset = self._offsets.get(log, 0)
            with open(log, "rb") as lines:
                lines.seek(offset)
                chunk = lines.read()
            complete = chunk[: chunk.rfind(b"\n") + 1]  # a line being written waits
            self._offsets[log] = offset + len(complete)
            for line in complete.splitlines():
                self._remember(line)

    def _remember(self, line: bytes) -> None:
        try:
            note = json.loads(line)
            self._notes[str(note["test"])] = WorkerNote(note["seed"], float(note["duration"]))
        except (ValueError, KeyError, TypeError):
            pass  # a line from a crashed worker: that test simply has no note
