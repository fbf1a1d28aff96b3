"""Tests for masking failure messages, picking user frames and fingerprinting failures."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from seedboard.domain import Outcome, Result, ResultColumns
from seedboard.triage.fingerprint import (
    ADDRESS,
    NODE,
    failure_fingerprints,
    fingerprint,
    is_assertion,
    is_temporary_path,
    is_user_code,
    mask_addresses,
    mask_message,
    mask_values,
    summary,
    user_frames,
)

TRIAL_TRACEBACK = """\
Traceback (most recent call last):
  File "/ci/venv/lib/python3.11/site-packages/twisted/trial/_synctest.py", line 1395, in _run
    runWithWarningsSuppressed(suppress, method)
  File "/ci/venv/lib/python3.11/site-packages/twisted/python/util.py", line 946, in runWith
    return f(*args, **kwargs)
  File "/home/ci/src/mypkg/test/test_cluster.py", line 40, in test_partition_heals
    self.heal(cluster)
  File "/home/ci/src/mypkg/test/test_cluster.py", line 22, in heal
    self.assertEqual(cluster.leader(), nodes[0])
  File "/ci/venv/lib/python3.11/site-packages/twisted/trial/_synctest.py", line 433, in assertEqual
    super().assertEqual(first, second, msg)
  File "/usr/lib/python3.11/unittest/case.py", line 873, in assertEqual
    assertion_func(first, second, msg=msg)
  File "<frozen importlib._bootstrap>", line 1176, in _find_and_load
  File "/ci/venv/lib/python3.11/site-packages/twisted/trial/_synctest.py", line 367, in fail
    raise self.failureException(msg)
twisted.trial.unittest.FailTest: 'node-3' != 'node-1' (random seed: 123)
"""

FAIL_TEST = "twisted.trial.unittest.FailTest"


def _with_frame(function: str) -> str:
    return f'  File "/src/mypkg/test_x.py", line 12, in {function}\n'


class MaskMessageTests(SynchronousTestCase):
    def test_seed_note_removed(self) -> None:
        """The seed note, with or without its parentheses, disappears entirely."""
        self.assertEqual(mask_message("boom (random seed: 123)"), "boom")
        self.assertEqual(mask_message("random seed: 99 and boom"), "and boom")

    def test_object_repr(self) -> None:
        """An object's repr keeps its class and loses its address."""
        self.assertEqual(
            mask_message("got <foo.Bar object at 0x7fa3c2d05e10>"), "got <foo.Bar object>"
        )

    def test_hex_address(self) -> None:
        """Any other hex address becomes 0x…."""
        self.assertEqual(
            mask_message("<Deferred at 0x7fa3c2d05e10 current result: None>"),
            "<Deferred at 0x… current result: None>",
        )

    def test_uuid(self) -> None:
        """UUIDs become <uuid>, whatever their case."""
        self.assertEqual(
            mask_message("no row 123e4567-e89b-12d3-A456-426614174000 found"),
            "no row <uuid> found",
        )

    def test_timestamps(self) -> None:
        """ISO timestamps, dates and times of day each become one <time>."""
        self.assertEqual(mask_message("at 2026-11-25T16:49:36.42Z"), "at <time>")
        self.assertEqual(mask_message("at 2026-11-25T16:49:36+01:00."), "at <time>.")
        self.assertEqual(mask_message("at 2026-11-25 16:49:36"), "at <time>")
        self.assertEqual(mask_message("on 2026-11-25, at 16:49:36.123"), "on <time>, at <time>")

    def test_temporary_paths(self) -> None:
        """Paths under temporary directories become <tmp>, keeping the quotes around them."""
        self.assertEqual(mask_message("cannot open '/tmp/x/y.txt'"), "cannot open '<tmp>'")
        self.assertEqual(mask_message("in /var/folders/zz/T/abc/log."), "in <tmp>.")
        self.assertEqual(mask_message("FilePath(b'/private/tmp/a')"), "FilePath(b'<tmp>')")
        self.assertEqual(
            mask_message("/home/ci/proj/_trial_temp/test.log missing"), "<tmp> missing"
        )
        self.assertEqual(mask_message("see _trial_temp-2/x"), "see <tmp>")
        self.assertEqual(mask_message("/tmp/pytest-of-ci/pytest-12/t0 gone"), "<tmp> gone")
        self.assertEqual(mask_message("path=/data/tmpa1b2_c3d/db.sqlite"), "path=<tmp>")

    def test_ordinary_paths_keep_their_words(self) -> None:
        """A path outside temporary directories stays, only its numbers are masked."""
        self.assertEqual(mask_message("/srv/build/42/proj/x.py"), "/srv/build/<n>/proj/x.py")

    def test_numbers(self) -> None:
        """Integers, floats, negatives and exponents become <n>."""
        self.assertEqual(
            mask_message("12 != -3, 0.5 != 1.5e-09, x=7, +4"),
            "<n> != <n>, <n> != <n>, x=<n>, <n>",
        )

    def test_numbers_inside_names_and_versions_stay(self) -> None:
        """Digits in identifiers and dotted versions are part of the text."""
        self.assertEqual(
            mask_message("utf8 test_2 md5 v1.2.3 1.2.3"), "utf8 test_2 md5 v1.2.3 1.2.3"
        )

    def test_units_after_numbers(self) -> None:
        """A unit after a number stays while the number is masked."""
        self.assertEqual(mask_message("took 0.53s, over 100ms"), "took <n>s, over <n>ms")

    def test_whitespace_collapsed(self) -> None:
        """Runs of whitespace, newlines included, become one space and ends are trimmed."""
        self.assertEqual(mask_message("  a\n\n\tb   c  "), "a b c")

    def test_seed_masked_before_numbers(self) -> None:
        """The seed note goes whole; it does not leave a masked number behind."""
        self.assertEqual(mask_message("3 != 4 (random seed: 5)"), "<n> != <n>")

    def test_addresses_masked_before_numbers(self) -> None:
        """A hex address is not turned into <n> pieces."""
        self.assertEqual(mask_message("0xdeadbeef 0x10"), "0x… 0x…")

    def test_times_and_uuids_masked_before_numbers(self) -> None:
        """Times and UUIDs are masked whole, not as several numbers."""
        self.assertEqual(
            mask_message("2026-01-02 03:04:05 00000000-0000-0000-0000-000000000000"),
            "<time> <uuid>",
        )

    def test_paths_masked_before_numbers_and_times(self) -> None:
        """A temporary path holding numbers and dates is one <tmp>."""
        self.assertEqual(mask_message("/tmp/run-2026-11-25/17/x.log"), "<tmp>")

    def test_empty(self) -> None:
        """An empty message stays empty."""
        self.assertEqual(mask_message(""), "")


