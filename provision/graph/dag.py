"""A small generic dependency graph over string nodes (no knowledge of resources).

``g.add(node, depends_on=[...])`` records that ``node`` comes after each of its
dependencies. Ordering uses :class:`graphlib.TopologicalSorter`; ties are broken
by insertion order so that results are deterministic. A cycle is reported as
its path in dependency direction: ``a -> b -> c -> a`` means a depends on b,
b on c, and c on a.
"""

from __future__ import annotations

import graphlib
from collections import deque
from typing import Iterable

from provision.errors import CycleError


def _closed_path(cycle: list[str]) -> list[str]:
    """graphlib lists each node as a predecessor (dependency) of the next; reverse it so
    that "x -> y" reads "x depends on y", and start at the smallest node."""
    path = list(reversed(cycle))[:-1]
    start = path.index(min(path))
    path = path[start:] + path[:start]
    return path + [path[0]]


class DAG:
    def __init__(self) -> None:
        # node -> its dependencies (insertion ordered, no duplicates)
        self._deps: dict[str, dict[str, None]] = {}

    def add(self, node: str, depends_on: Iterable[str] = ()) -> None:
        graph = self._deps
        deps = graph.get(node)
        if deps is None:
            deps = graph[node] = {}
        for dep in depends_on:
            if dep not in graph:
                graph[dep] = {}
            deps[dep] = None

    def __contains__(self, node: object) -> bool:
        return node in self._deps

    def __len__(self) -> int:
        return len(self._deps)

    @property
    def nodes(self) -> list[str]:
        return list(self._deps)

    def dependencies(self, node: str) -> list[str]:
        return list(self._deps[node])

    def edges(self) -> list[tuple[str, str]]:
        """``(node, dependency)`` pairs."""
        return [(n, d) for n, deps in self._deps.items() for d in deps]

    def dependents(self) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {n: [] for n in self._deps}
        for node, deps in self._deps.items():
            for dep in deps:
                result[dep].append(node)
        return result

    def find_cycle(self) -> list[str] | None:
        """One cycle as a closed path (first node repeated at the end), or None."""
        try:
            self.levels()
        except CycleError as exc:
            return exc.path
        return None

    def levels(self) -> list[list[str]]:
        """Nodes grouped by depth: each level depends only on earlier levels.

        Raises :class:`CycleError` with the cycle's path if there is one.
        """
        # Kahn's algorithm level by level: the batches graphlib.TopologicalSorter's
        # get_ready/done hand out, without its per-node bookkeeping. A cycle is left
        # to graphlib, which names it.
        deps = self._deps
        waiting = {n: len(d) for n, d in deps.items()}
        dependents: dict[str, list[str]] = {n: [] for n in deps}
        for node, node_deps in deps.items():
            for dep in node_deps:
                dependents[dep].append(node)
        rank = {n: i for i, n in enumerate(deps)}
        level = [n for n, count in waiting.items() if not count]   # already in rank order
        result: list[list[str]] = []
        placed = 0
        while level:
            result.append(level)
            placed += len(level)
            ready = []
            for node in level:
                for dependent in dependents[node]:
                    waiting[dependent] -= 1
                    if not waiting[dependent]:
                        ready.append(dependent)
            level = sorted(ready, key=rank.__getitem__)
        if placed != len(deps):
            try:
                graphlib.TopologicalSorter(deps).prepare()
            except graphlib.CycleError as exc:
                raise CycleError(_closed_path(exc.args[1])) from None
            raise AssertionError("unplaced nodes but no cycle")   # pragma: no cover
        return result

    def order(self) -> list[str]:
        """Every node after all of its dependencies."""
        return [n for level in self.levels() for n in level]

    def ancestors(self, roots: Iterable[str]) -> set[str]:
        """``roots`` plus everything they depend on, transitively."""
        seen: set[str] = set()
        queue = deque(r for r in roots if r in self._deps)
        while queue:
            node = queue.popleft()
            if node in seen:
                continue
            seen.add(node)
            queue.extend(d for d in self._deps[node] if d not in seen)
        return seen

    def descendants(self, roots: Iterable[str]) -> set[str]:
        """``roots`` plus everything that depends on them, transitively."""
        dependents = self.dependents()
        seen: set[str] = set()
        queue = deque(r for r in roots if r in self._deps)
        while queue:
            node = queue.popleft()
            if node in seen:
                continue
            seen.add(node)
            queue.extend(d for d in dependents[node] if d not in seen)
        return seen

    def subgraph(self, keep: Iterable[str]) -> "DAG":
        kept = set(keep)
        sub = DAG()
        for node, deps in self._deps.items():
            if node in kept:
                sub.add(node, [d for d in deps if d in kept])
        return sub
