"""The boundary a newcomer can trust, read from the import graph of every module (lazy imports included).

The packages form layers; a module may import only from its own package and the layers its package
lists below. In particular ``client`` (the operator's side) and ``server`` (the aggregator's) never
import each other: what both need lives in the contract (``protos``) or in ``common``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
ALLOWED = {
    "protos": set(),
    "common": {"protos"},
    "client": {"protos", "common"},
    "server": {"protos", "common"},
    "simulations": {"protos", "common", "client", "server"},
    "fleetbench": {"protos", "common", "client", "server", "simulations"},
}
"""Package -> the project packages it may import."""


def project_imports(path: Path) -> set[str]:
    """The project packages a module imports, at any depth of its code."""
    imported = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        imported |= {name.split(".")[0] for name in names} & set(ALLOWED)
    return imported


def package_graph() -> dict[str, set[str]]:
    """Package -> the other project packages its modules import."""
    graph: dict[str, set[str]] = {package: set() for package in ALLOWED}
    for package in ALLOWED:
        for path in (REPO_ROOT / package).rglob("*.py"):
            graph[package] |= project_imports(path) - {package}
    return graph


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_package_imports_only_the_layers_below_it(package):
    offending = {
        str(path.relative_to(REPO_ROOT)): sorted(project_imports(path) - ALLOWED[package] - {package})
        for path in sorted((REPO_ROOT / package).rglob("*.py"))
    }
    assert {path: imports for path, imports in offending.items() if imports} == {}


def test_client_and_server_never_import_each_other():
    graph = package_graph()
    assert "server" not in graph["client"] and "client" not in graph["server"]


def test_the_package_graph_has_no_loop():
    graph = package_graph()
    visiting, done = set(), set()

    def visit(package: str, path: tuple[str, ...]) -> None:
        assert package not in visiting, f"import loop {' -> '.join((*path, package))}"
        if package in done:
            return
        visiting.add(package)
        for imported in graph[package]:
            visit(imported, (*path, package))
        visiting.discard(package)
        done.add(package)

    for package in graph:
        visit(package, ())


def test_the_checker_sees_an_import_that_crosses_the_boundary(tmp_path):
    module = tmp_path / "crossing.py"
    module.write_text("def f():\n    from server.store import read_release\n    import client.schema\n")
    assert project_imports(module) == {"server", "client"}
