"""Property-based tests of ordering and stages over generated specs."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from provision.errors import CycleError
from provision.graph import DAG, build_stages
from provision.spec.model import Reference, Resource, Spec

TYPES = ["aws:s3:Bucket", "azure:resources:ResourceGroup", "gcp:storage:Bucket"]


@st.composite
def acyclic_specs(draw: st.DrawFn) -> tuple[Spec, list[tuple[str, str]]]:
    """A spec whose resource i only depends on resources j < i, in one stage per cloud
    or in explicit stages that respect one global order (so stages stay acyclic)."""
    n = draw(st.integers(1, 25))
    ids = [f"r{i}" for i in range(n)]
    explicit = draw(st.booleans())
    stage_cuts = sorted(draw(st.lists(st.integers(0, n), max_size=4)))
    edges: list[tuple[str, str]] = []
    spec = Spec(name="gen", path="gen.yaml")
    for i, rid in enumerate(ids):
        deps = sorted(draw(st.sets(st.integers(0, i - 1), max_size=3))) if i else []
        as_ref = [d for d in deps if draw(st.booleans())]
        props = {f"p{d}": Reference("resource", f"r{d}", "id") for d in as_ref}
        # explicit stages follow the index order; default stages are per cloud, and a
        # resource's cloud never comes before the clouds of its dependencies
        stage = f"s{sum(1 for c in stage_cuts if c <= i)}" if explicit else None
        rtype = TYPES[0] if explicit else TYPES[min(2, i * 3 // n)]
        spec.resources[rid] = Resource(
            rid, rtype, props, stage=stage,
            depends_on=tuple(f"r{d}" for d in deps if d not in as_ref))
        edges += [(rid, f"r{d}") for d in deps]
    return spec, edges


@settings(max_examples=200, deadline=None)
@given(acyclic_specs())
def test_dependencies_come_first_and_levels_are_earliest(case: tuple[Spec, list[tuple[str, str]]]
                                                         ) -> None:
    spec, edges = case
    graph = build_stages(spec)
    position = {rid: (si, ri) for si, s in enumerate(graph.stages)
                for ri, rid in enumerate(s.resources)}
    assert sorted(position) == sorted(spec.resources)
    for rid, dep in edges:
        assert position[dep] < position[rid], (rid, dep)
    level_of = {name: k for k, level in enumerate(graph.levels) for name in level}
    assert [s.name for s in graph.stages] == [n for level in graph.levels for n in level]
    for stage in graph.stages:
        deps = [level_of[d] for d in stage.depends_on]
        # each stage runs as early as it can: right after its latest dependency
        assert level_of[stage.name] == (max(deps) + 1 if deps else 0)
    for level in graph.levels:
        # stages that share a level never depend on each other
        for name in level:
            assert not set(graph.stage(name).depends_on) & set(level)


@st.composite
def cyclic_graphs(draw: st.DrawFn) -> tuple[DAG, set[tuple[str, str]]]:
    n = draw(st.integers(1, 20))
    dag = DAG()
    edges: set[tuple[str, str]] = set()
    for i in range(n):
        deps = draw(st.sets(st.integers(0, i - 1), max_size=3)) if i else set()
        dag.add(f"n{i}", [f"n{d}" for d in sorted(deps)])
        edges |= {(f"n{i}", f"n{d}") for d in deps}
    # close a cycle: a path low -> ... is created by adding an edge from an early node back
    low = draw(st.integers(0, n - 1))
    high = draw(st.integers(low, n - 1))
    chain = [f"n{k}" for k in range(low, high + 1)]
    for a, b in zip(chain[1:], chain):
        dag.add(a, [b])
        edges.add((a, b))
    dag.add(chain[0], [chain[-1]])
    edges.add((chain[0], chain[-1]))
    return dag, edges


@settings(max_examples=200, deadline=None)
@given(cyclic_graphs())
def test_a_cycle_is_reported_as_a_real_closed_path(case: tuple[DAG, set[tuple[str, str]]]
                                                   ) -> None:
    dag, edges = case
    path = dag.find_cycle()
    assert path is not None and path[0] == path[-1] and len(path) >= 2
    for a, b in zip(path, path[1:]):
        assert (a, b) in edges
    try:
        dag.order()
    except CycleError as exc:
        assert exc.path == path
        assert " -> ".join(path) in exc.message
    else:
        raise AssertionError("a cyclic graph was ordered")


@settings(max_examples=100, deadline=None)
@given(cyclic_graphs(), st.booleans())
def test_a_cyclic_spec_is_rejected_with_its_cycle(case: tuple[DAG, set[tuple[str, str]]],
                                                  as_refs: bool) -> None:
    dag, edges = case
    spec = Spec(name="gen", path="gen.yaml")
    for node in dag.nodes:
        deps = dag.dependencies(node)
        props = {f"p{i}": Reference("resource", d, "arn") for i, d in enumerate(deps)}
        spec.resources[node] = Resource(node, TYPES[0], props if as_refs else {},
                                        depends_on=() if as_refs else tuple(deps))
    try:
        build_stages(spec)
    except CycleError as exc:
        assert exc.path[0] == exc.path[-1]
        assert all((a, b) in edges for a, b in zip(exc.path, exc.path[1:]))
        assert exc.message.startswith("dependency cycle between resources: "
                                      + " -> ".join(exc.path))
    else:
        raise AssertionError("a cyclic spec was ordered")
