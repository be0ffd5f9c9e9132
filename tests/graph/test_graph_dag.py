"""The generic DAG: ordering, levels, cycles, selection."""

from __future__ import annotations

import pytest

from provision.errors import CycleError, GraphError
from provision.graph import DAG, select, select_for_destroy


def chain() -> DAG:
    g = DAG()
    g.add("app", ["db", "net"])
    g.add("db", ["net"])
    g.add("net")
    g.add("cdn")
    return g


def test_order_and_levels() -> None:
    g = chain()
    assert g.levels() == [["net", "cdn"], ["db"], ["app"]]
    assert g.order() == ["net", "cdn", "db", "app"]


def test_cycle_path_reads_in_dependency_direction() -> None:
    g = DAG()
    g.add("a", ["b"])
    g.add("b", ["c"])
    g.add("c", ["a"])
    assert g.find_cycle() == ["a", "b", "c", "a"]
    with pytest.raises(CycleError, match="a -> b -> c -> a"):
        g.order()


def test_self_cycle() -> None:
    g = DAG()
    g.add("x", ["x"])
    assert g.find_cycle() == ["x", "x"]


def test_target_takes_dependencies_and_exclude_drops_dependents() -> None:
    g = chain()
    assert select(g, ["db"]) == {"db", "net"}
    assert select(g, [], ["db"]) == {"net", "cdn"}
    assert select(g, ["app"], ["db"]) == {"net"}
    assert select_for_destroy(g, ["net"]) == {"net", "db", "app"}
    assert select_for_destroy(g, [], ["db"]) == {"app", "cdn"}


def test_unknown_target_has_hint() -> None:
    with pytest.raises(GraphError) as info:
        select(chain(), ["dbb"])
    assert info.value.hint == "did you mean 'db'?"