class AddressMaskTests(SynchronousTestCase):
    def test_ipv4_with_and_without_port(self) -> None:
        """An IPv4 address, with or without its port, is one <addr>, not digits masked apart."""
        self.assertEqual(
            mask_message("connection refused to 127.0.0.1:1605"), "connection refused to <addr>"
        )
        self.assertEqual(mask_message("host 10.0.0.2 is down."), "host <addr> is down.")
        self.assertEqual(mask_message("lost 10.0.0.2."), "lost <addr>.")
        self.assertEqual(mask_message("dial tcp 0.0.0.0:0"), "dial tcp <addr>")

    def test_twisted_address_reprs(self) -> None:
        """Twisted's address objects keep their shape and lose host and port."""
        self.assertEqual(
            mask_message("IPv4Address(type='TCP', host='192.168.1.20', port=51234)"),
            "IPv4Address(type='TCP', host='<addr>', port=<n>)",
        )
        self.assertEqual(
            mask_message(
                "ConnectionRefusedError: Connection was refused by other side: "
                "111: Connection refused. ('10.0.3.7', 8080)"
            ),
            "ConnectionRefusedError: Connection was refused by other side: "
            "<n>: Connection refused. ('<addr>', <n>)",
        )

    def test_ipv6(self) -> None:
        """IPv6 addresses, bare, bracketed with a port, with a zone or an IPv4 tail, are <addr>."""
        for text in (
            "::1",
            "[::1]:8080",
            "fe80::1%eth0",
            "2001:db8::8a2e:370:7334",
            "2001:0db8:0000:0000:0000:ff00:0042:8329",
            "::ffff:192.0.2.1",
            "[2001:db8::1]:443",
        ):
            self.assertEqual(mask_message(f"peer {text} gone"), "peer <addr> gone", text)
        self.assertEqual(
            mask_message("GET http://[2001:db8::1]:443/x failed"), "GET http://<addr>/x failed"
        )
        self.assertEqual(mask_message("bound to ::1."), "bound to <addr>.")

    def test_localhost_with_port(self) -> None:
        """localhost with a port is an address like any other."""
        self.assertEqual(mask_message("localhost:9000 refused"), "<addr> refused")
        self.assertEqual(mask_message("localhost refused"), "localhost refused")

    def test_not_addresses(self) -> None:
        """Times, MACs, slices, versions and out-of-range quads are not addresses."""
        self.assertEqual(mask_message("at 12:34:56"), "at <time>")
        self.assertEqual(mask_message("mac aa:bb:cc:dd:ee:ff"), "mac aa:bb:cc:dd:ee:ff")
        self.assertEqual(mask_message("x[1::2] and a[::2]"), "x[<n>::<n>] and a[::<n>]")
        self.assertEqual(mask_message("needs v1.2.3 or 1.2.3"), "needs v1.2.3 or 1.2.3")
        self.assertNotIn(ADDRESS, mask_message("bad quad 300.1.1.1"))
        self.assertNotIn(ADDRESS, mask_message("see test_x.py:42"))

    def test_numbered_node_names(self) -> None:
        """node-3, node3, n3, worker-12, worker_7 and server1 are <node>, whatever the case."""
        self.assertEqual(
            mask_addresses("node-3 node3 n3 worker-12 worker_7 server1 Node2 replica-0"),
            " ".join([NODE] * 8),
        )
        self.assertEqual(
            mask_message("Lists differ: [['node1', 'node2']] != []"),
            "Lists differ: [['<node>', '<node>']] != []",
        )

    def test_ordinary_words_with_digits_stay(self) -> None:
        """Words with digits that are not numbered members of a cluster are left alone."""
        for text in (
            "md5",
            "utf8",
            "sha256",
            "test_2",
            "h2",
            "python3",
            "x509",
            "nodes",
            "n",
            "node",
            "noded3",
            "node-3-data",
            "hostname2x",
            "ec2",
            "n3a",
        ):
            self.assertEqual(mask_addresses(text), text, text)

    def test_node_names_in_host_names(self) -> None:
        """A numbered node's host name keeps its domain and loses its number."""
        self.assertEqual(
            mask_message("node3.cluster.local:7000 down"), "<node>.cluster.local:<n> down"
        )


