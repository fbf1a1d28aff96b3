"""Tests for failure clusters: the store's counts, the service's order and examples, and
the /clusters page with its JSON twin."""

from __future__ import annotations

import html
import re
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

from twisted.trial.unittest import SynchronousTestCase

from seedboard.domain import Outcome, Result
from seedboard.services.clusters import failure_clusters
from seedboard.triage.fingerprint import fingerprint
from seedboard.web.text import iso_utc
from tests.contract import fetch_json
from tests.support import BIN, database_url, environment, result, start_server
from tests.test_web import NOW, SCRIPT, DashboardCase

A = "pkg.test_net.NetTests.test_a"
B = "pkg.test_net.NetTests.test_b"
C = "pkg.test_other.OtherTests.test_c"
REFUSED = "builtins.ConnectionRefusedError"
TIMEOUT = "twisted.internet.defer.TimeoutError"


def refused(test_id: str, address: str, **fields: Any) -> Result:
    """A failure that differs from its kin only in the node's address."""
    return result(
        test_id,
        Outcome.ERROR,
        exception_type=REFUSED,
        message=f"Connection refused to {address}",
        traceback=None,
        **fields,
    )


def timed_out(test_id: str, node: str) -> Result:
    return result(
        test_id,
        Outcome.FAILURE,
        exception_type=TIMEOUT,
        message=f"{node} did not answer in 5 seconds",
        traceback=None,
    )


REFUSED_PRINT = fingerprint(REFUSED, "Connection refused to 10.0.0.1:80", None)
TIMEOUT_PRINT = fingerprint(TIMEOUT, "node-1 did not answer in 5 seconds", None)


class ClustersCase(DashboardCase):
    def record_history(self) -> tuple[str, str]:
        """Three runs: refusals across A, B and C at different addresses, timeouts in A at
        different nodes (more failures, fewer tests), and passes; a replay that would add
        more is left out.  The oldest and newest run ids."""
        oldest = self.record(
            [refused(A, "127.0.0.1:1605"), timed_out(A, "node-3"), result(B), result(C)],
            minutes_ago=30,
        )
        self.record(
            [timed_out(A, "n2"), refused(B, "[::1]:8080"), result(C)],
            minutes_ago=20,
        )
        newest = self.record(
            [timed_out(A, "worker-7"), result(B), refused(C, "10.0.0.2:80")],
            minutes_ago=10,
        )
        self.record([timed_out(B, "node-9")], minutes_ago=5, is_replay=True)
        return oldest, newest


class ServiceTests(ClustersCase):
    def test_clusters(self) -> None:
        """One cluster per fingerprint across tests, most tests hit first, with its tests,
        counts, first and last seen and newest example."""
        _, newest = self.record_history()
        found = self.database.read(failure_clusters)
        self.assertEqual([c.fingerprint for c in found], [REFUSED_PRINT, TIMEOUT_PRINT])
        refusals, timeouts = found
        self.assertEqual(
            [(t.test_id, t.failures) for t in refusals.tests], [(A, 1), (B, 1), (C, 1)]
        )
        self.assertEqual(refusals.failures, 3)
        self.assertEqual([(t.test_id, t.failures) for t in timeouts.tests], [(A, 3)])
        self.assertEqual(refusals.summary, "ConnectionRefusedError: Connection refused to <addr>")
        self.assertEqual(
            (refusals.example.run_id, refusals.example.test_id, refusals.example.message),
            (newest, C, "Connection refused to 10.0.0.2:80"),
        )
        self.assertLess(refusals.first_seen, refusals.last_seen)
        self.assertEqual(refusals.example.started_at, refusals.last_seen)

    def test_window_branch_and_limit(self) -> None:
        """Only the latest ``window`` runs of the branch count; ``limit`` keeps the first."""
        self.record_history()
        latest = self.database.read(failure_clusters, 1)
        self.assertEqual(
            {c.fingerprint: [t.test_id for t in c.tests] for c in latest},
            {REFUSED_PRINT: [C], TIMEOUT_PRINT: [A]},
        )
        [first] = self.database.read(failure_clusters, 200, None, 1)
        self.assertEqual(first.fingerprint, REFUSED_PRINT)
        self.assertEqual(self.database.read(failure_clusters, 200, "elsewhere"), [])

    def test_ties_by_fingerprint(self) -> None:
        """Clusters alike in tests and count come in fingerprint order."""
        self.record([refused(A, "10.0.0.1:1"), timed_out(B, "n1")])
        found = self.database.read(failure_clusters)
        self.assertEqual([c.fingerprint for c in found], sorted([REFUSED_PRINT, TIMEOUT_PRINT]))

    def test_no_failures(self) -> None:
        """Without failures there are no clusters."""
        self.record([result(A), result(B, Outcome.SKIP)])
        self.assertEqual(self.database.read(failure_clusters), [])


def cluster_entries(page: str) -> list[str]:
    return re.findall(r'(?s)<li id="c\d+">(.*?)</li>', page)


