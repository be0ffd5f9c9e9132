"""Graph views: dot, mermaid, json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provision.errors import GraphError
from provision.graph import build_stages
from provision.graph.views import render
from provision.spec import load, resolve
from provision.spec.model import Spec

EXAMPLES = Path(__file__).resolve().parents[2] / "stacks" / "examples"


@pytest.fixture
def resolved() -> Spec:
    return resolve(load(EXAMPLES / "multicloud.yaml"), "local")


def test_dot_groups_by_stage_and_draws_edges(resolved: Spec) -> None:
    text = render(build_stages(resolved), "dot", resolved)
    assert text.startswith("digraph provision {")
    assert text.count("subgraph cluster_") == 3
    assert '"logs" [label="logs\\naws:s3:Bucket"];' in text
    assert '"logs" -> "rg";' in text
    assert '"rg" -> "archive" [style=dashed];' in text  # depends_on


def test_mermaid(resolved: Spec) -> None:
    text = render(build_stages(resolved), "mermaid", resolved)
    assert text.splitlines()[0] == "flowchart LR"
    assert 'subgraph stage_storage["stage storage"]' in text
    assert "r_logs --> r_rg" in text and "r_rg -.-> r_archive" in text


def test_json(resolved: Spec) -> None:
    data = json.loads(render(build_stages(resolved), "json", resolved))
    assert data["levels"] == [["storage"], ["azure"], ["archive"]]
    assert data["resources"]["rg"] == {"stage": "azure",
                                       "type": "azure:resources:ResourceGroup"}
    assert {"from": "rg", "to": "logs", "reason": "${logs.arn} in property 'tags'"} \
        in data["edges"]


def test_unknown_format(resolved: Spec) -> None:
    with pytest.raises(GraphError, match="unknown graph format 'png'"):
        render(build_stages(resolved), "png", resolved)