class TemporaryPathTests(SynchronousTestCase):
    def test_temporary(self) -> None:
        """Temporary roots, trial and pytest directories and mkdtemp names are temporary."""
        for path in (
            "/tmp/x",
            "/var/tmp/x",
            "/private/var/folders/a/b",
            "_trial_temp",
            "/home/u/pytest-of-u/x",
            "/data/tmpk3_9zq1w",
            "C:\\Users\\u\\tmpk3_9zq1w.txt",
        ):
            self.assertTrue(is_temporary_path(path), path)

    def test_not_temporary(self) -> None:
        """Ordinary paths and a lone word that happens to start with tmp are not."""
        for path in ("/home/u/proj/x.py", "tmpfile_name", "/srv/tmp", "/srv/tmpdir/x"):
            self.assertFalse(is_temporary_path(path), path)


class UserFramesTests(SynchronousTestCase):
    def test_trial_traceback(self) -> None:
        """From a real trial traceback, only the user's frames, outermost first."""
        self.assertEqual(
            user_frames(TRIAL_TRACEBACK),
            ("test/test_cluster.py:test_partition_heals", "test/test_cluster.py:heal"),
        )

    def test_innermost_count(self) -> None:
        """Only the innermost ``count`` user frames are kept."""
        traceback = "".join(_with_frame(f"f{i}") for i in range(5))
        self.assertEqual(
            user_frames(traceback),
            ("mypkg/test_x.py:f2", "mypkg/test_x.py:f3", "mypkg/test_x.py:f4"),
        )
        self.assertEqual(user_frames(traceback, count=1), ("mypkg/test_x.py:f4",))
        self.assertEqual(user_frames(traceback, count=0), ())

    def test_no_line_numbers(self) -> None:
        """Frames that differ only in their line number render the same."""
        moved = TRIAL_TRACEBACK.replace("line 40,", "line 47,").replace("line 22,", "line 9,")
        self.assertEqual(user_frames(moved), user_frames(TRIAL_TRACEBACK))

    def test_no_user_frames(self) -> None:
        """A traceback only through libraries, or none at all, gives no frames."""
        library_only = (
            '  File "/usr/lib/python3/dist-packages/twisted/internet/defer.py", line 1, in f\n'
            '  File "/venv/lib/python3.12/site-packages/attr/_make.py", line 2, in g\n'
        )
        self.assertEqual(user_frames(library_only), ())
        self.assertEqual(user_frames(None), ())
        self.assertEqual(user_frames("ValueError: nope"), ())

    def test_windows_paths(self) -> None:
        """Backslashed paths are shortened like slashed ones."""
        traceback = '  File "C:\\src\\mypkg\\test_x.py", line 3, in test_y\n'
        self.assertEqual(user_frames(traceback), ("mypkg/test_x.py:test_y",))

    def test_what_is_user_code(self) -> None:
        """Dependencies, the standard library, frozen modules and Twisted are not user code."""
        self.assertTrue(is_user_code("/home/u/mypkg/test_x.py"))
        for path in (
            "/v/lib/python3.11/site-packages/x.py",
            "/usr/lib/python3/dist-packages/x.py",
            "/usr/lib/python3.11/unittest/case.py",
            "<frozen importlib._bootstrap>",
            "/src/twisted/src/twisted/internet/defer.py",
        ):
            self.assertFalse(is_user_code(path), path)


