"""The pytest plugin: ``pytest -p seedboard`` seeds ``random`` before every test and
records every result where the trial reporter records them.

Installed as a ``pytest11`` entry point named ``seedboard``, so pytest imports this
module in every run; it does nothing until asked, by ``-p seedboard`` or by
``seedboard = true`` in the configuration (``[tool.pytest.ini_options]``,
``pytest.ini``, ``setup.cfg``).  Standard library and pytest only at import.

Each test's seed is chosen as ``seedboard.testing`` chooses it (``@seed(N)`` or
``@pytest.mark.seed(N)``, else ``SEEDBOARD_SEED``, else one derived from the run's
``SEEDBOARD_RUN_SEED``), ``random`` is seeded with it before the test's setup, and a
failure shows it.  When pytest-randomly is active it seeds ``random`` itself, so its
``--randomly-seed`` is recorded instead, as the run's order seed too.  Under
pytest-xdist the workers seed and the controller records: a report carries its
test's seed and exception across in ``user_properties``.
"""

from __future__ import annotations

import os
import random
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from seedboard.seeds import check_seed, choose_seed, seed_note
from seedboard_reporter.recorder import Row
from seedboard_reporter.recording import governing_run_seed, open_recorder

PLUGIN = "seedboard"
INI = "seedboard"
MARK = "seed"
NOTE_KEY = "seedboard"
"""The ``user_properties`` entry a report carries its test's seed and exception in."""
SEED_KEY = pytest.StashKey[int]()

ERROR, FAILURE, SKIP, SUCCESS = "error", "failure", "skip", "success"
EXPECTED_FAILURE, UNEXPECTED_SUCCESS = "expected_failure", "unexpected_success"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        INI, type="bool", default=False, help="seedboard: record every run (as -p seedboard)"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARK}(n): seedboard: seed this test's random with n, to replay a failure"
    )
    if not _asked_for(config):
        return
    config.pluginmanager.register(Seeding(config), "seedboard-seeding")
    if not hasattr(config, "workerinput") and not config.option.collectonly:
        # Chosen here, before xdist starts its workers: they inherit it from the
        # environment and derive each test's seed alike.
        run_seed = governing_run_seed(os.environ)
        config.pluginmanager.register(Recording(config, run_seed), "seedboard-recording")


def _asked_for(config: pytest.Config) -> bool:
    """``-p seedboard`` (on the command line or in ``PYTEST_ADDOPTS``/``addopts``), or
    ``seedboard = true`` in the configuration."""
    plugins = getattr(config.known_args_namespace, "plugins", None) or []
    return PLUGIN in plugins or bool(config.getini(INI))


def randomly_seed(config: pytest.Config) -> int | None:
    """pytest-randomly's seed, when it is active and reseeds ``random`` itself."""
    if not config.pluginmanager.hasplugin("randomly"):
        return None
    if not config.getoption("randomly_reset_seed", True):
        return None
    seed = config.getoption("randomly_seed", None)
    return seed if isinstance(seed, int) else None


class Seeding:
    """Seeds ``random`` before each test's setup, and notes the seed on its reports."""

    def __init__(self, config: pytest.Config) -> None:
        self._config = config
        self._randomly: int | None = None

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        # Read once the session starts, not in pytest_configure: pytest-randomly settles
        # its seed in its own, which may run after this plugin's.
        self._randomly = randomly_seed(self._config)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        randomly = self._randomly
        seed = randomly if randomly is not None else _seed_of(item)
        item.stash[SEED_KEY] = seed
        if randomly is None:
            random.seed(seed)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        # A new-style wrapper: pluggy runs an old-style one (hookwrapper=True) through a
        # shim of its own, three times a test.
        report = yield
        seed = item.stash.get(SEED_KEY, None)
        # The seed once, on the setup's report; a failure's exception on its own: a
        # passing test's other reports carry nothing (they are most of them).
        if call.excinfo is not None and report.failed:
            kind = call.excinfo.type
            note: dict[str, Any] = {
                "seed": seed,
                "exception_type": f"{kind.__module__}.{kind.__qualname__}",
                "message": _message(call.excinfo.value, seed),
            }
            if seed is not None:
                report.sections.append((PLUGIN, seed_note(seed)))
        elif report.when == "setup":
            note = {"seed": seed}
        else:
            return report
        report.user_properties.append((NOTE_KEY, note))
        return report


