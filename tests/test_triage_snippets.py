"""Tests for the decorator snippet and the command lines that replay a failing seed."""

from __future__ import annotations

import random
import shlex

from twisted.trial.unittest import SynchronousTestCase

from seedboard.triage.snippets import (
    has_order_option,
    replay_command,
    run_replay_command,
    seed_snippet,
    split_test_id,
)


class SplitTestIdTests(SynchronousTestCase):
    def test_with_class(self) -> None:
        """A capitalised next-to-last part is the class."""
        self.assertEqual(
            split_test_id("pkg.mod.ClusterTests.test_x"), ("pkg.mod", "ClusterTests", "test_x")
        )

    def test_without_class(self) -> None:
        """A lower-case next-to-last part is the module's, and there is no class."""
        self.assertEqual(split_test_id("pkg.mod.test_x"), ("pkg.mod", None, "test_x"))

    def test_short_ids(self) -> None:
        """Ids of one or two parts split as well as they can."""
        self.assertEqual(split_test_id("Tests.test_x"), ("", "Tests", "test_x"))
        self.assertEqual(split_test_id("test_x"), ("", None, "test_x"))


class SeedSnippetTests(SynchronousTestCase):
    def test_method_of_a_class(self) -> None:
        """The import, the class line, then the decorator above the method, indented."""
        self.assertEqual(
            seed_snippet("pkg.mod.ClusterTests.test_partition_heals", 1234),
            "from seedboard.testing import seed\n"
            "\n"
            "class ClusterTests(...):\n"
            "    @seed(1234)\n"
            "    def test_partition_heals(self):",
        )

    def test_no_class(self) -> None:
        """Without a class there is no class line and no indentation."""
        self.assertEqual(
            seed_snippet("pkg.mod.test_x", 7),
            "from seedboard.testing import seed\n\n@seed(7)\ndef test_x(self):",
        )


class ReplayCommandTests(SynchronousTestCase):
    def test_plain(self) -> None:
        """The seed goes in SEEDBOARD_SEED, and trial runs the one test."""
        self.assertEqual(
            replay_command("pkg.mod.Class.test_x", 1234),
            "SEEDBOARD_SEED=1234 trial pkg.mod.Class.test_x",
        )

    def test_shuffled(self) -> None:
        """A shuffled run's order seed is passed as --random, before the test id."""
        self.assertEqual(
            replay_command("pkg.mod.Class.test_x", 1234, order_seed=99),
            "SEEDBOARD_SEED=1234 trial --random=99 pkg.mod.Class.test_x",
        )

    def test_quoted_when_needed(self) -> None:
        """A test id the shell would split or expand is quoted."""
        self.assertEqual(
            replay_command("pkg.mod.Class.test_$x y", 1),
            "SEEDBOARD_SEED=1 trial 'pkg.mod.Class.test_$x y'",
        )


