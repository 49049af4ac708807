"""Import-linter contracts that also see the project's top-level modules (settings.py, worker.py…).

Import-linter builds its graph from packages only: a top-level module appears in it as an
external name that packages import, but its own imports are never read. These contracts add
them (every import statement, also inside functions) before checking, so that, say, settings
importing a client breaks the layers like any package would. pyproject.toml registers them.
"""

from __future__ import annotations

import ast
from pathlib import Path

from grimp import ImportGraph
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.contracts.layers import LayersContract
from importlinter.domain.contract import ContractCheck

ROOT = Path(__file__).resolve().parents[2]


def ours(root: Path = ROOT) -> set[str]:
    """The project's top-level names: its packages and its top-level modules."""
    return {path.parent.name for path in root.glob("*/__init__.py")} | {
        path.stem for path in root.glob("*.py")
    }


def add_top_level_modules(graph: ImportGraph, root: Path = ROOT) -> None:
    """Add each top-level module and its imports of the project's modules to the graph; a package
    of ours the graph lacks (tests) joins it whole, so importing it breaks a contract too."""
    project = ours(root)
    for path in sorted(root.glob("*.py")):
        module = path.stem
        if module not in graph.modules:
            graph.add_module(module, is_squashed=True)
        for named, line_number, line in _imports(path):
            imported = named
            while imported and imported not in graph.modules:
                imported = imported.rpartition(".")[0]
            top = named.partition(".")[0]
            if not imported and top in project:
                graph.add_module(top, is_squashed=True)
                imported = top
            if imported and imported != module:
                graph.add_import(
                    importer=module,
                    imported=imported,
                    line_number=line_number,
                    line_contents=line,
                )


def _imports(path: Path) -> list[tuple[str, int, str]]:
    source = path.read_text()
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found += [(name, node.lineno, lines[node.lineno - 1].strip()) for name in names]
    return found


class Layers(LayersContract):
    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        add_top_level_modules(graph)
        return super().check(graph, verbose)


class Forbidden(ForbiddenContract):
    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        add_top_level_modules(graph)
        return super().check(graph, verbose)
