"""trial's default terminal output (``--reporter=verbose``), byte for byte, in fewer writes.

trial's ``TreeReporter`` writes each test's line in pieces (the name, the
padding, the verdict, the newline), each followed by a flush: a system call
apiece, and about three times the interpreter time of ``--reporter=text``.
Here a test costs two writes: its name when it starts (so a test that hangs is
on screen) and the rest of its line when it ends.
"""

from __future__ import annotations

import io
from typing import Any

from twisted.trial.reporter import Reporter, TreeReporter, _AnsiColorizer, _NullColorizer


class TreeOutput(TreeReporter):
    """A ``TreeReporter`` whose lines are written whole."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._painted: dict[tuple[str, str], str] = {}

    def startTest(self, test: Any) -> None:
        test_id = test.id()
        segments = self._getPreludeSegments(test_id)
        # The module and class lines TreeReporter's _testPrelude writes, in one piece.
        last = self._lastTest
        prelude = "".join(
            f"{self.indent * level}{segment}\n"
            for level, segment in enumerate(segments)
            if level >= len(last) or segment != last[level]
        )
        self._lastTest = segments
        line = f"{self.indent * len(segments)}{test_id.split('.')[-1]} ... "
        Reporter._write(self, prelude + line)
        self.currentLine = line
        Reporter.startTest(self, test)

    def endLine(self, message: str, color: str) -> None:
        painted = self._paint(message, color)
        if painted is None:  # a console that is coloured by calls, not by text
            super().endLine(message, color)
            return
        spaces = " " * (self.columns - len(self.currentLine) - len(message))
        Reporter._write(self, f"{spaces}{painted}\n")

    def _paint(self, message: str, color: str) -> str | None:
        """``message`` as this reporter's colorizer writes it, or None if it writes by calls."""
        painted = self._painted.get((message, color))
        if painted is None:
            kind = type(self._colorizer)
            if kind not in (_AnsiColorizer, _NullColorizer):
                return None
            text = io.StringIO()
            kind(text).write(message, color)
            painted = self._painted[message, color] = text.getvalue()
        return painted
