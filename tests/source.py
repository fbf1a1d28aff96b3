"""Reading seedboard's own source for tests about its shape: modules, literals, imports."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from tests.support import REPO

PACKAGES = {
    "seedboard": REPO / "seedboard",
    "seedboard_reporter": REPO / "reporter" / "seedboard_reporter",
}
"""Each first-party package by its import name, and its folder in the checkout."""


def modules(*folders: str) -> Iterator[Path]:
    """The Python files under ``folders`` (relative to the checkout), in a stable order."""
    for folder in folders:
        yield from sorted((REPO / folder).rglob("*.py"))


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


class Literal(NamedTuple):
    """A string literal in the source, and its line."""

    line: int
    text: str


def code_strings(tree: ast.Module) -> Iterator[Literal]:
    """The string literals of a module that are code, not docstrings."""
    docstrings = {id(doc) for body in _bodies(tree) if (doc := _docstring(body)) is not None}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            yield Literal(node.lineno, node.value)


def _bodies(tree: ast.Module) -> Iterator[list[ast.stmt]]:
    """Every body a docstring may open: the module's, each class's and function's, and the
    one-statement 'body' after each assignment (an attribute's docstring)."""
    yield tree.body
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield node.body
        if isinstance(node, ast.Module | ast.ClassDef):
            for before, statement in zip(node.body, node.body[1:], strict=False):
                if isinstance(before, ast.Assign | ast.AnnAssign):
                    yield [statement]


def _docstring(body: list[ast.stmt]) -> ast.Constant | None:
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        return first.value if isinstance(first.value.value, str) else None
    return None


def module_file(name: str) -> Path | None:
    """The file of the first-party module ``name`` (a dotted name), if there is one."""
    top, *rest = name.split(".")
    if top not in PACKAGES:
        return None
    base = PACKAGES[top].joinpath(*rest)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@dataclass(frozen=True)
class Bindings:
    """The names a module binds at its top level: those it defines, those it imports."""

    defined: frozenset[str]
    imported: frozenset[str]


def bindings(tree: ast.Module) -> Bindings:
    defined: set[str] = set()
    imported: set[str] = set()
    for statement in _top_level(tree.body):
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defined.add(statement.name)
        elif isinstance(statement, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            defined.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(statement, ast.Import | ast.ImportFrom):
            imported.update(alias.asname or alias.name.split(".")[0] for alias in statement.names)
    return Bindings(frozenset(defined), frozenset(imported))


def _top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """A module's statements, including those inside its top-level ``if``/``try``/``with``."""
    for statement in body:
        yield statement
        if isinstance(statement, ast.If | ast.With):
            yield from _top_level(statement.body)
            yield from _top_level(getattr(statement, "orelse", []))
        elif isinstance(statement, ast.Try):
            for part in (statement.body, statement.orelse, statement.finalbody):
                yield from _top_level(part)
            for handler in statement.handlers:
                yield from _top_level(handler.body)


def first_party_imports(tree: ast.Module) -> Iterator[tuple[int, str, str]]:
    """Each ``from <seedboard module> import <name>``: its line, module and name."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.ImportFrom) and node.module and node.level == 0):
            continue
        if node.module.split(".")[0] in PACKAGES:
            for alias in node.names:
                yield node.lineno, node.module, alias.name
