"""No import cycle between packages, at any depth of ``src/vigie`` (issue 22).

``lint-imports`` (pyproject's contracts, in ``make test``) checks the layers; this test keeps
the plainer property in the suite itself, so a cycle fails wherever tests run: for every
package, the graph of its children (each child standing for everything under it) has no cycle.
"""

from __future__ import annotations

from collections import defaultdict

import grimp


def _child(module: str, package: str) -> str:
    depth = package.count(".") + 1
    return ".".join(module.split(".")[: depth + 1])


def _children_graph(graph: grimp.ImportGraph, package: str) -> dict[str, set[str]]:
    """Imports between the children of ``package``, each child collapsing its descendants."""
    edges: dict[str, set[str]] = defaultdict(set)
    for module in graph.find_descendants(package):
        for imported in graph.find_modules_directly_imported_by(module):
            if imported.startswith(package + "."):
                a, b = _child(module, package), _child(imported, package)
                if a != b:
                    edges[a].add(b)
    return edges


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path, or None (depth-first search, three colours)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}}) is None


def test_no_package_imports_itself_through_a_sibling() -> None:
    graph = grimp.build_graph("vigie")
    packages = sorted(m for m in graph.modules if graph.find_children(m))
    cycles = {p: c for p in packages if (c := _cycle(_children_graph(graph, p)))}
    assert cycles == {}, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles.values())
