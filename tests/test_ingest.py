"""Tests for parsing the write API's bodies: every way a body can be wrong, and the happy path."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec
import msgspec.inspect
from sqlalchemy import String
from twisted.trial.unittest import SynchronousTestCase

from seedboard import ingest
from seedboard.db.models import Result as ResultRow
from seedboard.db.models import Run, Test
from seedboard.decoding import Invalid
from seedboard.domain import Outcome, Result, RunStart

RUN_ID = "0123456789abcdef0123456789abcdef"


def encode(value: object) -> bytes:
    return json.dumps(value).encode("utf-8")


def run_body(**changes: object) -> dict[str, Any]:
    body: dict[str, Any] = {
        "started_at": "2026-11-25T16:49:36.423877Z",
        "host": "ci-7",
        "python_version": "3.12.1",
        "twisted_version": "26.10.0",
        "command": "trial mypkg",
        "order_seed": 12,
        "branch": "main",
        "commit": "abc123",
        "build_url": None,
    }
    body.update(changes)
    return body


def result_body(**changes: object) -> dict[str, Any]:
    body: dict[str, Any] = {"test_id": "pkg.T.test_a", "outcome": "failure", "duration": 0.5}
    body.update(changes)
    return body


class ParseRunTests(SynchronousTestCase):
    def invalid(self, body: bytes, run_id: str = RUN_ID) -> Invalid:
        error: Invalid = self.assertRaises(Invalid, ingest.parse_run, run_id, body)
        return error

    def test_happy_path(self) -> None:
        """A complete body becomes a RunStart with an aware UTC start."""
        run = ingest.parse_run(RUN_ID, encode(run_body(started_at="2026-11-25T17:49:36+01:00")))
        self.assertEqual(
            run,
            RunStart(
                id=RUN_ID,
                started_at=datetime(2026, 11, 25, 16, 49, 36, tzinfo=UTC),
                host="ci-7",
                python_version="3.12.1",
                twisted_version="26.10.0",
                command="trial mypkg",
                order_seed=12,
                branch="main",
                commit="abc123",
                build_url=None,
            ),
        )
        self.assertEqual(run.started_at.tzinfo, UTC)

    def test_nullable_fields(self) -> None:
        """order_seed, branch, commit and build_url may be null."""
        body = run_body(order_seed=None, branch=None, commit=None, build_url=None)
        run = ingest.parse_run(RUN_ID, encode(body))
        self.assertEqual((run.order_seed, run.branch, run.commit, run.build_url), (None,) * 4)

    def test_bad_run_id(self) -> None:
        """A run id that is not 32 lowercase hex characters names run_id."""
        for run_id in ("abc", RUN_ID.upper(), RUN_ID + "0", "g" * 32, "../" + RUN_ID[3:]):
            error = self.invalid(encode(run_body()), run_id)
            self.assertEqual((error.code, error.field), ("invalid", "run_id"))

    def test_naive_time(self) -> None:
        """A start without a time zone is refused, naming started_at."""
        error = self.invalid(encode(run_body(started_at="2026-11-25T16:49:36")))
        self.assertEqual(error.field, "started_at")
        self.assertIn("time zone", error.message)

    def test_bad_times(self) -> None:
        """Times that are no ISO 8601 string, no real date, or out of range, are refused."""
        cases = ["yesterday", "", 1764089376, "0001-01-01T00:00:00+01:00"]
        cases += ["2026-02-30T00:00:00Z", "2026-11-25T24:00:00Z", "2026-11-25T16:49:36+24:00"]
        for value in cases:
            self.assertEqual(self.invalid(encode(run_body(started_at=value))).field, "started_at")

    def test_only_rfc3339_times(self) -> None:
        """Only the published form is read, not every variant Python's fromisoformat takes."""
        for value in ("2026-11-25 16:49:36Z", "20261125T164936Z", "2026-11-25T16:49Z"):
            self.assertEqual(self.invalid(encode(run_body(started_at=value))).field, "started_at")
        for value in ("2026-11-25T16:49:36+0100", "2026-11-25T16:49:36z", "2026-11-25"):
            self.assertEqual(self.invalid(encode(run_body(started_at=value))).field, "started_at")

    def test_time_forms(self) -> None:
        """isoformat()'s output, with or without microseconds, and Z, are all read."""
        moment = datetime(2026, 11, 25, 16, 49, 36, 423877, tzinfo=UTC)
        for value, expected in [
            (moment.isoformat(), moment),
            (moment.replace(microsecond=0).isoformat(), moment.replace(microsecond=0)),
            ("2026-11-25T16:49:36.423877Z", moment),
            ("2026-11-25T16:49:36.4Z", moment.replace(microsecond=400000)),
            ("2026-11-25T11:49:36.423877-05:00", moment),
        ]:
            self.assertEqual(
                ingest.parse_run(RUN_ID, encode(run_body(started_at=value))).started_at, expected
            )

    def test_missing_field(self) -> None:
        """Every run field is required, even the nullable ones."""
        for name in run_body():
            body = run_body()
            del body[name]
            error = self.invalid(encode(body))
            self.assertEqual((error.field, error.message), (name, "is required"))

    def test_null_not_allowed(self) -> None:
        """A field that may not be null is refused when it is."""
        self.assertEqual(self.invalid(encode(run_body(host=None))).message, "must not be null")

    def test_unknown_field(self) -> None:
        """An unknown key is refused by name."""
        error = self.invalid(encode(run_body(colour="blue")))
        self.assertEqual((error.field, error.message), ("colour", "unknown field"))

    def test_wrong_types(self) -> None:
        """Strings must be strings and integers integers; booleans and floats are neither."""
        cases = [("host", 7), ("command", ["trial"]), ("order_seed", "12")]
        cases += [("order_seed", True), ("order_seed", 1.0), ("branch", False)]
        for name, value in cases:
            self.assertEqual(self.invalid(encode(run_body(**{name: value}))).field, name)

    def test_too_long(self) -> None:
        """Strings longer than their column are refused."""
        error = self.invalid(encode(run_body(commit="f" * 65)))
        self.assertEqual((error.field, error.message), ("commit", "must be at most 64 characters"))

    def test_order_seed_range(self) -> None:
        """order_seed must fit a signed 64-bit column."""
        self.invalid(encode(run_body(order_seed=2**63)))
        run = ingest.parse_run(RUN_ID, encode(run_body(order_seed=-(2**63))))
        self.assertEqual(run.order_seed, -(2**63))

    def test_lone_surrogate(self) -> None:
        """A string holding a lone surrogate, which no database stores, is refused."""
        body = encode(run_body()).replace(b'"ci-7"', b'"ci-\\ud800"')
        error = self.invalid(body)
        self.assertEqual((error.field, error.message), ("host", "must be valid Unicode text"))

    def test_nul_character(self) -> None:
        """A string holding NUL, which PostgreSQL cannot store, is refused on every database."""
        body = encode(run_body()).replace(b'"ci-7"', b'"ci-\\u0000"')
        error = self.invalid(body)
        self.assertEqual(
            (error.field, error.message), ("host", "must not contain NUL characters (U+0000)")
        )

    def test_control_characters(self) -> None:
        """The metadata that goes on one line or into a shell (command, host, versions,
        branch, commit, build URL) refuses every control character, a final newline and
        C1 included, naming the field; other text (U+2028, accents, quotes) is kept."""
        fields = (
            "command",
            "host",
            "python_version",
            "twisted_version",
            "branch",
            "commit",
            "build_url",
        )
        for field in fields:
            for bad in ("\n", "a\nb", "a\n", "\tx", "x\r", "\x1b[2J", "\x7f", "\x85", "\x9b"):
                error = self.invalid(encode(run_body(**{field: bad})))
                self.assertEqual(error.field, field, repr(bad))
                self.assertIn("without control characters", error.message)
            kept = "a b 'c' \"d\" $(e) \u00e9 \u2028 \ufffd"
            run = ingest.parse_run(RUN_ID, encode(run_body(**{field: kept})))
            self.assertEqual(getattr(run, field), kept)

    def test_not_an_object(self) -> None:
        """A body that is JSON but no object is invalid, with no field named."""
        for body in (b"[]", b"null", b'"run"', b"3"):
            error = self.invalid(body)
            self.assertEqual((error.code, error.field), ("invalid", None))


