"""subunit streams, read with python-subunit's own parsers: v2, the binary packets of
``stestr last --subunit`` and ``python -m subunit.run``; and v1, the text protocol of
``trial --reporter=subunit``.

v1 keeps a failure apart from an error, as trial printed them; v2 has one ``fail``
status for both, so a failure is told from an error by its exception, as unittest
tells them (an ``AssertionError`` or trial's ``FailTest`` is a failure).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, BinaryIO

from seedboard.domain import Outcome, Result
from seedboard.imports.common import (
    Facts,
    Malformed,
    ResultSink,
    seed_of,
    seed_value,
)

V2_SIGNATURE = 0xB3
"""The first byte of every subunit v2 packet."""
PARSER_ID = "subunit.parser"
"""The test id under which python-subunit's v2 parser reports a stream it cannot read."""

_V2_STATUS = {
    "success": Outcome.SUCCESS,
    "fail": Outcome.FAILURE,
    "skip": Outcome.SKIP,
    "xfail": Outcome.EXPECTED_FAILURE,
    "uxsuccess": Outcome.UNEXPECTED_SUCCESS,
}
_FAILURE_TYPES = re.compile(r"(?:\A|\.)(?:AssertionError|FailTest|failureException)\Z")
_LAST_LINE = re.compile(
    r"\A([\w.]+(?:Error|Exception|Fail\w*|Failure|Warning|Exit|Interrupt|\w+))(?::\s?(.*))?\Z"
)
_TEXT_NAMES = ("traceback", "reason")
_TAG_SEED = re.compile(r"\A(?:seed|random[_-]?seed|randomly[_-]seed)[=:](\d+)\Z")


def read_subunit(stream: BinaryIO, sink: ResultSink, facts: Facts) -> None:
    """Hand every test in the subunit stream (v2 or v1, told by its first byte) to
    ``sink``, and what it says about its run to ``facts``."""
    first = stream.peek(1)[:1] if hasattr(stream, "peek") else b""
    if first and first[0] == V2_SIGNATURE:
        read_v2(stream, sink, facts)
    else:
        read_v1(stream, sink, facts)


@dataclass(slots=True)
class _Test:
    """What is known of a test while its packets or lines arrive."""

    test_id: str
    started: datetime | None = None
    attachments: dict[str, list[bytes]] = field(default_factory=dict)
    tags: set[str] = field(default_factory=set)

    def text(self, *names: str) -> str | None:
        found = [b"".join(self.attachments[n]) for n in names if n in self.attachments]
        return found[0].decode("utf-8", "replace").replace("\0", "") if found else None

    def result(
        self, outcome: Outcome, ended: datetime | None, position: int, facts: Facts
    ) -> Result:
        traceback = self.text("traceback")
        reason = self.text("reason")
        kind, message = _exception(traceback) if traceback else (None, reason and reason.strip())
        if outcome is Outcome.FAILURE and kind and not _FAILURE_TYPES.search(kind):
            outcome = Outcome.ERROR
        others = [
            self.text(n) for n in sorted(self.attachments) if n not in ("traceback", "reason")
        ]
        seed = seed_of(message, traceback, reason, *others)
        if seed is None:
            seed = _tag_seed(self.tags)
        if seed is None:
            seed = facts.run_seed
        took = (ended - self.started).total_seconds() if ended and self.started else 0.0
        bad = outcome.is_bad
        return Result(
            test_id=self.test_id,
            outcome=outcome,
            duration=max(took, 0.0),
            seed=seed,
            exception_type=kind if bad else None,
            message=message,
            traceback=traceback if bad else None,
            position=position,
        )


def _exception(traceback: str) -> tuple[str | None, str | None]:
    """The exception's type and message, from a Python traceback's last line."""
    lines = [line for line in traceback.strip().splitlines() if line.strip()]
    if not lines:
        return None, None
    found = _LAST_LINE.match(lines[-1].strip())
    if found is None:
        return None, lines[-1].strip()
    return found.group(1), found.group(2)


def _tag_seed(tags: set[str]) -> int | None:
    for tag in tags:
        found = _TAG_SEED.match(tag)
        if found:
            return seed_value(found.group(1))
    return None


