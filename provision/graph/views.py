"""Graph views for ``provision graph``: dot, mermaid or json, resources grouped by stage.

``render(graph, fmt, spec=None)``: with the spec, nodes are labelled with their
type and edges say whether a reference or ``depends_on`` made them.
"""

from __future__ import annotations

import json
from typing import Any

from provision.errors import GraphError
from provision.graph.stages import StageGraph, resource_dependencies
from provision.spec.model import Spec

FORMATS = ("dot", "mermaid", "json")


def _edges(graph: StageGraph, spec: Spec | None) -> list[tuple[str, str, str]]:
    """(resource, dependency, why) for every resource edge."""
    if spec is not None:
        dag, reasons = resource_dependencies(spec)
        return [(a, b, reasons.get((a, b), "")) for a, b in dag.edges()]
    return [(a, b, "") for a, b in graph.resource_graph.edges()]


def _type(spec: Spec | None, rid: str) -> str:
    if spec is not None and rid in spec.resources:
        return spec.resources[rid].type
    return ""


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(graph: StageGraph, spec: Spec | None = None) -> str:
    lines = ["digraph provision {", "  rankdir=LR;", "  node [shape=box];"]
    for index, stage in enumerate(graph.stages):
        lines.append(f"  subgraph cluster_{index} {{")
        lines.append(f"    label={_quote('stage ' + stage.name)};")
        for rid in stage.resources:
            rtype = _type(spec, rid)
            label = _quote(rid)[:-1] + ("\\n" + _quote(rtype)[1:] if rtype else '"')
            lines.append(f"    {_quote(rid)} [label={label}];")
        lines.append("  }")
    for rid, dep, why in _edges(graph, spec):
        # Arrows point the way things happen: dependency first.
        attrs = " [style=dashed]" if why == "depends_on" else ""
        lines.append(f"  {_quote(dep)} -> {_quote(rid)}{attrs};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_id(name: str, prefix: str = "r_") -> str:
    return prefix + "".join(c if c.isalnum() or c == "_" else "_" for c in name)


def to_mermaid(graph: StageGraph, spec: Spec | None = None) -> str:
    lines = ["flowchart LR"]
    for stage in graph.stages:
        lines.append(f'  subgraph {_mermaid_id(stage.name, "stage_")}["stage {stage.name}"]')
        for rid in stage.resources:
            label = rid + (f"<br/>{_type(spec, rid)}" if _type(spec, rid) else "")
            lines.append(f'    {_mermaid_id(rid)}["{label}"]')
        lines.append("  end")
    for rid, dep, why in _edges(graph, spec):
        arrow = "-.->" if why == "depends_on" else "-->"
        lines.append(f"  {_mermaid_id(dep)} {arrow} {_mermaid_id(rid)}")
    return "\n".join(lines) + "\n"


def to_json(graph: StageGraph, spec: Spec | None = None) -> dict[str, Any]:
    return {
        "format_version": "1.0",
        "stages": [{"name": s.name, "cloud": s.cloud, "depends_on": list(s.depends_on),
                    "resources": list(s.resources)} for s in graph.stages],
        "levels": [list(level) for level in graph.levels],
        "resources": {rid: {"stage": s.name, "type": _type(spec, rid)}
                      for s in graph.stages for rid in s.resources},
        "edges": [{"from": rid, "to": dep, "reason": why}
                  for rid, dep, why in _edges(graph, spec)],
    }


def render(graph: StageGraph, fmt: str, spec: Spec | None = None) -> str:
    """The graph as text in ``fmt`` (dot | mermaid | json)."""
    if fmt == "dot":
        return to_dot(graph, spec)
    if fmt == "mermaid":
        return to_mermaid(graph, spec)
    if fmt == "json":
        return json.dumps(to_json(graph, spec), indent=2) + "\n"
    raise GraphError(f"unknown graph format '{fmt}'", hint=f"use one of: {', '.join(FORMATS)}")
