"""The ``seedboard`` command's own mistakes: each gets one line (or its verb's usage)
saying what to do, never a traceback; run as a real process."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from seedboard import __version__
from tests.support import BIN, ServerProcess, environment


def seedboard(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "seedboard"), *args],
        cwd=cwd,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class CommandLineTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.cwd = Path(self.mktemp()).resolve()
        self.cwd.mkdir()

    def test_version(self) -> None:
        """``seedboard --version`` prints the installed version."""
        done = seedboard(self.cwd, "--version")
        self.assertEqual((done.returncode, done.stdout.strip()), (0, f"seedboard {__version__}"))

    def test_each_verb_says_its_own_usage(self) -> None:
        """An argument a verb does not know gets that verb's usage, not the top-level one."""
        for verb in (["serve"], ["db", "upgrade"], ["token", "list"]):
            done = seedboard(self.cwd, *verb, "--bogus")
            self.assertEqual(done.returncode, 2)
            usage = f"usage: seedboard {' '.join(verb)} "
            self.assertTrue(done.stderr.startswith(usage), done.stderr)
            self.assertIn("unrecognized arguments: --bogus", done.stderr)

    def test_unsupported_database(self) -> None:
        """A URL of a database seedboard does not store into, or no URL at all, is one
        line saying what to give; nothing is created."""
        for url in ("mysql://root@127.0.0.1/test", "postgresql://x:y:z"):
            done = seedboard(self.cwd, "db", "upgrade", "--db", url)
            self.assertEqual(done.returncode, 2, done.stderr)
            [line] = done.stderr.splitlines()
            self.assertIn("sqlite:///PATH or postgresql://", line)
        self.assertEqual(list(self.cwd.iterdir()), [])

    def test_postgresql_without_its_driver(self) -> None:
        """PostgreSQL without psycopg installed names the extra to install, in one line."""
        hide_psycopg = (
            "import sys; sys.modules['psycopg'] = None\n"
            "from seedboard.cli import main\n"
            "sys.exit(main(['db', 'upgrade', '--db', 'postgresql://postgres@127.0.0.1/test']))"
        )
        done = subprocess.run(
            [sys.executable, "-c", hide_psycopg],
            env=environment(),
            capture_output=True,
            text=True,
            check=False,
        )
        self.assertEqual(done.returncode, 2)
        self.assertEqual(
            done.stderr.strip(),
            "seedboard: PostgreSQL needs the psycopg driver: pip install 'seedboard[postgresql]'",
        )

    def test_serve_warns_of_a_new_database_file(self) -> None:
        """``serve`` on a database file that does not exist (a mistyped ``--db``) says it
        is serving a new, empty one; on an existing file it says nothing of the kind."""
        server = ServerProcess(self, self.cwd, free_port(), "--db", "typo.db")
        server.start()
        server.stop()
        self.assertIn(f"seedboard: {self.cwd / 'typo.db'} did not exist", server.output())
        again = ServerProcess(self, self.cwd, free_port(), "--db", "typo.db")
        again.start()
        again.stop()
        self.assertEqual(again.output().count("did not exist"), 0)
