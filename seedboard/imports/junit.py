"""JUnit XML, in the dialects people produce: pytest's ``--junitxml``, Maven Surefire and
Failsafe (with ``flakyFailure``/``rerunFailure`` attempts), Gradle, gotestsum, and the
Jest and Mocha reporters; a ``testsuites`` root or a single ``testsuite``.

Read with defusedxml's SAX parser, fed a chunk at a time: memory stays bounded however
many test cases a file holds, the parser knows the line of every element (so an error
names it), and entity tricks (billion laughs, external entities) are refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import BinaryIO
from xml.sax import SAXParseException
from xml.sax.expatreader import ExpatLocator
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import AttributesImpl, Locator

from defusedxml import DefusedXmlException
from defusedxml.sax import make_parser

from seedboard.domain import Outcome, Result
from seedboard.imports.common import (
    SEED_PROPERTIES,
    Facts,
    Malformed,
    ResultSink,
    seed_of,
    seed_value,
)

CHUNK = 1 << 16

_OUTCOMES = {"failure": Outcome.FAILURE, "error": Outcome.ERROR, "skipped": Outcome.SKIP}
"""A test case's verdict by the element that says it (none: it passed)."""
_ATTEMPTS = {
    "flakyFailure": Outcome.FAILURE,
    "flakyError": Outcome.ERROR,
    "rerunFailure": Outcome.FAILURE,
    "rerunError": Outcome.ERROR,
}
"""Surefire's other attempts at a test: ``flaky*`` failed before it passed, ``rerun*``
failed again after its first failure."""
_TEXT_INSIDE = frozenset({*_OUTCOMES, *_ATTEMPTS, "stackTrace"})
_OUTPUT = frozenset({"system-out", "system-err"})
XFAIL_TYPE = "pytest.xfail"
"""How pytest marks an expected failure: a ``skipped`` of this type."""


def read_junit(stream: BinaryIO, sink: ResultSink, facts: Facts) -> None:
    """Hand every test case of the JUnit XML in ``stream`` to ``sink``, and what the file
    says about its run to ``facts`` as it is read.  ``Malformed`` names the line of
    anything wrong."""
    reader = _Reader(sink, facts)
    parser = make_parser()
    parser.setContentHandler(reader)
    # parse() would give the handler its locator; feed(), used here, does not.
    reader.setDocumentLocator(ExpatLocator(parser))
    try:
        while chunk := stream.read(CHUNK):
            parser.feed(chunk)
        parser.close()
    except SAXParseException as error:
        raise Malformed(f"line {error.getLineNumber()}", error.getMessage()) from None
    except DefusedXmlException as error:
        raise Malformed(f"line {reader.line()}", f"refused: {error}") from None
    if not reader.root_seen:
        raise Malformed("line 1", "no XML in it")


@dataclass(slots=True)
class _Verdict:
    """A ``failure``, ``error`` or ``skipped`` element, or one of Surefire's attempts."""

    outcome: Outcome
    kind: str | None
    message: str | None
    text: list[str] = field(default_factory=list)
    output: list[str] = field(default_factory=list)
    """What the attempt printed (Surefire keeps it per attempt): searched for a seed."""

    def result(self, case: _Case, position: int) -> Result:
        text = "".join(self.text).strip() or None
        message = self.message or (text.splitlines()[0] if text else None)
        bad = self.outcome.is_bad
        found = seed_of(message, text, "".join(self.output))
        if found is None and self is case.verdict:
            found = seed_of("".join(case.output))
        return Result(
            test_id=case.test_id,
            outcome=self.outcome,
            duration=case.duration,
            seed=_first_seed(found, case.seed),
            exception_type=(self.kind or None) if bad else None,
            message=message,
            traceback=text if bad else None,
            file=case.file,
            line=case.line,
            position=position,
        )


@dataclass(slots=True)
class _Case:
    test_id: str
    duration: float
    file: str | None
    line: int | None
    seed: int | None
    verdict: _Verdict | None = None
    attempts: list[_Verdict] = field(default_factory=list)
    output: list[str] = field(default_factory=list)