class FingerprintTests(SynchronousTestCase):
    def assertSameFingerprint(self, first: str, second: str) -> None:
        self.assertEqual(fingerprint(FAIL_TEST, first, None), fingerprint(FAIL_TEST, second, None))

    def test_short_hex(self) -> None:
        """A fingerprint is 16 hex digits and the same for the same input."""
        found = fingerprint(FAIL_TEST, "boom", TRIAL_TRACEBACK)
        self.assertRegex(found, r"^[0-9a-f]{16}$")
        self.assertEqual(found, fingerprint(FAIL_TEST, "boom", TRIAL_TRACEBACK))

    def test_volatile_parts_ignored(self) -> None:
        """Messages differing only in a seed, number, address, uuid, time or temp path agree."""
        self.assertSameFingerprint("x (random seed: 1)", "x (random seed: 2)")
        self.assertSameFingerprint("3 != 4", "30 != -4.5")
        self.assertSameFingerprint("<a.B object at 0x7f01>", "<a.B object at 0x7f99aa>")
        self.assertSameFingerprint("at 0x7f01", "at 0x55aa")
        self.assertSameFingerprint(
            "id 123e4567-e89b-12d3-a456-426614174000", "id 00000000-0000-0000-0000-000000000001"
        )
        self.assertSameFingerprint("at 2026-11-25T16:49:36.42Z", "at 2027-01-01T00:00:00Z")
        self.assertSameFingerprint("open /tmp/tmpab12cd34/x", "open /tmp/tmpzz99yy00/x")
        self.assertSameFingerprint("a  b\n", "a b")

    def test_cluster_addresses_ignored(self) -> None:
        """Failures that differ only in which node, address or port they hit agree."""
        self.assertSameFingerprint(
            "connection refused to 127.0.0.1:1605", "connection refused to 10.0.0.2:80"
        )
        self.assertSameFingerprint("host 10.0.0.2 timed out", "host 192.168.7.31 timed out")
        self.assertSameFingerprint("peer [::1]:8080 reset", "peer [fe80::2a:1]:9090 reset")
        self.assertSameFingerprint("peer 10.0.0.2:80 reset", "peer [2001:db8::5]:80 reset")
        self.assertSameFingerprint(
            "Lists differ: [['node1', 'node2']] != []", "Lists differ: [['node0', 'node1']] != []"
        )
        self.assertSameFingerprint("'node-3' != 'node-1'", "'node-0' != 'node-7'")
        self.assertSameFingerprint("n3 did not join", "n12 did not join")
        self.assertSameFingerprint(
            "worker-12 lost lease to worker-3 (random seed: 1)",
            "worker-2 lost lease to worker-9 (random seed: 44)",
        )

    def test_unrelated_cluster_failures_apart(self) -> None:
        """Masking addresses does not merge different problems."""
        refused = "connection refused to 127.0.0.1:1605"
        for other in (
            "connection timed out to 127.0.0.1:1605",
            "host 10.0.0.2 is unreachable",
            "leader is node-1",
            "Lists differ: [['node1']] != [['node2', 'node3']]",
            "connection refused to db.example.com:5432",
        ):
            self.assertNotEqual(
                fingerprint(FAIL_TEST, refused, None), fingerprint(FAIL_TEST, other, None), other
            )
        self.assertNotEqual(
            fingerprint(FAIL_TEST, "leader is node-1", None),
            fingerprint(FAIL_TEST, "leader is None", None),
        )

    def test_line_numbers_ignored(self) -> None:
        """Moving the failing code within its file keeps the fingerprint."""
        moved = TRIAL_TRACEBACK.replace("line 40,", "line 47,")
        self.assertEqual(
            fingerprint(FAIL_TEST, "x", TRIAL_TRACEBACK), fingerprint(FAIL_TEST, "x", moved)
        )

    def test_checkout_location_ignored(self) -> None:
        """The same test checked out in another directory keeps the fingerprint."""
        elsewhere = TRIAL_TRACEBACK.replace("/home/ci/src/", "/builds/42/")
        self.assertEqual(
            fingerprint(FAIL_TEST, "x", TRIAL_TRACEBACK), fingerprint(FAIL_TEST, "x", elsewhere)
        )

    def test_exception_type_matters(self) -> None:
        """A different exception type gives a different fingerprint."""
        self.assertNotEqual(
            fingerprint(FAIL_TEST, "x", None), fingerprint("builtins.ValueError", "x", None)
        )

    def test_text_matters(self) -> None:
        """Different wording gives a different fingerprint."""
        self.assertNotEqual(
            fingerprint(FAIL_TEST, "timed out", None), fingerprint(FAIL_TEST, "refused", None)
        )

    def test_failing_function_matters(self) -> None:
        """The same message failing in another user function gives a different fingerprint."""
        self.assertNotEqual(
            fingerprint(FAIL_TEST, "x", _with_frame("test_a")),
            fingerprint(FAIL_TEST, "x", _with_frame("test_b")),
        )

    def test_library_frames_ignored(self) -> None:
        """Changes in dependency or Twisted frames do not split a group."""
        upgraded = TRIAL_TRACEBACK.replace("in _run", "in _runWithSuppression")
        self.assertEqual(
            fingerprint(FAIL_TEST, "x", TRIAL_TRACEBACK), fingerprint(FAIL_TEST, "x", upgraded)
        )

    def test_missing_parts(self) -> None:
        """No type, message or traceback still fingerprints; None and empty agree."""
        self.assertEqual(fingerprint(None, None, None), fingerprint("", "", ""))
        self.assertNotEqual(fingerprint(None, None, None), fingerprint(FAIL_TEST, None, None))