class _Counting:
    """A stream that counts what was read from it, so an error can say where."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.bytes = 0
        self.lines = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.bytes += len(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        data = self._stream.readline(size)
        self.bytes += len(data)
        self.lines += 1
        return data


def read_v2(stream: BinaryIO, sink: ResultSink, facts: Facts) -> None:
    import subunit
    import testtools

    counted = _Counting(stream)
    tests: dict[str, _Test] = {}
    position = 0

    class Collector(testtools.StreamResult):
        def status(
            self,
            test_id: str | None = None,
            test_status: str | None = None,
            test_tags: set[str] | None = None,
            runnable: bool = True,
            file_name: str | None = None,
            file_bytes: bytes | None = None,
            eof: bool = False,
            mime_type: str | None = None,
            route_code: str | None = None,
            timestamp: datetime | None = None,
        ) -> None:
            nonlocal position
            if test_id == PARSER_ID:
                if test_status == "fail":
                    raise Malformed(f"byte {counted.bytes}", "not a subunit v2 stream from here on")
                return
            if test_id is None or test_status == "exists":
                return
            moment = _utc(timestamp)
            if moment is not None:
                facts.saw_time(moment)
            test = tests.get(test_id) or tests.setdefault(test_id, _Test(test_id))
            if test_tags:
                test.tags |= test_tags
            if file_name is not None and file_bytes:
                test.attachments.setdefault(file_name, []).append(bytes(file_bytes))
            if test_status == "inprogress":
                test.started = test.started or moment
            elif test_status in _V2_STATUS:
                del tests[test_id]
                sink(test.result(_V2_STATUS[test_status], moment, position, facts))
                position += 1

    subunit.ByteStreamToStreamResult(counted, non_subunit_name=None).run(Collector())
    facts.results = position
    if tests:
        unfinished = ", ".join(sorted(tests)[:3])
        raise Malformed(f"byte {counted.bytes}", f"the stream ends inside a test ({unfinished})")


def read_v1(stream: BinaryIO, sink: ResultSink, facts: Facts) -> None:
    import subunit

    counted = _Counting(stream)
    state: dict[str, Any] = {"test": None, "now": None, "position": 0, "lost": None}

    def finish(test: Any, outcome: Outcome, details: dict[str, Any] | None, err: Any) -> None:
        current: _Test = state["test"]
        for name, content in (details or {}).items():
            current.attachments[name] = [b"".join(content.iter_bytes())]
        if err is not None and "traceback" not in current.attachments:
            current.attachments["traceback"] = [str(err[1]).encode()]
        text = current.text("traceback") or ""
        if "lost connection during" in text and outcome is Outcome.ERROR:
            state["lost"] = current.test_id
        kind = None if outcome is Outcome.ERROR else outcome
        result = current.result(kind or Outcome.ERROR, state["now"], state["position"], facts)
        if outcome is Outcome.ERROR:
            result = _as_error(result)
        sink(result)
        state["position"] += 1

    class Client:
        """The unittest result python-subunit's v1 parser reports to, with details."""

        def startTest(self, test: Any) -> None:
            state["test"] = _Test(test.id(), started=state["now"])

        def stopTest(self, test: Any) -> None:
            state["test"] = None

        def addSuccess(self, test: Any, details: Any = None) -> None:
            finish(test, Outcome.SUCCESS, details, None)

        def addFailure(self, test: Any, err: Any = None, details: Any = None) -> None:
            finish(test, Outcome.FAILURE, details, err)

        def addError(self, test: Any, err: Any = None, details: Any = None) -> None:
            finish(test, Outcome.ERROR, details, err)

        def addSkip(self, test: Any, reason: Any = None, details: Any = None) -> None:
            if reason is not None and not details:
                details = {"reason": _Text(str(reason))}
            finish(test, Outcome.SKIP, details, None)

        def addExpectedFailure(self, test: Any, err: Any = None, details: Any = None) -> None:
            finish(test, Outcome.EXPECTED_FAILURE, details, err)

        def addUnexpectedSuccess(self, test: Any, details: Any = None) -> None:
            finish(test, Outcome.UNEXPECTED_SUCCESS, details, None)

        def time(self, moment: datetime) -> None:
            state["now"] = _utc(moment)
            if state["now"] is not None:
                facts.saw_time(state["now"])

        def tags(self, new_tags: set[str], gone_tags: set[str]) -> None:
            if state["test"] is not None:
                state["test"].tags |= new_tags

        def progress(self, offset: int, whence: int) -> None:
            pass

    # What is not protocol (a test's own prints) is passed through: to nowhere here.
    subunit.ProtocolTestCase(counted, passthrough=_Nowhere()).run(Client())
    if state["lost"] is not None:
        raise Malformed(f"line {counted.lines}", f"the stream ends inside test {state['lost']!r}")
    facts.results = state["position"]


class _Nowhere:
    def write(self, data: bytes) -> int:
        return len(data)

    def flush(self) -> None:
        pass


def _as_error(result: Result) -> Result:
    """An error stays an error, whatever its exception (v1 says which it was)."""
    from dataclasses import replace

    return replace(result, outcome=Outcome.ERROR)


@dataclass(frozen=True, slots=True)
class _Text:
    """A skip's reason, shaped like the testtools content the parser gives otherwise."""

    text: str

    def iter_bytes(self) -> list[bytes]:
        return [self.text.encode()]


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return datetime.fromtimestamp(moment.timestamp(), UTC)
