"""Reading other runners' files: JUnit XML in its dialects and subunit streams, into
results, without a database."""

from __future__ import annotations

import io
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from twisted.trial.unittest import SynchronousTestCase

from seedboard.domain import Outcome, Result
from seedboard.imports.common import Facts, FileFormat, Malformed
from seedboard.imports.junit import read_junit
from seedboard.imports.load import detect
from seedboard.imports.subunit import read_subunit

SAMPLES = Path(__file__).parent / "samples" / "junit"

Reader = Callable[[BinaryIO, Callable[[Result], None], Facts], None]


def read(reader: Reader, data: bytes) -> tuple[list[Result], Facts]:
    found: list[Result] = []
    facts = Facts()
    reader(io.BufferedReader(io.BytesIO(data)), found.append, facts)
    return found, facts


def sample(name: str) -> tuple[list[Result], Facts]:
    return read(read_junit, (SAMPLES / name).read_bytes())


def outcomes(results: list[Result]) -> list[tuple[str, Outcome]]:
    return [(r.test_id, r.outcome) for r in results]


class JUnitDialectTests(SynchronousTestCase):
    def test_surefire(self) -> None:
        """Surefire's reruns are attempts in the order they ran: a flaky test's failures
        before its pass, a failing test's reruns after its first failure."""
        results, facts = sample("surefire.xml")
        net = "com.example.NetTest."
        self.assertEqual(
            outcomes(results),
            [
                (net + "connects", Outcome.SUCCESS),
                (net + "retriesAfterTimeout", Outcome.FAILURE),
                (net + "retriesAfterTimeout", Outcome.SUCCESS),
                (net + "partition", Outcome.FAILURE),
                (net + "partition", Outcome.FAILURE),
                (net + "partition", Outcome.FAILURE),
                (net + "dnsLookup", Outcome.ERROR),
                (net + "ipv6", Outcome.SKIP),
            ],
        )
        flaky = results[1]
        self.assertEqual(flaky.exception_type, "org.opentest4j.AssertionFailedError")
        self.assertEqual(flaky.message, "expected: <3> but was: <2>")
        self.assertIn("NetTest.java:42", flaky.traceback or "")
        self.assertEqual(flaky.seed, 31337, "the seed its output printed")
        self.assertEqual(results[6].duration, 1002.5, "thousands separators")
        self.assertEqual([r.position for r in results], list(range(8)))
        self.assertEqual(facts.results, 8)

    def test_gotestsum(self) -> None:
        """Go's failure text holds the seed; subtests keep their path."""
        results, facts = sample("gotestsum.xml")
        self.assertEqual(
            outcomes(results),
            [
                ("example.com/net.TestDial", Outcome.SUCCESS),
                ("example.com/net.TestPartition", Outcome.FAILURE),
                ("example.com/net.TestIPv6", Outcome.SKIP),
                ("example.com/store.TestPut/empty_key", Outcome.SUCCESS),
            ],
        )
        self.assertEqual(results[1].seed, 8675309)
        self.assertIn("net_test.go:31", results[1].traceback or "")
        assert facts.started_at is not None and facts.finished_at is not None
        self.assertEqual(facts.started_at.isoformat(), "2026-12-07T10:00:00+00:00")
        self.assertEqual(facts.finished_at.isoformat(), "2026-12-07T10:00:01.500000+00:00")

    def test_gradle(self) -> None:
        results, facts = sample("gradle.xml")
        self.assertEqual(
            outcomes(results),
            [
                ("com.example.StoreTest.put()", Outcome.SUCCESS),
                ("com.example.StoreTest.get()", Outcome.FAILURE),
            ],
        )
        self.assertEqual(facts.host, "ci-7")

    def test_jest(self) -> None:
        """Jest writes the title as both class and name: the suite's name goes first, and
        a failure without a message attribute gets its text's first line."""
        results, _ = sample("jest.xml")
        self.assertEqual(
            outcomes(results),
            [
                ("cart.cart adds an item", Outcome.SUCCESS),
                ("cart.cart removes an item", Outcome.FAILURE),
                ("cart.cart totals", Outcome.SKIP),
            ],
        )
        self.assertEqual(
            results[1].message, "Error: expect(received).toBe(expected) // Object.is equality"
        )

    def test_mocha(self) -> None:
        """Mocha's name is the full title, its class the last part of it."""
        results, _ = sample("mocha.xml")
        self.assertEqual(
            outcomes(results),
            [("queue drains", Outcome.SUCCESS), ("queue retries", Outcome.FAILURE)],
        )
        self.assertEqual(results[1].exception_type, "AssertionError")

    def test_pytest_shapes(self) -> None:
        """pytest's expected failures are skips of type pytest.xfail; a seed property
        (pytest-randomly's) seeds every test that reports none of its own."""
        data = b"""<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="3" timestamp="2026-12-07T10:00:00.123456+01:00">
<properties><property name="randomly_seed" value="1234"/></properties>
<testcase classname="tests.test_a" name="test_ok[1-2]" file="tests/test_a.py" line="9"
 time="0.001"/>
<testcase classname="tests.test_a" name="test_later" time="0.002">
<skipped type="pytest.xfail" message="not yet"/></testcase>
<testcase classname="tests.test_a" name="test_bad" time="0.002">
<failure message="assert 1 == 2 (random seed: 5)">def test_bad(): ...</failure></testcase>
</testsuite></testsuites>"""
        results, facts = read(read_junit, data)
        self.assertEqual(
            [(r.test_id, r.outcome, r.seed) for r in results],
            [
                ("tests.test_a.test_ok[1-2]", Outcome.SUCCESS, 1234),
                ("tests.test_a.test_later", Outcome.EXPECTED_FAILURE, 1234),
                ("tests.test_a.test_bad", Outcome.FAILURE, 5),
            ],
        )
        self.assertEqual((results[0].file, results[0].line), ("tests/test_a.py", 9))
        self.assertEqual(facts.run_seed, 1234)
        assert facts.started_at is not None
        self.assertEqual(facts.started_at.isoformat(), "2026-12-07T09:00:00.123456+00:00")

    def test_malformed_names_the_line(self) -> None:
        """Broken XML, a test case without a name, a bad time, a foreign root: each an
        error naming the line."""
        for data, where, words in [
            (b"<testsuites>\n<testsuite>\n<testcase name='a'>\n", "line 4", "no element found"),
            (b"<testsuites>\n\n<testcase time='1'/>\n</testsuites>", "line 3", "without a name"),
            (b"<testsuite>\n<testcase name='a' time='soon'/></testsuite>", "line 2", "'soon'"),
            (b"<html>\n</html>", "line 1", "no JUnit XML root"),
            (b"", "line 1", ""),
        ]:
            with self.assertRaises(Malformed) as raised:
                read(read_junit, data)
            self.assertEqual(raised.exception.where, where, data)
            self.assertIn(words, raised.exception.message)

    def test_entities_refused(self) -> None:
        """No entity is expanded: not a billion laughs, not a file of the machine's."""
        for data in [
            b'<!DOCTYPE t [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            b'<testsuite><testcase name="&b;"/></testsuite>',
            b'<!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<testsuite><testcase name="&x;"/></testsuite>',
        ]:
            with self.assertRaises(Malformed) as raised:
                read(read_junit, data)
            self.assertIn("refused", raised.exception.message)

    def test_bounded_memory(self) -> None:
        """Reading takes as much memory for 20,000 test cases as for 5,000: a file is
        streamed, never held whole."""
        small = _peak_reading(read_junit, _junit_stream(5_000))
        large = _peak_reading(read_junit, _junit_stream(20_000))
        self.assertLess(large, small * 1.5 + (64 << 10), (small, large))


