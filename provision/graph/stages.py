"""Resources grouped into stages, and the stage DAG the engine executes.

A resource belongs to its explicit ``stage``, otherwise to one stage per cloud
named after the cloud (``aws``, ``azure``, ``gcp``). Resource edges come from
resource references in properties plus ``depends_on``. Stage B depends on stage
A when any resource of B depends on a resource of A; that stage graph must be
acyclic, and stages on the same level can run in parallel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from provision.errors import CycleError
from provision.graph.dag import DAG
from provision.spec.model import Reference, Spec
from provision.spec.perf import gc_paused
from provision.spec.refs import iter_references


@dataclass
class Stage:
    name: str
    resources: list[str]  # dependency order within the stage
    depends_on: list[str] = field(default_factory=list)
    cloud: str | None = None


@dataclass
class StageGraph:
    stages: list[Stage]  # execution (topological) order
    levels: list[list[str]]  # stage names that can run in parallel, level by level
    resource_graph: DAG = field(default_factory=DAG, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_resource = {rid: s for s in self.stages for rid in s.resources}
        self._by_name = {s.name: s for s in self.stages}

    def stage_of(self, resource_id: str) -> Stage:
        try:
            return self._by_resource[resource_id]
        except KeyError:
            raise KeyError(f"resource '{resource_id}' is in no stage") from None

    def stage(self, name: str) -> Stage:
        return self._by_name[name]

    def reversed(self) -> list[Stage]:
        """Stages in destroy order: dependents first, resources reversed within each."""
        return [Stage(s.name, list(reversed(s.resources)), list(s.depends_on), s.cloud)
                for s in reversed(self.stages)]


# (resource, dependency) -> why: "${b.arn} in property 'tags'" or "depends_on"
EdgeReasons = dict[tuple[str, str], str]


def resource_dependencies(spec: Spec) -> tuple[DAG, EdgeReasons]:
    """The resource DAG (unordered yet) and, for each edge, what wrote it."""
    why: _Why = {}
    dag = _dependencies(spec, why)
    return dag, _reasons(why)


# (resource, dependency) -> the first reference and property key that made the edge,
# or None for depends_on: formatted (EdgeReasons) only when needed, for a cycle.
_Why = dict[tuple[str, str], "tuple[Reference, str] | None"]


def _dependencies(spec: Spec, why: _Why | None = None) -> DAG:
    """The resource DAG; with ``why``, what made each edge goes there (for a cycle report)."""
    dag = DAG()
    resources = spec.resources
    for rid, res in resources.items():
        deps: list[str] = []
        for key, value in res.properties.items():
            if value.__class__ is str:
                continue
            for ref in iter_references(value):
                if ref.kind == "resource" and ref.target in resources:
                    deps.append(ref.target)
                    if why is not None and (rid, ref.target) not in why:
                        why[rid, ref.target] = (ref, key)
        for dep in res.depends_on:
            if dep in resources:
                deps.append(dep)
                if why is not None:
                    why.setdefault((rid, dep), None)
        dag.add(rid, deps)
    return dag


def _reasons_of(spec: Spec) -> EdgeReasons:
    """What made each resource edge, found again when a cycle is to be explained."""
    why: _Why = {}
    _dependencies(spec, why)
    return _reasons(why)


def _reasons(why: _Why) -> EdgeReasons:
    return {edge: "depends_on" if w is None else f"{w[0]} in property '{w[1]}'"
            for edge, w in why.items()}


def stage_name(spec: Spec, resource_id: str) -> str:
    res = spec.resources[resource_id]
    return res.stage or res.cloud


def _explain_resource_cycle(path: list[str], reasons: EdgeReasons) -> str:
    return "\n".join(f"  {a} -> {b}: {reasons.get((a, b), 'depends_on')}"
                     for a, b in zip(path, path[1:]))


def build_stages(spec: Spec) -> StageGraph:
    """Stage graph of a resolved spec; raises CycleError for resource or stage cycles.

    The graph ``validate`` built for its cycle check (``spec.graph_memo``, moved to
    the resolved spec by ``resolve`` when the environment changes no resource
    reference) is returned instead of being built again, once: the memo is dropped
    on use, so each graph returned is the caller's own.
    """
    memo = spec.graph_memo
    if memo is not None:
        spec.graph_memo = None
        if memo.fits(spec):
            graph: StageGraph = memo.graph
            return graph
    with gc_paused():
        return _build_stages(spec)


def _build_stages(spec: Spec) -> StageGraph:
    dag = _dependencies(spec)
    stage_of: dict[str, str] = {}
    clouds: dict[str, set[str]] = {}      # stage -> the clouds of its resources
    for rid, res in spec.resources.items():
        cloud = res.type.split(":", 1)[0]   # res.cloud, without a property call
        name = stage_of[rid] = res.stage or cloud
        clouds.setdefault(name, set()).add(cloud)
    try:
        order = [rid for level in dag.levels() for rid in level]
    except CycleError as exc:
        raise CycleError(exc.path, what="resources",
                         detail=_explain_resource_cycle(exc.path, _reasons_of(spec))) from None
    # Stages are listed in order of first appearance in the spec, members in dependency order.
    members: dict[str, list[str]] = {name: [] for name in stage_of.values()}
    for rid in order:
        members[stage_of[rid]].append(rid)
    stage_dag = DAG()
    for name in members:
        stage_dag.add(name)
    stage_edges: dict[tuple[str, str], None] = {}     # in order of first crossing
    for rid, dep in dag.edges():
        a, b = stage_of[rid], stage_of[dep]
        if a != b and (a, b) not in stage_edges:
            stage_edges[a, b] = None
    for a, b in stage_edges:
        stage_dag.add(a, [b])
    try:
        levels = stage_dag.levels()
    except CycleError as exc:
        # The resource edges behind each stage edge, found again for the report.
        crossing: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for rid, dep in dag.edges():
            if stage_of[rid] != stage_of[dep]:
                crossing.setdefault((stage_of[rid], stage_of[dep]), []).append((rid, dep))
        reasons = _reasons_of(spec)
        stage_cycle = exc.path
        lines = []
        for a, b in zip(stage_cycle, stage_cycle[1:]):
            for rid, dep in crossing[(a, b)]:
                lines.append(f"  stage {a} -> stage {b}: resource '{rid}' depends on "
                             f"'{dep}' ({reasons.get((rid, dep), 'depends_on')})")
        movers = sorted({rid for a, b in zip(stage_cycle, stage_cycle[1:])
                         for rid, _ in crossing[(a, b)]})
        lines.append("  split the stages so that references flow one way: move "
                     + ", ".join(f"'{m}'" for m in movers[:4])
                     + " into a stage of its own (set 'stage:'), or remove one of these "
                       "references")
        raise CycleError(stage_cycle, what="stages", detail="\n".join(lines)) from None
    stages = []
    for name in (n for level in levels for n in level):
        used = clouds[name]
        stages.append(Stage(name=name, resources=members[name],
                            depends_on=stage_dag.dependencies(name),
                            cloud=next(iter(used)) if len(used) == 1 else None))
    return StageGraph(stages=stages, levels=levels, resource_graph=dag)
