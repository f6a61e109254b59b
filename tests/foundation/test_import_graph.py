"""The import graph of the installed package has no cycle (DESIGN.md: dependencies run one way).

Every ``import sciml...`` statement of every module counts, at module level and inside
functions alike (a function-level import that only dodges a cycle is still a cycle). Edges are
module -> module; a cycle inside one room (``sciml.train`` <-> ``sciml.train``) fails as well as
one between rooms. Imports under ``if TYPE_CHECKING:`` are annotations only and do not count.
The edge (``sciml.commands``, ``sciml.cli``) may import anything lazily (so that ``sciml --help``
imports no torch) but nothing below may import it.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import sciml

EDGE = ("sciml.commands", "sciml.cli")
# where dependencies may only point downwards (DESIGN.md); a room may import those after it
# (the Trainer sits below the families: a task that trains a family, DCDM's included, lives
# with the family and imports sciml.train, never the reverse)
ORDER = [
    ("sciml", "sciml.grid", "sciml.mesh", "sciml.io", "sciml._process"),
    ("sciml.physics",),
    ("sciml.datasets",),
    ("sciml.train",),
    ("sciml.solvers", "sciml.operators", "sciml.nde", "sciml.traversal"),
    ("sciml.inverse", "sciml.testing"),
    ("sciml.workflows", "sciml.zoo"),
]


def _modules() -> dict[str, Path]:
    """Every module of the installed package (physics/, solvers/, datasets/ install as
    subpackages from folders of their own, so each is walked from its own path)."""
    mods = {"sciml": Path(sciml.__file__)}
    for top in ("sciml", "sciml.physics", "sciml.solvers", "sciml.datasets"):
        pkg = importlib.import_module(top)
        mods[top] = Path(pkg.__file__)
        for info in pkgutil.walk_packages(pkg.__path__, top + "."):
            spec = importlib.util.find_spec(info.name)
            mods[info.name] = Path(spec.origin)
    return mods


def _resolve(name: str, mods: dict[str, Path]) -> str | None:
    while name and name not in mods:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    """module -> the sciml modules it imports (anywhere in the file, TYPE_CHECKING excluded)."""
    mods = _modules()
    graph: dict[str, set[str]] = {}
    for mod, path in mods.items():
        is_pkg = path.name == "__init__.py"
        edges: set[str] = set()

        def visit(node: ast.AST, mod=mod, is_pkg=is_pkg, edges=edges) -> None:
            for ch in ast.iter_child_nodes(node):
                if isinstance(ch, ast.If) and "TYPE_CHECKING" in ast.unparse(ch.test):
                    continue
                targets: list[str] = []
                if isinstance(ch, ast.Import):
                    targets = [a.name for a in ch.names]
                elif isinstance(ch, ast.ImportFrom):
                    base = ch.module or ""
                    if ch.level:
                        pkg = mod if is_pkg else mod.rpartition(".")[0]
                        for _ in range(ch.level - 1):
                            pkg = pkg.rpartition(".")[0]
                        base = f"{pkg}.{base}" if base else pkg
                    targets = [
                        f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in ch.names
                    ]
                for t in targets:
                    if t.startswith("sciml"):
                        r = _resolve(t, mods)
                        if r and r != mod:
                            edges.add(r)
                visit(ch)

        visit(ast.parse(path.read_text()))
        graph[mod] = edges
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            strong(v)
    return out


def test_no_import_cycle_in_the_package():
    graph = import_graph()
    cycles = _cycles(graph)
    assert not cycles, f"import cycles (module -> module): {cycles}"


def _room(mod: str) -> str:
    best = mod
    for rooms in ORDER:
        for room in rooms:
            if (mod == room or mod.startswith(room + ".")) and (
                best == mod or len(room) > len(best)
            ):
                best = room
    return best


def _rank(room: str) -> int:
    for rank, rooms in enumerate(ORDER):
        if room in rooms:
            return rank
    return len(ORDER)


def test_dependencies_point_down_the_design_order():
    bad = []
    for mod, edges in import_graph().items():
        if mod.startswith(EDGE) or mod == "sciml":
            continue
        for dep in edges:
            if dep.startswith(EDGE):
                bad.append(f"{mod} -> {dep} (the library imports the command layer)")
            elif _rank(_room(dep)) > _rank(_room(mod)):
                bad.append(f"{mod} -> {dep}")
    assert not bad, "imports against DESIGN.md's direction:\n" + "\n".join(sorted(bad))


def test_the_graph_sees_lazy_imports():
    """The walk counts a function-level import (the way cycles used to hide)."""
    graph = import_graph()
    assert "sciml.workflows.linear_solvers" in graph["sciml.commands.solve"]
    assert len(graph) > 150 and "sciml.physics.pdes.darcy" in graph  # the mapped folders too