class FailureFingerprintsTests(SynchronousTestCase):
    def test_bad_outcomes_only(self) -> None:
        """Of many results, those with a bad outcome get their fingerprint, the rest None."""
        results = [
            Result(f"t.{o.value}", o, 0.1, exception_type=FAIL_TEST, message="1 != 2")
            for o in Outcome
        ]
        expected = [fingerprint(FAIL_TEST, "1 != 2", None) if o.is_bad else None for o in Outcome]
        self.assertEqual(failure_fingerprints(ResultColumns.of(results)), expected)

    def test_repeated_failures(self) -> None:
        """Failures repeated in a batch, alike or differing only in their traceback or
        type, each get what fingerprint gives them alone."""
        failures = [
            (FAIL_TEST, "1 != 2", TRIAL_TRACEBACK),
            (FAIL_TEST, "1 != 2", TRIAL_TRACEBACK),
            (FAIL_TEST, "1 != 2", None),
            ("builtins.ValueError", "1 != 2", TRIAL_TRACEBACK),
            (FAIL_TEST, "1 != 2", TRIAL_TRACEBACK),
        ]
        results = [
            Result(f"t.{n}", Outcome.FAILURE, 0.1, exception_type=kind, message=text, traceback=tb)
            for n, (kind, text, tb) in enumerate(failures)
        ]
        self.assertEqual(
            failure_fingerprints(ResultColumns.of(results)),
            [fingerprint(*failure) for failure in failures],
        )


