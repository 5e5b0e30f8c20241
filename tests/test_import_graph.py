"""One import direction: no module of ``service/`` imports, at any depth, one that imports it back.

Imports anywhere in a module count (inside functions too): a deferred import hides a cycle from
Python, not from a reader. ``from package import name`` points at ``package.name`` when that is a
module, else at ``package``; the implicit import of a parent package does not count.
"""

from __future__ import annotations

import ast
from pathlib import Path

SERVICE = Path(__file__).resolve().parent.parent / "service"


def module_names(package: Path) -> dict[str, Path]:
    """Return every module under ``package`` by dotted name (packages by their own name)."""
    names: dict[str, Path] = {}
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Return the known modules that module ``name`` (at ``path``) imports anywhere."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:
                target = f"{base}.{alias.name}"
                if target in known:
                    found.add(target)
                elif base in known:
                    found.add(base)
    found.discard(name)
    return found


def import_graph(package: Path) -> dict[str, set[str]]:
    """Return module → modules it imports, for every module under ``package``."""
    known = module_names(package)
    return {name: imports_of(name, path, known) for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected groups of more than one module (each one is a cycle)."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        order[node] = low[node] = len(order)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in order:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], order[target])
        if low[node] == order[node]:
            group: list[str] = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in order:
            visit(node)
    return found


def test_service_has_no_import_cycle() -> None:
    graph = import_graph(SERVICE)
    assert len(graph) > 50  # the walk found the package
    assert cycles(graph) == []


def test_the_factory_is_imported_by_nothing_in_service() -> None:
    graph = import_graph(SERVICE)
    assert [name for name, targets in graph.items() if "service.app" in targets] == []


def test_a_deferred_relative_import_closing_a_cycle_is_found(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "feature").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "app.py").write_text("from pkg.feature import views\n")
    (package / "feature" / "__init__.py").write_text("")
    (package / "feature" / "views.py").write_text(
        "def settings():\n    from ..app import get_settings\n    return get_settings\n"
    )
    (package / "feature" / "other.py").write_text("import pkg.app\n")

    assert cycles(import_graph(package)) == [["pkg.app", "pkg.feature.views"]]
