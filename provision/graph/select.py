"""``--target`` / ``--exclude`` selection over a dependency graph.

``select(dag, targets, excludes)``: with targets, keep each target plus
everything it depends on (transitively); then drop every excluded node and,
since they could not be created without it, everything that depends on an
excluded node. Unknown names raise :class:`GraphError` with a hint.
"""

from __future__ import annotations

from typing import Iterable

from provision.errors import GraphError
from provision.graph.dag import DAG
from provision.spec.hints import did_you_mean, one_of


def _check(dag: DAG, names: list[str], flag: str) -> None:
    for name in names:
        if name not in dag:
            raise GraphError(f"{flag} '{name}': no such resource",
                             hint=did_you_mean(name, dag.nodes, fallback=one_of(dag.nodes)))


def select(dag: DAG, targets: Iterable[str] = (), excludes: Iterable[str] = ()) -> set[str]:
    """The node ids a targeted operation covers."""
    targets, excludes = list(targets), list(excludes)
    _check(dag, targets, "--target")
    _check(dag, excludes, "--exclude")
    chosen = dag.ancestors(targets) if targets else set(dag.nodes)
    if excludes:
        chosen -= dag.descendants(excludes)
    return chosen


def select_for_destroy(dag: DAG, targets: Iterable[str] = (),
                       excludes: Iterable[str] = ()) -> set[str]:
    """For destroy a target takes its dependents with it, never its dependencies."""
    targets, excludes = list(targets), list(excludes)
    _check(dag, targets, "--target")
    _check(dag, excludes, "--exclude")
    chosen = dag.descendants(targets) if targets else set(dag.nodes)
    if excludes:
        chosen -= dag.ancestors(excludes)
    return chosen