class DecodeTests(SynchronousTestCase):
    def bad_json(self, body: bytes) -> Invalid:
        error: Invalid = self.assertRaises(Invalid, ingest.parse_finish, body)
        self.assertEqual((error.code, error.field), ("bad_json", None))
        return error

    def test_malformed(self) -> None:
        """Malformed JSON is bad_json, saying where it broke."""
        self.assertIn("line 1", self.bad_json(b'{"finished_at": ').message)

    def test_empty(self) -> None:
        """An empty body is bad_json."""
        self.bad_json(b"")

    def test_not_utf8(self) -> None:
        """A body in another encoding is bad_json, even when JSON could decode it."""
        self.bad_json('{"finished_at": "é"}'.encode("latin-1"))
        self.bad_json('{"finished_at": "2026-11-25T16:49:36Z"}'.encode("utf-16"))

    def test_constants(self) -> None:
        """NaN and Infinity are not JSON: refused, naming the field."""
        for constant in (b"NaN", b"Infinity", b"-Infinity"):
            body = b'{"finished_at": ' + constant + b"}"
            error = self.assertRaises(Invalid, ingest.parse_finish, body)
            self.assertEqual(error.field, "finished_at")
            self.assertIn("NaN and Infinity are not JSON", error.message)

    def test_duplicate_key(self) -> None:
        """A key twice in one object is refused, naming it, rather than silently taking the
        last; also when both values are valid, and inside a batch's result."""
        for body in (
            b'{"finished_at": "2026-11-25T16:49:36Z", "finished_at": "x"}',
            b'{"finished_at": "2026-11-25T16:49:36Z", "finished_at": "2026-11-25T16:49:37Z"}',
            b'{"finished_at":"2026-11-25T16:49:36Z","finished_at" :"2026-11-25T16:49:36Z"}',
            b'{"finished_at":"2026-11-25T16:49:36Z","finished\u005fat":"2026-11-25T16:49:36Z"}',
        ):
            error = self.assertRaises(Invalid, ingest.parse_finish, body)
            self.assertEqual(
                (error.field, error.message), ("finished_at", "appears twice in one object"), body
            )
        result = b'{"test_id":"a","outcome":"success","duration":1,"seed":1,"seed":2}'
        error = self.assertRaises(
            Invalid, ingest.parse_batch, b'{"results":[' + result[:-1] + b',"line":null}]}'
        )
        self.assertEqual(error.field, "results[0].seed")

    def test_deep_nesting(self) -> None:
        """Deeply nested JSON is refused, not a crash."""
        self.bad_json(b"[" * 100_000 + b"]" * 100_000)

    def test_huge_integer(self) -> None:
        """An integer thousands of digits long is refused, naming its field, not a crash."""
        error = self.assertRaises(
            Invalid, ingest.parse_finish, b'{"finished_at": ' + b"9" * 5000 + b"}"
        )
        self.assertEqual((error.field, error.message), ("finished_at", "is out of range"))


