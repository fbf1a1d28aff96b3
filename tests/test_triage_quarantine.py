"""Tests for the rules of quarantines: whom a pattern covers, expiry, checked values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from twisted.trial.unittest import SynchronousTestCase

from seedboard.triage.quarantine import (
    QuarantineError,
    Rule,
    checked_issue_url,
    checked_pattern,
    covering,
    covers,
    expiry,
    looks_fixed,
    rules_from_json,
    rules_to_json,
)

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


class CoverTests(SynchronousTestCase):
    def test_exact_and_pattern(self) -> None:
        """A test id covers itself only; a pattern covers what it matches."""
        self.assertTrue(covers("pkg.T.test_a", "pkg.T.test_a"))
        self.assertFalse(covers("pkg.T.test_a", "pkg.T.test_ab"))
        self.assertTrue(covers("pkg.test_net.*", "pkg.test_net.N.test_x"))
        self.assertFalse(covers("pkg.test_net.*", "pkg.test_netx"))
        self.assertTrue(covers("pkg.T.test_[ab]", "pkg.T.test_b"))

    def test_covering_skips_expired(self) -> None:
        """An expired rule covers nothing; one without expiry always applies."""
        rules = [Rule("a.*", NOW - timedelta(seconds=1)), Rule("a.b")]
        self.assertIsNone(covering(rules[:1], "a.b", NOW))
        self.assertEqual(covering(rules, "a.b", NOW), Rule("a.b"))

    def test_round_trip(self) -> None:
        """The reporter's cache reads back what it wrote; junk is left out."""
        rules = [Rule("a.*", NOW, "why", "https://x/1"), Rule("b")]
        import json

        self.assertEqual(rules_from_json(json.loads(rules_to_json(rules))), rules)
        self.assertEqual(
            rules_from_json({"quarantines": [{"test": 3}, "x", {"test": "c"}]}), [Rule("c")]
        )
        self.assertEqual(rules_from_json("nonsense"), [])


class ValueTests(SynchronousTestCase):
    def test_expiry(self) -> None:
        """Ages count from now; a date is its start, UTC; the past and nonsense are refused."""
        self.assertEqual(expiry("14d", NOW), NOW + timedelta(days=14))
        self.assertEqual(expiry("2w", NOW), NOW + timedelta(weeks=2))
        self.assertEqual(expiry("12h", NOW), NOW + timedelta(hours=12))
        self.assertEqual(expiry("2026-12-31", NOW), datetime(2026, 12, 31, tzinfo=UTC))
        self.assertIsNone(expiry(None, NOW))
        for bad in ("0d", "soon", "2026-01-01", "2026-12-31T10:00:00"):
            with self.assertRaises(QuarantineError) as raised:
                expiry(bad, NOW)
            self.assertEqual(raised.exception.field, "expires")

    def test_checked(self) -> None:
        """Patterns are one printable line; issues are http(s) addresses."""
        self.assertEqual(checked_pattern("  a.b "), "a.b")
        for bad in ("", "a\nb"):
            self.assertRaises(QuarantineError, checked_pattern, bad)
        self.assertEqual(checked_issue_url("https://x/1"), "https://x/1")
        self.assertIsNone(checked_issue_url(""))
        for bad in ("javascript:alert(1)", "https://", "http://x/a b"):
            self.assertRaises(QuarantineError, checked_issue_url, bad)

    def test_looks_fixed(self) -> None:
        """Passing the latest N results, skips left out, looks fixed; one failure does not."""
        self.assertTrue(looks_fixed(["success", "skip", "success"], runs=2))
        self.assertFalse(looks_fixed(["success", "failure", "success"], runs=2))
        self.assertFalse(looks_fixed(["success"], runs=2))
