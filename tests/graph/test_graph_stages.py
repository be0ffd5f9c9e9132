"""Stages from a resolved spec."""

from __future__ import annotations

from pathlib import Path

import pytest

import providers

from provision.errors import CycleError
from provision.graph import StageGraph, build_stages
from provision.spec import load, loads, resolve, validate

EXAMPLES = Path(__file__).resolve().parents[2] / "stacks" / "examples"


def test_example_stages() -> None:
    graph = build_stages(resolve(load(EXAMPLES / "multicloud.yaml"), "local"))
    assert [(s.name, s.resources, s.depends_on, s.cloud) for s in graph.stages] == [
        ("storage", ["logs"], [], "aws"),
        ("azure", ["rg"], ["storage"], "azure"),
        ("archive", ["archive"], ["storage", "azure"], "gcp"),
    ]
    assert graph.levels == [["storage"], ["azure"], ["archive"]]
    assert graph.stage_of("rg").name == "azure"
    assert [s.name for s in graph.reversed()] == ["archive", "azure", "storage"]


SPEC = """
name: s
resources:
  a1: {type: aws:s3:Bucket, properties: {bucket: a1}}
  a2: {type: aws:s3:Bucket, properties: {bucket: "${a1.arn}"}}
  z1: {type: azure:resources:ResourceGroup, properties: {name: z1}}
  g1: {type: gcp:storage:Bucket, properties: {name: "${a2.arn}", labels: {z: "${z1.id}"}}}
  m:  {type: gcp:storage:Bucket, stage: mixed, depends_on: [a2], properties: {name: m}}
  m2: {type: aws:s3:Bucket, stage: mixed, properties: {bucket: m2}}
"""


def test_default_stage_per_cloud_and_parallel_levels() -> None:
    graph = build_stages(loads(SPEC, "s.yaml"))
    assert graph.levels == [["aws", "azure"], ["gcp", "mixed"]]
    assert graph.stage("aws").resources == ["a1", "a2"]
    assert graph.stage("mixed").cloud is None
    assert graph.stage("gcp").depends_on == ["aws", "azure"]


def test_stage_cycle_names_the_resources_and_suggests_a_split() -> None:
    spec = loads(SPEC + "  a3: {type: aws:s3:Bucket, properties: {bucket: \"${g1.url}\"}}\n",
                 "s.yaml")
    with pytest.raises(CycleError) as info:
        build_stages(spec)
    text = info.value.message
    assert text.startswith("dependency cycle between stages: aws -> gcp -> aws")
    assert "resource 'a3' depends on 'g1' (${g1.url} in property 'bucket')" in text
    assert "resource 'g1' depends on 'a2' (${a2.arn} in property 'name')" in text
    assert "move 'a3', 'g1' into a stage of its own" in text


MEMO_SPEC = """
name: s
variables:
  owner: {type: string, default: me}
environments:
  plain: {}
  tagged:
    overrides:
      a1: {tags: {owner: "${var.owner}"}}
  linked:
    overrides:
      a1: {bucket: "${z1.id}"}
resources:
  a1: {type: aws:s3:Bucket, properties: {bucket: "a1-${var.owner}"}}
  a2: {type: aws:s3:Bucket, properties: {bucket: "${a1.arn}"}}
  z1: {type: azure:resources:ResourceGroup, properties: {name: z1}}
"""


def _shape(graph: StageGraph) -> list[tuple[str, list[str], list[str]]]:
    return [(s.name, s.resources, s.depends_on) for s in graph.stages]


def test_the_graph_validate_built_serves_one_build_stages_of_the_resolved_spec() -> None:
    spec = loads(MEMO_SPEC, "s.yaml")
    validate(spec, providers.registry())
    resolved = resolve(spec, "tagged")      # its override writes no resource reference
    graph = build_stages(resolved)
    assert _shape(graph) == _shape(build_stages(resolve(loads(MEMO_SPEC, "s.yaml"), "tagged")))
    assert graph.resource_graph.edges() == [("a2", "a1")]
    again = build_stages(resolved)          # the memo is used once: a graph of its own
    assert again is not graph and _shape(again) == _shape(graph)


def test_an_override_that_changes_resource_references_gets_its_own_graph() -> None:
    spec = loads(MEMO_SPEC, "s.yaml")
    validate(spec, providers.registry())
    graph = build_stages(resolve(spec, "linked"))   # a1 now depends on z1
    assert graph.resource_graph.edges() == [("a1", "z1"), ("a2", "a1")]
    assert [s.name for s in graph.stages] == ["azure", "aws"]


def test_a_spec_whose_resources_changed_after_validate_gets_its_own_graph() -> None:
    spec = loads(MEMO_SPEC, "s.yaml")
    validate(spec, providers.registry())
    spec.resources["a2"] = loads(MEMO_SPEC.replace('"${a1.arn}"', "plain"),
                                 "s.yaml").resources["a2"]
    assert build_stages(resolve(spec, "plain")).resource_graph.edges() == []