class ParseBatchTests(SynchronousTestCase):
    def invalid(self, *results: object, **body: object) -> Invalid:
        payload = body or {"results": list(results)}
        error: Invalid = self.assertRaises(Invalid, ingest.parse_batch, encode(payload))
        return error

    def test_happy_path(self) -> None:
        """Results become domain Results; missing optional fields are None."""
        full = result_body(
            outcome="error",
            duration=2,
            seed=2**63 - 1,
            exception_type="builtins.KeyError",
            message="boom",
            traceback="Traceback ...",
            file="pkg/t.py",
            line=10,
        )
        parsed = ingest.parse_batch(encode({"results": [result_body(), full]})).records()
        self.assertEqual(
            parsed,
            [
                Result("pkg.T.test_a", Outcome.FAILURE, 0.5),
                Result(
                    "pkg.T.test_a",
                    Outcome.ERROR,
                    2.0,
                    seed=2**63 - 1,
                    exception_type="builtins.KeyError",
                    message="boom",
                    traceback="Traceback ...",
                    file="pkg/t.py",
                    line=10,
                ),
            ],
        )
        self.assertIsInstance(parsed[1].duration, float)

    def test_every_outcome(self) -> None:
        """Each of trial's outcomes is accepted."""
        parsed = ingest.parse_batch(
            encode({"results": [result_body(outcome=o.value) for o in Outcome]})
        )
        self.assertEqual(list(parsed.outcome), list(Outcome))

    def test_unknown_outcome(self) -> None:
        """An unknown outcome names the result's outcome field."""
        error = self.invalid(result_body(), result_body(), result_body(outcome="passed"))
        self.assertEqual(error.field, "results[2].outcome")
        self.assertIn("must be one of success, failure", error.message)

    def test_unknown_result_field(self) -> None:
        """An unknown key in a result is refused with its path."""
        error = self.invalid(result_body(), result_body(colour="red"))
        self.assertEqual((error.field, error.message), ("results[1].colour", "unknown field"))

    def test_missing_required(self) -> None:
        """test_id, outcome and duration are required."""
        for name in ("test_id", "outcome", "duration"):
            body = result_body()
            del body[name]
            self.assertEqual(self.invalid(body).field, f"results[0].{name}")

    def test_empty_test_id(self) -> None:
        """A test id may not be empty."""
        error = self.invalid(result_body(test_id=""))
        self.assertEqual((error.field, error.message), ("results[0].test_id", "must not be empty"))

    def test_bad_duration(self) -> None:
        """A duration must be a finite number, at least zero."""
        for value in (-0.001, "1", True, None, 10**400):
            self.assertEqual(self.invalid(result_body(duration=value)).field, "results[0].duration")
        overflowing = encode({"results": [result_body(duration=1.5)]}).replace(b"1.5", b"1e400")
        error = self.assertRaises(Invalid, ingest.parse_batch, overflowing)
        self.assertEqual((error.field, error.message), ("results[0].duration", "is out of range"))

    def test_seed_range(self) -> None:
        """A seed must be an integer from 0 to 2**63-1."""
        for value in (-1, 2**63, 1.5, "7"):
            self.assertEqual(self.invalid(result_body(seed=value)).field, "results[0].seed")

    def test_bad_line(self) -> None:
        """A line must be a non-negative integer."""
        for value in (-1, 2**31, "10", 10.0):
            self.assertEqual(self.invalid(result_body(line=value)).field, "results[0].line")

    def test_positions(self) -> None:
        """A position is kept where sent; a batch without any (an older client) has none."""
        sent = [result_body(position=0), result_body(position=7), result_body(position=None)]
        self.assertEqual(
            list(ingest.parse_batch(encode({"results": sent})).position or []), [0, 7, None]
        )
        without = ingest.parse_batch(encode({"results": [result_body(), result_body()]}))
        self.assertIsNone(without.position)  # the column left out, not a None per row
        self.assertEqual([r.position for r in without.records()], [None, None])

    def test_bad_position(self) -> None:
        """A position must be an integer from 0 to 2**31-1, refused by its field."""
        for value in (-1, 2**31, "3", 1.5, True):
            error = self.invalid(result_body(), result_body(position=value))
            self.assertEqual(error.field, "results[1].position")

    def test_result_not_object(self) -> None:
        """A result that is not an object is refused by its index."""
        error = self.invalid(result_body(), "pkg.T.test_a")
        self.assertEqual((error.field, error.message), ("results[1]", "must be a JSON object"))

    def test_result_count(self) -> None:
        """A batch holds 1 to 50,000 results."""
        empty = self.invalid()
        self.assertEqual((empty.field, empty.message), ("results", "must hold at least 1"))
        too_many = [result_body()] * (ingest.MAX_RESULTS + 1)
        self.assertEqual(self.invalid(*too_many).message, "must hold at most 50000")
        self.assertEqual(len(ingest.parse_batch(encode({"results": too_many[1:]}))), 50_000)

    def test_results_not_list(self) -> None:
        """``results`` must be a list."""
        self.assertEqual(self.invalid(results={"0": result_body()}).field, "results")

    def test_unknown_top_level(self) -> None:
        """A batch body has only ``results``."""
        error = self.invalid(results=[result_body()], run_id="x")
        self.assertEqual((error.field, error.message), ("run_id", "unknown field"))