class SummaryTests(SynchronousTestCase):
    def test_short_name_and_masked_first_line(self) -> None:
        """The exception's last dotted part, then the masked first line of the message."""
        self.assertEqual(
            summary(FAIL_TEST, "3 != 4 (random seed: 7)\n- [3]\n+ [4]"), "FailTest: <n> != <n>"
        )

    def test_blank_first_lines_skipped(self) -> None:
        """Leading lines empty once masked are passed over."""
        self.assertEqual(summary("builtins.KeyError", "\n(random seed: 1)\n'k'"), "KeyError: 'k'")

    def test_no_message(self) -> None:
        """An empty or missing message reads (no message)."""
        self.assertEqual(summary(FAIL_TEST, None), "FailTest: (no message)")
        self.assertEqual(summary(FAIL_TEST, "  \n"), "FailTest: (no message)")

    def test_no_type(self) -> None:
        """Without an exception type the summary is just the message."""
        self.assertEqual(summary(None, "went wrong"), "went wrong")
        self.assertEqual(summary(None, None), "(no message)")

    def test_truncated(self) -> None:
        """A long summary is cut to ``limit`` characters, ending in an ellipsis."""
        long = summary("builtins.ValueError", "word " * 100, limit=20)
        self.assertEqual(long, "ValueError: word wo…")
        self.assertEqual(len(long), 20)
        self.assertEqual(len(summary("builtins.ValueError", "word " * 100)), 160)

    def test_not_truncated_at_limit(self) -> None:
        """A summary exactly ``limit`` long is left whole."""
        self.assertEqual(summary("E", "abcde", limit=8), "E: abcde")


FAIL_TEST = "twisted.trial.unittest.FailTest"


def failed_assert_equal(first: object, second: object) -> str:
    """The message a real ``assertEqual`` of ``first`` and ``second`` fails with."""
    case = SynchronousTestCase()
    case.maxDiff = None
    try:
        case.assertEqual(first, second)
    except case.failureException as failure:
        return str(failure)
    raise AssertionError(f"{first!r} == {second!r}")


class ValueMaskTests(SynchronousTestCase):
    def test_one_bug_one_group(self) -> None:
        """One failed assertion that compared different values run after run is one group:
        the lock test's five groups of ``Lists differ: [['node1','node2']] != []``."""
        holders = ([["node1", "node2"]], [["node0", "node1"]], [["n2", "n4", "n5"]], [["a"]])
        prints = {fingerprint(FAIL_TEST, failed_assert_equal(h, []), None) for h in holders}
        self.assertEqual(len(prints), 1)

    def test_other_comparisons_stay_apart(self) -> None:
        """What was compared still shows: an empty side against a full one, a list against
        a dict, and a different assertion are different groups."""
        messages = [
            failed_assert_equal([1], []),
            failed_assert_equal([], [1]),
            failed_assert_equal({"a": 1}, {}),
            "'n1' not in ['n2', 'n3']",
        ]
        prints = {fingerprint(FAIL_TEST, message, None) for message in messages}
        self.assertEqual(len(prints), len(messages))

    def test_strings_and_their_diff(self) -> None:
        """Compared strings are masked, and the diff written under them is left out."""
        message = failed_assert_equal("hello world", "hello there")
        self.assertIn("\n- hello world", message)
        self.assertEqual(mask_message(message, values=True), "'…' != '…'")

    def test_shortened_values(self) -> None:
        """A value unittest shortened (its brackets cut in half) is masked whole."""
        long = {"a": list(range(40)), "b": "x" * 60}
        first, second = (failed_assert_equal(v, {"a": [1]}) for v in (long, {**long, "c": 1}))
        self.assertIn(" chars]", first)
        self.assertEqual(mask_message(first, values=True), mask_message(second, values=True))

    def test_words_calls_and_empty_values_stay(self) -> None:
        """Apostrophes in words, calls, and empty values are not values to mask."""
        self.assertEqual(
            mask_values("doesn't match 'x' at f(a, b): () [] {} (1, 2)"),
            "doesn't match '…' at f(a, b): () [] {} (…)",
        )

    def test_only_assertions(self) -> None:
        """Other exceptions keep their values: a KeyError's key says which key."""
        self.assertNotEqual(
            fingerprint("builtins.KeyError", "'alpha'", None),
            fingerprint("builtins.KeyError", "'beta'", None),
        )
        self.assertTrue(is_assertion("builtins.AssertionError"))
        self.assertTrue(is_assertion(FAIL_TEST))
        self.assertFalse(is_assertion("builtins.KeyError"))

    def test_summary_shows_the_masked_comparison(self) -> None:
        """A group's summary line reads as the comparison with its values masked."""
        message = failed_assert_equal([["node1", "node2"]], [])
        self.assertEqual(summary(FAIL_TEST, message), "FailTest: Lists differ: […] != []")
