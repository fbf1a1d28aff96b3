"""Tests for the text people read: times, durations and rates as the pages write them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from twisted.trial.unittest import SynchronousTestCase

from seedboard.web.text import iso_utc, percent, readable_duration, time_ago

NOW = datetime(2026, 11, 25, 17, 0, 0, tzinfo=UTC)


class TextTests(SynchronousTestCase):
    def test_iso_utc(self) -> None:
        """Datetimes are ISO 8601 in UTC ending in Z, to the microsecond."""
        moment = datetime(2026, 11, 25, 16, 49, 36, 423877, tzinfo=UTC)
        self.assertEqual(iso_utc(moment), "2026-11-25T16:49:36.423877Z")
        self.assertEqual(iso_utc(moment.replace(microsecond=0)), "2026-11-25T16:49:36.000000Z")

    def test_time_ago(self) -> None:
        """Relative times read naturally, and a clock slightly ahead reads "just now"."""
        cases = [(-5, "just now"), (30, "just now"), (180, "3 min ago"), (7200, "2 h ago")]
        cases += [(86400 * 3, "3 days ago"), (86400 * 400, "1 year ago")]
        for seconds, expected in cases:
            self.assertEqual(time_ago(NOW - timedelta(seconds=seconds), NOW), expected)

    def test_duration(self) -> None:
        """Durations are shown in the unit that fits them."""
        cases = [(None, "—"), (0.25, "250 ms"), (2.5, "2.5 s"), (245, "4 min 05 s")]
        cases += [(3720, "1 h 02 min")]
        for seconds, expected in cases:
            self.assertEqual(readable_duration(seconds), expected)

    def test_percent(self) -> None:
        """Rates read as whole percentages, and only 0 and 1 read as "0%" and "100%"."""
        cases = [(0.0, "0%"), (0.4, "40%"), (1 / 3, "33%"), (1.0, "100%")]
        cases += [(0.002, "0.2%"), (0.999, "99.9%")]
        for rate, expected in cases:
            self.assertEqual(percent(rate), expected)