class ParseFinishTests(SynchronousTestCase):
    def test_happy_path(self) -> None:
        """The end time is read as aware UTC, whatever zone it was sent in."""
        finished = ingest.parse_finish(encode({"finished_at": "2026-11-25T12:00:00-05:00"}))
        self.assertEqual(finished, datetime(2026, 11, 25, 17, 0, tzinfo=UTC))
        self.assertEqual(finished.utcoffset(), timedelta(0))

    def test_naive(self) -> None:
        """A naive end time is refused."""
        error = self.assertRaises(
            Invalid, ingest.parse_finish, encode({"finished_at": "2026-11-25T12:00:00"})
        )
        self.assertEqual(error.field, "finished_at")

    def test_zone_kept_equal(self) -> None:
        """Offsets other than UTC denote the same instant."""
        moment = datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=9)))
        parsed = ingest.parse_finish(encode({"finished_at": moment.isoformat()}))
        self.assertEqual(parsed, moment)


class PathTests(SynchronousTestCase):
    def test_batch_numbers(self) -> None:
        """Batch numbers are ASCII digits up to 2**31-1."""
        self.assertEqual(ingest.parse_batch_number("0"), 0)
        self.assertEqual(ingest.parse_batch_number("2147483647"), 2**31 - 1)
        for text in ("-1", "1.0", "", "x", "²", "٣", "2147483648", " 1"):
            error = self.assertRaises(Invalid, ingest.parse_batch_number, text)
            self.assertEqual(error.field, "number")


