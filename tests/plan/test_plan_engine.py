"""Real plans from the Pulumi engine over the fake cloud: YAML and HCL forms of one
spec give identical plans, and every view renders them faithfully."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any, Callable

import pytest
from rich.console import Console

from provision import spec as specs
from provision.engine.orchestrator import Orchestrator
from provision.engine.runner import EngineOptions, StackRunner
from provision.engine.toolchain import find_toolchain
from provision.graph.stages import build_stages
from provision.plan.model import Plan
from provision.plan.render_human import render_plan
from provision.plan.render_json import plan_to_json
from provision.plan.saved import read_plan, write_plan
from provision.plan.terraform import to_terraform_plan
from provision.provider import CloudConfig
from providers.testing import FILE_ENV, fake_registry

pytestmark = pytest.mark.engine

YAML = """
name: forms
variables:
  owner: {type: string, default: platform}
  token: {type: string, default: hunter2-token}
environments:
  dev:
    variables: {owner: dev-team}
    overrides: {b: {tags: {tier: dev}}}
resources:
  a:
    type: test:fake:Thing
    stage: first
    properties:
      name: "a-${var.owner}-${env.name}"
      size: 2
      secret_value: "${var.token}"
  b:
    type: test:fake:Other
    stage: second
    depends_on: [a]
    properties:
      name: beta
      tags: {ref: "${a.arn}", owner: "${var.owner}"}
"""

HCL = """
name = "forms"
variable "owner" {
  type    = string
  default = "platform"
}
variable "token" {
  type    = string
  default = "hunter2-token"
}
environment "dev" {
  variables = { owner = "dev-team" }
  overrides = { b = { tags = { tier = "dev" } } }
}
resource "a" {
  type  = "test:fake:Thing"
  stage = "first"
  properties {
    name         = "a-${var.owner}-${env.name}"
    size         = 2
    secret_value = var.token
  }
}
resource "b" {
  type       = "test:fake:Other"
  stage      = "second"
  depends_on = [a]
  properties {
    name = "beta"
    tags = { ref = a.arn, owner = var.owner }
  }
}
"""


@pytest.fixture
def orchestrator_of(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                    ) -> Callable[[str, str], Orchestrator]:
    monkeypatch.setenv(FILE_ENV, str(tmp_path / "cloud.json"))
    toolchain = find_toolchain()
    registry = fake_registry()

    def make(text: str, workdir: str) -> Orchestrator:
        work = tmp_path / workdir
        work.mkdir(exist_ok=True)
        spec_file = work / ("spec.hcl" if text.lstrip().startswith("name =") else "spec.yaml")
        spec_file.write_text(text)
        raw = specs.load(spec_file)
        specs.validate(raw, registry)
        resolved = specs.resolve(raw, "dev")
        (work / "state").mkdir(exist_ok=True)
        options = EngineOptions(
            toolchain=toolchain, backend_url=f"file://{work / 'state'}",
            passphrase="test-passphrase-not-secret",
            cloud_configs={"test": CloudConfig("test", {"zone": "z1"})},
            work_dir=work / "work")
        return Orchestrator(resolved, resolved.environments["dev"], build_stages(resolved),
                            registry, StackRunner(resolved.name, options))

    return make


@pytest.fixture
def plan_of(orchestrator_of: Callable[[str, str], Orchestrator]) -> Callable[[str, str], Plan]:
    return lambda text, workdir: orchestrator_of(text, workdir).plan()


def comparable(plan: Plan) -> Any:
    stages = [dataclasses.replace(s, changes=[dataclasses.replace(c, file="", line=0)
                                              for c in s.changes]) for s in plan.stages]
    return dataclasses.replace(plan, spec_file="", stages=stages, state_digests={})


def test_yaml_and_hcl_give_identical_plans_and_views_render_them(
        plan_of: Callable[[str, str], Plan], tmp_path: Path) -> None:
    from_yaml = plan_of(YAML, "yaml")
    from_hcl = plan_of(HCL, "hcl")
    assert comparable(from_yaml) == comparable(from_hcl)
    registry = fake_registry()

    console = Console(record=True, width=200, color_system=None)
    render_plan(from_yaml, console)
    text = console.export_text()
    assert "hunter2" not in text
    assert "(sensitive)" in text
    assert re.search(r"\+ tags\.ref:\s+\(known after apply\)\n", text)
    assert re.search(r'\+ tags\.tier:\s+"dev"\n', text)
    assert re.search(r'\+ name:\s+"a-dev-team-dev"\n', text)
    assert re.search(r"\+ secret_value:\s+\(sensitive\)\n", text)
    assert text.index("Stage first") < text.index("Stage second")
    assert "Plan: 2 to create, 0 to update, 0 to replace, 0 to delete, 0 unchanged." in text

    data = plan_to_json(from_yaml, registry)
    assert "hunter2" not in json.dumps(data)
    b = data["stages"][1]["changes"][0]
    assert b["after"]["tags"]["ref"] == {"$unknown": True} and b["unknown"] == ["tags.ref"]

    tf = to_terraform_plan(from_yaml, registry)
    changes = {rc["address"]: rc["change"] for rc in tf["resource_changes"]}
    assert changes["fake_other.b"]["after_unknown"] == {"tags": {"ref": True}}
    assert changes["fake_thing.a"]["after_sensitive"] == {"secret_value": True}
    assert "hunter2" not in json.dumps(tf)

    path = tmp_path / "plan.json"
    write_plan(from_yaml, path, registry)
    assert "hunter2" not in path.read_text()
    back = read_plan(path)
    assert [(c.id, c.action) for s in back.stages for c in s.changes] == [
        ("a", from_yaml.stages[0].changes[0].action), ("b", from_yaml.stages[1].changes[0].action)]


def test_update_and_replace_show_old_and_new_values(
        orchestrator_of: Callable[[str, str], Orchestrator]) -> None:
    report = orchestrator_of(YAML, "state").apply(orchestrator_of(YAML, "state").plan())
    assert report.failed is None
    changed = (YAML.replace("tags: {ref:", "tags: {extra: x, ref:")
               .replace("name: beta", "name: gamma").replace("size: 2", "size: 3"))
    plan = orchestrator_of(changed, "state").plan()
    assert {c.id: c.action.value for s in plan.stages for c in s.changes} == {
        "a": "update", "b": "replace"}
    console = Console(record=True, width=200, color_system=None)
    render_plan(plan, console)
    text = console.export_text()
    assert re.search(r"~ size:\s+2 -> 3\n", text)
    assert re.search(r'~ name:\s+"beta" -> "gamma"  # forces replacement\n', text)
    assert re.search(r'\+ tags\.extra:\s+"x"', text)
    assert "hunter2" not in text
    assert "Plan: 0 to create, 1 to update, 1 to replace, 0 to delete, 0 unchanged." in text
