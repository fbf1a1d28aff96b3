"""The text a user copies to replay a failure: the ``@seed`` decorator, or a command line."""

from __future__ import annotations

import re
import shlex

from seedboard.settings import RUN_SEED_ENV, SEED_ENV

# The program part of a recorded command: ``trial``, or ``python -m twisted.trial``.
_PROGRAM = re.compile(r"\s*(?:\S*python\S*\s+-m\s+\S+|\S+)")


def split_test_id(test_id: str) -> tuple[str, str | None, str]:
    """``pkg.mod.Class.test_x`` -> ``("pkg.mod", "Class", "test_x")``, on a best-effort basis.

    Test ids do not say where the module ends, so a class is assumed when the
    next-to-last part starts with an uppercase letter, as test case classes do.
    """
    *parents, method = test_id.split(".")
    if parents and parents[-1][:1].isupper():
        return ".".join(parents[:-1]), parents[-1], method
    return ".".join(parents), None, method


def seed_snippet(test_id: str, seed: int) -> str:
    """The lines showing where ``@seed(N)`` goes to pin the seed of one test."""
    _, class_name, method = split_test_id(test_id)
    indent = "    " if class_name else ""
    lines = ["from seedboard.testing import seed", ""]
    if class_name:
        lines.append(f"class {class_name}(...):")
    lines += [f"{indent}@seed({seed})", f"{indent}def {method}(self):"]
    return "\n".join(lines)


def replay_command(test_id: str, seed: int, order_seed: int | None = None) -> str:
    """The shell command that runs one test again with ``seed``.

    ``--random`` goes before the test id because trial reads no options after
    its first argument.
    """
    words = [f"{SEED_ENV}={seed}", "trial"]
    if order_seed is not None:
        words.append(f"--random={order_seed}")
    words.append(shlex.quote(test_id))
    return " ".join(words)


def run_replay_command(run_seed: int, command: str, order_seed: int | None = None) -> str:
    """The shell command that replays a whole run: its command line under its run seed.

    When the run was shuffled and the command does not already say so, the
    order seed is added right after the program name, where trial reads options.
    """
    command = command.strip() or "trial"
    if order_seed is not None and not has_order_option(command):
        program = _PROGRAM.match(command)
        end = program.end() if program else 0
        command = f"{command[:end]} --random={order_seed}{command[end:]}"
    return f"{RUN_SEED_ENV}={run_seed} {command}"


def has_order_option(command: str) -> bool:
    """Whether a trial command line already shuffles with ``--random``/``-z``."""
    try:
        words = shlex.split(command)
    except ValueError:  # unbalanced quotes: whitespace is the best we can do
        words = command.split()
    return any(word == "--random" or word.startswith(("--random=", "-z")) for word in words)