class RunReplayCommandTests(SynchronousTestCase):
    def test_recorded_command(self) -> None:
        """The run seed goes in SEEDBOARD_RUN_SEED in front of the recorded command."""
        self.assertEqual(
            run_replay_command(42, "trial --reporter=seedboard mypkg"),
            "SEEDBOARD_RUN_SEED=42 SEEDBOARD_REPLAY=1 trial --reporter=seedboard mypkg",
        )

    def test_order_seed_after_program(self) -> None:
        """A shuffled run gets --random right after the program name."""
        self.assertEqual(
            run_replay_command(42, "trial --reporter=seedboard mypkg", order_seed=7),
            "SEEDBOARD_RUN_SEED=42 SEEDBOARD_REPLAY=1 trial --random=7 --reporter=seedboard mypkg",
        )

    def test_order_seed_after_python_module(self) -> None:
        """With ``python -m twisted.trial`` the option goes after the module name."""
        self.assertEqual(
            run_replay_command(42, "python -m twisted.trial mypkg", order_seed=7),
            "SEEDBOARD_RUN_SEED=42 SEEDBOARD_REPLAY=1 python -m twisted.trial --random=7 mypkg",
        )

    def test_order_option_already_there(self) -> None:
        """A command that already shuffles is left as it was recorded."""
        for command in ("trial --random=7 mypkg", "trial --random 7 mypkg", "trial -z 7 mypkg"):
            self.assertEqual(
                run_replay_command(1, command, order_seed=7),
                f"SEEDBOARD_RUN_SEED=1 SEEDBOARD_REPLAY=1 {command}",
            )

    def test_quoting_kept(self) -> None:
        """The recorded command's quoting is kept as it was."""
        self.assertEqual(
            run_replay_command(1, "trial 'a b' mypkg", order_seed=3),
            "SEEDBOARD_RUN_SEED=1 SEEDBOARD_REPLAY=1 trial --random=3 'a b' mypkg",
        )

    def test_empty_command(self) -> None:
        """A run with no recorded command is replayed with plain trial."""
        self.assertEqual(
            run_replay_command(5, "  "), "SEEDBOARD_RUN_SEED=5 SEEDBOARD_REPLAY=1 trial"
        )

    def test_quoted_again(self) -> None:
        """Each recorded argument is quoted again, so shell syntax in one is only text:
        the command runs the recorded program with exactly the arguments shown."""
        cases = {
            "trial x; rm -rf ~": "trial 'x;' rm -rf '~'",
            "trial $(id) `id` x|y >z &": "trial '$(id)' '`id`' 'x|y' '>z' '&'",
            'trial "a b"   c': "trial 'a b' c",
            'trial "it\'s"': "trial 'it'\"'\"'s'",
        }
        for command, built in cases.items():
            replay = run_replay_command(1, command)
            self.assertEqual(replay, f"SEEDBOARD_RUN_SEED=1 SEEDBOARD_REPLAY=1 {built}", command)
            assert replay is not None
            self.assertEqual(shlex.split(replay)[2:], shlex.split(command), command)

    def test_control_characters(self) -> None:
        """A stored command holding a control character (newline, tab, escape, DEL, C1),
        quoted or not, gets no replay command rather than its raw text."""
        for command in (
            "trial x\nrm -rf ~",
            "trial 'a\nb'",
            "trial\tx",
            "trial x\r",
            "trial \x1b[2Jx",
            "trial \x7f",
            "trial \x9b31m",
            "trial \x00",
        ):
            self.assertIsNone(run_replay_command(1, command, order_seed=3), repr(command))

    def test_cannot_split(self) -> None:
        """A command with unbalanced quotes gets no replay command."""
        for command in ("trial 'x", 'trial "x', "trial x\\"):
            self.assertIsNone(run_replay_command(1, command), command)

    def test_assignment_as_program(self) -> None:
        """A program word that reads as an assignment is quoted, so the shell cannot take
        it as one more variable set for the next word."""
        self.assertEqual(
            run_replay_command(1, "PATH=/tmp/x trial mypkg"),
            "SEEDBOARD_RUN_SEED=1 SEEDBOARD_REPLAY=1 'PATH=/tmp/x' trial mypkg",
        )

    def test_one_line_always(self) -> None:
        """Whatever was recorded, the replay command is None or one line of printable
        text that splits back into the seed, then the recorded words."""
        alphabet = ["a", " ", "'", '"', "\\", "$", ";", "\n", "\t", "=", "|", "-", "\x1b"]
        rng = random.Random(15)
        for _ in range(2000):
            command = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
            replay = run_replay_command(3, command)
            if replay is None:
                continue
            self.assertTrue(replay.isprintable(), repr(command))
            words = shlex.split(replay)
            self.assertEqual(words[:2], ["SEEDBOARD_RUN_SEED=3", "SEEDBOARD_REPLAY=1"])
            self.assertEqual(words[2:], shlex.split(command) or ["trial"], repr(command))


class HasOrderOptionTests(SynchronousTestCase):
    def test_detects(self) -> None:
        """--random, --random=N, -z N and -zN all shuffle."""
        for command in ("trial --random x", "trial --random=3 x", "trial -z 3 x", "trial -z3 x"):
            self.assertTrue(has_order_option(command), command)

    def test_ignores(self) -> None:
        """Other options, test names and unbalanced quotes do not shuffle."""
        for command in ("trial --reporter=seedboard x", "trial random.z", "trial 'x -y"):
            self.assertFalse(has_order_option(command), command)