def _junit_stream(cases: int) -> io.RawIOBase:
    def parts() -> Iterator[bytes]:
        yield b"<testsuites><testsuite name='s'>"
        for n in range(cases):
            if n % 10:
                yield b"<testcase classname='pkg.T' name='test_%d' time='0.001'/>\n" % n
            else:
                yield (
                    b"<testcase classname='pkg.T' name='test_%d' time='0.001'>"
                    b"<failure message='1 != 2 (random seed: %d)'>%s</failure></testcase>\n"
                    % (n, n, b"x" * 500)
                )
        yield b"</testsuite></testsuites>"

    return _Chunks(parts())


class _Chunks(io.RawIOBase):
    """A stream of generated bytes, never all in memory at once."""

    def __init__(self, parts: Iterator[bytes]) -> None:
        self._parts = parts
        self._left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._left:
            part = next(self._parts, None)
            if part is None:
                return 0
            self._left = part
        size = min(len(buffer), len(self._left))
        buffer[:size] = self._left[:size]
        self._left = self._left[size:]
        return size


def _peak_reading(reader: Reader, stream: io.RawIOBase) -> int:
    seen = Counter[Outcome]()
    tracemalloc.start()
    try:
        reader(io.BufferedReader(stream), lambda r: seen.update([r.outcome]), Facts())
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