class TableTests(SynchronousTestCase):
    def test_run_fields_match_domain(self) -> None:
        """The run body has exactly RunStart's fields, less the id from the path."""
        names = list(ingest.RunBody.__struct_fields__)
        self.assertEqual(names, [f.name for f in dataclasses.fields(RunStart)][1:])

    def test_result_fields_match_domain(self) -> None:
        """A result in a batch has Result's fields, but for the fingerprint the server computes."""
        names = list(ingest.RESULT_NAMES)
        computed = {"fingerprint"}
        self.assertEqual(
            names, [f.name for f in dataclasses.fields(Result) if f.name not in computed]
        )

    def test_lengths_match_columns(self) -> None:
        """Each string's maximum length is its database column's length."""
        columns = {**Run.__table__.c, **ResultRow.__table__.c, "test_id": Test.__table__.c.name}
        for body in (ingest.RunBody, ingest.ResultBody):
            for field in msgspec.inspect.type_info(body).fields:  # type: ignore[attr-defined]
                text = [t for t in _types(field.type) if isinstance(t, msgspec.inspect.StrType)]
                if not text or field.name not in columns or text[0].pattern:
                    continue
                column_type = columns[field.name].type
                length = column_type.length if isinstance(column_type, String) else None
                self.assertEqual(text[0].max_length, length, field.name)


def _types(kind: msgspec.inspect.Type) -> list[msgspec.inspect.Type]:
    """The types a field's type may be: its union's members, without their metadata."""
    while isinstance(kind, msgspec.inspect.Metadata):
        kind = kind.type
    if isinstance(kind, msgspec.inspect.UnionType):
        return [one for member in kind.types for one in _types(member)]
    return [kind]
