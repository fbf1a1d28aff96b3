"""Tests for strict decoding: the fast path's key count never lets a repeated key through,
and never refuses a body the standard library reads as valid."""

from __future__ import annotations

import json
import re
from itertools import islice
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from seedboard import ingest
from seedboard.decoding import BACKSLASHES_LOOKED_AT, Invalid, holds_nul_escape, no_key_twice

# Text that is hard on the count: quotes, backslashes, the word null, colons, escapes.
TRICKY = st.text(alphabet=st.sampled_from('"\\:null ,{}[]aé\u2028\t\n'), max_size=12)
TEXT = st.one_of(st.text(max_size=12), TRICKY).filter(lambda t: "\x00" not in t)
OPTIONAL_TEXT = st.one_of(st.none(), TEXT)

RESULT = st.fixed_dictionaries(
    {
        "test_id": TEXT.filter(bool),
        "outcome": st.sampled_from(["success", "failure", "skip"]),
        "duration": st.floats(min_value=0, max_value=1e6, allow_nan=False),
    },
    optional={
        "seed": st.one_of(st.none(), st.integers(0, 2**63 - 1)),
        "exception_type": OPTIONAL_TEXT,
        "message": OPTIONAL_TEXT,
        "traceback": OPTIONAL_TEXT,
        "file": OPTIONAL_TEXT,
        "line": st.one_of(st.none(), st.integers(0, 2**31 - 1)),
        "position": st.one_of(st.none(), st.integers(0, 2**31 - 1)),
    },
)
# Every field written, as the reporter writes them: parsed by the fast path's own Struct.
COMPLETE_RESULT = RESULT.flatmap(
    lambda result: st.fixed_dictionaries(
        {name: st.just(result.get(name)) for name in ingest.RESULT_NAMES}
    )
)
BATCHES = st.one_of(
    st.lists(RESULT, min_size=1, max_size=4), st.lists(COMPLETE_RESULT, min_size=1, max_size=4)
)
ENCODINGS = st.sampled_from(
    [
        {"separators": (",", ":"), "ensure_ascii": False},
        {"separators": (", ", ": "), "ensure_ascii": True},
        {"separators": (",", " : "), "ensure_ascii": False},
        {"indent": 1},
    ]
)


def columns_of(results: list[dict[str, Any]]) -> dict[str, list[Any]]:
    return {name: [r.get(name) for r in results] for name in ingest.RESULT_NAMES}


class KeyCountTests(SynchronousTestCase):
    @settings(max_examples=300, deadline=None)
    @given(BATCHES, ENCODINGS)
    def test_valid_bodies_read_as_the_standard_library_reads_them(
        self, results: list[dict[str, Any]], options: dict[str, Any]
    ) -> None:
        """Any valid batch, however written, is read, with the values json.loads reads."""
        body = json.dumps({"results": results}, **options).encode("utf-8")
        parsed = ingest.parse_batch(body)
        for name, values in columns_of(results).items():
            # A column no result sent may be None: values() reads it as None per row.
            read = list(islice(parsed.values(name), len(parsed)))
            self.assertEqual(read, values, name)

    @settings(max_examples=300, deadline=None)
    @given(BATCHES, ENCODINGS, st.data())
    def test_a_repeated_key_is_always_found(
        self, results: list[dict[str, Any]], options: dict[str, Any], data: st.DataObject
    ) -> None:
        """A key written twice in any result, with any value, is refused naming it."""
        index = data.draw(st.integers(0, len(results) - 1))
        name = data.draw(st.sampled_from(sorted(results[index])))
        again = json.dumps(results[index][name], **options)
        results[index] = {**results[index], "PLACEHOLDER": 0}
        body = json.dumps({"results": results}, **options)
        spaced = data.draw(st.sampled_from(['"{}":', '"{}" :', '"{}"\n:']))
        body = re.sub(r'"PLACEHOLDER"\s*:\s*0', lambda _: spaced.format(name) + again, body)
        error = self.assertRaises(Invalid, ingest.parse_batch, body.encode("utf-8"))
        self.assertEqual(
            (error.field, error.message),
            (f"results[{index}].{name}", "appears twice in one object"),
        )

    @given(st.binary(max_size=200), st.integers(0, 2 * BACKSLASHES_LOOKED_AT))
    @settings(max_examples=300)
    def test_nul_escape_found_as_a_search_finds_it(self, text: bytes, backslashes: int) -> None:
        """Whether a body holds \\u0000 is answered as searching the whole body answers it,
        with few backslashes before it or more than are looked at one by one."""
        for body in (text, b"\\" * backslashes + text, text + b"\\" * backslashes + b"u0000"):
            self.assertEqual(holds_nul_escape(body), b"\\u0000" in body, body)

    def test_count_alone(self) -> None:
        """The count: the quotes the value is written with, escaped quotes allowed for."""
        self.assertTrue(no_key_twice(b'{"a":"b"}', 4))
        self.assertTrue(no_key_twice(b'{"a":"b","c":null}', 6))
        self.assertTrue(no_key_twice(b'{"a":"b\\"c"}', 4))
        self.assertFalse(no_key_twice(b'{"a":"b","a":"c"}', 4))
        # An escaped backslash before a closing quote, where the count is not plain:
        # not trusted (the slow way then reads it, and finds no repeat).
        self.assertFalse(no_key_twice(b'{"a":"q\\"\\\\"}', 4))
        self.assertEqual(ingest.parse_finish(b'{"finished_at":"2026-11-25T16:49:36Z"}').year, 2026)
