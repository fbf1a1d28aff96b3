"""The documentation stays short where it must, and in step with the code it describes.

The README is what a newcomer reads first, so it has a length limit; the stable
names it lists (environment variables) and the verbs ``docs/usage.md`` explains
are read from the code, so a new one cannot go undocumented; and every relative
link between the documents must lead somewhere.
"""

from __future__ import annotations

import argparse
import ast
import re
from collections.abc import Iterator
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from seedboard.cli import build_parser
from tests.support import REPO

README = REPO / "README.md"
USAGE = REPO / "docs" / "usage.md"
README_MAX_LINES = 150

SHIPPED_CODE = (REPO / "seedboard", REPO / "reporter" / "seedboard_reporter")
"""Where the environment variables users set are read: the server and the reporter."""

INSTALL_AND_RUN = (
    "python3 -m venv .venv && .venv/bin/pip install . && PYTHONPATH=tests/samples "
    ".venv/bin/trial --reporter=seedboard samplepkg; .venv/bin/seedboard serve"
)
TEST_COMMAND = (
    "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/trial tests"
)

_ENV_NAME = re.compile(r"SEEDBOARD_[A-Z0-9_]+")
_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+).+?\1", re.DOTALL)
_INLINE_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
_SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def documents() -> list[Path]:
    """Every Markdown document a reader follows links through."""
    return [README, *sorted((REPO / "docs").glob("*.md")), REPO / "bench" / "README.md"]


def prose(markdown: str) -> str:
    """The text outside code blocks and code spans, where links and headings live."""
    return _CODE_SPAN.sub("", _FENCE.sub("", markdown))


def link_targets(markdown: str) -> list[str]:
    """The targets of the document's inline and reference-style links."""
    text = prose(markdown)
    return _INLINE_LINK.findall(text) + _REFERENCE_LINK.findall(text)


def heading_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the document's headings."""
    headings = _HEADING.findall(_FENCE.sub("", markdown))
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def anchors_of(document: Path) -> set[str]:
    """The heading anchors of a Markdown file."""
    return heading_anchors(document.read_text(encoding="utf-8"))


def broken_links(document: Path) -> Iterator[str]:
    """Each relative link of ``document`` whose file, or heading, does not exist."""
    for target in link_targets(document.read_text(encoding="utf-8")):
        if _SCHEME.match(target):
            continue  # another site, or mailto:
        path, _, anchor = target.partition("#")
        found = (document.parent / path).resolve() if path else document
        if not found.exists():
            yield f"{document.relative_to(REPO)}: {target} (no such file)"
        elif anchor and found.suffix == ".md" and anchor not in anchors_of(found):
            yield f"{document.relative_to(REPO)}: {target} (no such heading)"


def section(markdown: str, title: str) -> str:
    """The text of the ``## title`` section, up to the next heading of that level."""
    start = markdown.index(f"\n## {title}\n")
    end = markdown.find("\n## ", start + 1)
    return markdown[start : end if end != -1 else len(markdown)]


def environment_names() -> set[str]:
    """Every ``SEEDBOARD_*`` name the shipped code spells out as a string."""
    names: set[str] = set()
    for root in SHIPPED_CODE:
        for module in root.rglob("*.py"):
            tree = ast.parse(module.read_text(encoding="utf-8"), str(module))
            names.update(
                node.value
                for node in ast.walk(tree)
                if isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and _ENV_NAME.fullmatch(node.value)
            )
    return names


def verbs(
    parser: argparse.ArgumentParser, prefix: str = "seedboard"
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Each command the parser runs, as typed (``seedboard token create``), with its parser."""
    subcommands = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subcommands:
        yield prefix, parser
    for action in subcommands:
        for name, subparser in action.choices.items():
            yield from verbs(subparser, f"{prefix} {name}")


class ReadmeTests(SynchronousTestCase):
    def test_short(self) -> None:
        """The README is at most 150 lines: what seedboard is, how to start, the stable names."""
        lines = len(README.read_text(encoding="utf-8").splitlines())
        self.assertLessEqual(lines, README_MAX_LINES, f"README.md has {lines} lines")

    def test_two_commands(self) -> None:
        """The README gives the install-and-run command and the test command, verbatim."""
        text = README.read_text(encoding="utf-8")
        self.assertIn(INSTALL_AND_RUN, text)
        self.assertIn(TEST_COMMAND, text)

    def test_every_environment_variable_listed(self) -> None:
        """Every SEEDBOARD_* variable the server or reporter reads is a stable name in the
        README, and the README lists no variable the code does not know."""
        stable = section(README.read_text(encoding="utf-8"), "Stable names")
        read = environment_names()
        self.assertTrue(read, "found no SEEDBOARD_* names in the code: has it moved?")
        missing = sorted(name for name in read if f"`{name}`" not in stable)
        self.assertEqual(missing, [], "add these to the README's Stable names")
        unknown = sorted(set(_ENV_NAME.findall(stable)) - read)
        self.assertEqual(unknown, [], "the README lists names no shipped code reads")


class LinkTests(SynchronousTestCase):
    def test_relative_links_resolve(self) -> None:
        """Every relative link in README.md, docs/ and bench/README.md leads to a file
        (and heading) that exists."""
        broken = [link for document in documents() for link in broken_links(document)]
        self.assertEqual(broken, [])

    def test_finds_links(self) -> None:
        """The link reader sees inline and reference links, but none inside code."""
        markdown = (
            "See [usage](docs/usage.md#the-reporter) and [api][].\n\n"
            "[api]: docs/api.md\n\n"
            "`[not](a-link.md)`\n\n```md\n[nor](this.md)\n```\n"
        )
        self.assertEqual(link_targets(markdown), ["docs/usage.md#the-reporter", "docs/api.md"])

    def test_heading_anchors(self) -> None:
        """Anchors are made as GitHub makes them, and shell comments are no headings."""
        markdown = "# Using it\n\n### `seedboard serve`\n\n```sh\n# not a heading\n```\n"
        self.assertEqual(heading_anchors(markdown), {"using-it", "seedboard-serve"})


class UsageTests(SynchronousTestCase):
    def test_every_verb_documented(self) -> None:
        """Every verb of the seedboard command is explained in docs/usage.md."""
        usage = USAGE.read_text(encoding="utf-8")
        commands = [command for command, _ in verbs(build_parser())]
        self.assertIn("seedboard token create", commands)
        self.assertEqual([c for c in commands if c not in usage], [])

    def test_every_option_documented(self) -> None:
        """Every long option of every verb appears in docs/usage.md."""
        usage = USAGE.read_text(encoding="utf-8")
        missing = [
            f"{command} {option}"
            for command, parser in verbs(build_parser())
            for action in parser._actions
            for option in action.option_strings
            if option.startswith("--") and option != "--help" and option not in usage
        ]
        self.assertEqual(missing, [])