def _seed_of(item: pytest.Item) -> int:
    """``@pytest.mark.seed(N)``, else what ``seedboard.testing`` would choose."""
    marker = item.get_closest_marker(MARK)
    if marker is not None and marker.args:
        return check_seed(marker.args[0], "@pytest.mark.seed()")
    return choose_seed(getattr(item, "function", None), os.environ, item.nodeid)


def _message(error: BaseException, seed: int | None) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{text} {seed_note(seed)}".strip() if seed is not None else text


@dataclass(slots=True)
class _Test:
    """A test's reports as they arrive: setup, call, teardown."""

    position: int
    outcome: str = SUCCESS
    duration: float = 0.0
    note: dict[str, Any] = field(default_factory=dict)
    longrepr: str | None = None
    location: tuple[str, int | None, str] | None = None


class Recording:
    """In the process that reports (not an xdist worker): every test as one row."""

    def __init__(self, config: pytest.Config, run_seed: int | None) -> None:
        self._config = config
        self._run_seed = run_seed
        self._tests: dict[str, _Test] = {}
        self._started = 0
        self._recorder: Any = None
        self._line: str | None = None

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        try:
            self._recorder = _open_recorder(self._config, self._run_seed)
            self._recorder.start()
        except Exception as error:  # a reporter problem never changes the run
            self._line = f"seedboard: warning: this run is not recorded: {error}"
            self._recorder = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self._recorder is None:
            return
        test = self._tests.get(report.nodeid)
        if test is None:
            test = self._tests[report.nodeid] = _Test(self._started)
            self._started += 1
        test.duration += report.duration
        if test.location is None:
            test.location = report.location
        for key, value in report.user_properties:
            if key == NOTE_KEY and isinstance(value, dict):
                test.note.update({k: v for k, v in value.items() if v is not None})
        if not report.passed or hasattr(report, "wasxfail"):
            _judge(test, report)
        if report.when == "teardown":
            del self._tests[report.nodeid]
            self._recorder.add(_row(report.nodeid, test))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self._recorder is None:
            return
        try:
            self._line = self._recorder.finish(datetime.now(UTC)).line()
        except Exception as error:
            self._line = f"seedboard: warning: this run was not recorded: {error}"

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self._line:
            terminalreporter.write_line(self._line)


def _judge(test: _Test, report: pytest.TestReport) -> None:
    """The test's outcome so far, as pytest counts it: an error in setup or teardown, a
    failure in the call; ``xfail`` an expected failure, ``xpass`` an unexpected success."""
    expected = hasattr(report, "wasxfail")
    if report.failed:
        test.outcome = FAILURE if report.when == "call" else ERROR
        test.longrepr = report.longreprtext
    elif report.skipped:
        test.outcome = EXPECTED_FAILURE if expected else SKIP
        test.longrepr = test.longrepr or _skip_reason(report)
    elif report.when == "call" and expected:
        test.outcome = UNEXPECTED_SUCCESS


def _skip_reason(report: pytest.TestReport) -> str | None:
    if hasattr(report, "wasxfail"):
        return str(report.wasxfail) or None
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return None


def _row(nodeid: str, test: _Test) -> Row:
    bad = test.outcome in (FAILURE, ERROR, UNEXPECTED_SUCCESS)
    path, line, _ = test.location or (None, None, None)
    message = test.note.get("message") if bad else test.longrepr
    return Row(
        test_id=nodeid,
        outcome=test.outcome,
        duration=test.duration,
        seed=test.note.get("seed"),
        exception_type=test.note.get("exception_type") if bad else None,
        message=message,
        traceback=test.longrepr if bad else None,
        file=path,
        line=None if line is None else line + 1,
        position=test.position,
    )


def _open_recorder(config: pytest.Config, run_seed: int | None) -> Any:
    """The trial reporter's recorder, for this run's command line and seeds."""
    order = randomly_seed(config)
    argv = ["pytest", *config.invocation_params.args]
    if order is not None and not any(a.startswith("--randomly-seed") for a in argv):
        argv[1:1] = ["-p", "randomly", f"--randomly-seed={order}"]
    cwd = Path(str(config.invocation_params.dir))
    # Under pytest-randomly its seed governs, not the run seed.
    return open_recorder(os.environ, cwd, argv, order, None if order is not None else run_seed)
