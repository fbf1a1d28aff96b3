"""End to end in server mode: real ``trial`` runs posting to a real ``seedboard serve``."""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from seedboard_reporter.recorder import Row
from seedboard_reporter.spool_file import SpoolRecorder
from tests.contract import fetch, fetch_json
from tests.support import (
    BIN,
    PYTHON,
    REPO,
    environment,
    sample_run,
    seedboard_command,
    start_server,
)
from tests.test_ingest import run_body
from tests.test_ingest_api import RUN, UNKNOWN, bad_requests
from tests.test_recorder import run_facts
from tests.test_spooled import trial_with_module_probe
from tests.test_trial_runs import normalized, summary_counts, trial

SAMPLES = REPO / "tests" / "samples"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ServerModeTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.project = Path(self.mktemp()).resolve()
        shutil.copytree(SAMPLES, self.project)
        self.db = self.project / "server.db"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.token = self.seedboard("token", "create", "ci").stdout.strip()

    def seedboard(self, *args: str) -> subprocess.CompletedProcess[str]:
        return seedboard_command(self.project, str(self.db), *args, timeout=60)

    def start_server(self) -> None:
        start_server(self, self.project, "--db", str(self.db), "--port", str(self.port))

    def posting_run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        env.setdefault("SEEDBOARD_URL", self.base)
        env.setdefault("SEEDBOARD_TOKEN", self.token)
        if not any(arg.startswith("samplepkg") or arg.startswith("manypkg") for arg in args):
            args = (*args, "samplepkg")
        return trial(self.project, "--reporter=seedboard", *args, **env)

    def api(self, path: str) -> dict:  # type: ignore[type-arg]
        found: dict = fetch_json(self, self.base + path)  # type: ignore[type-arg]
        return found

    def stored_runs(self) -> list[dict]:  # type: ignore[type-arg]
        runs: list[dict] = self.api("/api/v1/runs")["runs"]  # type: ignore[type-arg]
        return runs

    def spooled(self) -> list[Path]:
        return sorted((self.project / ".seedboard" / "spool").glob("*/*.json"))

    def test_run_lands_on_server(self) -> None:
        """A run posted to the server has exactly trial's counts, output unchanged."""
        self.start_server()
        plain = trial(self.project, "samplepkg")
        done = self.posting_run()
        self.assertEqual(done.returncode, plain.returncode)
        *body, last = done.stdout.rstrip("\n").split("\n")
        self.assertEqual(normalized("\n".join(body) + "\n"), normalized(plain.stdout))
        self.assertRegex(
            last, rf"^seedboard: recorded run [0-9a-f]{{32}} \(11 results\) in {self.base}$"
        )
        [run] = self.stored_runs()
        expected = summary_counts("\n".join(body))
        self.assertEqual({k: v for k, v in run["counts"].items() if v and k != "total"}, expected)
        self.assertIsNotNone(run["finished_at"])
        self.assertEqual(self.spooled(), [])

    def test_sent_by_the_sender_process(self) -> None:
        """A real trial run reaches the server whole while trial's own process loads
        neither the uploader nor the domain's records: its sender process (standard
        library only) encodes, spools and sends."""
        self.start_server()
        done, loaded = trial_with_module_probe(
            self.project,
            "--reporter=seedboard",
            "samplepkg",
            SEEDBOARD_URL=self.base,
            SEEDBOARD_TOKEN=self.token,
        )
        self.assertRegex(done.stdout.splitlines()[-1], r"recorded run .* \(11 results\)")
        self.assertEqual(loaded, [])
        [run] = self.stored_runs()
        self.assertEqual(run["counts"]["total"], 11)
        self.assertIsNotNone(run["finished_at"])
        self.assertEqual(self.spooled(), [])

    def test_streams_during_the_run(self) -> None:
        """The server has results of a run while trial is still running it."""
        self.start_server()
        process = sample_run(
            self.project,
            2000,
            SEEDBOARD_URL=self.base,
            SEEDBOARD_TOKEN=self.token,
            SEEDBOARD_SAMPLE_PACE="0.002",
        )
        self.addCleanup(process.wait, 10)
        self.addCleanup(process.kill)
        deadline = time.monotonic() + 60
        while not any(run["counts"]["total"] for run in self.stored_runs()):
            self.assertLess(time.monotonic(), deadline, "no result reached the server")
            time.sleep(0.05)
        self.assertIsNone(process.poll(), "the run ended before the server had a result")
        [during] = self.stored_runs()
        self.assertIsNone(during["finished_at"])
        output = process.communicate(timeout=120)[0]
        self.assertRegex(output.splitlines()[-1], r"recorded run .* \(2000 results\)")
        [after] = self.stored_runs()
        self.assertEqual(after["counts"]["total"], 2000)

    def test_server_down_then_up(self) -> None:
        """With the server down the run costs one warning line; the next run sends both."""
        plain_started = time.monotonic()
        plain = trial(self.project, "samplepkg")
        plain_time = time.monotonic() - plain_started
        started = time.monotonic()
        down = self.posting_run()
        down_time = time.monotonic() - started
        self.assertEqual(down.returncode, plain.returncode)
        *body, last = down.stdout.rstrip("\n").split("\n")
        self.assertEqual(normalized("\n".join(body) + "\n"), normalized(plain.stdout))
        self.assertRegex(last, r"^seedboard: warning: this run was not recorded in http://")
        self.assertIn("Connection refused", last)
        self.assertLess(down_time, plain_time + 2.5)
        self.assertEqual(len(self.spooled()), 1 + 1 + 1)

        self.start_server()
        up = self.posting_run()
        self.assertIn("recorded run", up.stdout)
        runs = self.stored_runs()
        self.assertEqual(len(runs), 2)
        self.assertEqual([r["counts"]["total"] for r in runs], [11, 11])
        self.assertTrue(all(r["finished_at"] for r in runs))
        self.assertEqual(self.spooled(), [])

    def test_bad_token_is_reported_and_kept(self) -> None:
        """A refused token is reported once; seedboard upload sends the run later."""
        self.start_server()
        refused = self.posting_run(SEEDBOARD_TOKEN="not-a-token")
        warnings = [line for line in refused.stdout.splitlines() if line.startswith("seedboard:")]
        self.assertEqual(len(warnings), 1)
        self.assertIn("HTTP 401", warnings[0])
        self.assertEqual(self.stored_runs(), [])
        self.assertTrue(self.spooled())

        uploaded = subprocess.run(
            [str(BIN / "seedboard"), "upload"],
            cwd=self.project,
            env=environment(SEEDBOARD_URL=self.base, SEEDBOARD_TOKEN=self.token),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        self.assertEqual(uploaded.returncode, 0, uploaded.stdout + uploaded.stderr)
        [run] = self.stored_runs()
        self.assertEqual(run["counts"]["total"], 11)
        self.assertEqual(self.spooled(), [])

    def test_parallel_workers(self) -> None:
        """trial -j 2 in server mode: seeds and real durations reach the server."""
        self.start_server()
        self.posting_run("-j", "2", "samplepkg.test_sample")
        [run] = self.stored_runs()
        results = self.api(f"/api/v1/runs/{run['id']}")["results"]
        by_name = {
            r["test_id"].rsplit(".", 2)[-2] + "." + r["test_id"].rsplit(".", 1)[-1]: r
            for r in results
        }
        self.assertEqual(len(by_name), 10)
        self.assertEqual(by_name["SeededTests.test_pinned"]["seed"], 1234)
        self.assertGreaterEqual(by_name["SeededTests.test_deferred"]["duration"], 0.05)
        for name, row in by_name.items():
            if not name.startswith("Classic"):
                self.assertIsNotNone(row["seed"], name)

    def test_concurrent_reporters(self) -> None:
        """Eight trial runs posting at once, 2,000 results each, all land complete."""
        self.start_server()
        reporters = [
            sample_run(
                self.project,
                2000,
                SEEDBOARD_URL=self.base,
                SEEDBOARD_TOKEN=self.token,
                SEEDBOARD_FLUSH_TIMEOUT="60",
            )
            for _ in range(8)
        ]
        outputs = [reporter.communicate(timeout=300)[0] for reporter in reporters]
        for output in outputs:
            self.assertRegex(output.splitlines()[-1], r"recorded run .* \(2000 results\)")
            self.assertNotIn("locked", output)
        runs = self.stored_runs()
        self.assertEqual(len(runs), 8)
        for run in runs:
            self.assertEqual(run["counts"]["total"], 2000)
            self.assertEqual(run["counts"]["failure"], 100)
            self.assertEqual(run["counts"]["error"], 40)
            self.assertEqual(run["counts"]["skip"], 80)
            self.assertEqual(run["counts"]["expected_failure"], 20)
        self.assertEqual(self.spooled(), [])


class UploadCommandTests(SynchronousTestCase):
    def test_needs_a_server(self) -> None:
        """seedboard upload without --url or SEEDBOARD_URL says so and exits 2."""
        done = subprocess.run(
            [str(BIN / "seedboard"), "upload"],
            cwd=REPO,
            env=environment(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        self.assertEqual(done.returncode, 2)
        self.assertIn("no server: pass --url or set $SEEDBOARD_URL", done.stderr)


class RealServerBadInputTests(SynchronousTestCase):
    """Every refused request of the ingest tests, through a real server process."""

    def test_refused_and_nothing_written(self) -> None:
        """Each bad request gets its status and JSON error naming the field; no row changes."""
        project = Path(self.mktemp()).resolve()
        project.mkdir()
        db = project / "server.db"
        token = subprocess.run(
            [str(BIN / "seedboard"), "token", "create", "ci", "--db", str(db)],
            env=environment(),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        base = start_server(self, project, "--db", str(db), "--port", "0")
        created = send(self, base, "PUT", f"/api/v1/runs/{RUN}", run_body(), token)
        self.assertEqual(created[0], 201)
        before = table_counts(db)
        for bad in bad_requests():
            status, answer = send(self, base, bad.method, bad.path, bad.body, token)
            self.assertEqual((status, answer["error"]["code"]), (bad.status, bad.code), bad)
            if bad.field is not None:
                self.assertEqual(answer["error"].get("field"), bad.field, bad)
        status, answer = send(self, base, "PUT", f"/api/v1/runs/{UNKNOWN}", run_body(), "wrong")
        self.assertEqual((status, answer["error"]["code"]), (401, "unauthorized"))
        self.assertEqual(table_counts(db), before)


def send(
    case: SynchronousTestCase, base: str, method: str, path: str, body: object, token: str
) -> tuple[int, Any]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    answer = fetch(case, base + path, method, data, headers)
    return answer.status, answer.json()


def table_counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {name: conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0] for name in names}


class UnhealthyServer:
    """An HTTP server on loopback that answers every request badly, in a thread."""

    def __init__(self, case: SynchronousTestCase, answer: Callable[[BaseHTTPRequestHandler], None]):
        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                answer(self)

            do_POST = do_PUT

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        case.addCleanup(self.server.server_close)
        case.addCleanup(self.server.shutdown)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


def failing(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(500)
    handler.end_headers()


def hanging(handler: BaseHTTPRequestHandler) -> None:
    time.sleep(30)


class UnhealthyServerTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.project = Path(self.mktemp()).resolve()
        shutil.copytree(SAMPLES, self.project)

    def check_costs_one_line(self, server: UnhealthyServer, problem: str) -> None:
        started = time.monotonic()
        plain = trial(self.project, "samplepkg")
        plain_time = time.monotonic() - started
        started = time.monotonic()
        done = trial(
            self.project,
            "--reporter=seedboard",
            "samplepkg",
            SEEDBOARD_URL=server.url,
            SEEDBOARD_TOKEN="t",
        )
        elapsed = time.monotonic() - started
        self.assertEqual(done.returncode, plain.returncode)
        *body, last = done.stdout.rstrip("\n").split("\n")
        self.assertEqual(normalized("\n".join(body) + "\n"), normalized(plain.stdout))
        self.assertRegex(last, r"^seedboard: warning: this run was not recorded in http://")
        self.assertIn(problem, last)
        self.assertLess(elapsed, plain_time + 2.5)
        spooled = list((self.project / ".seedboard" / "spool").glob("*/*.json"))
        self.assertEqual(len(spooled), 3)

    def test_erroring_server(self) -> None:
        """A server answering 500 to everything costs one line and at most about a second."""
        self.check_costs_one_line(UnhealthyServer(self, failing), "HTTP 500")

    def test_hanging_server(self) -> None:
        """A server that never answers costs one line and at most about a second."""
        self.check_costs_one_line(UnhealthyServer(self, hanging), "(no answer yet)")


class ServerReplayTests(SynchronousTestCase):
    def test_replay_failing_from_server(self) -> None:
        """With SEEDBOARD_URL, replay reads the failing seeds from the server and its
        replays are recorded there, marked as replays."""
        project = Path(self.mktemp()).resolve()
        shutil.copytree(SAMPLES, project)
        db = project / "server.db"
        token = subprocess.run(
            [str(BIN / "seedboard"), "token", "create", "ci", "--db", str(db)],
            env=environment(),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        base = start_server(self, project, "--db", str(db), "--port", "0")
        posting = {"SEEDBOARD_URL": base, "SEEDBOARD_TOKEN": token}
        trial(
            project,
            "--reporter=seedboard",
            "triagepkg.test_triage.TriageTests.test_always_fails",
            **posting,
        )
        done = subprocess.run(
            [str(BIN / "seedboard"), "replay", "--failing", "-k", "2"],
            cwd=project,
            env=environment(**posting),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        self.assertRegex(done.stdout, r"reproduced 2/2: \S+test_always_fails with seed \d+")
        runs = fetch_json(self, base + "/api/v1/runs?replay=include")["runs"]
        self.assertEqual(sorted(run["is_replay"] for run in runs), [False, True, True])


_SLOW_TO_EXIT_SENDER = """
import sys, time
sys.stdin.buffer.read()  # until trial's process closes it: the run's end
print("seedboard: recorded run by the stand-in sender", flush=True)
time.sleep(60)  # an interpreter slow to tear down: trial must not wait for it
"""


class _StandInSender(SpoolRecorder):
    """Server mode's recorder with a sender that says its line and then lingers."""

    def _start_sender(self, server: dict[str, object]) -> subprocess.Popen[bytes]:
        self.sender = subprocess.Popen(
            [PYTHON, "-c", _SLOW_TO_EXIT_SENDER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        return self.sender


class SenderHandoverTests(SynchronousTestCase):
    def test_end_tells_the_sender_and_the_receipt_is_its_line(self) -> None:
        """``end`` lets the sender go on at once (trial then prints its summary), and
        ``receipt`` returns with the sender's line, not with its exit."""
        root = Path(self.mktemp())
        server: dict[str, object] = {"flush_timeout": 30.0}
        recorder = _StandInSender(root, run_facts(), None, "http://server", False, server)
        recorder.start()
        self.addCleanup(recorder.sender.wait, 10)
        self.addCleanup(recorder.sender.kill)
        recorder.add(Row("a.test", "success", 0.1, 7, None, None, None, None, None, 0))
        recorder.end(datetime.now(UTC))
        started = time.monotonic()
        receipt = recorder.receipt()
        self.assertLess(time.monotonic() - started, 30, "waited for the sender's exit")
        self.assertEqual(receipt.line(), "seedboard: recorded run by the stand-in sender")
        self.assertIsNone(recorder.sender.poll(), "the stand-in exited: nothing was shown")

    def test_a_sender_gone_silent_is_reported(self) -> None:
        root = Path(self.mktemp())
        server: dict[str, object] = {"flush_timeout": 30.0}
        recorder = _StandInSender(root, run_facts(), None, "http://server", False, server)
        recorder.start()
        self.addCleanup(recorder.sender.wait, 10)
        recorder.sender.kill()
        recorder.end(datetime.now(UTC))
        self.assertEqual(
            recorder.receipt().line(),
            "seedboard: warning: this run was not recorded in http://server: the sender stopped",
        )
