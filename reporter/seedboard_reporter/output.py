"""trial's default terminal output (``--reporter=verbose``), byte for byte, in fewer writes.

trial's ``TreeReporter`` writes each test's line in pieces (the name, the
padding, the verdict, the newline), each followed by a flush: a system call
apiece, and about three times the interpreter time of ``--reporter=text``.
Here a test costs two writes: its name when it starts (so a test that hangs is
on screen) and the rest of its line when it ends; and the lines of a new module
or class are worked out once, not for every test.
"""

from __future__ import annotations

import io
from typing import Any

from twisted.trial.reporter import Reporter, TreeReporter

from seedboard_reporter.trial_private import (
    TEXT_COLORIZERS,
    colorizer_type,
    prelude_segments,
    raw_stream,
    set_written_segments,
    written_segments,
)


class TreeOutput(TreeReporter):
    """A ``TreeReporter`` whose lines are written whole."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._out = raw_stream(self)
        self._painted: dict[tuple[str, str], str] = {}
        self._branch: str | None = None
        """The id of the latest test without its name: its module and class, usually."""
        self._leaf_indent = ""
        self.test_id = ""
        """The id of the test that started last, for subclasses that need it too."""
        self.mark = ""
        """A word for subclasses to end the next verdicts with, after a space."""

    def startTest(self, test: Any) -> None:
        self.test_id = test_id = test.id()
        branch, _, name = test_id.rpartition(".")
        prelude = "" if branch == self._branch else self._new_branch(branch, test_id)
        self.currentLine = line = f"{self._leaf_indent}{name} ... "
        # _put's work without its call, here and in endLine, twice a test: measured,
        # 28 M of 5.7 G instructions on 5,000 tests (bench/README.md, issue 18).
        out = self._out
        out.write(prelude + line)
        out.flush()
        Reporter.startTest(self, test)

    def _new_branch(self, branch: str, test_id: str) -> str:
        """The module and class lines TreeReporter's _testPrelude writes, in one piece."""
        segments = prelude_segments(self, test_id)
        last = written_segments(self)
        prelude = "".join(
            f"{self.indent * level}{segment}\n"
            for level, segment in enumerate(segments)
            if level >= len(last) or segment != last[level]
        )
        set_written_segments(self, segments)
        self._branch = branch
        self._leaf_indent = self.indent * len(segments)
        return prelude

    def endLine(self, message: str, color: str) -> None:
        if self.mark:
            message = f"{message} {self.mark}"
        painted = self._painted.get((message, color)) or self._paint(message, color)
        if painted is None:  # a console that is coloured by calls, not by text
            super().endLine(message, color)
            return
        spaces = " " * (self.columns - len(self.currentLine) - len(message))
        out = self._out
        out.write(f"{spaces}{painted}\n")
        out.flush()

    def _put(self, text: str) -> None:
        """``Reporter._write`` without its layers (Python itself retries interrupted writes)."""
        out = self._out
        out.write(text)
        out.flush()

    def _paint(self, message: str, color: str) -> str | None:
        """``message`` as this reporter's colorizer writes it, or None if it writes by calls."""
        painted = self._painted.get((message, color))
        if painted is None:
            kind = colorizer_type(self)
            if kind not in TEXT_COLORIZERS:
                return None
            text = io.StringIO()
            kind(text).write(message, color)
            painted = self._painted[message, color] = text.getvalue()
        return painted
