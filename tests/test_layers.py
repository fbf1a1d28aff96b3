"""The layers' import directions: web -> services -> (db, triage) -> domain, never back.

Imports are read from the source with ``ast``, those inside functions too, so an
import made late to save time still counts.
"""

from __future__ import annotations

import ast
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

from tests.support import REPO

PACKAGE = REPO / "seedboard"

MAY_IMPORT: dict[str, frozenset[str]] = {
    "seedboard.domain": frozenset(),
    # seeds and settings: the seed rules and environment names, standard library only.
    "seedboard.triage": frozenset(
        {"seedboard.triage", "seedboard.domain", "seedboard.seeds", "seedboard.settings"}
    ),
    # resources: where the installed package keeps alembic's scripts; errors: what a
    # database that cannot be used is called (standard library only, the command's too).
    "seedboard.db": frozenset(
        {"seedboard.db", "seedboard.domain", "seedboard.resources", "seedboard.errors"}
    ),
    "seedboard.services": frozenset(
        {"seedboard.services", "seedboard.db", "seedboard.triage", "seedboard.domain"}
    ),
    # Other runners' files: read into the domain's records, then stored like the API's
    # batches (services) or sent through the API (ingest's bodies, remote).
    "seedboard.imports": frozenset(
        {
            "seedboard.imports",
            "seedboard.domain",
            "seedboard.seeds",
            "seedboard.settings",
            "seedboard.services",
            "seedboard.db",
            "seedboard.ingest",
            "seedboard.remote",
        }
    ),
}
"""Each layer, and the parts of seedboard its modules may import."""

PURE_FORBIDS = frozenset({"sqlalchemy", "alembic", "twisted", "klein", "jinja2", "werkzeug"})
"""What triage and the domain's records never import: they do no I/O."""


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module that ``module``'s ``source`` imports, by absolute name, wherever the
    import statement is."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            found.add(".".join([*base, *([node.module] if node.module else [])]))
    return found


def imports_of(path: Path) -> set[str]:
    return imports(path.read_text(encoding="utf-8"), module_name(path), path.stem == "__init__")


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def sources(layer: str) -> list[Path]:
    path = REPO.joinpath(*layer.split("."))
    return sorted(path.rglob("*.py")) if path.is_dir() else [path.with_suffix(".py")]


def wrong_imports(layer: str) -> list[str]:
    """``module -> import`` for each import of ``layer`` that points the wrong way."""
    allowed = MAY_IMPORT[layer]
    wrong = []
    for path in sources(layer):
        for name in sorted(imports_of(path)):
            inside = within(name, "seedboard")
            if inside and not any(within(name, ok) for ok in allowed):
                wrong.append(f"{module_name(path)} -> {name}")
    return wrong


class LayerTests(SynchronousTestCase):
    def test_every_layer_has_modules(self) -> None:
        """Each layer checked exists, so a package renamed is not silently unchecked."""
        for layer in MAY_IMPORT:
            self.assertTrue(all(p.is_file() for p in sources(layer)), layer)
            self.assertTrue(sources(layer), layer)

    def test_storage_imports_no_triage(self) -> None:
        """``seedboard.db`` imports only itself, the domain and where package data lives: it
        stores and reads records."""
        self.assertEqual(wrong_imports("seedboard.db"), [])

    def test_triage_imports_no_storage(self) -> None:
        """``seedboard.triage`` imports only itself, the domain and the seed rules."""
        self.assertEqual(wrong_imports("seedboard.triage"), [])

    def test_services_sit_below_the_web(self) -> None:
        """``seedboard.services`` composes db and triage, and imports nothing above them."""
        self.assertEqual(wrong_imports("seedboard.services"), [])

    def test_domain_imports_nothing_of_seedboard(self) -> None:
        """``seedboard.domain`` is the bottom layer."""
        self.assertEqual(wrong_imports("seedboard.domain"), [])

    def test_pure_layers_do_no_io(self) -> None:
        """Triage and the domain import no database, web or reactor library."""
        for layer in ("seedboard.triage", "seedboard.domain"):
            for path in sources(layer):
                heavy = {name.split(".")[0] for name in imports_of(path)} & PURE_FORBIDS
                self.assertEqual(heavy, set(), module_name(path))

    def test_leaves_are_leaves(self) -> None:
        """The seed rules and environment names (for triage) and the package data finder
        (for db) import nothing else of seedboard but each other, so allowing them lets no
        arrow point back."""
        for leaf, allowed in [
            ("seeds.py", {"seedboard.settings"}),
            ("settings.py", set()),
            ("resources.py", set()),
        ]:
            found = {n for n in imports_of(PACKAGE / leaf) if within(n, "seedboard")}
            self.assertEqual(found, allowed, leaf)

    def test_checker_sees_every_kind_of_import(self) -> None:
        """The checker finds plain, from, relative and function-level imports."""
        source = (
            "import seedboard.triage.fingerprint\n"
            "from . import runs\n"
            "from .models import Run\n"
            "from ..web import app\n"
            "def late():\n"
            "    from seedboard.services import flaky\n"
        )
        expected = {
            "seedboard.triage.fingerprint",
            "seedboard.db",
            "seedboard.db.models",
            "seedboard.web",
            "seedboard.services",
        }
        self.assertEqual(imports(source, "seedboard.db.probe"), expected)
        self.assertEqual(imports(source, "seedboard.db", is_package=True), expected)
