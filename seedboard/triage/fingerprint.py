"""Group a test's failures: the same failure gets the same fingerprint run after run.

A failure's message and traceback change between runs in ways that do not
matter (the seed, addresses, temporary paths, times, numbers); masking those
leaves the exception type, the wording and the user's code that failed, which
together say whether two failures are the same problem.  A failed assertion's
message also shows the values it compared, which a seed changes from run to run
(``[['node1', 'node2']] != []``, then ``[['node0', 'node1']] != []``): those are
masked too, so one broken assertion is one group.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re

from seedboard.domain import BAD_OUTCOMES, ResultColumns

# The note seedboard.testing and the classic recipe append to failures.
_SEED_NOTE = re.compile(r"\(random seed: *\d+\)|random seed: *\d+", re.IGNORECASE)
_OBJECT_REPR = re.compile(r"<([\w.]+) object at 0x[0-9a-fA-F]+>")
_HEX_ADDRESS = re.compile(r"(?<!\w)0[xX][0-9a-fA-F]+\b")
_UUID = re.compile(
    r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
)
_TIME = re.compile(
    r"""
    \b\d{4}-\d{2}-\d{2}                         # a date,
    (?:[T\ ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?  # maybe with a time,
       (?:Z|[+-]\d{2}(?::?\d{2})?)?)?           # maybe with a zone
    | \b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?         # or a time alone
    """,
    re.VERBOSE,
)
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_PORT = r"(?::\d{1,5})?"
_IPV4 = re.compile(rf"(?<![\w.])(?:{_OCTET}\.){{3}}{_OCTET}{_PORT}(?!\w|\.\d)")
# Candidates only: whether one is an IPv6 address is for the ipaddress module to say.
# Bracketed ("[::1]:8080", as URLs write them) or bare ("fe80::1%eth0"), never after a
# name, so "x[1::2]" stays a slice.
_IPV6 = re.compile(
    rf"""
    (?<![\w\]])\[(?P<bracketed>[0-9A-Fa-f:.]+)(?:%[\w.-]+)?\]{_PORT}
    | (?<![\w:.%])(?P<bare>[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*)(?:%[\w-]+)?(?![\w:])
    """,
    re.VERBOSE,
)
_LOCALHOST = re.compile(r"(?<![\w.-])localhost:\d{1,5}(?!\w|\.\d)", re.IGNORECASE)
# A numbered name that only says which of several nodes it was: node-3, node3, n3, worker_12.
# The prefixes are the words clusters use for their members; other words with digits
# (md5, utf8, test_2, h2) stay as they are.
_NODE_NAME = re.compile(
    r"(?<![\w-])(?:node|n|worker|replica|peer|member|server|host|broker)[-_]?\d+(?![\w-])",
    re.IGNORECASE,
)
ADDRESS = "<addr>"
NODE = "<node>"
# A run of characters that could be a path; quotes, brackets and separators end it,
# and a sentence's final full stop is not part of it.
_PATH_LIKE = re.compile(r"""[^\s'"`<>()\[\]{},;:=]+(?<!\.)""")
_TEMPORARY_ROOT = re.compile(r"/+(?:private/)?(?:tmp|var/tmp|var/folders)/")
_TEMPORARY_MARKERS = ("_trial_temp", "pytest-of-")
# What tempfile.mkdtemp and NamedTemporaryFile name things: tmp + random characters.
_TEMPORARY_SEGMENT = re.compile(r"tmp[a-z0-9_]{6,}(?:\.\w+)*")
_NUMBER = re.compile(
    r"""
    (?<![\w.])                         # not the end of a name or of a dotted number
    [-+]?(?:\d+(?:\.\d+)?|\.\d+)       # 12, -3, 0.5, .5
    (?:[eE][-+]?\d+)?                  # 1e-09
    (?![xX]|\.\d)                      # not a masked 0x…, not part of a version like 1.2.3
    """,
    re.VERBOSE,
)
# The values a failed assertion shows: quoted strings, and bracketed reprs of lists,
# dicts, sets and tuples (a parenthesis after a name is a call, and stays).
_QUOTED = re.compile(r"""(?<![\w'"])(?:'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")(?!\w)""")
_INNERMOST = {
    "[…]": re.compile(r"\[[^\[\]{}()]+\]"),
    "{…}": re.compile(r"\{[^\[\]{}()]+\}"),
    "(…)": re.compile(r"(?<!\w)\([^\[\]{}()]+\)"),
}
# Stand-ins for masked groups while outer ones are found: no bracket in them.
_STAND_IN = {masked: chr(0xE000 + i) for i, masked in enumerate(_INNERMOST)}
# unittest's assertEqual writes the values again as a diff under a first line that
# compares them ("Lists differ: … != …", "'a' != 'b'").
_COMPARISON = re.compile(r" != |differ:")
_DIFF_LINE = re.compile(r"^[-+?] ")
# unittest shortens long values ("[1, 2, 3, [102 chars]xxx'}"), cutting their brackets
# in half: such a value is masked whole.
_SHORTENED = re.compile(r"\[\d+ chars\]")
ASSERTIONS = frozenset({"AssertionError", "FailTest"})
_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line \d+, in (?P<function>.+?)\s*$')
_NOT_USER_CODE = ("site-packages", "dist-packages", "/lib/python3", "<frozen ", "/twisted/")

NO_MESSAGE = "(no message)"
FINGERPRINT_LENGTH = 16


def mask_message(message: str, values: bool = False) -> str:
    """``message`` with its volatile parts masked and its whitespace collapsed; with
    ``values``, a failed assertion's message, the values it compared masked too."""
    masked = _SEED_NOTE.sub("", message)
    masked = _OBJECT_REPR.sub(r"<\1 object>", masked)
    # Paths go before addresses, times and numbers, which would otherwise cut them up.
    masked = _PATH_LIKE.sub(_mask_temporary_path, masked)
    # Addresses and node names go before hex addresses, times and numbers, which would
    # otherwise mask their digits one by one ("<n>7.0.0.1:<n>").
    masked = mask_addresses(masked)
    if values:
        masked = mask_values(masked)
    masked = _HEX_ADDRESS.sub("0x…", masked)
    masked = _UUID.sub("<uuid>", masked)
    masked = _TIME.sub("<time>", masked)
    masked = _NUMBER.sub("<n>", masked)
    return " ".join(masked.split())


def mask_addresses(text: str) -> str:
    """``text`` with IP addresses, ``host:port`` and numbered node names masked whole.

    ``127.0.0.1:1605``, ``10.0.0.2``, ``[::1]:8080``, ``fe80::1%eth0`` and
    ``localhost:9000`` each become ``<addr>``; ``node-3``, ``n3`` and ``worker_12``
    become ``<node>``, so failures that differ only in which member of a cluster
    they hit share a group.
    """
    masked = _IPV6.sub(_mask_ipv6, text)
    masked = _IPV4.sub(ADDRESS, masked)
    masked = _LOCALHOST.sub(ADDRESS, masked)
    return _NODE_NAME.sub(NODE, masked)


def is_assertion(exception_type: str | None) -> bool:
    """Whether a failure is a failed assertion, whose message shows compared values."""
    return short_type_name(exception_type) in ASSERTIONS


def mask_values(message: str) -> str:
    """``message`` with quoted strings as ``'…'``, non-empty bracketed values as
    ``[…]``, ``{…}`` or ``(…)`` (empty ones say something, and stay), and the diff
    under a comparison left out."""
    lines = message.splitlines()
    if lines and _COMPARISON.search(lines[0]):
        lines = [_mask_shortened(lines[0])] + [
            line for line in lines[1:] if not _DIFF_LINE.match(line)
        ]
    masked = _QUOTED.sub("'…'", "\n".join(lines))
    # Innermost groups first, until no group is left that holds no other.
    while True:
        before = masked
        for group, innermost in _INNERMOST.items():
            masked = innermost.sub(_STAND_IN[group], masked)
        if masked == before:
            break
    for group, stand_in in _STAND_IN.items():
        masked = masked.replace(stand_in, group)
    return masked


def _mask_shortened(comparison: str) -> str:
    return " != ".join(
        "…" if _SHORTENED.search(side) else side for side in comparison.split(" != ")
    )


def _mask_ipv6(match: re.Match[str]) -> str:
    if match["bracketed"] is not None:
        return ADDRESS if _is_ipv6(match["bracketed"]) else match.group()
    candidate = match["bare"]
    # A sentence's final full stop is not part of the address.
    address = candidate.rstrip(".")
    if not _is_ipv6(address) or not _looks_like_an_address(address):
        return match.group()
    return ADDRESS + candidate[len(address) :]


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def _looks_like_an_address(address: str) -> bool:
    # "1::2" is an address too, but more often a slice; a real one has a longer group.
    return address == "::1" or any(len(group) > 1 for group in re.split(r"[:.]", address))


def _mask_temporary_path(match: re.Match[str]) -> str:
    return "<tmp>" if is_temporary_path(match.group()) else match.group()


def is_temporary_path(text: str) -> bool:
    """Whether ``text`` names something in a temporary directory, which differs every run."""
    if any(marker in text for marker in _TEMPORARY_MARKERS):
        return True
    normalised = text.replace("\\", "/")
    if "/" not in normalised:
        return False
    if _TEMPORARY_ROOT.match(normalised):
        return True
    return any(_TEMPORARY_SEGMENT.fullmatch(part) for part in normalised.split("/"))


def user_frames(traceback: str | None, count: int = 3) -> tuple[str, ...]:
    """The innermost ``count`` frames of the user's code, as ``dir/file.py:function``.

    They come outermost first, as in the traceback.  Line numbers are left out
    so that editing a file does not split a group.
    """
    if not traceback or count <= 0:
        return ()
    frames = [
        f"{_short_path(found['path'])}:{found['function']}"
        for found in map(_FRAME.match, traceback.splitlines())
        if found is not None and is_user_code(found["path"])
    ]
    return tuple(frames[-count:])


def is_user_code(path: str) -> bool:
    """Whether a traceback's file is the user's, not Python's, a dependency's or Twisted's."""
    normalised = path.replace("\\", "/")
    return not any(marker in normalised for marker in _NOT_USER_CODE)


def _short_path(path: str) -> str:
    # The last two components survive checkouts in different places.
    return "/".join(path.replace("\\", "/").split("/")[-2:])


def fingerprint(exception_type: str | None, message: str | None, traceback: str | None) -> str:
    """A short hex digest shared by failures that differ only in volatile details."""
    parts = [
        (exception_type or "").strip(),
        mask_message(message or "", values=is_assertion(exception_type)),
        *user_frames(traceback),
    ]
    digest = hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:FINGERPRINT_LENGTH]


def failure_fingerprints(results: ResultColumns) -> list[str | None]:
    """The fingerprint of each result with a bad outcome, None for the others."""
    failures = zip(
        results.outcome, results.exception_type, results.message, results.traceback, strict=True
    )
    # Each distinct failure once: tests broken alike (a fixture, a missing service)
    # fail with the same text, and masking it is the costliest part of a batch's store.
    known: dict[tuple[str | None, str | None, str | None], str] = {}
    fingerprints: list[str | None] = []
    for outcome, exception_type, message, traceback in failures:
        if outcome not in BAD_OUTCOMES:
            fingerprints.append(None)
            continue
        key = (exception_type, message, traceback)
        found = known.get(key)
        if found is None:
            found = known[key] = fingerprint(*key)
        fingerprints.append(found)
    return fingerprints


def short_type_name(exception_type: str | None) -> str:
    """``twisted.trial.unittest.FailTest`` -> ``FailTest``; empty when unknown."""
    return (exception_type or "").strip().rsplit(".", 1)[-1]


def summary(exception_type: str | None, message: str | None, limit: int = 160) -> str:
    """One readable line for a group: ``FailTest: <n> != <n>``, at most ``limit`` characters."""
    line = first_masked_line(message, values=is_assertion(exception_type)) or NO_MESSAGE
    name = short_type_name(exception_type)
    return truncate(f"{name}: {line}" if name else line, limit)


def first_masked_line(message: str | None, values: bool = False) -> str:
    """The first line of ``message`` that says something once masked, or ``""``."""
    for line in (message or "").splitlines():
        masked = mask_message(line, values)
        if masked:
            return masked
    return ""


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in ``…`` when it was cut."""
    if len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    return text[: limit - 1].rstrip() + "…"
