"""neurodyn's import graph, read from the source with :mod:`ast` (nothing is imported).

Every ``import`` and ``from ... import`` of a neurodyn module becomes an edge
``importer -> imported``, marked module-level (runs at import time) or deferred (inside
a function, or under ``if TYPE_CHECKING``). A name imported from a package resolves to
its submodule when there is one. The folders are mapped as setup.cfg maps them:
``neurodyn/`` to ``neurodyn``, ``analysis/`` to ``neurodyn.analysis`` and
``rnn_models/`` to ``neurodyn.rnn_models``.

Run ``python tests/support/import_graph.py`` for a report: the import cycles (strongly
connected components, module-level and with the deferred imports), every deferred
import, and every private name imported across packages.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = {
    "neurodyn": "neurodyn",
    "analysis": "neurodyn.analysis",
    "rnn_models": "neurodyn.rnn_models",
}


@dataclass(frozen=True)
class Import:
    """One import of a neurodyn module (or of a name from one)."""

    importer: str
    target: str
    names: tuple[str, ...]
    line: int
    deferred: bool
    path: Path


def modules() -> dict[str, Path]:
    """Every neurodyn module name and its file."""
    found = {}
    for folder, package in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((package, *parts))] = path
    return found


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _base(module: str, path: Path, level: int, name: str | None) -> str:
    """The absolute module a ``from`` import names."""
    if level == 0:
        return name or ""
    package = module if _is_package(path) else module.rpartition(".")[0]
    for _ in range(level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{name}" if name else package


def _nodes_under(nodes) -> set[int]:
    return {
        id(n) for sub in nodes for n in ast.walk(sub) if isinstance(n, (ast.Import, ast.ImportFrom))
    }


def _typing_nodes(tree: ast.AST) -> set[int]:
    """ids of the import nodes under ``if TYPE_CHECKING:`` (they never run)."""
    return _nodes_under(
        [
            sub
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for sub in node.body
        ]
    )


def _deferred_nodes(tree: ast.AST) -> set[int]:
    """ids of the import nodes inside functions (they run when the function is called)."""
    return _nodes_under(
        [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    )


def imports(known: dict[str, Path] | None = None) -> list[Import]:
    """Every import of a neurodyn module in the package's source."""
    known = modules() if known is None else known
    found = []
    for module, path in known.items():
        tree = ast.parse(path.read_text(), str(path))
        deferred, typing = _deferred_nodes(tree), _typing_nodes(tree)
        for node in ast.walk(tree):
            if id(node) in typing:
                continue
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in known:
                        found.append(
                            Import(module, alias.name, (), node.lineno, id(node) in deferred, path)
                        )
            elif isinstance(node, ast.ImportFrom):
                base = _base(module, path, node.level, node.module)
                if base not in known and not any(f"{base}.{a.name}" in known for a in node.names):
                    continue
                plain = []
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    if sub in known:  # a submodule, imported as a name of its package
                        found.append(
                            Import(module, sub, (), node.lineno, id(node) in deferred, path)
                        )
                    else:
                        plain.append(alias.name)
                if plain and base in known:
                    found.append(
                        Import(module, base, tuple(plain), node.lineno, id(node) in deferred, path)
                    )
    return found


def _entered_packages(importer: str, target: str) -> list[str]:
    """The packages whose ``__init__`` importing ``target`` runs first: its ancestors that
    do not also contain ``importer`` (those are already being imported)."""
    parts = target.split(".")
    ancestors = [".".join(parts[:i]) for i in range(1, len(parts))]
    return [p for p in ancestors if not (importer == p or importer.startswith(p + "."))]


def cycles(edges: list[Import], *, deferred: bool = False) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), sorted.

    Importing ``a.b.c`` from outside ``a.b`` runs ``a.b``'s ``__init__`` first, so that is
    an edge too. Only module-level imports count unless ``deferred``.
    """
    graph: dict[str, set[str]] = {}
    for e in edges:
        if deferred or not e.deferred:
            for target in (e.target, *_entered_packages(e.importer, e.target)):
                if target != e.importer:
                    graph.setdefault(e.importer, set()).add(target)
                    graph.setdefault(target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph) + 100))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def _owner(module: str) -> str:
    """The package a private name of ``module`` belongs to: its parent, or the first public
    ancestor above a private module (``neurodyn._validation`` belongs to ``neurodyn``)."""
    parts = module.split(".")[:-1]
    return ".".join(parts)


def private_imports(edges: list[Import], known: dict[str, Path] | None = None) -> list[Import]:
    """Imports of a private name (``_x``) or private module from outside the package that
    owns it. A private module or name belongs to the package that contains it, so
    ``neurodyn.spiking._plan`` may be imported within ``neurodyn.spiking`` and
    ``neurodyn._validation`` anywhere in ``neurodyn``.
    """
    known = modules() if known is None else known
    bad = []
    for e in edges:
        importer_package = e.importer if _is_package(known[e.importer]) else _owner(e.importer)
        owners = []
        parts = e.target.split(".")
        for i, part in enumerate(parts):
            if part.startswith("_") and not part.startswith("__"):
                owners.append(".".join(parts[:i]))
        if any(n.startswith("_") and not n.startswith("__") for n in e.names):
            owners.append(e.target if _is_package(known[e.target]) else _owner(e.target))
        inside = all(
            importer_package == owner or importer_package.startswith(owner + ".")
            for owner in owners
        )
        if not inside:
            bad.append(e)
    return bad


def report() -> str:
    """The cycles, deferred imports and private cross-package imports, as text."""
    known = modules()
    edges = imports(known)
    lines = ["module-level import cycles:"]
    lines += [f"  {' <-> '.join(c)}" for c in cycles(edges)] or ["  none"]
    lines.append("cycles through deferred imports:")
    lines += [f"  {' <-> '.join(c)}" for c in cycles(edges, deferred=True)] or ["  none"]
    lines.append("deferred imports of neurodyn modules:")
    for e in sorted((e for e in edges if e.deferred), key=lambda e: (str(e.path), e.line)):
        lines.append(f"  {e.path.relative_to(ROOT)}:{e.line}: {e.target} {list(e.names) or ''}")
    lines.append("private names imported across packages:")
    bad = private_imports(edges, known)
    for e in sorted(bad, key=lambda e: (str(e.path), e.line)):
        lines.append(f"  {e.path.relative_to(ROOT)}:{e.line}: {e.target} {list(e.names) or ''}")
    if not bad:
        lines.append("  none")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report())