class DetectTests(SynchronousTestCase):
    def test_formats(self) -> None:
        self.assertEqual(detect(b'\xef\xbb\xbf <?xml version="1.0"?>'), FileFormat.JUNIT)
        self.assertEqual(detect(b"<testsuites>"), FileFormat.JUNIT)
        self.assertEqual(detect(b"\xb3\x29\x01"), FileFormat.SUBUNIT)
        self.assertEqual(detect(b"test: pkg.T.test_a\n"), FileFormat.SUBUNIT)
        self.assertEqual(detect(b"time: 2026-12-07 10:00:00Z\n"), FileFormat.SUBUNIT)
        self.assertIsNone(detect(b"PASS ok example.com/net\n"))
        self.assertIsNone(detect(b""))


V1 = b"""time: 2026-12-07 10:00:00.000000Z
test: pkg.T.test_ok
time: 2026-12-07 10:00:00.250000Z
successful: pkg.T.test_ok
test: pkg.T.test_fail
failure: pkg.T.test_fail [
Traceback (most recent call last):
twisted.trial.unittest.FailTest: 1 != 2 (random seed: 77)
]
test: pkg.T.test_err
error: pkg.T.test_err [
ValueError: boom
]
test: pkg.T.test_skip
skip: pkg.T.test_skip [
no network
]
test: pkg.T.test_todo
xfail: pkg.T.test_todo [
]
"""


class SubunitTests(SynchronousTestCase):
    def test_v1(self) -> None:
        """v1 keeps failures and errors apart; times give durations; seeds come from
        the traceback; a skip's reason is its message."""
        results, facts = read(read_subunit, V1)
        self.assertEqual(
            outcomes(results),
            [
                ("pkg.T.test_ok", Outcome.SUCCESS),
                ("pkg.T.test_fail", Outcome.FAILURE),
                ("pkg.T.test_err", Outcome.ERROR),
                ("pkg.T.test_skip", Outcome.SKIP),
                ("pkg.T.test_todo", Outcome.EXPECTED_FAILURE),
            ],
        )
        self.assertEqual(results[0].duration, 0.25)
        self.assertEqual(results[1].seed, 77)
        self.assertEqual(results[1].exception_type, "twisted.trial.unittest.FailTest")
        self.assertEqual(results[1].message, "1 != 2 (random seed: 77)")
        self.assertEqual((results[2].exception_type, results[2].message), ("ValueError", "boom"))
        self.assertEqual(results[3].message, "no network")
        assert facts.started_at is not None
        self.assertEqual(facts.started_at.isoformat(), "2026-12-07T10:00:00+00:00")

    def test_v1_cut_short(self) -> None:
        """A v1 stream that ends inside a test is malformed, at its last line."""
        with self.assertRaises(Malformed) as raised:
            read(read_subunit, b"test: pkg.T.test_a\ntest: pkg.T.test_b\n")
        self.assertIn("ends inside test", raised.exception.message)

    def test_v2(self) -> None:
        """v2, as python-subunit writes it: its one fail status is a failure or an error
        by the exception; tags carry seeds."""
        from subunit import StreamResultToBytes

        out = io.BytesIO()
        stream = StreamResultToBytes(out)
        for test_id, status, text, tags in [
            ("pkg.T.test_ok", "success", None, {"seed=42"}),
            ("pkg.T.test_fail", "fail", "AssertionError: late (random seed: 9)", None),
            ("pkg.T.test_err", "fail", "builtins.KeyError: 'x'", None),
            ("pkg.T.test_skip", "skip", None, None),
        ]:
            stream.status(test_id=test_id, test_status="inprogress")
            if text:
                stream.status(
                    test_id=test_id,
                    file_name="traceback",
                    file_bytes=f"Traceback (most recent call last):\n{text}\n".encode(),
                    eof=True,
                )
            stream.status(test_id=test_id, test_status=status, test_tags=tags)
        results, facts = read(read_subunit, out.getvalue())
        self.assertEqual(
            [(r.test_id, r.outcome, r.seed) for r in results],
            [
                ("pkg.T.test_ok", Outcome.SUCCESS, 42),
                ("pkg.T.test_fail", Outcome.FAILURE, 9),
                ("pkg.T.test_err", Outcome.ERROR, None),
                ("pkg.T.test_skip", Outcome.SKIP, None),
            ],
        )
        self.assertEqual(facts.results, 4)

    def test_v2_garbage(self) -> None:
        """Bytes that are no v2 packet are malformed, at the byte the parser had reached."""
        from subunit import StreamResultToBytes

        out = io.BytesIO()
        StreamResultToBytes(out).status(test_id="pkg.T.test_ok", test_status="success")
        with self.assertRaises(Malformed) as raised:
            read(read_subunit, out.getvalue() + b"\xb3 not a packet at all")
        self.assertTrue(raised.exception.where.startswith("byte "), raised.exception.where)
