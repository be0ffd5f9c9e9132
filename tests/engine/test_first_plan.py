"""Tests of provision/engine/first_plan.py: the plan of a stage with no state."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from provision import spec as specs
from provision.engine.declare import stage_declaration
from provision.engine.first_plan import MASKED, planned_creates
from provision.engine.orchestrator import Orchestrator
from provision.engine.protocol import Declared, Engine, PreviewRequest, StackProgram
from provision.engine.runner import StackRunner
from provision.engine.testing import FakeEngine
from provision.errors import PlanError
from provision.graph.stages import build_stages
from provision.plan.model import UNKNOWN, Action
from provision.spec.model import Reference
from providers.testing import fake_registry

SPEC = """\
name: firstplan
environments: {dev: {}}
resources:
  up:
    type: test:fake:Thing
    stage: base
    properties: {name: upstream}
  a:
    type: test:fake:Thing
    stage: app
    properties:
      name: alpha
      size: 3
      tags: {team: core, count: 2}
      members: [x, 1]
      secret_value: hunter2-not-real
  b:
    type: test:fake:Other
    stage: app
    properties:
      name: "beta-${a.name}"
      tags: {arn: "${a.arn}", up: "${up.arn}", plain: "v"}
      members: ["${a.id}", "m"]
      secret_value: "${a.name}"
    depends_on: [a]
  c:
    type: test:fake:Thing
    stage: app
    properties:
      name: "c-${a.tags.team}-${a.size}"
      size: "${a.size}"
      tags: {from_secret: "${a.secret_value}", n: 7}
      members: ["${b.name}-x", "${a.members}"]
      secret_value: "${b.arn}"
"""


@pytest.mark.pulumi_only
def test_the_plan_of_an_empty_stack_is_what_the_engine_previews(
        tmp_path: Path, engine: Engine) -> None:
    assert isinstance(engine, StackRunner)
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(SPEC)
    registry = fake_registry()
    raw = specs.load(spec_file)
    specs.validate(raw, registry)
    resolved = specs.resolve(raw, "dev")
    engine.project = resolved.name
    stage = build_stages(resolved).stage("app")
    program = stage_declaration(resolved, stage.resources, registry, {"up": None})
    previewed = engine.preview(PreviewRequest("firstplan.dev.app", program)).steps
    assert planned_creates(program, registry) == previewed
    by_id = {s.resource: s.new_inputs or {} for s in previewed}
    # The rules the module doc states, as the engine showed them.
    assert by_id["b"]["name"] == "beta-alpha"                  # a's declared input: known
    assert by_id["b"]["members"][0] is UNKNOWN                 # a's id: after the create
    assert by_id["b"]["tags"]["arn"] is UNKNOWN                # filled in by the cloud
    assert by_id["b"]["tags"]["up"] is UNKNOWN                 # upstream, not applied yet
    assert by_id["c"]["name"] == "c-core-3"                    # a number stays as written
    assert by_id["c"]["tags"] == MASKED                        # derived from a secret
    assert by_id["c"]["secret_value"] is UNKNOWN               # a secret not known yet
    assert "hunter2-not-real" not in repr(previewed)


def test_a_reference_to_a_later_resource_of_the_stage_is_refused() -> None:
    registry = fake_registry()
    later = Declared(id="x", type="test:fake:Thing", adapter=registry.ref("test:fake:Thing"),
                     inputs={"name": Reference("resource", "y", "name")})
    with pytest.raises(PlanError, match="declared later"):
        planned_creates(StackProgram((later,)), registry)


def test_a_fresh_environment_is_planned_without_an_engine_preview(
        make_orchestrator: Callable[..., Orchestrator], engine: Engine) -> None:
    assert isinstance(engine, FakeEngine)
    orch = make_orchestrator(SPEC)
    plan = orch.plan()
    assert [op for _, ev, op, _ in engine.journal if ev == "start" and op == "preview"] == []
    changes = {c.id: c for s in plan.stages for c in s.changes}
    assert {c.action for c in changes.values()} == {Action.CREATE}
    assert changes["b"].after is not None and changes["b"].after["name"] == "beta-alpha"
    assert changes["a"].inputs["secret_value"] == "hunter2-not-real"   # recorded, not shown
    assert changes["a"].after is not None and changes["a"].after["secret_value"] == MASKED

    orch.apply(plan)
    again = make_orchestrator(SPEC).plan()         # stacks with state: the engine previews
    previews = [stack for _, ev, op, stack in engine.journal if ev == "start" and op == "preview"]
    assert sorted(previews) == ["firstplan.dev.app", "firstplan.dev.base"]
    assert {c.action for s in again.stages for c in s.changes} == {Action.NOOP}
