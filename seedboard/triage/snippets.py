"""The text a user copies to replay a failure: the ``@seed`` decorator, or a command line."""

from __future__ import annotations

import re
import shlex

from seedboard.domain import CONTROL_CHARACTERS
from seedboard.settings import REPLAY_ENV, RUN_SEED_ENV, SEED_ENV

_PYTHON = re.compile(r"\S*python\S*")
"""A Python interpreter, as in ``python -m twisted.trial``."""
_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")
"""Control characters: no word of a command a developer copies holds one."""
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
"""A word the shell reads as a variable assignment when it comes before the program."""


def split_test_id(test_id: str) -> tuple[str, str | None, str]:
    """``pkg.mod.Class.test_x`` -> ``("pkg.mod", "Class", "test_x")``, on a best-effort basis.

    Test ids do not say where the module ends, so a class is assumed when the
    next-to-last part starts with an uppercase letter, as test case classes do.
    """
    *parents, method = test_id.split(".")
    if parents and parents[-1][:1].isupper():
        return ".".join(parents[:-1]), parents[-1], method
    return ".".join(parents), None, method


PYTEST_ID = "::"
"""What a pytest node id has and a trial test id never does (``tests/test_x.py::test_y``)."""


def is_pytest_id(test_id: str) -> bool:
    """Whether the test was recorded by the pytest plugin: replayed with pytest, not trial."""
    return PYTEST_ID in test_id


def split_node_id(test_id: str) -> tuple[str, str | None, str]:
    """``tests/t.py::Class::test_x[1-2]`` -> ``("tests/t.py", "Class", "test_x")``."""
    path, *names = test_id.split(PYTEST_ID)
    method = names[-1].split("[", 1)[0] if names else ""
    return path, names[-2] if len(names) > 1 else None, method


def seed_snippet(test_id: str, seed: int) -> str:
    """The lines showing where ``@seed(N)`` goes to pin the seed of one test; for a
    pytest test, ``@pytest.mark.seed(N)``."""
    if is_pytest_id(test_id):
        _, class_name, method = split_node_id(test_id)
        imports, decorator, arguments = "import pytest", f"@pytest.mark.seed({seed})", "..."
    else:
        _, class_name, method = split_test_id(test_id)
        imports, decorator, arguments = (
            "from seedboard.testing import seed",
            f"@seed({seed})",
            "self",
        )
    indent = "    " if class_name else ""
    lines = [imports, ""]
    if class_name:
        lines.append(f"class {class_name}{'' if is_pytest_id(test_id) else '(...)'}:")
    lines += [f"{indent}{decorator}", f"{indent}def {method}({arguments}):"]
    return "\n".join(lines)


def replay_command(test_id: str, seed: int, order_seed: int | None = None) -> str:
    """The shell command that runs one test again with ``seed``.

    ``--random`` goes before the test id because trial reads no options after
    its first argument.  A pytest test is run by pytest with the plugin; when
    pytest-randomly seeded it (its seed is then the run's order seed too), with
    pytest-randomly and that seed.
    """
    if is_pytest_id(test_id):
        return _pytest_replay(test_id, seed, order_seed)
    words = [f"{SEED_ENV}={seed}", "trial"]
    if order_seed is not None:
        words.append(f"--random={order_seed}")
    words.append(shlex.quote(test_id))
    return " ".join(words)


def _pytest_replay(test_id: str, seed: int, order_seed: int | None) -> str:
    node = shlex.quote(test_id)
    if order_seed is not None and order_seed == seed:
        return f"pytest -p randomly -p seedboard --randomly-seed={seed} {node}"
    return f"{SEED_ENV}={seed} pytest -p seedboard -p no:randomly {node}"


def order_command(polluter: str, victim: str, seed: int | None, run_seed: int | None) -> str:
    """The shell command that shows an order-dependent failure: the polluter, then its
    victim, under the run's seed, which gives each the seed it had in the run; without
    one, under the failing result's seed (which the polluter then draws from too)."""
    words = ["trial", shlex.quote(polluter), shlex.quote(victim)]
    if run_seed is not None:
        words.insert(0, f"{RUN_SEED_ENV}={run_seed}")
    elif seed is not None:
        words.insert(0, f"{SEED_ENV}={seed}")
    return " ".join(words)


def run_replay_command(run_seed: int, command: str, order_seed: int | None = None) -> str | None:
    """The shell command that replays a whole run: its command line under its run seed,
    recorded as a replay (so that it counts as one in trends and the runs list).

    Built, not repeated: the recorded command is split into its arguments and each is
    quoted again (``shlex.join``), so what a developer copies is one command line that
    runs the recorded program with exactly the arguments shown, whatever the reporter
    sent (rows stored before ingest refused control characters included).  None, rather
    than the raw text, when the command holds a control character or cannot be split
    (unbalanced quotes).

    When the run was shuffled and the command does not already say so, the order seed
    is added right after the program name, where trial reads options.
    """
    if _CONTROL.search(command):
        return None
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    words = words or ["trial"]
    # A pytest run's command already carries pytest-randomly's seed (the plugin adds it).
    if order_seed is not None and not _shuffles(words) and not _is_pytest(words):
        end = _program_length(words)
        words[end:end] = [f"--random={order_seed}"]
    return " ".join(
        [
            f"{RUN_SEED_ENV}={run_seed}",
            f"{REPLAY_ENV}=1",
            _program(words[0]),
            *map(shlex.quote, words[1:]),
        ]
    )


def _program(word: str) -> str:
    """The program's word, quoted: also when it reads as an assignment (``PATH=/x``), which
    the shell would take as one more variable set for another program."""
    quoted = shlex.quote(word)
    return f"'{word}'" if quoted == word and _ASSIGNMENT.match(word) else quoted


def has_order_option(command: str) -> bool:
    """Whether a trial command line already shuffles with ``--random``/``-z``."""
    try:
        words = shlex.split(command)
    except ValueError:  # unbalanced quotes: whitespace is the best we can do
        words = command.split()
    return _shuffles(words)


def _shuffles(words: list[str]) -> bool:
    return any(word == "--random" or word.startswith(("--random=", "-z")) for word in words)


def _is_pytest(words: list[str]) -> bool:
    program = words[: _program_length(words)]
    return program[-1].rsplit("/", 1)[-1] in ("pytest", "py.test")


def _program_length(words: list[str]) -> int:
    """How many words name the program: ``trial`` is one, ``python -m twisted.trial`` three."""
    if len(words) >= 3 and _PYTHON.fullmatch(words[0]) and words[1] == "-m":
        return 3
    return 1
