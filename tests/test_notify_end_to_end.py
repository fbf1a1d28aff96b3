"""Notifications and the CI report through real processes: ``trial`` runs recording to a
real ``seedboard serve``, which posts signed events to a receiver on loopback, killed
and started again mid-delivery; ``seedboard report`` on those runs; the badge."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.etree import ElementTree

from twisted.trial.unittest import SynchronousTestCase

from seedboard.db.engine import open_database
from seedboard.db.quarantines import add_quarantine, quarantine_history
from seedboard.domain import Quarantine
from seedboard.triage.notices import verify
from tests.support import BIN, REPO, ServerProcess, database_url, environment
from tests.test_server_mode import free_port
from tests.test_trial_runs import trial

SAMPLES = REPO / "tests" / "samples"
SEEDED = "triagepkg.test_triage.TriageTests.test_seed_dependent"
PASSES = "triagepkg.test_triage.TriageTests.test_passes"
SECRET = "correct horse battery staple"


class Receiver:
    """A webhook receiver on loopback (the standard library's HTTP server): it keeps every
    request, and answers 500 to the first ``failures`` of them."""

    def __init__(self, case: SynchronousTestCase, failures: int = 0) -> None:
        self.requests: list[tuple[dict[str, str], bytes, int]] = []
        self._failures = failures
        received = self.requests
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = 500 if owner._failures > 0 else 200
                owner._failures -= 1
                received.append(({k.lower(): v for k, v in self.headers.items()}, body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        case.addCleanup(self._server.server_close)
        case.addCleanup(self._server.shutdown)

    def accepted(self) -> list[dict[str, object]]:
        """The events answered 200, in order."""
        return [json.loads(body) for _, body, status in self.requests if status == 200]


def wait_for(condition: Callable[[], bool], timeout: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class NotifyEndToEndTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.project = Path(self.mktemp()).resolve()
        shutil.copytree(SAMPLES, self.project)
        self.db = database_url(self)
        self.token = self.seedboard("token", "create", "ci").stdout.strip()

    def seedboard(
        self, *args: str, db: bool = True, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "seedboard"), *args, *(["--db", self.db] if db else [])],
            cwd=self.project,
            env=environment(**env),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def record(self, seed: int, server: str | None = None) -> None:
        """One trial run of the seed-dependent test and a passing one, with ``seed``."""
        where = (
            {"SEEDBOARD_URL": server, "SEEDBOARD_TOKEN": self.token}
            if server
            else {"SEEDBOARD_DB": self.db}
        )
        trial(
            self.project, "--reporter=seedboard", SEEDED, PASSES, SEEDBOARD_SEED=str(seed), **where
        )

    def test_one_signed_event_per_class_change_across_a_kill(self) -> None:
        """Each class change reaches the receiver once, signed, with its event id, also
        when the server is killed after the receiver refused it and started again."""
        receiver = Receiver(self, failures=1)
        secret = self.project / "hook.secret"
        secret.write_text(SECRET + "\n")
        added = self.seedboard(
            "webhook",
            "add",
            receiver.url,
            "--events",
            "class-changed",
            "--secret-file",
            str(secret),
        )
        self.assertEqual(added.returncode, 0, added.stderr)
        server = ServerProcess(self, self.project, free_port(), "--db", self.db)
        server.start()
        self.record(1, server.base)  # fails: stable -> broken
        wait_for(lambda: len(receiver.requests) >= 1, what="the first attempt")
        server.kill()
        self.assertEqual(receiver.accepted(), [])
        server.start()
        wait_for(lambda: len(receiver.accepted()) == 1, what="the delivery after the restart")
        self.record(2, server.base)  # passes: broken -> unconfirmed
        self.record(3, server.base)  # fails with a new seed: still unconfirmed
        self.record(1, server.base)  # seed 1 fails again: seed-dependent
        wait_for(lambda: len(receiver.accepted()) == 3, what="three class changes")
        time.sleep(2.5)  # a retry would have come by now
        events = receiver.accepted()
        self.assertEqual(
            [(e["old_class"], e["new_class"]) for e in events],
            [("stable", "broken"), ("broken", "unconfirmed"), ("unconfirmed", "seed-dependent")],
        )
        self.assertEqual({e["test"] for e in events}, {SEEDED})
        self.assertEqual(len({e["id"] for e in events}), 3)
        first = receiver.requests[0]
        self.assertEqual(first[0]["x-seedboard-event-id"], events[0]["id"])  # the retry: one id
        for headers, body, _ in receiver.requests:
            self.assertTrue(verify(SECRET, body, headers["x-seedboard-signature"]))
            self.assertEqual(json.loads(body)["id"], headers["x-seedboard-event-id"])
        last = events[-1]
        self.assertEqual(last["seed"], 1)
        self.assertIn("@seed(1)", str(last["snippet"]))
        self.assertEqual(last["replay_command"], f"SEEDBOARD_SEED=1 trial {SEEDED}")
        links = last["links"]
        assert isinstance(links, dict)
        self.assertTrue(str(links["test"]).startswith(server.base + "/tests/"))

    def test_an_expiry_lifted_by_the_command_is_still_sent_once(self) -> None:
        """A quarantine that expired and is lifted by ``seedboard quarantine add`` of another
        test, before any server looked, still reaches the receiver, once."""
        receiver = Receiver(self)
        added = self.seedboard("webhook", "add", receiver.url, "--events", "quarantine-expired")
        self.assertEqual(added.returncode, 0, added.stderr)
        now = datetime.now(UTC)
        expired = Quarantine(
            "pkg.test_net.*",
            "flaky DNS",
            None,
            now - timedelta(minutes=1),
            "ops",
            now - timedelta(days=1),
        )
        database = open_database(self.db)
        self.addCleanup(database.dispose)
        database.write(add_quarantine, expired)
        quarantined = self.seedboard("quarantine", "add", PASSES, "--reason", "slow")
        self.assertEqual(quarantined.returncode, 0, quarantined.stderr)
        history = database.read(quarantine_history)
        self.assertEqual(
            [(c.pattern, c.action) for c in history],
            [(PASSES, "add"), ("pkg.test_net.*", "expire"), ("pkg.test_net.*", "add")],
        )
        server = ServerProcess(self, self.project, free_port(), "--db", self.db)
        server.start()
        wait_for(lambda: len(receiver.accepted()) >= 1, what="the expiry event")
        time.sleep(2.5)  # the loop looks every second: a second lift would have come by now
        [event] = receiver.accepted()
        self.assertEqual((event["kind"], event["test"]), ("quarantine-expired", "pkg.test_net.*"))
        self.assertEqual(event["reason"], "flaky DNS")
        self.assertEqual(len(receiver.requests), 1)

    def test_report_prints_the_snippet_of_a_new_seed_dependent_failure(self) -> None:
        """``seedboard report`` on a run whose seed-dependent test newly failed shows its
        class, failure group, ``@seed`` snippet and replay command; from the database
        and from a server alike."""
        for seed in (1, 2, 1, 2, 1):  # fails, passes, fails, passes, fails
            self.record(seed)
        from_db = self.seedboard("report")
        self.assertEqual(from_db.returncode, 0, from_db.stderr)
        text = from_db.stdout
        self.assertIn("### New failures (1)", text)
        self.assertIn(f"`{SEEDED}`", text)
        self.assertIn("**seed-dependent**", text)
        self.assertIn("FailTest: unlucky draw", text)
        self.assertIn("        @seed(1)", text)
        self.assertIn(f"replay: `SEEDBOARD_SEED=1 trial {SEEDED}`", text)
        self.assertIn("Compared with the previous run", text)

        server = ServerProcess(self, self.project, free_port(), "--db", self.db)
        server.start()
        over_http = self.seedboard("report", "--url", server.base, db=False)
        self.assertEqual(over_http.returncode, 0, over_http.stderr)
        linked = over_http.stdout
        self.assertEqual(
            linked.replace(f"]({server.base}", "](").count("@seed(1)"),
            text.count("@seed(1)"),
        )
        self.assertIn(f"({server.base}/tests/", linked)
        as_json = self.seedboard("report", "--format", "json", "--url", server.base, db=False)
        found = json.loads(as_json.stdout)
        self.assertEqual(found["new_failures"][0]["classification"], "seed-dependent")
        self.assertEqual(found["new_failures"][0]["seed"], 1)

        with urllib.request.urlopen(server.base + "/badge.svg") as got:
            svg = got.read()
            self.assertEqual(got.headers["Content-Type"], "image/svg+xml; charset=utf-8")
            self.assertEqual(got.headers["Cache-Control"], "public, max-age=300")
            self.assertEqual(got.headers["Content-Security-Policy"], "default-src 'none'")
        root = ElementTree.fromstring(svg)
        self.assertEqual(root.tag, "{http://www.w3.org/2000/svg}svg")
        self.assertIn("1 flaky", svg.decode())

    def test_report_without_runs_says_so(self) -> None:
        """No run yet: one line, exit status 1."""
        found = self.seedboard("report")
        self.assertEqual(found.returncode, 1)
        self.assertIn("no run recorded", found.stderr)
        self.assertNotIn("Traceback", found.stderr)


class WebhookCommandTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.project = Path(self.mktemp()).resolve()
        self.project.mkdir(parents=True)
        self.db = database_url(self)

    def seedboard(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "seedboard"), *args],
            cwd=self.project,
            env=environment(**env),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def test_on_a_server(self) -> None:
        """``webhook add``, ``list`` and ``remove`` (by address) work on a server with a
        token; without one, one line says to set it."""
        token = self.seedboard("token", "create", "ci", "--db", self.db).stdout.strip()
        server = ServerProcess(self, self.project, free_port(), "--db", self.db)
        server.start()
        secret = self.project / "secret"
        secret.write_text("k\n")
        env = {"SEEDBOARD_URL": server.base, "SEEDBOARD_TOKEN": token}
        added = self.seedboard(
            "webhook", "add", "http://127.0.0.1:9/a", "--secret-file", str(secret), **env
        )
        self.assertEqual(added.returncode, 0, added.stderr)
        self.assertIn("webhook 1 added", added.stdout)
        listed = self.seedboard("webhook", "list", **env)
        self.assertIn("http://127.0.0.1:9/a", listed.stdout)
        self.assertIn(" yes ", listed.stdout)
        self.assertNotIn("k\n", listed.stdout.split("\n", 1)[1])
        removed = self.seedboard("webhook", "remove", "http://127.0.0.1:9/a", **env)
        self.assertEqual(removed.returncode, 0, removed.stderr)
        again = self.seedboard("webhook", "remove", "http://127.0.0.1:9/a", **env)
        self.assertEqual((again.returncode, again.stderr.count("\n")), (1, 1))
        refused = self.seedboard("webhook", "list", SEEDBOARD_URL=server.base)
        self.assertEqual(refused.returncode, 1)
        self.assertIn("set SEEDBOARD_TOKEN to a valid token", refused.stderr)

    def test_bad_input_is_one_line(self) -> None:
        """A bad address, event kind or secret file is refused in one line, nothing stored."""
        for args in [
            ("ftp://x/",),
            ("http://x/", "--events", "class-changed,nope"),
            ("http://x/", "--secret-file", str(self.project / "missing")),
        ]:
            found = self.seedboard("webhook", "add", *args, "--db", self.db)
            self.assertEqual(found.returncode, 1, args)
            self.assertEqual(found.stderr.count("\n"), 1, found.stderr)
            self.assertTrue(found.stderr.startswith("seedboard: "), found.stderr)
        listed = self.seedboard("webhook", "list", "--db", self.db)
        self.assertIn("no webhooks", listed.stderr)