class _Reader(ContentHandler):
    def __init__(self, sink: ResultSink, facts: Facts) -> None:
        super().__init__()
        self.facts = facts
        self.root_seen = False
        self._sink = sink
        self._locator: Locator | None = None
        self._suites: list[str] = []
        self._seeds: list[int | None] = [None]
        """The seed property of each enclosing element, innermost last."""
        self._case: _Case | None = None
        self._open: _Verdict | None = None
        self._capturing: list[str] | None = None
        self._position = 0

    def setDocumentLocator(self, locator: Locator) -> None:
        self._locator = locator

    def line(self) -> int:
        found = self._locator.getLineNumber() if self._locator else None
        return found or 1

    def _malformed(self, message: str) -> Malformed:
        return Malformed(f"line {self.line()}", message)

    def startElement(self, name: str, attrs: AttributesImpl) -> None:
        if not self.root_seen:
            if name not in ("testsuites", "testsuite"):
                raise self._malformed(f"<{name}> is no JUnit XML root (testsuites or testsuite)")
            self.root_seen = True
        if name == "testsuite":
            self._start_suite(attrs)
        elif name == "testcase":
            self._start_case(attrs)
        elif name == "property":
            self._property(attrs)
        elif self._case is not None:
            self._start_in_case(name, attrs)

    def _start_suite(self, attrs: AttributesImpl) -> None:
        if self._case is not None:
            raise self._malformed("<testsuite> inside a <testcase>")
        self._suites.append(attrs.get("name", ""))
        self._seeds.append(self._seeds[-1])
        host = attrs.get("hostname")
        if host and self.facts.host is None:
            self.facts.host = host
        start = _timestamp(attrs.get("timestamp"))
        if start is not None:
            took = attrs.get("time")
            seconds = _seconds(took) if took else None
            self.facts.saw_time(start, start + timedelta(seconds=seconds or 0))

    def _start_case(self, attrs: AttributesImpl) -> None:
        if self._case is not None:
            raise self._malformed("<testcase> inside a <testcase>")
        name = attrs.get("name")
        if not name:
            raise self._malformed("<testcase> without a name")
        took = attrs.get("time")
        duration = _seconds(took) if took else 0.0
        if duration is None:
            raise self._malformed(f"<testcase> time {took!r} is not a number of seconds")
        line = attrs.get("line")
        self._case = _Case(
            test_id=_test_id(attrs.get("classname", ""), name, self._suites),
            duration=duration,
            file=attrs.get("file") or None,
            line=int(line) if line and line.isdigit() else None,
            seed=self._seeds[-1],
        )
        self._seeds.append(self._seeds[-1])

    def _property(self, attrs: AttributesImpl) -> None:
        if attrs.get("name", "") not in SEED_PROPERTIES:
            return
        seed = seed_value(attrs.get("value", ""))
        if seed is None:
            return
        self._seeds[-1] = seed
        if self._case is not None:
            self._case.seed = seed
        elif self.facts.run_seed is None:
            self.facts.run_seed = seed

    def _start_in_case(self, name: str, attrs: AttributesImpl) -> None:
        assert self._case is not None
        kind = attrs.get("type")
        if name in _OUTCOMES:
            outcome = _OUTCOMES[name]
            if kind == XFAIL_TYPE:
                outcome = Outcome.EXPECTED_FAILURE
            self._open = _Verdict(outcome, kind, attrs.get("message"))
            self._case.verdict = self._open
        elif name in _ATTEMPTS:
            self._open = _Verdict(_ATTEMPTS[name], kind, attrs.get("message"))
            self._case.attempts.append(self._open)
        if name in _OUTPUT:
            # Kept only to find a seed in, apart from the failure's own text: the
            # attempt's own output, or the test case's.
            self._capturing = self._open.output if self._open else self._case.output
        elif name in _TEXT_INSIDE and self._open is not None:
            self._capturing = self._open.text

    def characters(self, content: str) -> None:
        if self._capturing is not None:
            self._capturing.append(content)

    def endElement(self, name: str) -> None:
        if name == "testsuite":
            self._suites.pop()
            self._seeds.pop()
        elif name == "testcase":
            self._end_case()
        elif name in _OUTCOMES or name in _ATTEMPTS:
            self._open = None
            self._capturing = None
        elif name in _OUTPUT:
            self._capturing = None if self._open is None else self._open.text

    def _end_case(self) -> None:
        case = self._case
        assert case is not None
        self._case = None
        self._seeds.pop()
        verdict = case.verdict
        if verdict is None and not case.attempts and not case.output:
            # Most test cases: a pass, and nothing else to read.
            self._sink(
                Result(
                    test_id=case.test_id,
                    outcome=Outcome.SUCCESS,
                    duration=case.duration,
                    seed=case.seed,
                    file=case.file,
                    line=case.line,
                    position=self._position,
                )
            )
            self._position += 1
            self.facts.results += 1
            return
        if verdict is None:
            verdict = case.verdict = _Verdict(Outcome.SUCCESS, None, None)
        # Surefire: a test that passed on a rerun failed first (flaky*); one that failed
        # failed again on its reruns (rerun*).  Either way, in the order they ran.
        if verdict.outcome.is_bad:
            attempts = [verdict, *case.attempts]
        else:
            attempts = [*case.attempts, verdict]
        for attempt in attempts:
            self._sink(attempt.result(case, self._position))
            self._position += 1
        self.facts.results += len(attempts)


def _first_seed(found: int | None, given: int | None) -> int | None:
    """The seed a failure reports, else the one its run or case was given (0 is a seed)."""
    return given if found is None else found


def _test_id(classname: str, name: str, suites: list[str]) -> str:
    """``classname.name``, as pytest, Surefire, Gradle and gotestsum write ids.  Jest
    writes the full title in both, Mocha its full title as the name and the last part
    of it as the class: the name alone then, after the enclosing suite's for Jest."""
    if name.endswith(classname) and name != classname:
        return name
    if classname and classname != name:
        return f"{classname}.{name}"
    suite = next((s for s in reversed(suites) if s and s != name), "")
    return f"{suite}.{name}" if suite else name


def _seconds(text: str) -> float | None:
    """A duration attribute: seconds, perhaps with thousands separators (Surefire)."""
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        return None
    return value if value >= 0 and value != float("inf") else None


def _timestamp(text: str | None) -> datetime | None:
    """A suite's start; without a zone, UTC (what the tools that omit it write)."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