class ClustersWebTests(ClustersCase):
    def test_json(self) -> None:
        """The JSON twin lists the clusters with linked tests and the newest example."""
        _, newest = self.record_history()
        found = self.api("/api/v1/clusters")
        self.assertEqual((found["window"], found["branch"]), (200, None))
        refusals, timeouts = found["clusters"]
        self.assertEqual(refusals["fingerprint"], REFUSED_PRINT)
        self.assertEqual(
            refusals["tests"],
            [
                {"test_id": test, "failures": 1, "url": f"/tests/{test}", "owners": []}
                for test in (A, B, C)
            ],
        )
        self.assertEqual(refusals["failures"], 3)
        self.assertEqual(
            refusals["example"],
            {
                "run_id": newest,
                "test_id": C,
                "started_at": refusals["last_seen"],
                "exception_type": REFUSED,
                "message": "Connection refused to 10.0.0.2:80",
                "url": f"/runs/{newest}",
            },
        )
        self.assertEqual(timeouts["failures"], 3)
        self.assertEqual(refusals["first_seen"], iso_utc(NOW - timedelta(minutes=30)))
        self.assertEqual(refusals["last_seen"], iso_utc(NOW - timedelta(minutes=10)))

    def test_page(self) -> None:
        """The page shows each cluster's summary, counts, linked tests and newest example,
        in the JSON's order."""
        _, newest = self.record_history()
        page = self.page("/clusters")
        first, second = cluster_entries(page)
        self.assertIn("ConnectionRefusedError: Connection refused to &lt;addr&gt;", first)
        for test in (A, B, C):
            self.assertIn(f'<a href="/tests/{test}"><code>{test}</code></a>', first)
        self.assertIn(f'href="/runs/{newest}"', first)
        self.assertIn("Connection refused to 10.0.0.2:80", first)
        self.assertIn("did not answer", second)
        self.assertNotIn(f"/tests/{B}", second)
        self.assertIn('<a href="/clusters">Failure clusters</a>', page)

    def test_arguments(self) -> None:
        """window, branch and limit narrow the clusters; out of range is a 400 naming it."""
        self.record_history()
        self.assertEqual(len(self.api("/api/v1/clusters?limit=1")["clusters"]), 1)
        self.assertEqual(self.api("/api/v1/clusters?branch=other")["clusters"], [])
        self.assertIn(
            "No failures in the last 200 runs", html.unescape(self.page("/clusters?branch=x"))
        )
        error = self.api("/api/v1/clusters?window=0", status=400)["error"]
        self.assertEqual(error["field"], "window")

    def test_escaped(self) -> None:
        """Messages and test ids are escaped on the page."""
        self.record([result("pkg.T.test_" + SCRIPT, Outcome.FAILURE, message=SCRIPT)])
        page = self.page("/clusters")
        self.assertNotIn(SCRIPT, page)
        self.assertIn(html.escape(SCRIPT, quote=False), page)


NETWORK_SUITE = '''
import random

from seedboard.testing import TestCase


def connect():
    """A simulated node at a random address that refuses the connection, three calls deep
    in the cluster's code, as a shared library fails under many tests."""
    send(random.randrange(256), random.randrange(1, 255), random.randrange(1024, 65536))


def send(subnet, host, port):
    dial("10.0.{}.{}:{}".format(subnet, host, port))


def dial(address):
    raise ConnectionRefusedError("connection refused to " + address)


class {name}(TestCase):
    def test_connect(self):
        connect()
'''


class ClustersThroughTrialTests(SynchronousTestCase):
    """Real ``trial --reporter=seedboard`` runs, read back from a real server."""

    def test_addresses_share_a_fingerprint(self) -> None:
        """Failures that differ only in IP and port, in two tests and two runs, share one
        fingerprint and make one cluster hitting both tests (their innermost three frames
        are the shared code's, so the tests' own frames do not split them)."""
        project = Path(self.mktemp()).resolve()
        package = project / "netpkg"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "nodes.py").write_text(NETWORK_SUITE.split("\n\nclass")[0])
        for module, name in (("test_alpha", "AlphaTests"), ("test_beta", "BetaTests")):
            body = "from netpkg.nodes import TestCase, connect\n\n\nclass" + (
                NETWORK_SUITE.split("\n\nclass", 1)[1].replace("{name}", name)
            )
            (package / f"{module}.py").write_text(body)
        url = database_url(self)
        for run_seed in ("1", "2"):
            done = subprocess.run(
                [str(BIN / "trial"), "--reporter=seedboard", "netpkg"],
                cwd=project,
                env=environment(
                    PYTHONPATH=str(project), SEEDBOARD_DB=url, SEEDBOARD_RUN_SEED=run_seed
                ),
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            self.assertEqual(done.returncode, 1, done.stdout + done.stderr)
        base = start_server(self, project, "--db", url, "--port", "0")
        (cluster,) = fetch_json(self, f"{base}/api/v1/clusters")["clusters"]
        self.assertEqual(
            [(t["test_id"], t["failures"]) for t in cluster["tests"]],
            [
                ("netpkg.test_alpha.AlphaTests.test_connect", 2),
                ("netpkg.test_beta.BetaTests.test_connect", 2),
            ],
        )
        self.assertEqual(cluster["summary"], "ConnectionRefusedError: connection refused to <addr>")
        messages = set()
        for test in cluster["tests"]:
            for run in fetch_json(self, f"{base}/api/v1/tests/{test['test_id']}")["runs"]:
                messages.add(run["message"])
        self.assertEqual(len(messages), 4, "four different addresses")
